/**
 * The pure HTTP/1.1 request-head parser: bytes in, a validated
 * {@linkcode RequestHead} (or "need more bytes") out, no I/O.
 *
 * A {@linkcode HeadParser} is given everything buffered so far for the
 * current request, after each read. It either returns {@linkcode INCOMPLETE},
 * or the head and how many bytes it used (the rest belongs to the body or to
 * the next pipelined request), or throws {@linkcode RequestError}. It resumes
 * where its previous call stopped, so a head split at any byte boundary
 * parses exactly as if it arrived whole, and a head dripped a byte per read
 * costs time linear in its size ({@linkcode parseRequestHead} is the
 * one-call form).
 *
 * It works in two passes over the bytes. The first validates each line as
 * its CRLF arrives and records where each name and value lies, creating no
 * strings, so an incomplete head costs no allocation. Once the head is
 * complete, the second decodes it into one string and slices the names and
 * values out of it: one native decode instead of one per piece.
 *
 * **Line terminators must be CRLF.** RFC 9112 §2.2 *permits* a recipient to
 * accept a bare LF, but two parsers that disagree on where a line ends is the
 * classic request-smuggling differential, so a bare LF (and a bare CR) is a
 * `400`. Likewise strict: obs-fold (§5.2), whitespace before the colon
 * (§5.1), more than one SP between request-line parts (§3), lowercase
 * `http/1.1` (§2.3).
 *
 * @module
 */
import { bareCrError, bareLfError, RequestError } from "./errors.ts";
import { type BodyFraming, bodyFraming, expectsContinue, isKeepAlive } from "./fields.ts";
import { DEFAULT_LIMITS, type Http1Limits } from "./limits.ts";
import {
  BACKSLASH,
  COLON,
  CR,
  FIELD_VALUE_CHAR,
  hasValidPercentEncoding,
  hex,
  HTAB,
  isValidAuthority,
  latin1,
  LF,
  QUESTION_MARK,
  SP,
  TARGET_CHAR,
  TCHAR,
} from "./syntax.ts";

/**
 * Methods this server knows (RFC 9110 §9 plus PATCH, RFC 5789). A valid token
 * outside this set → `501` (RFC 9110 §9.1). Method names are case-sensitive:
 * `get` is unknown, not GET.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { KNOWN_METHODS } from "./parser.ts";
 * assertEquals([KNOWN_METHODS.has("PATCH"), KNOWN_METHODS.has("get")], [true, false]);
 * ```
 */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
  "TRACE",
  "CONNECT",
]);

/**
 * A parsed, validated request head.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { parseRequestHead } from "./parser.ts";
 * const r = parseRequestHead(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * if (!r.done) throw new Error("incomplete");
 * assertEquals([r.head.versionMinor, r.head.keepAlive], [0, false]);
 * ```
 */
export interface RequestHead {
  /** Method token, e.g. `"GET"`. */
  method: string;
  /** The request-target exactly as sent. */
  target: string;
  /** RFC 9112 §3.2 form of the target; authority-form (CONNECT) is never returned. */
  targetForm: "origin" | "absolute" | "asterisk";
  /** Minor version: `0` for HTTP/1.0, `1` for HTTP/1.1 and later 1.x (§2.3). */
  versionMinor: 0 | 1;
  /** Field lines in arrival order: lower-cased name, value (latin1, OWS trimmed). */
  fields: [name: string, value: string][];
  /**
   * `host[:port]` for the request URL: the absolute-form target's authority
   * (which overrides Host, RFC 9112 §3.2.2), else the Host value, else `null`
   * (HTTP/1.0 without Host).
   */
  authority: string | null;
  /** Path and query (`/a?b`), or `*` for asterisk-form. */
  path: string;
  /** How the body is delimited. */
  framing: BodyFraming;
  /** Whether the connection persists after the response (RFC 9112 §9.3). */
  keepAlive: boolean;
  /** Whether the client sent `Expect: 100-continue` on HTTP/1.1. */
  expectContinue: boolean;
}

/**
 * The limits the head parser enforces (a subset of {@linkcode Http1Limits}).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { type HeadLimits, parseRequestHead } from "./parser.ts";
 * const limits: HeadLimits = { maxRequestLineBytes: 64, maxHeaderBytes: 256, maxHeaderCount: 8, maxBodyBytes: 1024 };
 * assertEquals(parseRequestHead(new TextEncoder().encode("GET /"), limits).done, false);
 * ```
 */
export type HeadLimits = Pick<
  Http1Limits,
  "maxRequestLineBytes" | "maxHeaderBytes" | "maxHeaderCount" | "maxBodyBytes"
>;

/**
 * Result of {@linkcode parseRequestHead}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { type HeadParseResult, parseRequestHead } from "./parser.ts";
 * const r: HeadParseResult = parseRequestHead(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * assertEquals(r.done, true);
 * ```
 */
export type HeadParseResult =
  | { done: false }
  | { done: true; head: RequestHead; bytesConsumed: number };

/**
 * The shared "need more bytes" result, so an incomplete parse allocates nothing.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { INCOMPLETE, parseRequestHead } from "./parser.ts";
 * const partial = new TextEncoder().encode("GET / HT");
 * assertEquals(parseRequestHead(partial) === INCOMPLETE, true);
 * ```
 */
export const INCOMPLETE: { done: false } = Object.freeze({ done: false as const });

/**
 * Parses the request head at the start of `buf` in one call: a fresh
 * {@linkcode HeadParser}'s {@linkcode HeadParser.parse}. The server keeps one
 * `HeadParser` per connection instead, so that a head arriving in many reads
 * is scanned once, not once per read.
 *
 * @example Parse a complete head followed by the start of the next request
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { parseRequestHead } from "./parser.ts";
 * const bytes = new TextEncoder().encode("GET /a?b HTTP/1.1\r\nHost: x\r\n\r\nGET /");
 * const result = parseRequestHead(bytes);
 * if (!result.done) throw new Error("incomplete");
 * assertEquals([result.head.path, result.bytesConsumed], ["/a?b", 30]);
 * ```
 */
export function parseRequestHead(
  buf: Uint8Array,
  limits: HeadLimits = DEFAULT_LIMITS,
): HeadParseResult {
  return new HeadParser(limits).parse(buf);
}

/**
 * An incremental request-head parser: {@linkcode HeadParser.parse} is called
 * with everything buffered so far for the current request, after each read,
 * and resumes where the previous call stopped. Every byte is scanned once
 * (the last one again when it is a CR whose LF has not arrived), and each
 * line is validated once, when its CRLF arrives: a head dripped one byte per
 * read costs time linear in its size, not quadratic. Offsets are relative to
 * the start of `buf`, so the buffer may move or grow between calls as long as
 * its first byte stays the head's first byte.
 *
 * @example A head that arrives in two reads
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { HeadParser, INCOMPLETE } from "./parser.ts";
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * const parser = new HeadParser();
 * assertEquals(parser.parse(bytes.subarray(0, 20)), INCOMPLETE);
 * const result = parser.parse(bytes);
 * if (!result.done) throw new Error("incomplete");
 * assertEquals(result.head.authority, "a");
 * parser.reset(); // before the next request's head
 * ```
 */
export class HeadParser {
  #limits: HeadLimits;
  /** Where the line being scanned starts (or the next empty line before the request line). */
  #pos = 0;
  /** Bytes of the current line before this hold no line end: where scanning resumes. */
  #scanned = 0;
  /** The request line, once complete. */
  #line: RequestLine | null = null;
  #lineStart = 0;
  #headerStart = 0;
  /** nameStart, nameEnd, valueStart, valueEnd per field line validated so far. */
  #spans: number[] = [];
  /** Whether a field value holds obs-text (0x80–0xFF), which only latin1() decodes exactly. */
  #obsText = false;

  /** A parser enforcing `limits` (defaults: {@linkcode DEFAULT_LIMITS}). */
  constructor(limits: HeadLimits = DEFAULT_LIMITS) {
    this.#limits = limits;
  }

  /** Forgets the head parsed so far, for the next request on the connection. */
  reset(): void {
    this.#pos =
      this.#scanned =
      this.#lineStart =
      this.#headerStart =
        0;
    this.#line = null;
    this.#spans.length = 0;
    this.#obsText = false;
  }

  /**
   * Returns {@linkcode INCOMPLETE} when more bytes are needed, else the head
   * and `bytesConsumed` (through the empty line ending the head). Throws
   * {@linkcode RequestError} as soon as the bytes seen so far are invalid or
   * exceed a limit, even before the head is complete, so a client cannot make
   * the server buffer past a limit.
   */
  parse(buf: Uint8Array): HeadParseResult {
    if (this.#line === null && !this.#readRequestLine(buf)) return INCOMPLETE;
    if (!this.#readFieldLines(buf)) return INCOMPLETE;
    return { done: true, head: this.#decode(buf), bytesConsumed: this.#pos + 2 };
  }

  /** Skips empty lines, then reads `method SP request-target SP HTTP-version` (RFC 9112 §3). */
  #readRequestLine(buf: Uint8Array): boolean {
    const limits = this.#limits;
    if (!this.#skipEmptyLines(buf)) return false;
    const lineEnd = this.#findLineEnd(buf);
    if (lineEnd === -1) {
      // +1: the last buffered byte may be the CR of a line of exactly the limit.
      if (buf.length - this.#pos > limits.maxRequestLineBytes + 1) throw requestLineTooLong(limits);
      return false;
    }
    if (lineEnd - this.#pos > limits.maxRequestLineBytes) throw requestLineTooLong(limits);
    const line = parseRequestLine(buf, this.#pos, lineEnd);
    checkMethodImplemented(line.method);
    this.#line = line;
    this.#lineStart = this.#pos;
    this.#pos = this.#headerStart = lineEnd + 2;
    return true;
  }

  /**
   * RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF)
   * before the request-line (some clients send an extra CRLF after a body).
   */
  #skipEmptyLines(buf: Uint8Array): boolean {
    const end = buf.length;
    while (this.#pos < end && buf[this.#pos] === CR) {
      if (this.#pos + 1 === end) return false;
      if (buf[this.#pos + 1] !== LF) throw bareCrError();
      this.#pos += 2;
      if (this.#pos > this.#limits.maxRequestLineBytes) {
        throw new RequestError("INVALID_REQUEST_LINE", "too many empty lines before the request");
      }
    }
    return this.#pos < end;
  }

  /**
   * Validates each complete field line, recording where its name and value
   * lie (no strings yet), until the empty line: `*( field-line CRLF ) CRLF`
   * (RFC 9112 §2.1). Returns whether the head is complete.
   */
  #readFieldLines(buf: Uint8Array): boolean {
    const limits = this.#limits;
    const spans = this.#spans;
    while (true) {
      const fieldEnd = this.#findLineEnd(buf);
      if (fieldEnd === -1) {
        // +2: the unfinished tail may be the CRLF that ends the head.
        if (buf.length - this.#headerStart > limits.maxHeaderBytes + 2) {
          throw headersTooLarge(limits);
        }
        return false;
      }
      if (fieldEnd === this.#pos) return true; // the empty line: end of head
      if (fieldEnd + 2 - this.#headerStart > limits.maxHeaderBytes) throw headersTooLarge(limits);
      if (spans.length === 4 * limits.maxHeaderCount) {
        throw new RequestError(
          "TOO_MANY_HEADERS",
          `more than ${limits.maxHeaderCount} header fields`,
        );
      }
      if (scanFieldLine(buf, this.#pos, fieldEnd, spans.length === 0, spans)) this.#obsText = true;
      this.#pos = fieldEnd + 2;
    }
  }

  /**
   * The CR of the CRLF ending the line at {@linkcode HeadParser.#pos}, or -1,
   * resuming after the bytes already scanned.
   */
  #findLineEnd(buf: Uint8Array): number {
    const end = buf.length;
    const found = findLineEnd(buf, Math.max(this.#pos, this.#scanned), end);
    // A CR as the last byte is looked at again once its LF may have arrived.
    if (found === -1) this.#scanned = buf[end - 1] === CR ? end - 1 : end;
    return found;
  }

  /**
   * The second pass over a complete head: one string for the whole head,
   * sliced into names and values, then the semantic rules. Everything but
   * obs-text in values is ASCII, for which TextDecoder is exact and several
   * times faster than latin1(); obs-text (rare) needs the exact latin1.
   */
  #decode(buf: Uint8Array): RequestHead {
    const line = this.#line!;
    const start = this.#lineStart;
    const spans = this.#spans;
    const text = this.#obsText
      ? latin1(buf, start, this.#pos)
      : ASCII.decode(buf.subarray(start, this.#pos));
    const fields: [string, string][] = [];
    for (let i = 0; i < spans.length; i += 4) {
      // Field names are ASCII tokens, so toLowerCase is exact here.
      const name = text.slice(spans[i] - start, spans[i + 1] - start).toLowerCase();
      fields.push([name, text.slice(spans[i + 2] - start, spans[i + 3] - start)]);
    }
    const target = text.slice(line.targetStart - start, line.targetEnd - start);
    return interpretHead(line.method, target, line.versionMinor, fields, this.#limits);
  }
}

/** Decodes heads known to be ASCII (see HeadParser's #decode). */
const ASCII = new TextDecoder();

/**
 * Finds the CR of the CRLF ending the line that starts at `from`, or -1 if the
 * line is not complete within `buf[from, end)`. Throws on a bare LF or on a
 * CR followed by anything but LF (RFC 9112 §2.2).
 */
function findLineEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const b = buf[i];
    if (b === LF) throw bareLfError("request head");
    if (b === CR) {
      if (i + 1 === end) return -1;
      if (buf[i + 1] !== LF) throw bareCrError();
      return i;
    }
  }
  return -1;
}

/** The request line's parts: the target as a byte range, decoded with the rest of the head. */
interface RequestLine {
  method: string;
  targetStart: number;
  targetEnd: number;
  versionMinor: 0 | 1;
}

/** `method SP request-target SP HTTP-version`, one SP exactly on each side (RFC 9112 §3). */
function parseRequestLine(buf: Uint8Array, start: number, end: number): RequestLine {
  const methodEnd = readMethod(buf, start, end);
  const targetStart = methodEnd + 1;
  const targetEnd = readTarget(buf, targetStart, end);
  return {
    method: methodName(buf, start, methodEnd),
    targetStart,
    targetEnd,
    versionMinor: readVersion(buf, targetEnd + 1, end),
  };
}

/** `method = token` (RFC 9112 §3.1); returns the index of the SP after it. */
function readMethod(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && TCHAR[buf[i]] === 1) i++;
  if (i < end && buf[i] !== SP) {
    throw new RequestError(
      "INVALID_METHOD",
      `invalid byte ${hex(buf[i])} in method (RFC 9112 §3.1: method = token)`,
    );
  }
  if (i === start) throw new RequestError("INVALID_METHOD", "empty method (RFC 9112 §3.1)");
  if (i === end) {
    throw new RequestError("INVALID_REQUEST_LINE", "request line has no SP (RFC 9112 §3)");
  }
  return i;
}

/**
 * The request-target up to the next SP, whose index it returns. Lenient
 * whitespace parsing is another differential, so an extra SP is refused.
 */
function readTarget(buf: Uint8Array, start: number, end: number): number {
  let j = start;
  while (j < end && buf[j] !== SP) j++;
  if (j === end) {
    throw new RequestError(
      "INVALID_REQUEST_LINE",
      "request line has no HTTP-version; HTTP/0.9 is not supported (RFC 9112 §3)",
    );
  }
  if (j === start) {
    throw new RequestError(
      "INVALID_REQUEST_LINE",
      "empty request-target or extra SP (RFC 9112 §3)",
    );
  }
  checkTargetBytes(buf, start, j);
  return j;
}

/**
 * `HTTP-version = "HTTP" "/" DIGIT "." DIGIT` (RFC 9112 §2.3), case-sensitive,
 * filling `buf[v, end)` exactly. Returns the minor version as handled: a
 * higher minor version of 1.x is handled as the highest we implement, 1.1
 * (RFC 9110 §6.2).
 */
function readVersion(buf: Uint8Array, v: number, end: number): 0 | 1 {
  if (
    end - v !== 8 || buf[v] !== 0x48 || buf[v + 1] !== 0x54 || buf[v + 2] !== 0x54 ||
    buf[v + 3] !== 0x50 || buf[v + 4] !== 0x2f || !isDigit(buf[v + 5]) ||
    buf[v + 6] !== 0x2e || !isDigit(buf[v + 7])
  ) {
    throw new RequestError(
      "INVALID_VERSION",
      `malformed HTTP-version ${JSON.stringify(latin1(buf, v, Math.min(end, v + 16)))} ` +
        '(RFC 9112 §2.3: "HTTP/" DIGIT "." DIGIT)',
    );
  }
  const major = buf[v + 5] - 0x30;
  if (major !== 1) {
    throw new RequestError(
      "VERSION_NOT_SUPPORTED",
      `HTTP/${major}.${buf[v + 7] - 0x30} is not supported; only HTTP/1.x (RFC 9110 §15.6.6)`,
    );
  }
  return buf[v + 7] === 0x30 ? 0 : 1;
}

/** Method policy, after the syntax: unknown methods, CONNECT and TRACE are 501 (RFC 9110 §9.1). */
function checkMethodImplemented(method: string): void {
  if (!KNOWN_METHODS.has(method)) {
    throw new RequestError(
      "METHOD_NOT_IMPLEMENTED",
      `method ${JSON.stringify(method)} is not implemented (RFC 9110 §9.1)`,
    );
  }
  if (method === "CONNECT") {
    throw new RequestError(
      "CONNECT_NOT_IMPLEMENTED",
      "CONNECT (authority-form tunnelling) is not implemented (RFC 9110 §9.3.6)",
    );
  }
  if (method === "TRACE") {
    // Echoing requests back enables cross-site tracing; RFC 9110 §9.3.8
    // makes TRACE optional.
    throw new RequestError(
      "TRACE_NOT_IMPLEMENTED",
      "TRACE is not implemented (RFC 9110 §9.3.8)",
    );
  }
}

/**
 * Checks the request-target's bytes against {@linkcode TARGET_CHAR}, and
 * refuses `\` before the query (see {@linkcode BACKSLASH}).
 */
function checkTargetBytes(buf: Uint8Array, start: number, end: number): void {
  let inQuery = false;
  for (let k = start; k < end; k++) {
    const b = buf[k];
    if (TARGET_CHAR[b] !== 1 || (b === BACKSLASH && !inQuery)) {
      throw new RequestError(
        "INVALID_TARGET",
        `invalid byte ${hex(b)} in request-target ${inQuery ? "query" : "path"} ` +
          "(RFC 9112 §3.2, RFC 3986)",
      );
    }
    if (b === QUESTION_MARK) inQuery = true;
  }
}

/**
 * Parses and validates one field line `buf[start, end)` (CRLF excluded):
 * `field-name ":" OWS field-value OWS` (RFC 9112 §5). Returns the lower-cased
 * name and the value with OWS trimmed. Used for chunked trailers; the head
 * parser uses the same checks through {@linkcode scanFieldLine}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { parseFieldLine } from "./parser.ts";
 * const line = new TextEncoder().encode("Content-Type:  text/plain ");
 * assertEquals(parseFieldLine(line, 0, line.length), ["content-type", "text/plain"]);
 * ```
 */
export function parseFieldLine(
  buf: Uint8Array,
  start: number,
  end: number,
  firstLine = false,
): [string, string] {
  const spans: number[] = [];
  scanFieldLine(buf, start, end, firstLine, spans);
  // Field names are ASCII tokens, so toLowerCase is exact here.
  return [latin1(buf, spans[0], spans[1]).toLowerCase(), latin1(buf, spans[2], spans[3])];
}

/**
 * Validates one field line `buf[start, end)` and appends its name's and
 * OWS-trimmed value's byte ranges to `spans` (nameStart, nameEnd,
 * valueStart, valueEnd). Returns whether the value holds obs-text (bytes
 * 0x80–0xFF), which only the exact latin1 decoder may decode.
 */
function scanFieldLine(
  buf: Uint8Array,
  start: number,
  end: number,
  firstLine: boolean,
  spans: number[],
): boolean {
  const first = buf[start];
  if (first === SP || first === HTAB) {
    throw new RequestError(
      "OBS_FOLD",
      firstLine
        ? "whitespace between the request line and the first field (RFC 9112 §2.2)"
        : "obsolete line folding (obs-fold) is not accepted (RFC 9112 §5.2)",
    );
  }
  let i = start;
  while (i < end && TCHAR[buf[i]] === 1) i++;
  if (i === end) {
    throw new RequestError("MISSING_COLON", "field line without a colon (RFC 9112 §5)");
  }
  const stop = buf[i];
  if (stop !== COLON) {
    if (stop === SP || stop === HTAB) {
      throw new RequestError(
        "WHITESPACE_BEFORE_COLON",
        "whitespace between field name and colon (RFC 9112 §5.1)",
      );
    }
    throw new RequestError(
      "INVALID_FIELD_NAME",
      `invalid byte ${hex(stop)} in field name (RFC 9110 §5.1: field-name = token)`,
    );
  }
  if (i === start) {
    throw new RequestError("INVALID_FIELD_NAME", "empty field name (RFC 9110 §5.1)");
  }

  let vStart = i + 1;
  let vEnd = end;
  while (vStart < vEnd && (buf[vStart] === SP || buf[vStart] === HTAB)) vStart++;
  while (vEnd > vStart && (buf[vEnd - 1] === SP || buf[vEnd - 1] === HTAB)) vEnd--;
  let obsText = false;
  for (let k = vStart; k < vEnd; k++) {
    const b = buf[k];
    if (FIELD_VALUE_CHAR[b] !== 1) {
      const name = latin1(buf, start, i).toLowerCase();
      throw new RequestError(
        "INVALID_FIELD_VALUE",
        `control byte ${hex(b)} in value of field "${name}" (RFC 9110 §5.5)`,
      );
    }
    if (b >= 0x80) obsText = true;
  }
  spans.push(start, i, vStart, vEnd);
  return obsText;
}

/**
 * Applies the semantic rules to a syntactically valid head: Host (RFC 9112
 * §3.2), target form (§3.2.1–3.2.4), body framing (§6.3), persistence (§9.3)
 * and Expect (RFC 9110 §10.1.1), one helper each.
 */
function interpretHead(
  method: string,
  target: string,
  versionMinor: 0 | 1,
  fields: [string, string][],
  limits: HeadLimits,
): RequestHead {
  const rules = collectRuleFields(fields);
  const host = checkHost(rules.host, versionMinor);
  const { targetForm, authority, path } = resolveTarget(method, target, host);
  return {
    method,
    target,
    targetForm,
    versionMinor,
    fields,
    authority,
    path,
    framing: bodyFraming(
      rules.transferEncoding,
      rules.contentLength,
      versionMinor,
      limits.maxBodyBytes,
    ),
    keepAlive: isKeepAlive(versionMinor, rules.connection),
    expectContinue: expectsContinue(versionMinor, rules.expect),
  };
}

/** The values of the fields the rules read, each field's lines in arrival order. */
interface RuleFields {
  host: string[];
  contentLength: string[];
  transferEncoding: string[];
  connection: string[];
  expect: string[];
}

function collectRuleFields(fields: [string, string][]): RuleFields {
  const rules: RuleFields = {
    host: [],
    contentLength: [],
    transferEncoding: [],
    connection: [],
    expect: [],
  };
  for (const [name, value] of fields) {
    switch (name) {
      case "host":
        rules.host.push(value);
        break;
      case "content-length":
        rules.contentLength.push(value);
        break;
      case "transfer-encoding":
        rules.transferEncoding.push(value);
        break;
      case "connection":
        rules.connection.push(value);
        break;
      case "expect":
        rules.expect.push(value);
        break;
    }
  }
  return rules;
}

/**
 * The Host value, or `null` for HTTP/1.0 without one. RFC 9112 §3.2: 400 for
 * an HTTP/1.1 request without Host, for more than one Host line, or for an
 * invalid Host value.
 */
function checkHost(hosts: string[], versionMinor: 0 | 1): string | null {
  if (hosts.length === 0 && versionMinor === 1) {
    throw new RequestError("HOST_MISSING", "HTTP/1.1 request without Host (RFC 9112 §3.2)");
  }
  if (hosts.length > 1) {
    throw new RequestError("HOST_REPEATED", "more than one Host field line (RFC 9112 §3.2)");
  }
  if (hosts.length === 1 && !isValidAuthority(hosts[0])) {
    throw new RequestError(
      "HOST_INVALID",
      `invalid Host ${JSON.stringify(hosts[0])} (RFC 9112 §3.2: uri-host [ ":" port ])`,
    );
  }
  return hosts.length === 1 ? hosts[0] : null;
}

/** The target's form, the request's authority and its path (RFC 9112 §3.2). */
function resolveTarget(
  method: string,
  target: string,
  host: string | null,
): Pick<RequestHead, "targetForm" | "authority" | "path"> {
  if (!hasValidPercentEncoding(target)) {
    throw new RequestError(
      "INVALID_TARGET",
      "malformed percent-encoding in request-target (RFC 3986 §2.1)",
    );
  }
  if (target.charCodeAt(0) === 0x2f /* / */) {
    return { targetForm: "origin", authority: host, path: target }; // RFC 9112 §3.2.1
  }
  if (target === "*") {
    // RFC 9112 §3.2.4: asterisk-form is only used for a server-wide OPTIONS.
    if (method !== "OPTIONS") {
      throw new RequestError(
        "ASTERISK_NOT_OPTIONS",
        `asterisk-form target with ${method}; only OPTIONS may use "*" (RFC 9112 §3.2.4)`,
      );
    }
    return { targetForm: "asterisk", authority: host, path: "*" };
  }
  return absoluteForm(target);
}

/**
 * RFC 9112 §3.2.2: absolute-form must be accepted; its authority overrides
 * Host (Host must still be present and valid, checked before).
 */
function absoluteForm(target: string): Pick<RequestHead, "targetForm" | "authority" | "path"> {
  const match = /^https?:\/\//i.exec(target);
  if (match === null) {
    throw new RequestError(
      "INVALID_TARGET",
      "request-target is not origin-form or an http(s) absolute-form (RFC 9112 §3.2)",
    );
  }
  const rest = target.slice(match[0].length);
  let authorityEnd = rest.search(/[/?]/);
  if (authorityEnd === -1) authorityEnd = rest.length;
  const authority = rest.slice(0, authorityEnd);
  if (!isValidAuthority(authority)) {
    throw new RequestError(
      "INVALID_TARGET",
      `invalid authority ${JSON.stringify(authority)} in absolute-form target (RFC 9112 §3.2.2)`,
    );
  }
  const path = rest.slice(authorityEnd);
  return { targetForm: "absolute", authority, path: path.startsWith("/") ? path : "/" + path };
}

/**
 * The method token `buf[start, end)` as a string: one of the
 * {@linkcode KNOWN_METHODS} constants when it is one (compared byte by byte,
 * so the common case decodes and allocates nothing), else decoded.
 */
function methodName(buf: Uint8Array, start: number, end: number): string {
  const length = end - start;
  for (const name of KNOWN_METHODS) {
    if (name.length !== length) continue;
    let i = 0;
    while (i < length && buf[start + i] === name.charCodeAt(i)) i++;
    if (i === length) return name;
  }
  return latin1(buf, start, end);
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function requestLineTooLong(limits: HeadLimits): RequestError {
  return new RequestError(
    "REQUEST_LINE_TOO_LONG",
    `request line longer than ${limits.maxRequestLineBytes} bytes (RFC 9112 §3)`,
  );
}

function headersTooLarge(limits: HeadLimits): RequestError {
  return new RequestError(
    "HEADERS_TOO_LARGE",
    `header section larger than ${limits.maxHeaderBytes} bytes (RFC 6585 §5)`,
  );
}
