/**
 * Semantics of the header fields that decide how a request is framed and
 * whether its connection persists: `Content-Length`, `Transfer-Encoding`,
 * `Connection` and `Expect`. Pure functions over already-validated field
 * values (strings of latin1 bytes, OWS trimmed), each throwing
 * {@linkcode RequestError} on a failure.
 *
 * Framing is where request smuggling lives: if this server and a proxy in
 * front of it disagree about where a body ends, the attacker's leftover bytes
 * become a second request. So every ambiguous shape is rejected rather than
 * guessed at (RFC 9112 §6.3, §11.2).
 *
 * @module
 */
import { RequestError } from "./errors.ts";
import { isToken } from "./syntax.ts";

/**
 * How the body of a request is delimited (RFC 9112 §6.3).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { BodyFraming } from "./fields.ts";
 * const framing: BodyFraming = { kind: "length", length: 11 };
 * assertEquals(framing.kind, "length");
 * ```
 */
export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" };

/**
 * How the body is delimited, from the `Transfer-Encoding` and
 * `Content-Length` field lines (RFC 9112 §6.3): Transfer-Encoding first, then
 * Content-Length, else no body. Both together, or Transfer-Encoding in
 * HTTP/1.0 (§6.1), is a framing error; a Content-Length over `maxBodyBytes`
 * is `413` before any of the body is read.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { bodyFraming } from "./fields.ts";
 * assertEquals(bodyFraming([], ["11"], 1, 1024), { kind: "length", length: 11 });
 * assertEquals(bodyFraming(["chunked"], [], 1, 1024), { kind: "chunked" });
 * assertEquals(bodyFraming([], ["0"], 1, 1024), { kind: "none" });
 * ```
 */
export function bodyFraming(
  transferEncodings: readonly string[],
  contentLengths: readonly string[],
  versionMinor: 0 | 1,
  maxBodyBytes: number,
): BodyFraming {
  if (transferEncodings.length > 0) {
    if (contentLengths.length > 0) {
      throw new RequestError(
        "CONTENT_LENGTH_WITH_TRANSFER_ENCODING",
        "Content-Length and Transfer-Encoding both present (RFC 9112 §6.3)",
      );
    }
    if (versionMinor === 0) {
      // RFC 9112 §6.1: treat HTTP/1.0 + Transfer-Encoding as faulty framing.
      throw new RequestError(
        "TRANSFER_ENCODING_IN_HTTP10",
        "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)",
      );
    }
    checkTransferEncoding(transferEncodings);
    return { kind: "chunked" };
  }
  if (contentLengths.length === 0) return { kind: "none" };
  const length = parseContentLength(contentLengths);
  if (length > maxBodyBytes) {
    throw new RequestError(
      "BODY_TOO_LARGE",
      `Content-Length ${length} exceeds the ${maxBodyBytes}-byte limit`,
    );
  }
  return length > 0 ? { kind: "length", length } : { kind: "none" };
}

// 15 decimal digits is below Number.MAX_SAFE_INTEGER (16 digits), so any
// value that passes is exact; longer ones are rejected as overflow.
const MAX_CONTENT_LENGTH_DIGITS = 15;

/**
 * Parses the `Content-Length` field lines of a request: exactly one line
 * holding `1*DIGIT` (RFC 9110 §8.6). Rejected: repeated lines (even with equal
 * values — RFC 9110 §8.6 *allows* accepting `42, 42`, but llhttp rejects it
 * and every such message is either a bug or an attack), lists (`1, 2`), signs
 * (`+1`, `-1`), hex, whitespace inside, empty, and values past
 * 15 digits. RFC 9112 §6.3 item 5: an invalid Content-Length is an
 * unrecoverable framing error → 400 and close.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "jsr:@std/assert@1.0.19";
 * import { RequestError } from "./errors.ts";
 * import { parseContentLength } from "./fields.ts";
 * assertEquals(parseContentLength(["42"]), 42);
 * const error = assertThrows(() => parseContentLength(["1, 2"]), RequestError);
 * assertEquals(error.code, "INVALID_CONTENT_LENGTH");
 * ```
 */
export function parseContentLength(values: readonly string[]): number {
  if (values.length !== 1) {
    throw new RequestError(
      "DUPLICATE_CONTENT_LENGTH",
      `Content-Length sent ${values.length} times (RFC 9112 §6.3)`,
    );
  }
  const value = values[0];
  if (value.length === 0 || value.length > MAX_CONTENT_LENGTH_DIGITS) {
    throw new RequestError(
      "INVALID_CONTENT_LENGTH",
      value.length === 0
        ? "empty Content-Length (RFC 9112 §6.3)"
        : "Content-Length too large to represent (RFC 9112 §6.3)",
    );
  }
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) {
      throw new RequestError(
        "INVALID_CONTENT_LENGTH",
        `Content-Length ${JSON.stringify(value)} is not 1*DIGIT (RFC 9110 §8.6, RFC 9112 §6.3)`,
      );
    }
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/**
 * Checks the `Transfer-Encoding` field lines of a request (a comma list that
 * may span several lines, RFC 9110 §5.3) and succeeds only for exactly one
 * `chunked`, last. Final coding not `chunked` (`gzip`, `xchunked`,
 * `chunked, gzip`) → 400: the body length is then undeterminable (RFC 9112
 * §6.3 item 4). `chunked` twice → 400 (RFC 9112 §7.1). Any other coding before
 * `chunked` (`gzip, chunked`) → 501: we implement no other transfer coding
 * (RFC 9112 §6.1).
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "jsr:@std/assert@1.0.19";
 * import { RequestError } from "./errors.ts";
 * import { checkTransferEncoding } from "./fields.ts";
 * checkTransferEncoding(["chunked"]);
 * const notFinal = assertThrows(() => checkTransferEncoding(["chunked, gzip"]), RequestError);
 * assertEquals([notFinal.code, notFinal.status], ["CHUNKED_NOT_FINAL", 400]);
 * const gzip = assertThrows(() => checkTransferEncoding(["gzip", "chunked"]), RequestError);
 * assertEquals(gzip.status, 501);
 * ```
 */
export function checkTransferEncoding(values: readonly string[]): void {
  const codings: string[] = [];
  for (const value of values) {
    for (const element of value.split(",")) {
      const coding = trimOws(element);
      // RFC 9110 §5.6.1: recipients must tolerate empty list elements.
      if (coding.length === 0) continue;
      if (!isToken(coding)) {
        // Parameters (`;q=…`) are defined for no coding we accept, so anything
        // past the token is simply invalid here.
        throw new RequestError(
          "INVALID_TRANSFER_ENCODING",
          `invalid transfer coding ${JSON.stringify(coding)} (RFC 9112 §7)`,
        );
      }
      codings.push(coding.toLowerCase());
    }
  }
  const last = codings.length - 1;
  if (last < 0 || codings[last] !== "chunked") {
    throw new RequestError(
      "CHUNKED_NOT_FINAL",
      `Transfer-Encoding ${JSON.stringify(values.join(", "))} does not end in chunked ` +
        "(RFC 9112 §6.3)",
    );
  }
  for (let i = 0; i < last; i++) {
    if (codings[i] === "chunked") {
      throw new RequestError(
        "INVALID_TRANSFER_ENCODING",
        "chunked applied more than once (RFC 9112 §7.1)",
      );
    }
    throw new RequestError(
      "TRANSFER_CODING_NOT_IMPLEMENTED",
      `transfer coding ${JSON.stringify(codings[i])} is not implemented (RFC 9112 §6.1)`,
    );
  }
}

/**
 * Whether the connection persists after this request (RFC 9112 §9.3): the
 * `Connection` options are a case-insensitive token list; `close` always
 * wins; otherwise HTTP/1.1 persists by default and HTTP/1.0 only with
 * `keep-alive`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { isKeepAlive } from "./fields.ts";
 * assertEquals([isKeepAlive(1, []), isKeepAlive(1, ["Keep-Alive, CLOSE"])], [true, false]);
 * assertEquals([isKeepAlive(0, []), isKeepAlive(0, ["keep-alive"])], [false, true]);
 * ```
 */
export function isKeepAlive(versionMinor: number, connectionValues: readonly string[]): boolean {
  let close = false;
  let keepAlive = false;
  for (const value of connectionValues) {
    for (const element of value.split(",")) {
      const option = trimOws(element).toLowerCase();
      if (option === "close") close = true;
      else if (option === "keep-alive") keepAlive = true;
    }
  }
  if (close) return false;
  return versionMinor >= 1 || keepAlive;
}

/**
 * Whether the client waits for `100 Continue` before sending the body: an
 * `Expect` member `100-continue` (case-insensitive) on HTTP/1.1. RFC 9110
 * §10.1.1: a server must ignore that expectation in an HTTP/1.0 request;
 * other expectations may be ignored, and are.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { expectsContinue } from "./fields.ts";
 * assertEquals([expectsContinue(1, ["100-Continue"]), expectsContinue(0, ["100-continue"])], [true, false]);
 * ```
 */
export function expectsContinue(versionMinor: number, expectValues: readonly string[]): boolean {
  if (versionMinor < 1) return false;
  return expectValues.some((value) =>
    value.split(",").some((e) => trimOws(e).toLowerCase() === "100-continue")
  );
}

function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s[start] === " " || s[start] === "\t")) start++;
  while (end > start && (s[end - 1] === " " || s[end - 1] === "\t")) end--;
  return s.slice(start, end);
}
