/**
 * What a handler of the hand-written server receives and returns: a parsed
 * request ({@linkcode Http1Request}) and a plain response description
 * ({@linkcode Http1Response}).
 *
 * Why not the Web `Request` and `Response`? They are the right boundary for
 * `Deno.serve`, which builds them lazily in native code. Built in JavaScript
 * from bytes already parsed, they cost more than everything else on the
 * request path: a `Request` parses its URL and validates every header field
 * again, and a `Response` is read back through its body stream, each several
 * times the cost of parsing the request head or serializing the page (the
 * README's Performance section has the figures). So this server hands over
 * what the parser produced, and takes back what the serializer needs.
 *
 * @module
 */
import type { RequestHead } from "./parser.ts";

/**
 * A request as the server parsed it. Field names are lower-case; values are
 * the bytes as sent (latin1), with surrounding whitespace trimmed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { Http1Request } from "./message.ts";
 * import { parseRequestHead } from "./parser.ts";
 * const parsed = parseRequestHead(new TextEncoder().encode(
 *   "GET /a?b HTTP/1.1\r\nHost: example.test\r\nCookie: x=1\r\nCookie: y=2\r\n\r\n",
 * ));
 * if (!parsed.done) throw new Error("incomplete");
 * const request = new Http1Request(parsed.head, null, {
 *   remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 50000 },
 *   secure: false,
 *   fallbackAuthority: "127.0.0.1:8080",
 * });
 * assertEquals([request.origin, request.path, request.pathname], ["http://example.test", "/a?b", "/a"]);
 * assertEquals(request.header("cookie"), "x=1; y=2");
 * ```
 */
export class Http1Request {
  /** Method token, e.g. `"GET"` (case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** Path and query as sent, e.g. `"/a?b"` (the absolute-form's too). */
  readonly path: string;
  /** `host[:port]`: the target's authority, else Host, else the server's own address (HTTP/1.0). */
  readonly authority: string;
  /** Whether the connection is TLS. */
  readonly secure: boolean;
  /** Field lines in arrival order: `[lower-case name, value]`. */
  readonly fields: readonly (readonly [string, string])[];
  /** The whole body (Content-Length or chunked, already read), or `null` when it had none. */
  readonly body: Uint8Array<ArrayBuffer> | null;
  /** The client's address. */
  readonly remoteAddr: Deno.NetAddr;

  /** Wraps a parsed head, its body and the connection it came on. */
  constructor(
    head: RequestHead,
    body: Uint8Array<ArrayBuffer> | null,
    connection: { remoteAddr: Deno.NetAddr; secure: boolean; fallbackAuthority: string },
  ) {
    this.method = head.method;
    this.path = head.path;
    this.authority = head.authority ?? connection.fallbackAuthority;
    this.secure = connection.secure;
    this.fields = head.fields;
    this.body = body;
    this.remoteAddr = connection.remoteAddr;
  }

  /** `http://host[:port]` or `https://…`: the request URL's origin. */
  get origin(): string {
    return `${this.secure ? "https" : "http"}://${this.authority}`;
  }

  /** The path without its query: `"/a"` for `"/a?b"`. */
  get pathname(): string {
    const query = this.path.indexOf("?");
    return query === -1 ? this.path : this.path.slice(0, query);
  }

  /**
   * The value of the field `name` (lower-case), or `null`. Repeated fields
   * are combined as RFC 9110 §5.3 says, with `", "`; `Cookie` lines with
   * `"; "`, the separator of cookie pairs (RFC 6265 §5.4).
   */
  header(name: string): string | null {
    let value: string | null = null;
    for (const [fieldName, fieldValue] of this.fields) {
      if (fieldName !== name) continue;
      value = value === null
        ? fieldValue
        : `${value}${name === "cookie" ? "; " : ", "}${fieldValue}`;
    }
    return value;
  }
}

/**
 * A handler's answer. The server adds `Date`, `Content-Length` and, when it
 * closes, `Connection: close`; handler values for those and other hop-by-hop
 * fields are dropped. Header names must be tokens and values must not contain
 * CR, LF or NUL: anything else is refused with a 500 rather than written.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { Http1Response } from "./message.ts";
 * const page: Http1Response = {
 *   status: 200,
 *   headers: [["content-type", "text/plain; charset=utf-8"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]],
 *   body: "hello\n",
 * };
 * assertEquals(page.status, 200);
 * ```
 */
export interface Http1Response {
  /** Status code, 100–599. */
  status: number;
  /**
   * Header fields, in order; a name may repeat (each `Set-Cookie` goes on its
   * own line). A `Headers` object works too: it iterates as pairs.
   */
  headers?: Iterable<readonly [string, string]>;
  /** The body: a string is sent as UTF-8. Omitted or `null`: empty. */
  body?: string | Uint8Array | null;
}

/**
 * Application code: turns a request into a response. A throw becomes a logged
 * `500`, and the connection stays usable.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { Http1Handler } from "./message.ts";
 * const hello: Http1Handler = (request) => ({ status: 200, body: `${request.method} ${request.pathname}\n` });
 * assertEquals(typeof hello, "function");
 * ```
 */
export type Http1Handler = (request: Http1Request) => Http1Response | Promise<Http1Response>;
