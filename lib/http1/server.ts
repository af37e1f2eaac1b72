/**
 * `serveHttp1`: an HTTP/1.1 server written by hand on raw TCP (or TLS).
 *
 * ```ts ignore
 * import { serveHttp1 } from "./lib/http1/server.ts";
 * const server = serveHttp1({ port: 8000 }, (req) => ({ status: 200, body: `you asked for ${req.pathname}\n` }));
 * await server.finished;
 * ```
 *
 * How it is put together (each module does one thing):
 *
 * - `limits.ts` — every bound, with the reason for its default.
 * - `syntax.ts` — byte classes (tchar, field-vchar, target), Host syntax.
 * - `parser.ts` — pure request-head parser: bytes → validated head.
 * - `fields.ts` — Content-Length / Transfer-Encoding / Connection / Expect rules.
 * - `chunked.ts` — incremental chunked-body decoder.
 * - `message.ts` — what a handler gets and gives: {@linkcode Http1Request}
 *   (the parsed head and body) and {@linkcode Http1Response} (status, fields,
 *   body). Not the Web `Request`/`Response`: building those in JavaScript
 *   costs more than the whole rest of a request (see that module).
 * - `response.ts` — response serializer and the cached `Date`.
 * - `errors.ts` — {@linkcode RequestError}: one code per failure kind.
 * - `reader.ts`, `connection.ts` — the I/O shell: reads with deadlines, the
 *   per-connection request loop.
 * - this file — listening, the connection cap, graceful shutdown.
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
import { Http1Connection } from "./connection.ts";
import { RequestError } from "./errors.ts";
import { type Http1Limits, resolveLimits } from "./limits.ts";
import { type Http1Handler, Http1Request, type Http1Response } from "./message.ts";
import { serializeResponse, textResponse } from "./response.ts";

export { type Http1Handler, Http1Request, type Http1Response, RequestError };

/**
 * Options for {@linkcode serveHttp1}.
 *
 * @example
 * ```ts
 * import { type Http1ServeOptions, serveHttp1 } from "./server.ts";
 * const options: Http1ServeOptions = { port: 0, limits: { maxConnections: 64 }, onListen() {} };
 * const server = serveHttp1(options, () => ({ status: 200, body: "ok" }));
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
 * import { type Http1Server, serveHttp1 } from "./server.ts";
 * const server: Http1Server = serveHttp1({ port: 0, onListen() {} }, () => ({ status: 200 }));
 * console.log(server.addr.port > 0); // true
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
 * Above this many open connections, a keep-alive connection waits one timer
 * tick before reading its next request.
 *
 * Why: Deno runs every socket read of the process through one task, and
 * tokio lets a task complete only 128 I/O operations per turn (its "coop
 * budget"). With more sockets ready than that, the reads left over are not
 * served in arrival order, and some wait for hundreds of milliseconds while
 * others are answered again and again. A bare `Deno.listen` echo loop shows
 * it with `wrk -c N`: p99 0.9 ms at 128 connections, 4 ms at 160, 63 ms at
 * 200, 240 ms at 256, 1.1 s at 384. Waiting one tick lets the client's next
 * request arrive first, so the read completes as soon as it is made, and
 * every connection gets its turn: p99 at 256 connections fell to a few
 * milliseconds. It costs throughput only while this crowded.
 */
export const CROWDED_CONNECTIONS = 128;

/**
 * Starts an HTTP/1.1 server: `Deno.listen`, or `Deno.listenTls` when `cert`
 * and `key` are given.
 *
 * @example Serve, make one request, shut down
 * ```ts
 * import { serveHttp1 } from "./server.ts";
 * const server = serveHttp1({ port: 0, onListen() {} }, (req) => ({ status: 200, body: req.method }));
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * console.log(await res.text()); // "GET"
 * await server.shutdown();
 * ```
 */
export function serveHttp1(options: Http1ServeOptions, handler: Http1Handler): Http1Server {
  const limits = resolveLimits(options.limits);
  const log = options.log ?? ((line: string) => console.log(line));
  const hostname = options.hostname ?? "127.0.0.1";
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new TypeError("serveHttp1: cert and key must be given together");
  }
  const secure = options.cert !== undefined;
  const listener: Deno.Listener = secure
    ? Deno.listenTls({ hostname, port: options.port, cert: options.cert!, key: options.key! })
    : Deno.listen({ hostname, port: options.port, transport: "tcp" });
  const addr = listener.addr as Deno.NetAddr;
  const authority = addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
  if (options.onListen) options.onListen(addr);
  else log(`Listening on ${secure ? "https" : "http"}://${authority}/`);

  const connections = new Set<Http1Connection>();
  const rejections = new Map<Deno.Conn, Promise<void>>();
  let shuttingDown = false;
  /** The next timer tick, shared by every connection that paces its read (one timer for all). */
  let nextTick: Promise<void> | null = null;
  const context = {
    handler,
    limits,
    log,
    secure,
    fallbackAuthority: authority,
    paceNextRead(): Promise<void> | null {
      if (connections.size <= CROWDED_CONNECTIONS) return null;
      nextTick ??= new Promise<void>((resolve) =>
        setTimeout(() => {
          nextTick = null;
          resolve();
        }, 0)
      );
      return nextTick;
    },
  };

  // One interval checks every connection's read and write deadlines, instead
  // of a timer set and cleared around every read and write (~1.1 µs each, on
  // every request).
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const connection of connections) connection.expire(now);
  }, sweepIntervalMs(limits));

  const acceptLoop = (async () => {
    while (!shuttingDown) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (shuttingDown || error instanceof Deno.errors.BadResource) break;
        // e.g. EMFILE: log, breathe, keep serving everyone else.
        log(`http1: accept failed: ${error}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (shuttingDown) {
        conn.close();
        break;
      }
      if (connections.size >= limits.maxConnections) {
        reject(conn);
        continue;
      }
      // Every write is a whole response (or several pipelined ones), so
      // Nagle's algorithm can only delay them: with pipelining, a second write
      // waited for the client's delayed ACK (~40 ms). TLS connections do not
      // expose the option.
      if (!secure) (conn as Deno.TcpConn).setNoDelay(true);
      const connection = new Http1Connection(conn, context);
      connections.add(connection);
      connection.done.then(() => connections.delete(connection));
    }
  })();

  /** Over the cap: a fast 503 and close, never a hang (RFC 9110 §15.6.4). */
  function reject(conn: Deno.Conn): void {
    const error = `503 Service Unavailable: connection limit of ${limits.maxConnections} reached`;
    const { hostname, port } = conn.remoteAddr as Deno.NetAddr;
    log(`${error} [client ${hostname}:${port}]`);
    const bytes = serializeResponse(
      textResponse(503, "503 Service Unavailable: server busy, retry later"),
      { close: true },
    );
    const timeout = Math.min(limits.writeTimeoutMs, limits.lingerTimeoutMs);
    const task = (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      // Bound the whole exchange: a client that neither reads nor closes
      // (or a TLS handshake that never completes) cannot keep this open.
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeout);
      });
      const exchange = (async () => {
        await conn.write(bytes); // 503 bytes always fit the socket buffer
        await conn.closeWrite();
        // Lingering close, as in Http1Connection: drain until the client closes.
        const sink = new Uint8Array(4096);
        while (await conn.read(sink) !== null) { /* discard */ }
      })().catch(() => {});
      await Promise.race([exchange, expired]);
      clearTimeout(timer);
      try {
        conn.close();
      } catch { /* already closed */ }
      await exchange;
      rejections.delete(conn);
    })();
    rejections.set(conn, task);
  }

  let resolveDrained!: () => void;
  const drained = new Promise<void>((resolve) => (resolveDrained = resolve));
  const finished = (async () => {
    await acceptLoop;
    await drained;
    await Promise.all([...connections].map((c) => c.done));
    await Promise.all(rejections.values());
    clearInterval(sweep);
    options.signal?.removeEventListener("abort", onAbort);
  })();

  function shutdown(): Promise<void> {
    if (!shuttingDown) {
      shuttingDown = true;
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const connection of connections) connection.shutdown();
      for (const conn of rejections.keys()) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      resolveDrained();
    }
    return finished;
  }

  function onAbort(): void {
    shutdown();
  }
  if (options.signal?.aborted) shutdown();
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  return { addr, finished, shutdown, [Symbol.asyncDispose]: shutdown };
}

/**
 * How often deadlines are swept: a quarter of the shortest timeout, between
 * 10 and 250 ms. A timeout then fires at most a quarter (or 250 ms) late,
 * while a few hundred connections cost the sweep microseconds.
 */
function sweepIntervalMs(limits: Http1Limits): number {
  const shortest = Math.min(
    limits.headTimeoutMs,
    limits.bodyTimeoutMs,
    limits.idleTimeoutMs,
    limits.writeTimeoutMs,
    limits.lingerTimeoutMs,
  );
  return Math.max(10, Math.min(250, Math.floor(shortest / 4)));
}
