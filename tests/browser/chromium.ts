/**
 * Finding and launching a headless Chromium for the browser tests, and always
 * getting rid of it again: the process is killed and awaited, its profile
 * directory removed.
 *
 * @module
 */
import { join } from "jsr:@std/path@1.1.6/join";
import { TextLineStream } from "jsr:@std/streams@1.1.2/text-line-stream";
import { withTimeout } from "./deadline.ts";

/** Executable names tried on `PATH`, in order, when `CHROME_PATH` is not set. */
const EXECUTABLE_NAMES = ["chromium", "chromium-browser", "google-chrome"];

/**
 * The flags every run uses. The `--disable-*` networking flags matter: without
 * them Chromium keeps trying to reach Google's servers (updates, sync, field
 * trials), which is slow and noisy on a machine with only loopback networking.
 * `--disable-quic` keeps every request on the TCP HTTP/1.1 the servers speak.
 */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Port 0: the OS picks a free port, and Chromium prints the WebSocket URL.
  "--remote-debugging-port=0",
];

/** Where the browser was found, or why none was. */
export type ChromiumSearch = { path: string } | { missing: string };

/**
 * Looks for a Chromium: `$CHROME_PATH` (taken as given, so a wrong value fails
 * loudly at launch), then `chromium`, `chromium-browser`, `google-chrome` on
 * `$PATH`. Needs only the test task's `--allow-env` and `--allow-read`; without
 * them the search reports what is missing instead of prompting.
 *
 * @example
 * ```ts ignore
 * const search = findChromium();
 * if ("missing" in search) console.log(`browser tests ignored: ${search.missing}`);
 * ```
 */
export function findChromium(): ChromiumSearch {
  for (const permission of ["env", "read", "run"] as const) {
    if (Deno.permissions.querySync({ name: permission }).state !== "granted") {
      return { missing: `needs --allow-${permission} to find and start Chromium` };
    }
  }
  const configured = Deno.env.get("CHROME_PATH");
  if (configured) return { path: configured };
  for (const directory of (Deno.env.get("PATH") ?? "").split(":")) {
    for (const name of EXECUTABLE_NAMES) {
      const candidate = join(directory, name);
      if (isExecutableFile(candidate)) return { path: candidate };
    }
  }
  return {
    missing:
      `no Chromium found (set CHROME_PATH, or install chromium: ${EXECUTABLE_NAMES.join(", ")} ` +
      "were not on PATH)",
  };
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** A running headless Chromium with a fresh profile. */
export interface Chromium {
  /** The browser's DevTools endpoint, `ws://127.0.0.1:PORT/devtools/browser/…`. */
  webSocketUrl: string;
  /** Stops the browser (politely, then by force), waits for it, and removes the profile. */
  close(): Promise<void>;
}

/** How many of Chromium's last stderr lines an error message quotes. */
const STDERR_LINES_KEPT = 20;

/**
 * Starts `executable` headless on a fresh temporary profile, with
 * `extraFlags` after the usual ones, and waits (bounded) until it announces
 * its DevTools WebSocket. If that fails, the browser is already cleaned up and
 * the error quotes Chromium's last stderr lines.
 *
 * @example
 * ```ts ignore
 * const chromium = await launchChromium("/usr/bin/chromium");
 * try {
 *   console.log(chromium.webSocketUrl);
 * } finally {
 *   await chromium.close();
 * }
 * ```
 */
export async function launchChromium(
  executable: string,
  extraFlags: string[] = [],
  timeoutMs = 30_000,
): Promise<Chromium> {
  const profile = await Deno.makeTempDir({ prefix: "browser_test_profile_" });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(executable, {
      args: [...CHROMIUM_FLAGS, ...extraFlags, `--user-data-dir=${profile}`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    await Deno.remove(profile, { recursive: true });
    throw new Error(`could not start ${executable}: ${error}`);
  }

  // Read stderr to its end (an unread pipe would eventually block Chromium),
  // keeping the last lines for error messages and watching for the endpoint.
  const lastLines: string[] = [];
  const announced = Promise.withResolvers<string>();
  const stderrRead = (async () => {
    const lines = child.stderr.pipeThrough(new TextDecoderStream())
      .pipeThrough<string>(new TextLineStream());
    for await (const line of lines) {
      lastLines.push(line);
      if (lastLines.length > STDERR_LINES_KEPT) lastLines.shift();
      const endpoint = /^DevTools listening on (ws:\/\/\S+)/.exec(line);
      if (endpoint) announced.resolve(endpoint[1]);
    }
    announced.reject(new Error("Chromium exited before announcing its DevTools endpoint"));
  })();
  announced.promise.catch(() => {}); // reported below, or irrelevant once announced

  async function close(): Promise<void> {
    try {
      child.kill("SIGTERM"); // Chromium shuts down its helper processes on SIGTERM
    } catch {
      // already exited
    }
    try {
      await withTimeout(child.status, 10_000, "Chromium to exit after SIGTERM");
    } catch {
      child.kill("SIGKILL");
      await child.status;
    }
    await stderrRead;
    await Deno.remove(profile, { recursive: true });
  }

  try {
    const webSocketUrl = await withTimeout(
      announced.promise,
      timeoutMs,
      `${executable} to print "DevTools listening on ws://…"`,
    );
    return { webSocketUrl, close };
  } catch (error) {
    await close();
    throw new Error(
      `${(error as Error).message}\nChromium's last stderr lines:\n${lastLines.join("\n")}`,
    );
  }
}
