/**
 * `serveHttp1`: an HTTP/1.1 server written by hand on raw TCP (or TLS).
 *
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { serveHttp1 } from "./server.ts";
 * const server = serveHttp1({ port: 0, onListen() {} }, (req) => ({ status: 200, body: `you asked for ${req.pathname}\n` }));
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/a?b`);
 * assertEquals(await response.text(), "you asked for /a\n");
 * await server.shutdown();
 * ```
 *
 * How it is put together (each module does one thing):
 *
 * - `limits.ts` — every bound, with the reason for its default.
 * - `syntax.ts` — byte classes (tchar, field-vchar, target), Host syntax.
 * - `parser.ts` — pure request-head parser: bytes → validated head.
 * - `fields.ts` — Content-Length / Transfer-Encoding / Connection / Expect rules.
 * - `chunked.ts` — incremental chunked-body decoder.
 * - `message.ts` — what a handler gets and gives: `Http1Request`
 *   (the parsed head and body) and `Http1Response` (status, fields,
 *   body). Not the Web `Request`/`Response`: building those in JavaScript
 *   costs more than the whole rest of a request (see that module).
 * - `response.ts` — response serializer and the cached `Date`.
 * - `errors.ts` — `RequestError`: one code per failure kind.
 * - `reader.ts`, `connection.ts` — the I/O shell: reads with deadlines, the
 *   per-connection request loop.
 * - `pool.ts` — admission (the connection limits, idle eviction), the
 *   deadline sweep.
 * - this file — listening, accepting, graceful shutdown.
 *
 * Protocol decisions worth knowing:
 *
 * - **Line terminators must be CRLF; a bare LF is rejected with 400.** RFC 9112
 *   §2.2 permits accepting bare LF, but lenient framing is a classic
 *   request-smuggling differential between a proxy and an origin.
 * - Ambiguous framing (Content-Length with Transfer-Encoding, repeated or
 *   malformed Content-Length, Transfer-Encoding not ending in chunked) → 400
 *   and close (RFC 9112 §6.3).
 * - Every error response carries `Connection: close`, is logged with its
 *   precise reason, and is followed by a lingering close.
 * - Requests are handled one at a time per connection, so pipelined requests
 *   are answered in order (RFC 9112 §9.3.2).
 * - `OPTIONS *` is answered by the server itself (`200`, no content) because
 *   an asterisk-form target names no resource; TRACE and CONNECT get 501.
 * - Bodies are buffered whole (bounded by `maxBodyBytes`) before the handler
 *   runs, and responses are whole bodies sent with Content-Length; there is
 *   no streaming and no chunked responses.
 *
 * @module
 */
import { formatHostPort, listenUrl } from "../net_address.ts";
import { printLogLine } from "../access_log.ts";
import { type Http1Limits, resolveLimits } from "./limits.ts";
import type { Http1Handler } from "./message.ts";
import type { Transport } from "./connection.ts";
import { ConnectionPool } from "./pool.ts";
import { TlsFrontListener } from "./tls_front.ts";

/**
 * Options for {@linkcode serveHttp1}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { type Http1ServeOptions, serveHttp1 } from "./server.ts";
 * const options: Http1ServeOptions = { port: 0, limits: { maxConnections: 64 }, onListen() {} };
 * const server = serveHttp1(options, () => ({ status: 200, body: "ok" }));
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assertEquals(await response.text(), "ok");
 * await server.shutdown();
 * ```
 */
export interface Http1ServeOptions {
  /** TCP port; `0` lets the OS pick (read it from `addr` or `onListen`). */
  port: number;
  /** Interface to bind. Default `"127.0.0.1"`: exposing more is an explicit choice. */
  hostname?: string;
  /** PEM certificate chain; with `key`, the server listens with TLS. */
  cert?: string;
  /** PEM private key; with `cert`, the server listens with TLS. */
  key?: string;
  /** Overrides for any of the {@linkcode Http1Limits}. */
  limits?: Partial<Http1Limits>;
  /** Called once listening. Default: log `Listening on http://host:port/`. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Log sink, one line per call. Default `console.log`. */
  log?: (line: string) => void;
  /** Aborting it shuts the server down like {@linkcode Http1Server.shutdown}. */
  signal?: AbortSignal;
}

/**
 * A running server.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { type Http1Server, serveHttp1 } from "./server.ts";
 * const server: Http1Server = serveHttp1({ port: 0, onListen() {} }, () => ({ status: 200 }));
 * assertEquals(server.addr.port > 0, true);
 * await server.shutdown();
 * ```
 */
export interface Http1Server {
  /** The bound address (with the real port when `port` was 0). */
  addr: Deno.NetAddr;
  /** Resolves when the server has fully stopped: listener and all connections closed. */
  finished: Promise<void>;
  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish (their
   * responses carry `Connection: close`), close idle keep-alive connections,
   * and give connections that have not sent a request yet a short grace
   * period to send one (answered with `Connection: close`). Resolves when
   * every connection is closed. Safe to call more than once.
   */
  shutdown(): Promise<void>;
  /** `await using server = serveHttp1(…)` shuts down at scope exit. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts an HTTP/1.1 server on `Deno.listen`, with TLS when `cert` and `key`
 * are given (see `tls_front.ts` for how).
 *
 * @example Serve, make one request, shut down
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { serveHttp1 } from "./server.ts";
 * const server = serveHttp1({ port: 0, onListen() {} }, (req) => ({ status: 200, body: req.method }));
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assertEquals(await res.text(), "GET");
 * await server.shutdown();
 * ```
 */
export function serveHttp1(options: Http1ServeOptions, handler: Http1Handler): Http1Server {
  const limits = resolveLimits(options.limits);
  const log = options.log ?? printLogLine;
  const secure = options.cert !== undefined;
  const listener = listen(options);
  const addr = listener.addr as Deno.NetAddr;
  if (options.onListen) options.onListen(addr);
  else log(`Listening on ${listenUrl(secure ? "https" : "http", addr)}`);

  const pool = new ConnectionPool({
    handler,
    limits,
    log,
    secure,
    fallbackAuthority: formatHostPort(addr),
  });
  let shuttingDown = false;
  const accepting = acceptLoop(listener, pool, log, secure, () => shuttingDown);
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const finished = (async () => {
    await stopped;
    await accepting;
    await pool.shutdown();
    await listener.drained?.();
    options.signal?.removeEventListener("abort", shutdown);
  })();

  function shutdown(): Promise<void> {
    if (!shuttingDown) {
      shuttingDown = true;
      try {
        listener.close();
      } catch { /* already closed */ }
      resolveStopped();
    }
    return finished;
  }
  if (options.signal?.aborted) shutdown();
  else options.signal?.addEventListener("abort", shutdown, { once: true });

  return { addr, finished, shutdown, [Symbol.asyncDispose]: shutdown };
}

/** What the accept loop needs from a listener. */
interface Listener {
  readonly addr: Deno.Addr;
  accept(): Promise<Transport>;
  close(): void;
}

/**
 * `Deno.listen`, or a {@linkcode TlsFrontListener} when `cert` and `key` are
 * given, so that a TLS handshake that never completes can be cut off.
 */
function listen(options: Http1ServeOptions): Listener & { drained?(): Promise<void> } {
  const hostname = options.hostname ?? "127.0.0.1";
  return options.cert !== undefined
    ? new TlsFrontListener({ hostname, port: options.port, cert: options.cert, key: options.key! })
    : Deno.listen({ hostname, port: options.port, transport: "tcp" });
}

/** Accepts until the listener closes, handing every connection to the pool. */
async function acceptLoop(
  listener: Listener,
  pool: ConnectionPool,
  log: (line: string) => void,
  secure: boolean,
  shuttingDown: () => boolean,
): Promise<void> {
  while (!shuttingDown()) {
    let conn: Transport;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (shuttingDown() || error instanceof Deno.errors.BadResource) return;
      // e.g. EMFILE: log, breathe, keep serving everyone else.
      log(`http1: accept failed: ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    if (shuttingDown()) {
      conn.close();
      return;
    }
    // Every write is a whole response (or several pipelined ones), so
    // Nagle's algorithm can only delay them: with pipelining, a second write
    // waited for the client's delayed ACK (~40 ms). TLS connections do not
    // expose the option.
    // TLS connections are set up by TlsFrontListener.
    if (!secure) (conn as Deno.TcpConn).setNoDelay(true);
    pool.admit(conn);
  }
}
