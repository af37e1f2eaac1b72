/**
 * Response serialization: status line, header fields and body into one
 * buffer, so head and body leave in a single write (one syscall, and no
 * small-packet delay between head and body). The server serializes into a
 * reusable {@linkcode OutputBuffer} per connection, which can also hold
 * several pipelined responses for one write.
 *
 * ```text
 * HTTP/1.1 200 OK\r\n                 status-line (RFC 9112 §4)
 * date: Tue, 25 Nov 2025 22:46:00 GMT\r\n
 * content-type: text/plain\r\n
 * content-length: 5\r\n               (RFC 9110 §8.6)
 * \r\n
 * hello
 * ```
 *
 * @module
 */
import { currentHttpDate } from "../http_date.ts";
import { statusText } from "./errors.ts";
import type { Http1Response } from "./message.ts";
import { isToken } from "./syntax.ts";

/**
 * Header fields the server owns: hop-by-hop fields (RFC 9110 §7.6.1) and the
 * framing fields it computes itself. A handler's values for these are dropped
 * — a handler-set `Transfer-Encoding` or wrong `Content-Length` would
 * desynchronise the client.
 */
const SERVER_OWNED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "content-length",
  "date",
]);

/** Status lines by code, built once each: `HTTP/1.1 200 OK\r\n`. */
const STATUS_LINES = new Map<number, string>();

function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${statusText(status)}\r\n`;
    STATUS_LINES.set(status, line);
  }
  return line;
}

const encoder = new TextEncoder();

/**
 * A growable byte buffer that responses are serialized into. A connection
 * keeps one for its whole life, so a response costs no allocation, and
 * pipelined responses can be appended back to back and written at once.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { OutputBuffer } from "./response.ts";
 * const out = new OutputBuffer();
 * out.appendLatin1("HTTP/1.1 204 No Content\r\n\r\n");
 * assertEquals(out.length, 27);
 * out.clear();
 * ```
 */
export class OutputBuffer {
  /**
   * Capacity kept between responses. A larger response grows the buffer for
   * its own write; {@linkcode OutputBuffer.clear} then lets that memory go,
   * so an idle connection never pins more than this.
   */
  static readonly KEPT_BYTES = 32768;
  #buf: Uint8Array;
  #length = 0;

  /** `capacity`: the starting size; it grows on demand. */
  constructor(capacity: number = OutputBuffer.KEPT_BYTES) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Bytes appended since the last {@linkcode OutputBuffer.clear}. */
  get length(): number {
    return this.#length;
  }

  /** The appended bytes (a view, valid until the next append or clear). */
  get bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#length);
  }

  /** Forgets the contents (after they were written). */
  clear(): void {
    this.#length = 0;
    if (this.#buf.length > OutputBuffer.KEPT_BYTES) {
      this.#buf = new Uint8Array(OutputBuffer.KEPT_BYTES);
    }
  }

  /** Appends raw bytes. */
  append(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /**
   * Appends a string of latin1 characters (U+0000–U+00FF) as one byte each:
   * what a response head is (field values are bytes, RFC 9110 §5.5). A
   * character above U+00FF throws, and nothing is appended.
   */
  appendLatin1(text: string): void {
    this.#reserve(text.length);
    // encodeInto is a native bulk copy, much faster than a loop over
    // charCodeAt, but it writes UTF-8. For ASCII that is the same bytes; any
    // other character takes two bytes (written > read), and then the slow
    // exact loop below rewrites it.
    const { read, written } = encoder.encodeInto(text, this.#buf.subarray(this.#length));
    if (read === text.length && written === text.length) {
      this.#length += written;
      return;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // Refuse rather than silently truncate a handler's non-latin1 value.
      if (c > 0xff) throw new TypeError("response head contains a non-latin1 character");
      this.#buf[this.#length + i] = c;
    }
    this.#length += text.length;
  }

  #reserve(n: number): void {
    const needed = this.#length + n;
    if (needed <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#buf.length * 2));
    grown.set(this.#buf.subarray(0, this.#length));
    this.#buf = grown;
  }
}

/**
 * Per-exchange facts that shape the serialized response.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "jsr:@std/assert@1.0.19";
 * import { type SerializeOptions, serializeResponse } from "./response.ts";
 * const options: SerializeOptions = { head: true, close: true, date: "Sun, 06 Nov 1994 08:49:37 GMT" };
 * const text = new TextDecoder().decode(serializeResponse({ status: 200, body: "hi" }, options));
 * assertStringIncludes(text, "content-length: 2\r\nconnection: close\r\n\r\n");
 * ```
 */
export interface SerializeOptions {
  /** The request was HEAD: send headers, including Content-Length, but no body. */
  head?: boolean;
  /** The server closes after this response: send `Connection: close`. */
  close?: boolean;
  /** HTTP/1.0 client kept alive: send `Connection: keep-alive` (RFC 9112 §9.3). */
  http10KeepAlive?: boolean;
  /** The `Date` value; default {@linkcode currentHttpDate}`()`. */
  date?: string;
}

/**
 * Serializes a response into a new buffer; see
 * {@linkcode serializeResponseInto} for the rules.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { serializeResponse } from "./response.ts";
 * const bytes = serializeResponse(
 *   { status: 200, headers: [["content-type", "text/plain"]], body: "hi" },
 *   { date: "Thu, 01 Jan 1970 00:00:00 GMT" },
 * );
 * assertEquals(
 *   new TextDecoder().decode(bytes),
 *   "HTTP/1.1 200 OK\r\ndate: Thu, 01 Jan 1970 00:00:00 GMT\r\ncontent-type: text/plain\r\n" +
 *     "content-length: 2\r\n\r\nhi",
 * );
 * ```
 */
export function serializeResponse(res: Http1Response, options: SerializeOptions = {}): Uint8Array {
  // Sized for a small response (the server's own errors); it grows if needed.
  const out = new OutputBuffer(512 + (res.body?.length ?? 0));
  serializeResponseInto(out, res, options);
  return out.bytes;
}

/**
 * Appends a serialized response to `out`.
 *
 * - Status line `HTTP/1.1 <code> <reason>`: a server sends its own highest
 *   version even to 1.0 clients (RFC 9110 §6.2).
 * - `Date` always (RFC 9110 §6.6.1). `Content-Length` from the body, except:
 *   none for 1xx and 204 (RFC 9110 §8.6); for HEAD and 304, the body's length
 *   if the handler gave one, else the handler's own Content-Length if valid
 *   (so a HEAD handler can advertise the GET size, RFC 9110 §9.3.2).
 * - 1xx, 204, 304 and HEAD responses carry no body (RFC 9112 §6.3 item 1).
 * - Fields in the handler's order, each on its own line, so every
 *   `Set-Cookie` stays separate (RFC 6265 §3: never comma-joined).
 * - A field name that is not a token, or a value with CR, LF or NUL, throws
 *   a `TypeError` instead of being written: written, it could end the head
 *   early and let a value smuggle in fields or a whole response (RFC 9110
 *   §5.5).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { OutputBuffer, serializeResponseInto } from "./response.ts";
 * const out = new OutputBuffer();
 * serializeResponseInto(out, { status: 204 });
 * serializeResponseInto(out, { status: 204 });
 * assertEquals(new TextDecoder().decode(out.bytes).split("HTTP/1.1").length - 1, 2);
 * ```
 */
export function serializeResponseInto(
  out: OutputBuffer,
  res: Http1Response,
  options: SerializeOptions = {},
): void {
  const { status } = res;
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new RangeError(`invalid response status ${status}`);
  }
  const informational = status < 200;
  const bodyless = informational || status === 204 || status === 304;
  const body = typeof res.body === "string" ? encoder.encode(res.body) : res.body;
  if (body != null && !(body instanceof Uint8Array)) {
    // e.g. a Web Response's ReadableStream: refuse it rather than send nothing.
    throw new TypeError(`response body must be a string or Uint8Array, got ${typeOf(body)}`);
  }
  const bodyLength = body?.length ?? 0;

  // One pass over the handler's fields builds the head (string concatenation
  // is cheap in V8: it makes a rope, flattened once by appendLatin1).
  let head = statusLine(status) + `date: ${options.date ?? currentHttpDate()}\r\n`;
  let declared: string | null = null;
  for (const [name, value] of res.headers ?? []) {
    if (!isToken(name)) { // a field name is a token (RFC 9110 §5.1)
      throw new TypeError(`invalid header field name ${JSON.stringify(name)}`);
    }
    if (UNSAFE_IN_VALUE.test(value)) {
      throw new TypeError(`header field ${name} has CR, LF or NUL in its value`);
    }
    const lowerName = name.toLowerCase();
    if (!SERVER_OWNED.has(lowerName)) head += `${name}: ${value}\r\n`;
    else if (lowerName === "content-length") declared = value;
  }

  let contentLength: string | null;
  if (informational || status === 204) {
    contentLength = null;
  } else if (options.head || status === 304) {
    contentLength = bodyLength > 0
      ? String(bodyLength)
      : declared !== null && /^[0-9]{1,15}$/.test(declared)
      ? declared
      : status === 304
      ? null
      : "0";
  } else {
    contentLength = String(bodyLength);
  }
  if (contentLength !== null) head += `content-length: ${contentLength}\r\n`;
  if (options.close) head += "connection: close\r\n";
  else if (options.http10KeepAlive) head += "connection: keep-alive\r\n";
  head += "\r\n";

  out.appendLatin1(head);
  if (!bodyless && !options.head && bodyLength > 0) out.append(body!);
}

function typeOf(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** What must never reach the wire inside a field value (RFC 9110 §5.5). */
const UNSAFE_IN_VALUE = /[\r\n\0]/;

/**
 * A small `text/plain` response for the server's own errors: the status
 * line's reason and the precise cause, e.g. `400 Bad Request: bare LF line
 * terminator (RFC 9112 §2.2)`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { textResponse } from "./response.ts";
 * const response = textResponse(503, "503 Service Unavailable: too many connections");
 * assertEquals([response.status, response.body], [503, "503 Service Unavailable: too many connections\n"]);
 * ```
 */
export function textResponse(status: number, text: string): Http1Response {
  return { status, headers: TEXT_PLAIN, body: text + "\n" };
}

const TEXT_PLAIN: readonly [string, string][] = [["content-type", "text/plain; charset=utf-8"]];

/**
 * The interim `100 Continue` response (RFC 9110 §15.2.1), sent before reading
 * the body of a request with `Expect: 100-continue`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { CONTINUE_RESPONSE } from "./response.ts";
 * assertEquals(new TextDecoder().decode(CONTINUE_RESPONSE), "HTTP/1.1 100 Continue\r\n\r\n");
 * ```
 */
export const CONTINUE_RESPONSE: Uint8Array = new TextEncoder().encode(
  "HTTP/1.1 100 Continue\r\n\r\n",
);
