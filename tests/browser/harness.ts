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
 * Starts Chromium from `executable` (with `extraFlags`), opens one tab, runs
 * `use`, then closes the DevTools connection and stops the browser whatever
 * happened.
 *
 * @example
 * ```ts ignore
 * await withTab("/usr/bin/chromium", async (tab) => {
 *   await tab.navigate("http://127.0.0.1:8000/");
 * });
 * ```
 */
export async function withTab(
  executable: string,
  use: (tab: Tab) => Promise<void>,
  extraFlags: string[] = [],
): Promise<void> {
  const chromium = await launchChromium(executable, extraFlags);
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
  /** `http://127.0.0.1:PORT`, or `https://…` for a site served over TLS. */
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
  /**
   * The protocol the page should report as its `nextHopProtocol`: `h2` over
   * TLS, where Chromium and Deno.serve agree on HTTP/2, else `http/1.1`.
   */
  protocol: "http/1.1" | "h2";
}

/** The test certificate for `localhost` and `127.0.0.1` (self-signed; see its README). */
const TEST_TLS = new URL("../fixtures/http1/", import.meta.url);

/**
 * The Chromium flag that makes it trust the test certificate as if a CA had
 * signed it: `--ignore-certificate-errors-spki-list` with the SHA-256 of the
 * certificate's public key (derived from the private key here, so it follows
 * the fixture when that is regenerated). Not `--ignore-certificate-errors`:
 * Chromium does not cache what it fetched over a connection with a
 * certificate error, so no reload would ever revalidate.
 */
export async function trustTestCertificate(): Promise<string[]> {
  const pem = await Deno.readTextFile(new URL("key.pem", TEST_TLS));
  const pkcs8 = Uint8Array.from(
    atob(pem.replace(/-----[^-]+-----|\s/g, "")),
    (c) => c.charCodeAt(0),
  );
  const p256 = { name: "ECDSA", namedCurve: "P-256" };
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, p256, true, ["sign"]);
  const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", privateKey);
  const publicKey = await crypto.subtle.importKey("jwk", { kty, crv, x, y }, p256, true, [
    "verify",
  ]);
  const spki = await crypto.subtle.exportKey("spki", publicKey);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", spki));
  return [`--ignore-certificate-errors-spki-list=${btoa(String.fromCharCode(...digest))}`];
}

/**
 * Copies the demo page into a fresh temp root, serves it with `serveCaching`
 * on port 0 (over TLS with the test certificate when `tls` is set, with
 * `cacheControl` when given, with compression when `compress` is set), runs
 * `use`, then shuts the server down and removes the root.
 */
export async function withCachingSite(
  use: (site: CachingSite) => Promise<void>,
  { tls = false, cacheControl = undefined as string | undefined, compress = false } = {},
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "browser_caching_site_" });
  try {
    const indexPath = join(root, "index.html");
    await Deno.copyFile(DEMO_PAGE, indexPath);
    const log: string[] = [];
    const listening = Promise.withResolvers<Deno.NetAddr>();
    const server = serveCaching({
      root,
      port: 0,
      cacheControl,
      compress,
      log: (line) => log.push(line),
      onListen: listening.resolve,
      tls: tls
        ? {
          cert: await Deno.readTextFile(new URL("cert.pem", TEST_TLS)),
          key: await Deno.readTextFile(new URL("key.pem", TEST_TLS)),
        }
        : undefined,
    });
    try {
      const { port } = await listening.promise;
      await printLogOnFailure(
        log,
        () =>
          use({
            origin: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
            log,
            indexPath,
            nextChange: server.nextChange,
            protocol: tls ? "h2" : "http/1.1",
          }),
      );
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Three caching servers on three origins, for the CORS scenario. */
export interface CorsSites {
  /** Serves the page the scripts run in. */
  page: TestServer;
  /** Serves `data.txt` with `cors: true`. */
  cors: TestServer;
  /** Serves the same `data.txt` without CORS. */
  noCors: TestServer;
  /** What `data.txt` holds. */
  fileContent: string;
}

/**
 * Serves a temp root (the demo page and `data.txt`) three times on port 0:
 * plainly, with CORS, and plainly again; runs `use`, then shuts all three
 * down and removes the root. Different ports are different origins.
 */
export async function withCorsSites(use: (sites: CorsSites) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "browser_cors_site_" });
  const fileContent = "0123456789abcdef\n";
  const servers: { shutdown(): Promise<unknown> }[] = [];
  try {
    await Deno.copyFile(DEMO_PAGE, join(root, "index.html"));
    await Deno.writeTextFile(join(root, "data.txt"), fileContent);
    const start = async (cors: boolean): Promise<TestServer> => {
      const log: string[] = [];
      const listening = Promise.withResolvers<Deno.NetAddr>();
      servers.push(serveCaching({
        root,
        port: 0,
        cors,
        log: (line) => log.push(line),
        onListen: listening.resolve,
      }));
      return { origin: `http://127.0.0.1:${(await listening.promise).port}`, log };
    };
    const sites = { page: await start(false), cors: await start(true), noCors: await start(false) };
    await printLogOnFailure(sites.cors.log, () => use({ ...sites, fileContent }));
  } finally {
    await Promise.all(servers.map((server) => server.shutdown()));
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
