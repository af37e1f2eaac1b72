/**
 * A static file server that teaches HTTP caching: every file gets a strong
 * `ETag` (SHA-256 of its bytes) and a `Last-Modified`, conditional requests
 * are answered exactly as RFC 9110 §13.2.2 orders them, and the access log
 * says why each response is a 200, 206, 304, 412 or 416.
 *
 * Run it with `deno task cache`, or straight from a URL:
 * `deno run --allow-net --allow-read https://…/caching_server.ts`.
 *
 * @module
 */
import { dirname } from "jsr:@std/path@1.1.6/dirname";
import { fromFileUrl } from "jsr:@std/path@1.1.6/from-file-url";
import { isAbsolute } from "jsr:@std/path@1.1.6/is-absolute";
import { relative } from "jsr:@std/path@1.1.6/relative";
import { SEPARATOR } from "jsr:@std/path@1.1.6/constants";
import {
  type FlagSpec,
  listenOrExplain,
  parseServerFlags,
  runMain,
  StartupError,
  UsageError,
} from "./lib/cli.ts";
import { printLogLine } from "./lib/access_log.ts";
import { endProgramOutput, startProgramOutput } from "./lib/program_log.ts";
import { listenUrl } from "./lib/net_address.ts";
import {
  type CachingHandlerOptions,
  ChangeMonitor,
  createCachingHandler,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  type ShutdownResult,
  startServeLoop,
} from "./lib/caching/mod.ts";

/** Options for {@linkcode serveCaching}: the handler's, plus where to listen. */
export interface ServeCachingOptions extends Omit<CachingHandlerOptions, "changes"> {
  /**
   * Watch the root for changes (default `true`): a file is then checked on
   * disk only after something under the root changed, not on every request.
   * `false` checks with `stat` on every request (e.g. on network file systems,
   * where change events may not arrive).
   */
  watch?: boolean;
  /** TCP port; `0` lets the OS choose. Default 8000. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  hostname?: string;
  /** Aborting it shuts the server down, as {@linkcode CachingServer.shutdown} does. */
  signal?: AbortSignal;
  /**
   * How long a shutdown waits for responses in flight (e.g. a download to a
   * slow client) before it stops waiting and says so. Default 30 s
   * ({@linkcode DEFAULT_SHUTDOWN_TIMEOUT_MS}).
   */
  shutdownTimeoutMs?: number;
  /** Called with the bound address once the server listens. */
  onListen?: (addr: Deno.NetAddr) => void;
  /**
   * Receives the server's own lines: a failed accept and the listen after it,
   * a shutdown waiting for responses in flight. Default: `log`.
   */
  serverLog?: (line: string) => void;
  /**
   * PEM certificate chain and private key: when given, the server speaks TLS
   * and offers HTTP/2 as well as HTTP/1.1 (ALPN), and the client chooses.
   */
  tls?: { cert: string; key: string };
}

/**
 * Starts the caching server with `Deno.serve`.
 *
 * Automatic compression is switched off explicitly (it is also off by
 * default in Deno 2.9, but `DENO_SERVE_AUTOMATIC_COMPRESSION=1` turns it on):
 * gzip would turn the strong `ETag` of a 200 into a weak one and add
 * `Vary: Accept-Encoding`, while the 304 for the same resource would carry
 * neither — validators that disagree between 200 and 304.
 *
 * It watches the root for changes (see {@linkcode ChangeMonitor}) unless
 * `watch: false`, and stops watching when the server stops.
 *
 * @param options Root directory, listening address and handler options.
 * @returns The running server; `await server.shutdown()` stops it.
 *
 * @example Serve a directory on a port the OS chooses
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { serveCaching } from "./caching_server.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/index.html`, "<p>hi</p>");
 * const server = serveCaching({ root, port: 0, onListen() {}, log: () => {} });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assertEquals([response.status, await response.text()], [200, "<p>hi</p>"]);
 * assertEquals(await server.shutdown(), { drained: true });
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function serveCaching(options: ServeCachingOptions): CachingServer {
  const {
    port = 8000,
    hostname = "127.0.0.1",
    signal,
    onListen,
    watch = true,
    tls,
    shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS,
    ...handlerOptions
  } = options;
  const log = handlerOptions.log ?? printLogLine;
  const serverLog = options.serverLog ?? log;
  const changes = watch
    ? ChangeMonitor.watch(Deno.realPathSync(handlerOptions.root), log)
    : undefined;
  let server;
  try {
    server = startServeLoop({
      hostname,
      port,
      tls,
      handler: createCachingHandler({ ...handlerOptions, changes }),
      log: serverLog,
      onListen,
      shutdownTimeoutMs,
    });
  } catch (error) {
    // A port in use or an unusable certificate: stop watching, or the watcher
    // would keep the process alive.
    changes?.close();
    throw error;
  }
  const finished = server.finished.then(async (result) => {
    await changes?.close();
    return result;
  });
  const shutdown = async () => {
    signal?.removeEventListener("abort", shutdown);
    await server.shutdown();
    return await finished;
  };
  if (signal?.aborted) shutdown();
  else signal?.addEventListener("abort", shutdown, { once: true });
  return {
    addr: server.addr,
    finished,
    shutdown,
    nextChange: () => changes?.nextChange() ?? Promise.resolve(),
  };
}

/** A running caching server. */
export interface CachingServer {
  /** The bound address (with the real port when `port` was 0). */
  addr: Deno.NetAddr;
  /**
   * Resolves once the server has stopped and stopped watching: `drained` is
   * `false` when responses were still being sent as the shutdown bound ran out.
   */
  finished: Promise<ShutdownResult>;
  /**
   * Stops accepting, closes idle connections, lets responses in flight finish
   * for at most `shutdownTimeoutMs`, then resolves with `finished`.
   */
  shutdown(): Promise<ShutdownResult>;
  /**
   * Resolves once the server has been told of the next change under its root
   * (at once when it is not watching): requests that start after that see the
   * change. Call it before making the change.
   */
  nextChange(): Promise<void>;
}

/** The demo page shipped next to this module, served at `/` when the root has none. */
const DEMO_PAGE = new URL("./index.html", import.meta.url);

/**
 * The default root: the folder holding the project's `index.html`, which is
 * this module's folder when it runs from a checkout. Run from an http(s) URL
 * there is no such folder, so the current directory is served instead.
 */
function defaultRoot(): string {
  return import.meta.url.startsWith("file:") ? dirname(fromFileUrl(import.meta.url)) : Deno.cwd();
}

const USAGE = `Usage: deno task cache [options] [DIR]
       deno run --allow-net --allow-read caching_server.ts [options] [DIR]

Serves the files under DIR (same as --root DIR) with ETag and Last-Modified
validators, answering conditional requests with 304 Not Modified. Hidden files
and folders (.git, .env, .data) are never served.

Options:
  --port N               port to listen on (default 8000, or $PORT when run
                         with --allow-env=PORT, as deno task cache does)
  --hostname HOST        interface to bind (default 127.0.0.1: this machine
                         only; 0.0.0.0 for every interface)
  --root DIR             directory to serve (default: the project folder, or
                         the current directory when run from a URL)
  --cache-control VALUE  Cache-Control for files (default "no-cache": browsers
                         revalidate on every load, so reloads show the 304)
  --max-file-size SIZE   largest file served, in bytes or with K, M or G
                         (default: no limit)
  --stream-above SIZE    files larger than this are streamed from disk, not
                         held in memory (default 16M)
  --no-watch             check files with stat on every request instead of
                         watching the root for changes (for network file
                         systems, where change events may not arrive)
  --cert FILE            PEM certificate chain: serve HTTPS, and HTTP/2 to
                         clients that offer it (needs --key too)
  --key FILE             PEM private key for --cert
  --cors                 let scripts on any origin read the files and their
                         ETag, Last-Modified, Content-Range, Accept-Ranges
                         (Access-Control-Allow-Origin: *), and answer OPTIONS
  --list-dirs            list a directory without index.html (names, sizes,
                         times; hidden entries never) instead of a 404
  --compress             send compressible files (text, JS, JSON, SVG…) as
                         their .br or .gz sibling, or gzipped on the fly,
                         when Accept-Encoding asks; each encoding its own
                         ETag, Vary: Accept-Encoding on all
  --shutdown-timeout S   on Ctrl-C or SIGTERM, let responses in flight finish
                         for up to S seconds, then exit, cutting off the rest
                         (default 30)
  --quiet                no access log (the startup and shutdown lines remain)
  --log-format FORMAT    "text": the teaching lines (default); "json": one
                         JSON object per line (time, method, path, status,
                         reason)
  -h, --help             show this help

Permissions: --allow-net to listen, --allow-read for the files it serves,
--allow-env=PORT (optional) to read $PORT. Ctrl-C stops it gracefully.`;

/** The caching server's own flags, besides `--port`, `--hostname` and `--help`. */
const CACHING_FLAGS: FlagSpec = {
  string: [
    "root",
    "cache-control",
    "cert",
    "key",
    "log-format",
    "max-file-size",
    "shutdown-timeout",
    "stream-above",
  ],
  boolean: ["quiet", "cors", "list-dirs", "compress"],
  negatable: ["watch"],
  positional: "root",
};

async function main(args: string[]): Promise<void> {
  const flags = parseServerFlags(args, 8000, CACHING_FLAGS);
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  const root = flags.strings.root ?? defaultRoot();
  checkRoot(root);
  const cacheControl = parseCacheControl(flags.strings["cache-control"] ?? "no-cache");
  const shutdownTimeoutMs = parseSeconds("--shutdown-timeout", flags.strings["shutdown-timeout"]);

  const maxFileBytes = parseByteSize("--max-file-size", flags.strings["max-file-size"]);
  const streamAboveBytes = parseByteSize("--stream-above", flags.strings["stream-above"]);
  const tls = await readTlsFlags(flags.strings.cert, flags.strings.key, root);

  const program = startProgramOutput(flags);
  const server = listenOrExplain(flags, () =>
    serveWithTlsChecked({
      root,
      tls,
      cacheControl,
      maxFileBytes,
      streamAboveBytes,
      log: program.requestLog,
      serverLog: program.output.log,
      port: flags.port,
      hostname: flags.hostname,
      signal: program.signal,
      watch: flags.booleans.watch,
      shutdownTimeoutMs,
      fallbackIndex: DEMO_PAGE,
      cors: flags.booleans.cors,
      listDirs: flags.booleans["list-dirs"],
      compress: flags.booleans.compress,
      onListen: (addr) => {
        const url = listenUrl(tls ? "https" : "http", addr);
        program.output.log(`Serving ${root} at ${url} (Cache-Control: ${cacheControl})`);
        program.output.log("Open it, reload, and watch DevTools → Network: 200, then 304.");
      },
    }));
  const { drained } = await server.finished;
  await endProgramOutput(
    program,
    drained ? "Stopped." : "Stopped: the responses still being sent are cut off.",
  );
  // Deno.serve cannot close a connection in mid-response; ending the process does.
  if (!drained) Deno.exit(0);
}

/**
 * A field value is visible ASCII and spaces (RFC 9110 §5.5); a newline would be
 * header injection, which Headers rejects at the first request rather than now.
 */
function parseCacheControl(value: string): string {
  if (!/^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$/.test(value)) {
    throw new UsageError(`--cache-control ${JSON.stringify(value)}: not a valid field value`);
  }
  return value;
}

/** A flag's whole or decimal number of seconds, in milliseconds; `undefined` when not given. */
function parseSeconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,7}(\.\d{1,3})?$/.test(value)) {
    throw new UsageError(`${flag} ${JSON.stringify(value)}: expected seconds, e.g. 30 or 0.5`);
  }
  return Number(value) * 1000;
}

/** A size flag: whole bytes, or a number of K, M or G (powers of 1024). */
function parseByteSize(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)([KMG]?)(?:i?B)?$/i.exec(text);
  const bytes = match && Number(match[1]) * 1024 ** " KMG".indexOf(match[2].toUpperCase() || " ");
  if (!bytes || !Number.isSafeInteger(bytes)) {
    throw new UsageError(`${flag} ${text}: expected a size such as 1048576, 200M or 2G`);
  }
  return bytes;
}

/**
 * Reads `--cert` and `--key`, which go together; a file that cannot be read,
 * or a key the server would serve from `root`, is a usage error.
 */
async function readTlsFlags(
  certFile: string | undefined,
  keyFile: string | undefined,
  root: string,
): Promise<{ cert: string; key: string } | undefined> {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new UsageError("--cert and --key go together");
  }
  const read = async (flag: string, path: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      throw new UsageError(`${flag} ${path}: ${(error as Error).message}`);
    }
  };
  const tls = { cert: await read("--cert", certFile), key: await read("--key", keyFile) };
  refuseServedKey(keyFile, root);
  return tls;
}

/**
 * Refuses a private key that the server itself would hand out: one under the
 * root and in no hidden folder (a key generated in the project folder, which
 * `deno task cache` serves, would be one request away from anyone).
 */
function refuseServedKey(keyFile: string, root: string): void {
  const path: string = relative(Deno.realPathSync(root), Deno.realPathSync(keyFile));
  const segments: string[] = path.split(SEPARATOR);
  // ".." (outside the root) and hidden names both start with a dot; neither is served.
  if (isAbsolute(path) || segments.some((segment) => segment.startsWith("."))) return;
  throw new UsageError(
    `--key ${keyFile}: it is inside the served root, so anyone could download it as ` +
      `/${segments.join("/")}; keep it outside the root or in a hidden folder such as .tls/`,
  );
}

/**
 * `serveCaching`, with the errors Deno.serve raises for PEM files that hold no
 * certificate, no key, or a key that does not match the certificate turned
 * into usage errors: they are the user's input, not a bug.
 */
function serveWithTlsChecked(options: ServeCachingOptions): CachingServer {
  try {
    return serveCaching(options);
  } catch (error) {
    const badPem = error instanceof Deno.errors.InvalidData ||
      String(error).includes("KeyMismatch");
    if (options.tls && badPem) throw new UsageError(`--cert/--key: ${(error as Error).message}`);
    throw error;
  }
}

/** The root must be a directory this process may read: say which of the two it is not. */
function checkRoot(root: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(root);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new StartupError(
        `no permission to read ${root}: run again with --allow-read (or --allow-read=${root})`,
      );
    }
    if (error instanceof Deno.errors.NotFound) throw new UsageError(`${root}: no such directory`);
    throw new StartupError(`${root}: ${(error as Error).message}`);
  }
  if (!info.isDirectory) throw new UsageError(`${root}: not a directory`);
}

if (import.meta.main) {
  await runMain(() => main(Deno.args));
}
