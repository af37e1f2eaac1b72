/**
 * Response serialization: status line, header fields and body into one
 * `Uint8Array`, so head and body leave in a single write (one syscall, and no
 * small-packet delay between head and body).
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
  "set-cookie", // emitted separately, one line per cookie
]);

/**
 * What {@linkcode serializeResponse} needs from a handler's `Response`.
 *
 * @example
 * ```ts
 * import { type ResponseParts, serializeResponse } from "./response.ts";
 * const parts: ResponseParts = { status: 204, headers: new Headers(), body: null };
 * console.log(serializeResponse(parts).length > 0); // true
 * ```
 */
export interface ResponseParts {
  /** Status code, 100–599. */
  status: number;
  /** Response header fields. */
  headers: Headers;
  /** The fully read body, or `null` for none. */
  body: Uint8Array | null;
}

/**
 * Per-exchange facts that shape the serialized response.
 *
 * @example
 * ```ts
 * import { type SerializeOptions, serializeResponse } from "./response.ts";
 * const options: SerializeOptions = { head: true, close: true };
 * serializeResponse({ status: 200, headers: new Headers(), body: null }, options);
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
 * Serializes a response into one buffer.
 *
 * - Status line `HTTP/1.1 <code> <reason>`: a server sends its own highest
 *   version even to 1.0 clients (RFC 9110 §6.2).
 * - `Date` always (RFC 9110 §6.6.1). `Content-Length` from the body, except:
 *   none for 1xx and 204 (RFC 9110 §8.6); for HEAD and 304, the body's length
 *   if the handler gave one, else the handler's own Content-Length if valid
 *   (so a HEAD handler can advertise the GET size, RFC 9110 §9.3.2).
 * - 1xx, 204, 304 and HEAD responses carry no body (RFC 9112 §6.3 item 1).
 * - Each `Set-Cookie` on its own line (RFC 6265 §3: never comma-joined).
 *
 * @example
 * ```ts
 * import { serializeResponse } from "./response.ts";
 * const bytes = serializeResponse(
 *   { status: 200, headers: new Headers({ "content-type": "text/plain" }), body: new TextEncoder().encode("hi") },
 *   { date: "Thu, 01 Jan 1970 00:00:00 GMT" },
 * );
 * console.log(new TextDecoder().decode(bytes));
 * // HTTP/1.1 200 OK\r\ndate: Thu, 01 Jan 1970 00:00:00 GMT\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nhi
 * ```
 */
export function serializeResponse(res: ResponseParts, options: SerializeOptions = {}): Uint8Array {
  const { status, headers } = res;
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new RangeError(`invalid response status ${status}`);
  }
  const informational = status < 200;
  const bodyless = informational || status === 204 || status === 304;
  const bodyLength = res.body?.length ?? 0;

  let contentLength: string | null;
  if (informational || status === 204) {
    contentLength = null;
  } else if (options.head || status === 304) {
    const declared = headers.get("content-length");
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

  let head = `HTTP/1.1 ${status} ${statusText(status)}\r\ndate: ${
    options.date ?? currentHttpDate()
  }\r\n`;
  for (const [name, value] of headers) {
    if (!SERVER_OWNED.has(name)) head += `${name}: ${value}\r\n`;
  }
  for (const cookie of headers.getSetCookie()) head += `set-cookie: ${cookie}\r\n`;
  if (contentLength !== null) head += `content-length: ${contentLength}\r\n`;
  if (options.close) head += "connection: close\r\n";
  else if (options.http10KeepAlive) head += "connection: keep-alive\r\n";
  head += "\r\n";

  const sendBody = !bodyless && !options.head && bodyLength > 0;
  const out = new Uint8Array(head.length + (sendBody ? bodyLength : 0));
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    // Headers only holds ByteStrings, so this cannot trigger; it guards the
    // invariant that the head is latin1 rather than silently truncating.
    if (c > 0xff) throw new TypeError("response head contains a non-latin1 character");
    out[i] = c;
  }
  if (sendBody) out.set(res.body!, head.length);
  return out;
}

/**
 * A small `text/plain` response for the server's own errors: the status
 * line's reason and the precise cause, e.g. `400 Bad Request: bare LF line
 * terminator (RFC 9112 §2.2)`.
 *
 * @example
 * ```ts
 * import { textResponse } from "./response.ts";
 * const parts = textResponse(503, "503 Service Unavailable: too many connections");
 * console.log(parts.status, parts.headers.get("content-type")); // 503 "text/plain; charset=utf-8"
 * ```
 */
export function textResponse(status: number, text: string): ResponseParts {
  return {
    status,
    headers: new Headers({ "content-type": "text/plain; charset=utf-8" }),
    body: new TextEncoder().encode(text + "\n"),
  };
}

/**
 * The interim `100 Continue` response (RFC 9110 §15.2.1), sent before reading
 * the body of a request with `Expect: 100-continue`.
 *
 * @example
 * ```ts
 * import { CONTINUE_RESPONSE } from "./response.ts";
 * console.log(new TextDecoder().decode(CONTINUE_RESPONSE)); // "HTTP/1.1 100 Continue\r\n\r\n"
 * ```
 */
export const CONTINUE_RESPONSE: Uint8Array = new TextEncoder().encode(
  "HTTP/1.1 100 Continue\r\n\r\n",
);
