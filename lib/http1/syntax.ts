/**
 * Byte-level grammar of HTTP/1.1: character classes as 256-entry lookup tables
 * (one array index per byte, no regular expressions on the hot path), the
 * authority (`host[:port]`) and request-target validators, and a latin1
 * decoder.
 *
 * The head is parsed as bytes, never UTF-8-decoded: HTTP field values are
 * octets (RFC 9110 §5.5), and decoding first would let an invalid UTF-8
 * sequence become U+FFFD and slip past the checks below.
 *
 * @module
 */

/**
 * Carriage return, `\r`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { CR } from "./syntax.ts";
 * assertEquals(CR, 13);
 * ```
 */
export const CR = 0x0d;
/**
 * Line feed, `\n`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { LF } from "./syntax.ts";
 * assertEquals(LF, 10);
 * ```
 */
export const LF = 0x0a;
/**
 * Space.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { SP } from "./syntax.ts";
 * assertEquals(SP, 32);
 * ```
 */
export const SP = 0x20;
/**
 * Horizontal tab.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { HTAB } from "./syntax.ts";
 * assertEquals(HTAB, 9);
 * ```
 */
export const HTAB = 0x09;
/**
 * `:`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { COLON } from "./syntax.ts";
 * assertEquals(COLON, 58);
 * ```
 */
export const COLON = 0x3a;

function table(predicate: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = predicate(b) ? 1 : 0;
  return t;
}

const isAlpha = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isHex = (b: number) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);

/**
 * `tchar` (RFC 9110 §5.6.2): the characters of a token — method names, field
 * names, transfer-coding names. `TCHAR[byte] === 1` when allowed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { TCHAR } from "./syntax.ts";
 * assertEquals([TCHAR["G".charCodeAt(0)], TCHAR[" ".charCodeAt(0)]], [1, 0]);
 * ```
 */
export const TCHAR: Uint8Array = table((b) =>
  isAlpha(b) || isDigit(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b))
);

/**
 * Whether `s` is a token (RFC 9110 §5.6.2): one or more {@linkcode TCHAR}s.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { isToken } from "./syntax.ts";
 * assertEquals([isToken("chunked"), isToken("bad name"), isToken("")], [true, false, false]);
 * ```
 */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] !== 1) return false;
  }
  return true;
}

/**
 * Bytes allowed inside a field value (RFC 9110 §5.5): HTAB, SP, VCHAR and
 * obs-text (0x80–0xFF). Everything else — NUL, CR, LF, other controls and
 * DEL — is rejected: such bytes are how header injection and
 * parser-differential attacks are smuggled in.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { FIELD_VALUE_CHAR } from "./syntax.ts";
 * assertEquals([FIELD_VALUE_CHAR[0x09], FIELD_VALUE_CHAR[0x7f]], [1, 0]);
 * ```
 */
export const FIELD_VALUE_CHAR: Uint8Array = table((b) =>
  b === HTAB || (b >= 0x20 && b <= 0x7e) || b >= 0x80
);

/**
 * Bytes allowed in a request-target. RFC 3986 allows fewer, but clients send
 * `"`, `<`, `>`, `\\`, `^`, `` ` ``, `{`, `|`, `}` unencoded in practice and
 * the URL parser percent-encodes them harmlessly, so only what is unsafe is
 * refused: controls, SP, DEL and non-ASCII (never valid) and `#` (a fragment
 * is never sent, RFC 9112 §3.2). `\\` is allowed here because the WHATWG URL
 * parser leaves it raw in a query; in the path it is refused (see
 * {@linkcode BACKSLASH}).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { TARGET_CHAR } from "./syntax.ts";
 * assertEquals([TARGET_CHAR["/".charCodeAt(0)], TARGET_CHAR["#".charCodeAt(0)]], [1, 0]);
 * ```
 */
export const TARGET_CHAR: Uint8Array = table((b) => b >= 0x21 && b <= 0x7e && b !== 0x23);

/**
 * `\\`: refused in a request-target's path, because the WHATWG URL parser
 * treats it as `/` there (a path-normalisation differential with servers
 * that do not); allowed in the query, where that parser leaves it as sent.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { BACKSLASH } from "./syntax.ts";
 * assertEquals(BACKSLASH, "\\".charCodeAt(0));
 * ```
 */
export const BACKSLASH = 0x5c;

/**
 * `?`: where a request-target's query begins (RFC 3986 §3.4).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { QUESTION_MARK } from "./syntax.ts";
 * assertEquals(QUESTION_MARK, "?".charCodeAt(0));
 * ```
 */
export const QUESTION_MARK = 0x3f;

/**
 * `HEXDIG` → its value, or `0xff` for any other byte.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { HEX_VALUE } from "./syntax.ts";
 * assertEquals([HEX_VALUE["f".charCodeAt(0)], HEX_VALUE["g".charCodeAt(0)]], [15, 255]);
 * ```
 */
export const HEX_VALUE: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(0xff);
  for (let b = 0; b < 256; b++) {
    if (isHex(b)) t[b] = parseInt(String.fromCharCode(b), 16);
  }
  return t;
})();

/**
 * A byte as it is named in error messages: `0x0a`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { hex } from "./syntax.ts";
 * assertEquals(hex(0x0a), "0x0a");
 * ```
 */
export function hex(byte: number): string {
  return "0x" + byte.toString(16).padStart(2, "0");
}

/**
 * Decodes `bytes[start, end)` as latin1 (ISO-8859-1: byte n → U+00nn). Not
 * `TextDecoder("latin1")`, which the Encoding Standard maps to windows-1252
 * and would change bytes 0x80–0x9F. The result is a valid ByteString, which
 * is what `Headers` accepts.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { latin1 } from "./syntax.ts";
 * assertEquals(latin1(new Uint8Array([0x47, 0x45, 0x54]), 0, 3), "GET");
 * ```
 */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  // fromCharCode with an array-like is one native call; chunk it so huge
  // inputs never exceed the engine's argument-count limit.
  let out = "";
  for (let i = start; i < end; i += 8192) {
    const stop = Math.min(end, i + 8192);
    out += String.fromCharCode.apply(null, bytes.subarray(i, stop) as unknown as number[]);
  }
  return out;
}

/**
 * Whether `target[from…]` is free of bad percent-encodings: every `%` must be
 * followed by two hex digits (RFC 3986 §2.1).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { hasValidPercentEncoding } from "./syntax.ts";
 * assertEquals([hasValidPercentEncoding("/a%20b"), hasValidPercentEncoding("/%zz")], [true, false]);
 * ```
 */
export function hasValidPercentEncoding(s: string): boolean {
  for (let i = s.indexOf("%"); i !== -1; i = s.indexOf("%", i + 1)) {
    if (
      i + 2 >= s.length || HEX_VALUE[s.charCodeAt(i + 1)] === 0xff ||
      HEX_VALUE[s.charCodeAt(i + 2)] === 0xff
    ) return false;
  }
  return true;
}

// unreserved / sub-delims (RFC 3986 §2.2–2.3): the reg-name alphabet, plus
// "%" whose escapes hasValidPercentEncoding checks.
const REG_NAME_CHAR = table((b) =>
  isAlpha(b) || isDigit(b) || "-._~!$&'()*+,;=%".includes(String.fromCharCode(b))
);
const IPV6_CHAR = table((b) => isHex(b) || b === COLON || b === 0x2e);

/**
 * Whether `value` is a valid `uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 3986
 * §3.2.2–3.2.3): a non-empty reg-name or IPv4 address, or a bracketed IPv6
 * literal, then optionally `:` and at most five digits ≤ 65535. An empty host
 * is refused: RFC 9110 §4.2.1 says an `http` URI with an empty host is
 * invalid. Userinfo (`user@host`) is refused (RFC 9110 §4.2.4). Finally the
 * WHATWG URL parser must accept it too, since the handler gets a `URL`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { isValidAuthority } from "./syntax.ts";
 * assertEquals([isValidAuthority("example.com:8080"), isValidAuthority("[::1]")], [true, true]);
 * assertEquals([isValidAuthority("a b"), isValidAuthority("host:99999")], [false, false]);
 * ```
 */
export function isValidAuthority(value: string): boolean {
  // Nearly every request to a server names the same host: remembering the
  // last valid one skips the checks below (most of their cost is URL.canParse).
  if (value === lastValidAuthority) return true;
  let portStart: number;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 3) return false;
    for (let i = 1; i < close; i++) {
      if (IPV6_CHAR[value.charCodeAt(i)] !== 1) return false; // IPvFuture: not supported
    }
    portStart = close + 1;
  } else {
    portStart = value.indexOf(":");
    if (portStart === -1) portStart = value.length;
    if (portStart === 0) return false;
    for (let i = 0; i < portStart; i++) {
      const c = value.charCodeAt(i);
      if (c > 0xff || REG_NAME_CHAR[c] !== 1) return false;
    }
    if (!hasValidPercentEncoding(value.slice(0, portStart))) return false;
  }
  if (portStart < value.length) {
    if (value.charCodeAt(portStart) !== COLON) return false;
    const port = value.slice(portStart + 1);
    // port = *DIGIT: an empty port is legal and means the default.
    if (port.length > 5) return false;
    for (let i = 0; i < port.length; i++) {
      if (!isDigit(port.charCodeAt(i))) return false;
    }
    if (port.length > 0 && Number(port) > 65535) return false;
  }
  if (!URL.canParse(`http://${value}/`)) return false;
  lastValidAuthority = value;
  return true;
}

let lastValidAuthority = "";
