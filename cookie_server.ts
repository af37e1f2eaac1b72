/**
 * The cookie server: HTTP/1.1 parsed by hand from raw TCP bytes
 * (`Deno.listen`), and a `session_id` cookie that tells a new visitor
 * ("Welcome, new visitor!") from a returning one ("Welcome back, User123!").
 *
 * Run it with `deno task cookie`, or straight from a URL:
 *
 * ```sh
 * deno run --allow-net --allow-read https://…/cookie_server.ts
 * ```
 *
 * The hand-written HTTP/1.1 layer lives in `lib/http1/`, the sessions in
 * `lib/sessions/`; this file only wires them together and reads the command line.
 *
 * @module
 */
import { parseServerFlags, runMain, shutDownOnSignals, UsageError } from "./lib/cli.ts";
import type { Http1Limits } from "./lib/http1/limits.ts";
import { type Http1Server, serveHttp1 } from "./lib/http1/server.ts";
import { listenUrl } from "./lib/net_address.ts";
import { createCookieApp } from "./lib/sessions/app.ts";
import { openSessionStore } from "./lib/sessions/open_store.ts";
import type { SessionStore } from "./lib/sessions/session.ts";

/** Options for {@linkcode serveCookies}. */
export interface CookieServerOptions {
  /** Port to listen on; `0` picks a free one. */
  port: number;
  /** Interface to bind. Default `127.0.0.1`. */
  hostname?: string;
  /** Where sessions live. The caller closes it after the server has finished. */
  store: SessionStore;
  /** PEM certificate chain and private key: when given, the server speaks TLS. */
  tls?: { cert: string; key: string };
  /** Overrides for the HTTP/1.1 layer's size and time limits. */
  limits?: Partial<Http1Limits>;
  /** Called once the socket is bound. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Receives every log line; default `console.log`. */
  log?: (line: string) => void;
  /** Aborting it shuts the server down gracefully, like `shutdown()`. */
  signal?: AbortSignal;
}

/**
 * Starts the cookie server: the session app behind the hand-written HTTP/1.1
 * server. Resolve `finished` or call `shutdown()` to stop it.
 *
 * @example
 * ```ts ignore
 * import { serveCookies } from "./cookie_server.ts";
 * import { MemorySessionStore } from "./lib/sessions/memory_store.ts";
 * const store = new MemorySessionStore();
 * const server = serveCookies({ port: 8080, store });
 * await server.finished;
 * store.close();
 * ```
 */
export function serveCookies(options: CookieServerOptions): Http1Server {
  const log = options.log ?? console.log;
  const app = createCookieApp({ store: options.store, log });
  return serveHttp1({
    port: options.port,
    hostname: options.hostname ?? "127.0.0.1",
    cert: options.tls?.cert,
    key: options.tls?.key,
    limits: options.limits,
    onListen: options.onListen,
    log,
    signal: options.signal,
  }, app);
}

const USAGE = `Usage: cookie_server.ts [options]

Serves a page that greets new and returning visitors, over HTTP/1.1 parsed by hand.

Options:
  --port N          port to listen on (default 8080, or $PORT)
  --hostname H      interface to bind (default 127.0.0.1; 0.0.0.0 for every interface)
  --store S         where sessions live: a Deno KV file path, a KV URL, or "memory"
                    (default: Deno KV at Deno's default location when --unstable-kv
                    is given, else memory)
  --cert FILE       PEM certificate chain: serve HTTPS (needs --key too)
  --key FILE        PEM private key
  -h, --help        show this help`;

async function main(args: string[]): Promise<void> {
  const flags = parseServerFlags(args, 8080, { string: ["store", "cert", "key"] });
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  const { cert: certFile, key: keyFile, store: storeSpec } = flags.strings;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError("--cert and --key go together");
  }
  const tls = certFile && keyFile
    ? { cert: await Deno.readTextFile(certFile), key: await Deno.readTextFile(keyFile) }
    : undefined;

  const { store, notice } = await openSessionStore(storeSpec);
  if (notice) console.warn(`warning: ${notice}`);

  // Listen for signals before the port is announced, so none arrives unhandled.
  const shutdown = new AbortController();
  const stopListeningForSignals = shutDownOnSignals(() => shutdown.abort());
  const server = serveCookies({
    signal: shutdown.signal,
    port: flags.port,
    hostname: flags.hostname,
    store,
    tls,
    onListen: (addr) => {
      console.log(
        `Cookie server listening on ${listenUrl(tls ? "https" : "http", addr)} ` +
          `(sessions: ${store.description})`,
      );
    },
  });

  await server.finished;
  stopListeningForSignals();
  store.close();
  console.log("Stopped.");
}

if (import.meta.main) {
  await runMain(USAGE, () => main(Deno.args));
}
