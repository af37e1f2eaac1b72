/**
 * Setting up and always tearing down what a browser scenario needs: a headless
 * Chromium with one tab, and the server under test on port 0. Each helper
 * cleans up in `finally`, so a failing step still leaves no browser, server,
 * socket or temp folder behind (Deno's sanitizers check).
 *
 * @module
 */
import { join } from "jsr:@std/path@1.1.6/join";
import { serveCaching } from "../../caching_server.ts";
import { serveCookies } from "../../cookie_server.ts";
import { MemorySessionStore } from "../../lib/sessions/memory_store.ts";
import { CdpConnection } from "./cdp.ts";
import { launchChromium } from "./chromium.ts";
import { Tab } from "./tab.ts";

/** The project's demo page, which the caching scenario serves (a copy of it). */
const DEMO_PAGE = new URL("../../index.html", import.meta.url);

/**
 * Starts Chromium from `executable`, opens one tab, runs `use`, then closes
 * the DevTools connection and stops the browser whatever happened.
 *
 * @example
 * ```ts ignore
 * await withTab("/usr/bin/chromium", async (tab) => {
 *   await tab.navigate("http://127.0.0.1:8000/");
 * });
 * ```
 */
export async function withTab(executable: string, use: (tab: Tab) => Promise<void>): Promise<void> {
  const chromium = await launchChromium(executable);
  try {
    const connection = await CdpConnection.connect(chromium.webSocketUrl);
    try {
      await use(await Tab.open(connection));
    } finally {
      await connection.close();
    }
  } finally {
    await chromium.close();
  }
}

/** A running server under test. */
export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Its log lines so far; printed when the scenario fails. */
  log: string[];
}

/** The caching server, serving a temporary copy of the demo page that the test may edit. */
export interface CachingSite extends TestServer {
  /** The served `index.html`. */
  indexPath: string;
  /** Resolves once the server has been told of the next change to its files. */
  nextChange(): Promise<void>;
}

/**
 * Copies the demo page into a fresh temp root, serves it with `serveCaching`
 * on port 0, runs `use`, then shuts the server down and removes the root.
 */
export async function withCachingSite(use: (site: CachingSite) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "browser_caching_site_" });
  try {
    const indexPath = join(root, "index.html");
    await Deno.copyFile(DEMO_PAGE, indexPath);
    const log: string[] = [];
    const listening = Promise.withResolvers<Deno.NetAddr>();
    const server = serveCaching({
      root,
      port: 0,
      log: (line) => log.push(line),
      onListen: listening.resolve,
    });
    try {
      const { port } = await listening.promise;
      await printLogOnFailure(
        log,
        () =>
          use({
            origin: `http://127.0.0.1:${port}`,
            log,
            indexPath,
            nextChange: server.nextChange,
          }),
      );
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/**
 * Serves the cookie app with `serveCookies` (the hand-written HTTP/1.1
 * server) and an in-memory session store on port 0, runs `use`, then shuts
 * the server down and closes the store.
 */
export async function withCookieServer(use: (server: TestServer) => Promise<void>): Promise<void> {
  const store = new MemorySessionStore();
  try {
    const log: string[] = [];
    const listening = Promise.withResolvers<Deno.NetAddr>();
    const server = serveCookies({
      port: 0,
      store,
      log: (line) => log.push(line),
      onListen: listening.resolve,
    });
    try {
      const { port } = await listening.promise;
      await printLogOnFailure(log, () => use({ origin: `http://127.0.0.1:${port}`, log }));
    } finally {
      await server.shutdown();
    }
  } finally {
    store.close();
  }
}

/** The server's side of the story is what one needs first when a browser step fails. */
async function printLogOnFailure(log: string[], run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    console.error(`server log:\n  ${log.join("\n  ")}`);
    throw error;
  }
}

/** Runs one named step of a scenario and throws if it failed (`t.step` only returns `false`). */
export type RunStep = (name: string, body: () => Promise<void>) => Promise<void>;

/**
 * Adapts a test context to {@linkcode RunStep}, so each README step is
 * reported on its own and the first failing one stops the scenario.
 */
export function stepsOf(t: Deno.TestContext): RunStep {
  return async (name, body) => {
    if (!await t.step(name, body)) throw new Error(`step failed: ${name}`);
  };
}
