/**
 * One client connection: the loop that reads requests, calls the handler and
 * writes responses, in order, until the connection should close (RFC 9112
 * §9). This is the thin I/O shell around the pure parser, chunked decoder and
 * serializer; every protocol decision is made by those.
 *
 * Per request: wait for the first byte (idle timeout) → read the head (head
 * timeout) → `100 Continue` if expected → read the body (body timeout) →
 * handler → serialize → one write (write timeout). Requests are handled one
 * at a time, so pipelined requests are answered in the order received
 * (RFC 9112 §9.3.2); while the next one is already buffered, responses are
 * held and written together. Timeouts are enforced by the server's periodic
 * sweep ({@linkcode Http1Connection.expire}). Any {@linkcode RequestError}
 * ends the connection with its status, a log line and a lingering close.
 *
 * @module
 */
import { formatHostPort } from "../net_address.ts";
import { ChunkedDecoder } from "./chunked.ts";
import { RequestError, statusText } from "./errors.ts";
import type { Http1Limits } from "./limits.ts";
import { type Http1Handler, Http1Request, type Http1Response } from "./message.ts";
import { HeadParser, type HeadParseResult, INCOMPLETE, type RequestHead } from "./parser.ts";
import { ConnReader, type FillResult } from "./reader.ts";
import {
  CONTINUE_RESPONSE,
  OutputBuffer,
  serializeResponseInto,
  textResponse,
} from "./response.ts";

/**
 * What a connection needs from its server.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { ConnectionContext } from "./connection.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 * const ctx: ConnectionContext = {
 *   handler: () => ({ status: 200, body: "hi" }),
 *   limits: DEFAULT_LIMITS,
 *   log: console.log,
 *   secure: false,
 *   fallbackAuthority: "127.0.0.1:8000",
 *   paceNextRead: () => null,
 * };
 * assertEquals(ctx.secure, false);
 * ```
 */
export interface ConnectionContext {
  /** The application handler. */
  handler: Http1Handler;
  /** Resolved limits. */
  limits: Http1Limits;
  /** Log sink, one line per call. */
  log: (line: string) => void;
  /** TLS connection. */
  secure: boolean;
  /** `host:port` used as the URL authority for HTTP/1.0 requests without Host. */
  fallbackAuthority: string;
  /**
   * When the server is crowded, a promise to wait on before reading a keep-alive
   * connection's next request; otherwise `null` (see `CROWDED_CONNECTIONS` in
   * pool.ts).
   */
  paceNextRead(): Promise<void> | null;
}

/**
 * What a connection is served over: a `Deno.Conn`, or the
 * `FrontedTlsConn` of a TLS server (`tls_front.ts`). With `handshake`, it is TLS,
 * and nothing can be sent until the handshake has completed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { Transport } from "./connection.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const conn: Transport = await listener.accept();
 * assertEquals(conn.handshake, undefined);
 * conn.close();
 * client.close();
 * listener.close();
 * ```
 */
export interface Transport {
  /** Reads into `buffer`; `null` at EOF. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; resolves how many. */
  write(bytes: Uint8Array): Promise<number>;
  /** Half-closes: no more writes. */
  closeWrite(): Promise<void>;
  /** Closes and releases the connection. */
  close(): void;
  /** The client's address. */
  readonly remoteAddr: Deno.Addr;
  /** TLS only: resolves once the handshake has completed. */
  handshake?(): Promise<unknown>;
}

/** Thrown when a response write does not complete in time. */
class WriteTimeoutError extends Error {}

/**
 * How long graceful shutdown still waits for the first request of a
 * connection that was accepted but has sent nothing yet (at most its head
 * deadline). Its client may have sent the request just as shutdown began;
 * closing at once would fail a request we accepted the connection for. Go's
 * `http.Server.Shutdown` spares new connections the same way.
 */
export const NEW_CONNECTION_GRACE_MS = 1000;

/**
 * Most bytes of pipelined responses held back to be written together: half
 * the {@linkcode OutputBuffer}'s kept capacity, so holding never makes it grow.
 */
const MAX_HELD_BYTES = OutputBuffer.KEPT_BYTES / 2;

/**
 * Serves requests on one accepted connection until it closes.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "jsr:@std/assert@1.0.19";
 * import { Http1Connection } from "./connection.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const c = new Http1Connection(await listener.accept(), {
 *   handler: () => ({ status: 200, body: "hi" }),
 *   limits: DEFAULT_LIMITS,
 *   log: console.log,
 *   secure: false,
 *   fallbackAuthority: "localhost:8000",
 *   paceNextRead: () => null,
 * });
 * await client.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
 * const answer = await new Response(client.readable).text();
 * assertStringIncludes(answer, "HTTP/1.1 200 OK\r\n");
 * await c.done;
 * ```
 */
export class Http1Connection {
  /** Resolves once the connection is closed and all its work is finished. Never rejects. */
  readonly done: Promise<void>;
  #conn: Transport;
  #ctx: ConnectionContext;
  #reader: ConnReader;
  #headParser: HeadParser;
  /** Serialized responses not yet written (reused: no allocation per response). */
  #out = new OutputBuffer();
  /** What every request on this connection shares (see Http1Request). */
  #connection: { remoteAddr: Deno.NetAddr; secure: boolean; fallbackAuthority: string };
  #closed = false;
  #idle = false;
  #shuttingDown = false;
  /** Whether a response has been sent: an idle connection that served one is a keep-alive. */
  #servedOne = false;
  /** When the response being written must be out (epoch ms); `Infinity` when not writing. */
  #writeDeadline = Infinity;
  #writeTimedOut = false;
  /** When the connection last became an idle keep-alive (epoch ms), for eviction order. */
  #idleSince = 0;
  /** Whether it only answers a refusal (see the constructor). */
  #refusing: boolean;
  /** Whether anything can be sent: false over TLS until the handshake has completed. */
  #handshaken = true;

  /**
   * Starts serving `conn` immediately; with `refusal`, answers that error
   * instead (e.g. a `503` past a connection limit) after reading and
   * discarding what the client sends for `delayMs`, with the same lingering
   * close as any other error.
   */
  constructor(
    conn: Transport,
    ctx: ConnectionContext,
    refusal?: { error: RequestError; delayMs: number },
  ) {
    this.#conn = conn;
    this.#ctx = ctx;
    if (conn.handshake !== undefined) {
      this.#handshaken = false;
      conn.handshake().then(() => (this.#handshaken = true), () => {});
    }
    const { limits } = ctx;
    this.#reader = new ConnReader(conn, READ_BUFFER_INITIAL_BYTES, maxReadBufferBytes(limits));
    this.#headParser = new HeadParser(limits);
    this.#connection = {
      remoteAddr: conn.remoteAddr as Deno.NetAddr,
      secure: ctx.secure,
      fallbackAuthority: ctx.fallbackAuthority,
    };
    this.#refusing = refusal !== undefined;
    this.done = refusal === undefined ? this.#run() : this.#refuse(refusal);
  }

  /** The client's address. */
  get remoteAddr(): Deno.NetAddr {
    return this.#connection.remoteAddr;
  }

  /**
   * Since when this connection has been an idle keep-alive (it served a
   * response and waits for the next request), or `null` when it is not one.
   */
  get idleKeepAliveSince(): number | null {
    return this.#idle && this.#servedOne && !this.#closed ? this.#idleSince : null;
  }

  /**
   * Closes an idle keep-alive connection to make room for a new one, as
   * nginx does when out of connections (RFC 9112 §9.5: either side may close
   * an idle connection at any time). Returns whether it was idle.
   */
  evictIdle(): boolean {
    if (this.idleKeepAliveSince === null) return false;
    this.#close();
    return true;
  }

  /**
   * Graceful shutdown: an idle keep-alive connection closes now; a busy one
   * finishes its current response, sent with `Connection: close`; a new one
   * that has sent nothing yet gets {@linkcode NEW_CONNECTION_GRACE_MS} to
   * send its request, answered with `Connection: close`.
   */
  shutdown(): void {
    this.#shuttingDown = true;
    if (this.#refusing) this.#close(); // its refusal needs no more time
    if (!this.#idle) return;
    if (this.#servedOne) this.#close();
    else this.#reader.shortenDeadline(Date.now() + NEW_CONNECTION_GRACE_MS);
  }

  /**
   * The server's periodic sweep (instead of a timer per read and per write):
   * ends a read whose deadline has passed, and cuts off a write that has not
   * completed in time.
   */
  expire(now: number): void {
    this.#reader.expire(now);
    if (now >= this.#writeDeadline && !this.#writeTimedOut) {
      this.#writeTimedOut = true;
      this.#ctx.log(
        `http1: write timed out after ${this.#ctx.limits.writeTimeoutMs} ms ${this.#peer()}`,
      );
      this.#close(); // makes the pending write reject
    }
  }

  async #run(): Promise<void> {
    const { limits } = this.#ctx;
    // The first request's head must arrive within headTimeoutMs of accept.
    const acceptDeadline = Date.now() + limits.headTimeoutMs;
    let first = true;
    try {
      while (!(this.#shuttingDown && this.#servedOne)) {
        // 1. Wait for the first byte of the next request.
        if (this.#reader.size === 0 && !await this.#awaitRequest(first, acceptDeadline)) return;
        const headDeadline = first ? acceptDeadline : Date.now() + limits.headTimeoutMs;
        first = false;

        // 2. The head, parsed incrementally: each read's bytes are scanned once.
        let parsed = this.#headParser.parse(this.#reader.buffered);
        if (!parsed.done) {
          parsed = await this.#readRestOfHead(headDeadline);
          if (!parsed.done) return; // client gave up mid-head; nobody to answer
        }
        this.#headParser.reset();
        const { head } = parsed;
        this.#reader.consume(parsed.bytesConsumed);

        // 3. The body, so the next request is framed right even if unused.
        const body = head.framing.kind === "none" ? null : await this.#readBody(head);

        // 4. The exchange.
        const response = await this.#respond(head, body);
        // Decided after the handler: a shutdown during it still closes.
        const keepAlive = head.keepAlive && !this.#shuttingDown;
        this.#serialize(response, head, keepAlive);
        this.#servedOne = true;
        // 5. Pipelining: when the client has already sent (part of) the next
        //    request, hold this response and answer that one first, so
        //    pipelined responses leave several per write instead of one each,
        //    fewer system calls per request. They stay in order (one
        //    buffer), at most MAX_HELD_BYTES are held, and #fill writes them
        //    before waiting for more bytes from the client.
        if (!keepAlive || this.#reader.size === 0 || this.#out.length >= MAX_HELD_BYTES) {
          await this.#flush();
        }
        if (!keepAlive) return;
      }
      await this.#flush(); // shutdown ended the loop: send what is held
    } catch (error) {
      if (error instanceof RequestError) {
        await this.#fail(error);
      } else if (!(error instanceof WriteTimeoutError) && !this.#closed) {
        this.#ctx.log(`http1: connection error ${this.#peer()}: ${error}`);
      }
    } finally {
      this.#close();
      await this.#reader.settle();
    }
  }

  /**
   * Waits for the first byte of a request on an empty buffer; returns
   * whether one came. Silence here is not an error: the connection is idle
   * and is closed without a response (RFC 9112 §9.5) once its deadline
   * passes, on EOF, or when shutdown() closes it.
   */
  async #awaitRequest(first: boolean, acceptDeadline: number): Promise<boolean> {
    this.#idle = true;
    this.#idleSince = Date.now();
    if (!first) {
      // A crowded server paces the read (CROWDED_CONNECTIONS in pool.ts).
      // Nothing is held here: the loop flushed when the buffer was empty.
      const pace = this.#ctx.paceNextRead();
      if (pace !== null) await pace;
    }
    const deadline = first ? acceptDeadline : Date.now() + this.#ctx.limits.idleTimeoutMs;
    const outcome = await this.#fill(deadline);
    this.#idle = false;
    if (outcome === "timeout" && !this.#handshaken) this.#logHandshakeTimeout();
    return outcome === "data";
  }

  /**
   * Reads until the head is complete; `INCOMPLETE` when the client closed
   * first. A head still incomplete at `deadline` is a `408`.
   */
  async #readRestOfHead(deadline: number): Promise<HeadParseResult> {
    while (true) {
      const outcome = await this.#fill(deadline);
      if (outcome === "timeout") {
        throw new RequestError(
          "HEAD_TIMEOUT",
          `request head not complete within ${this.#ctx.limits.headTimeoutMs} ms`,
        );
      }
      if (outcome === "eof") return INCOMPLETE;
      const parsed = this.#headParser.parse(this.#reader.buffered);
      if (parsed.done) return parsed;
    }
  }

  /** Reads a body framed by Content-Length or chunked (RFC 9112 §6.3). */
  async #readBody(head: RequestHead): Promise<Uint8Array<ArrayBuffer>> {
    const { framing } = head;
    const { limits } = this.#ctx;
    // RFC 9110 §10.1.1: answer 100 before reading, unless the client already
    // started sending the body anyway.
    if (head.expectContinue && this.#reader.size === 0) {
      this.#out.append(CONTINUE_RESPONSE);
      await this.#flush();
    }
    const deadline = Date.now() + limits.bodyTimeoutMs;

    if (framing.kind === "length") {
      const body = new Uint8Array(framing.length);
      let filled = 0;
      while (true) {
        const chunk = this.#reader.buffered;
        const n = Math.min(chunk.length, body.length - filled);
        body.set(chunk.subarray(0, n), filled);
        filled += n;
        this.#reader.consume(n);
        if (filled === body.length) return body;
        await this.#fillBody(deadline, filled, body.length);
      }
    }

    const decoder = new ChunkedDecoder(limits);
    while (true) {
      this.#reader.consume(decoder.feed(this.#reader.buffered));
      if (decoder.done) return decoder.body();
      await this.#fillBody(deadline, decoder.body().length, null);
    }
  }

  async #fillBody(deadline: number, received: number, expected: number | null): Promise<void> {
    const outcome = await this.#fill(deadline);
    if (outcome === "timeout") {
      throw new RequestError(
        "BODY_TIMEOUT",
        `request body not complete within ${this.#ctx.limits.bodyTimeoutMs} ms`,
      );
    }
    if (outcome === "eof") {
      throw new RequestError(
        "UNEXPECTED_EOF",
        `connection closed after ${received}${expected === null ? "" : ` of ${expected}`} ` +
          "body bytes (RFC 9112 §8)",
      );
    }
  }

  /** Runs the handler; any failure becomes a logged 500 (framing is intact, so keep-alive stays). */
  async #respond(head: RequestHead, body: Uint8Array<ArrayBuffer> | null): Promise<Http1Response> {
    if (head.targetForm === "asterisk") {
      // OPTIONS * asks about the server, not a resource, and has no path.
      // RFC 9110 §9.3.7: a 200 without content must carry Content-Length: 0.
      return { status: 200 };
    }
    try {
      const response = await this.#ctx.handler(new Http1Request(head, body, this.#connection));
      if (typeof response !== "object" || response === null) {
        throw new TypeError(`handler returned ${Object.prototype.toString.call(response)}`);
      }
      return response;
    } catch (error) {
      return this.#internalError(`handler threw: ${describe(error)}`);
    }
  }

  /**
   * Appends the response to the output buffer. One the serializer refuses
   * (a bad status, a field that would break the head) becomes a 500: the
   * client gets an answer, and nothing unsafe reaches the wire.
   */
  #serialize(response: Http1Response, head: RequestHead, keepAlive: boolean): void {
    const options = {
      head: head.method === "HEAD",
      close: !keepAlive,
      http10KeepAlive: keepAlive && head.versionMinor === 0,
    };
    try {
      serializeResponseInto(this.#out, response, options);
    } catch (error) {
      const refused = this.#internalError(`response refused: ${describe(error)}`);
      serializeResponseInto(this.#out, refused, options);
    }
  }

  #internalError(why: string): Http1Response {
    const line = `500 ${statusText(500)}: ${why}`;
    this.#ctx.log(`${line} ${this.#peer()}`);
    return textResponse(500, `500 ${statusText(500)}`);
  }

  /**
   * Answers `refusal` without reading a request, then closes. The delay
   * slows a client that reconnects the moment it is refused: each refusal
   * costs it that long, and the server nothing but an open socket.
   */
  async #refuse(refusal: { error: RequestError; delayMs: number }): Promise<void> {
    try {
      if (refusal.delayMs > 0 && !await this.#discardInput(Date.now() + refusal.delayMs)) return;
      await this.#fail(refusal.error);
    } finally {
      this.#close();
      await this.#reader.settle();
    }
  }

  /** Answers a failed request, then closes with a lingering close. */
  async #fail(error: RequestError): Promise<void> {
    if (!this.#handshaken) {
      // Nothing can be sent before the handshake: this is its head timeout.
      this.#logHandshakeTimeout();
      return;
    }
    this.#ctx.log(`${error.message} ${this.#peer()}`);
    if (this.#closed) return;
    try {
      serializeResponseInto(this.#out, textResponse(error.status, error.message), { close: true });
      await this.#flush();
      await this.#conn.closeWrite();
    } catch {
      return; // the client is gone or not reading: nothing more to do
    }
    // Lingering close: read and discard what the client still sends (e.g.
    // the body we refused) until it closes or the linger time passes, so our
    // close does not turn into a RST that destroys the response in flight.
    // Drop the refused request's bytes first: a head that hit a size limit can
    // leave the reader's buffer full at its maximum, and filling a full buffer
    // throws, which would reject `done` and crash the process (found by the
    // hardening fuzz: ~40 KB of blank lines, long target and long header).
    await this.#discardInput(Date.now() + this.#ctx.limits.lingerTimeoutMs);
  }

  /**
   * Reads and discards what the client sends until `deadline`; returns
   * false when the client closed first.
   */
  async #discardInput(deadline: number): Promise<boolean> {
    this.#reader.consume(this.#reader.size);
    while (true) {
      const outcome = await this.#reader.fill(deadline);
      if (outcome !== "data") return outcome === "timeout";
      this.#reader.consume(this.#reader.size);
    }
  }

  /**
   * Writes everything in {@linkcode Http1Connection.#out} (one write unless
   * the socket takes it in parts), then empties it. The deadline is enforced
   * by the server's sweep (see expire()).
   */
  async #flush(): Promise<void> {
    const bytes = this.#out.bytes;
    if (bytes.length === 0) return;
    this.#writeDeadline = Date.now() + this.#ctx.limits.writeTimeoutMs;
    try {
      let written = 0;
      while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
    } catch (error) {
      throw this.#writeTimedOut ? new WriteTimeoutError() : error;
    } finally {
      this.#writeDeadline = Infinity;
    }
    this.#out.clear();
  }

  /**
   * Reads more of the request. Held responses are written first: the client
   * may be waiting for them before it sends more.
   */
  async #fill(deadline: number): Promise<FillResult> {
    await this.#flush();
    return await this.#reader.fill(deadline);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer's reset; nothing to release
    }
  }

  #logHandshakeTimeout(): void {
    this.#ctx.log(
      `http1: TLS handshake not complete within ${this.#ctx.limits.headTimeoutMs} ms, ` +
        `closed ${this.#peer()}`,
    );
  }

  #peer(): string {
    return `[client ${formatHostPort(this.#connection.remoteAddr)}]`;
  }
}

/** The read buffer's first size: a typical request head fits in one read. */
const READ_BUFFER_INITIAL_BYTES = 8192;

/**
 * The most the read buffer may grow to: room for the largest head the limits
 * allow, where the request line counts twice because the empty lines allowed
 * before it (RFC 9112 §2.2) are bounded by the same limit, plus one more
 * read's worth of the next request pipelined behind it.
 */
function maxReadBufferBytes(limits: Http1Limits): number {
  return 2 * limits.maxRequestLineBytes + limits.maxHeaderBytes + READ_BUFFER_INITIAL_BYTES;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
