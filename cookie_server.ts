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
import { printLogLine } from "./lib/access_log.ts";
import { endProgramOutput, startProgramOutput } from "./lib/program_log.ts";
import { listenOrExplain, parseServerFlags, runMain, StartupError, UsageError } from "./lib/cli.ts";
import { type Http1Limits, type Http1Server, serveHttp1 } from "./lib/http1/mod.ts";
import { listenUrl } from "./lib/net_address.ts";
import {
  createCookieApp,
  type OpenedStore,
  openSessionStore,
  type SessionStore,
} from "./lib/sessions/mod.ts";

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
  /** Receives every log line; default: `console.log`, controls escaped. */
  log?: (line: string) => void;
  /** Aborting it shuts the server down gracefully, like `shutdown()`. */
  signal?: AbortSignal;
  /** New sessions stored per minute per client address; default 30. */
  newSessionsPerMinute?: number;
}

/**
 * Starts the cookie server: the session app behind the hand-written HTTP/1.1
 * server. Resolve `finished` or call `shutdown()` to stop it.
 *
 * @example
 * ```ts
 * import { assertMatch } from "jsr:@std/assert@1.0.19";
 * import { serveCookies } from "./cookie_server.ts";
 * import { MemorySessionStore } from "./lib/sessions/mod.ts";
 * const store = new MemorySessionStore();
 * const server = serveCookies({ port: 0, store, onListen() {}, log: () => {} });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assertMatch(await response.text(), /Welcome, new visitor!/);
 * await server.shutdown();
 * store.close();
 * ```
 */
export function serveCookies(options: CookieServerOptions): Http1Server {
  const log = options.log ?? printLogLine;
  const app = createCookieApp({
    store: options.store,
    log,
    newSessionsPerMinute: options.newSessionsPerMinute,
  });
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

const USAGE = `Usage: deno task cookie [options]
       deno run --allow-net cookie_server.ts [options]

Serves a page that greets new and returning visitors by their session_id
cookie, over HTTP/1.1 parsed by hand from the TCP bytes.

deno task cookie keeps sessions in Deno KV at .data/sessions.kv (hidden, so
the caching server never serves it); it runs
  deno run --unstable-kv --allow-net --allow-read --allow-write=.data \\
    --allow-env=PORT cookie_server.ts --store .data/sessions.kv

Options:
  --port N          port to listen on (default 8080, or $PORT when run with
                    --allow-env=PORT, as deno task cookie does)
  --hostname HOST   interface to bind (default 127.0.0.1: this machine only;
                    0.0.0.0 for every interface)
  --store S         where sessions live: a Deno KV file path, a KV URL (both
                    need --unstable-kv), or "memory". Default: with
                    --unstable-kv, Deno KV in Deno's own storage for this
                    script (the start-up line says where); else memory
  --cert FILE       PEM certificate chain: serve HTTPS (needs --key too)
  --key FILE        PEM private key
  --new-sessions-per-minute N
                    sessions stored per minute per client address, and the
                    burst allowed (default 30); a first visit stores nothing
  --quiet           no access log (the startup and shutdown lines remain)
  --log-format F    "text": the teaching lines (default); "json": one JSON
                    object per line (time, method, path, status, reason)
  -h, --help        show this help

Permissions: --allow-net to listen; --allow-read and --allow-write for the
store's folder; --allow-read for --cert and --key; --allow-env=PORT (optional)
to read $PORT.

A self-signed pair for trying HTTPS, kept in the hidden .tls/ folder, which
the caching server never serves:
  mkdir -p .tls && openssl req -x509 -newkey rsa:2048 -noenc -days 30 \\
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \\
    -keyout .tls/key.pem -out .tls/cert.pem
  deno task cookie --cert .tls/cert.pem --key .tls/key.pem

Ctrl-C stops it gracefully: in-flight responses finish, then the store closes.`;

async function main(args: string[]): Promise<void> {
  const flags = parseServerFlags(args, 8080, {
    string: ["store", "cert", "key", "log-format", "new-sessions-per-minute"],
    boolean: ["quiet"],
  });
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  const { cert: certFile, key: keyFile, store: storeSpec } = flags.strings;
  const newSessionsPerMinute = positiveNumber(flags.strings["new-sessions-per-minute"]);
  checkFlagCombinations(certFile, keyFile, storeSpec);
  const tls = certFile && keyFile
    ? { cert: await readPemFile("--cert", certFile), key: await readPemFile("--key", keyFile) }
    : undefined;

  const { store, notice } = await openStoreOrExplain(storeSpec);
  if (notice) console.warn(`warning: ${notice}`);

  const program = startProgramOutput(flags);
  let server: Http1Server;
  try {
    server = listenOrExplain(flags, () =>
      serveCookies({
        signal: program.signal,
        log: program.requestLog,
        port: flags.port,
        hostname: flags.hostname,
        store,
        tls,
        newSessionsPerMinute,
        onListen: (addr) => {
          program.output.log(
            `Cookie server listening on ${listenUrl(tls ? "https" : "http", addr)} ` +
              `(sessions: ${store.description})`,
          );
        },
      }));
  } catch (error) {
    program.stopListeningForSignals();
    store.close();
    throw explainTlsError(error, certFile, keyFile);
  }

  await server.finished;
  store.close();
  await endProgramOutput(program, "Stopped.");
}

/** `--cert` and `--key` go together; a `--store` other than memory needs Deno KV. */
function checkFlagCombinations(
  certFile: string | undefined,
  keyFile: string | undefined,
  storeSpec: string | undefined,
): void {
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError("--cert and --key go together");
  }
  if (storeSpec !== undefined && storeSpec !== "memory" && typeof Deno.openKv !== "function") {
    throw new UsageError(
      `--store ${storeSpec} needs Deno KV: run with --unstable-kv, or use --store memory`,
    );
  }
}

/**
 * Reads a PEM file named on the command line. A missing file is a usage error
 * (`--help` shows how to make a pair), as in the caching server; a missing
 * permission says which flag grants it.
 */
async function readPemFile(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new StartupError(
        `${flag} ${path}: no permission to read it: run again with --allow-read`,
      );
    }
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`${flag} ${path}: no such file`);
    }
    throw new UsageError(`${flag} ${path}: ${(error as Error).message}`);
  }
}

/** `Deno.listenTls` rejects a file that is not PEM with `InvalidData`: name the files. */
function explainTlsError(error: unknown, certFile?: string, keyFile?: string): unknown {
  if (!(error instanceof Deno.errors.InvalidData) || certFile === undefined) return error;
  return new UsageError(
    `--cert ${certFile} --key ${keyFile}: ${error.message}; expected a PEM certificate chain ` +
      "and its private key",
    { cause: error },
  );
}

/** Opens the session store, turning a missing permission or a bad file into one line. */
async function openStoreOrExplain(spec: string | undefined): Promise<OpenedStore> {
  try {
    return await openSessionStore(spec);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const hint = error instanceof Deno.errors.NotCapable
      ? "; deno task cookie may write only under .data/, so keep the store there"
      : "";
    const what = spec === undefined ? "the default Deno KV store" : `--store ${spec}`;
    throw new StartupError(`${what}: ${error.message}${hint}`, { cause: error });
  }
}

/** A flag's value as a positive number; `undefined` when the flag is absent. */
function positiveNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!(number > 0) || !Number.isFinite(number)) {
    throw new UsageError(`--new-sessions-per-minute must be a positive number, not ${value}`);
  }
  return number;
}

if (import.meta.main) {
  await runMain(() => main(Deno.args));
}
