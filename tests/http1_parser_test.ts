import { assert, assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import { ERROR_STATUS, RequestError, type RequestErrorCode } from "../lib/http1/errors.ts";
import { DEFAULT_LIMITS, resolveLimits } from "../lib/http1/limits.ts";
import {
  type HeadLimits,
  HeadParser,
  INCOMPLETE,
  parseFieldLine,
  parseRequestHead,
  type RequestHead,
} from "../lib/http1/parser.ts";

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0)); // latin1

function parse(raw: string | Uint8Array, limits: HeadLimits = DEFAULT_LIMITS) {
  const result = parseRequestHead(typeof raw === "string" ? enc(raw) : raw, limits);
  if (!result.done) throw new Error("incomplete");
  return result;
}

function assertParseError(
  raw: string | Uint8Array,
  code: RequestErrorCode,
  limits: HeadLimits = DEFAULT_LIMITS,
): RequestError {
  const error = assertThrows(
    () => parseRequestHead(typeof raw === "string" ? enc(raw) : raw, limits),
    RequestError,
  );
  assertEquals(error.code, code, `${JSON.stringify(raw)}: ${error.message}`);
  assertEquals(error.status, ERROR_STATUS[code]);
  return error;
}

// --- valid requests --------------------------------------------------------

const VALID: { name: string; raw: string; expect: Partial<RequestHead> }[] = [
  {
    name: "simple GET",
    raw: "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n",
    expect: {
      method: "GET",
      path: "/index.html",
      targetForm: "origin",
      versionMinor: 1,
      authority: "example.com",
      framing: { kind: "none" },
      keepAlive: true,
      expectContinue: false,
    },
  },
  {
    name: "backslash in the query, as the WHATWG URL parser leaves it",
    raw: "GET /a?q=x\\y HTTP/1.1\r\nHost: a\r\n\r\n",
    expect: { path: "/a?q=x\\y", targetForm: "origin" },
  },
  {
    name: "query, port, OWS trimmed, name lower-cased",
    raw: "GET /a/b?c=d&e HTTP/1.1\r\nHOST:  localhost:8080 \t\r\nX-Thing:\tv a l\r\n\r\n",
    expect: {
      path: "/a/b?c=d&e",
      authority: "localhost:8080",
      fields: [["host", "localhost:8080"], ["x-thing", "v a l"]],
    },
  },
  {
    name: "leading CRLF ignored (RFC 9112 §2.2)",
    raw: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    expect: { method: "GET", path: "/" },
  },
  {
    name: "POST with Content-Length",
    raw: "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n",
    expect: { framing: { kind: "length", length: 11 } },
  },
  {
    name: "Content-Length 0 means no body",
    raw: "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    expect: { framing: { kind: "none" } },
  },
  {
    name: "chunked, with case and empty list elements",
    raw: "POST /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , Chunked\r\n\r\n",
    expect: { framing: { kind: "chunked" } },
  },
  {
    name: "Connection: close in a token list",
    raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n",
    expect: { keepAlive: false },
  },
  {
    name: "HTTP/1.0 closes by default, without Host",
    raw: "GET / HTTP/1.0\r\n\r\n",
    expect: { versionMinor: 0, keepAlive: false, authority: null },
  },
  {
    name: "HTTP/1.0 keep-alive",
    raw: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    expect: { versionMinor: 0, keepAlive: true },
  },
  {
    name: "HTTP/1.9 is handled as 1.1",
    raw: "GET / HTTP/1.9\r\nHost: a\r\n\r\n",
    expect: { versionMinor: 1, keepAlive: true },
  },
  {
    name: "absolute-form: its authority overrides Host (RFC 9112 §3.2.2)",
    raw: "GET http://other.example:81/p?q HTTP/1.1\r\nHost: a\r\n\r\n",
    expect: { targetForm: "absolute", authority: "other.example:81", path: "/p?q" },
  },
  {
    name: "absolute-form without path",
    raw: "GET HTTPS://[::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n",
    expect: { targetForm: "absolute", authority: "[::1]:8443", path: "/" },
  },
  {
    name: "OPTIONS *",
    raw: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    expect: { targetForm: "asterisk", path: "*" },
  },
  {
    name: "Expect: 100-continue",
    raw: "PUT /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nExpect: 100-Continue\r\n\r\n",
    expect: { expectContinue: true, framing: { kind: "length", length: 5000 } },
  },
  {
    name: "obs-text (0x80-0xFF) in a value is kept as latin1",
    raw: "GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xe9\r\n\r\n",
    expect: { fields: [["host", "a"], ["x-name", "caf\xe9"]] },
  },
  {
    name: "repeated Cookie lines are all kept, in order",
    raw: "GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
    expect: { fields: [["host", "a"], ["cookie", "a=1"], ["cookie", "b=2"]] },
  },
  {
    name: "every known method",
    raw: "PATCH / HTTP/1.1\r\nHost: a\r\n\r\n",
    expect: { method: "PATCH" },
  },
];

for (const { name, raw, expect } of VALID) {
  Deno.test(`parser: valid: ${name}`, () => {
    const { head, bytesConsumed } = parse(raw);
    assertEquals(bytesConsumed, raw.length);
    for (const [key, value] of Object.entries(expect)) {
      assertEquals(head[key as keyof RequestHead], value, key);
    }
  });
}

Deno.test("parser: every valid request split at every byte boundary parses identically", () => {
  for (const { raw } of VALID) {
    const bytes = enc(raw);
    const whole = parse(bytes);
    for (let i = 0; i < bytes.length; i++) {
      // Fed as the server does: the buffer so far, then the buffer grown.
      assertStrictEquals(parseRequestHead(bytes.subarray(0, i)), INCOMPLETE, `${raw} @${i}`);
    }
    assertEquals(parse(bytes.slice()), whole);
  }
});

Deno.test("parser: pipelined requests are consumed one at a time", () => {
  const raw = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" +
    "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" +
    "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
  let bytes = enc(raw);
  const paths: string[] = [];
  while (bytes.length > 0) {
    const { head, bytesConsumed } = parse(bytes);
    paths.push(head.path);
    bytes = bytes.subarray(bytesConsumed);
    if (head.framing.kind === "length") bytes = bytes.subarray(head.framing.length);
  }
  assertEquals(paths, ["/1", "/2", "/3"]);
});

// --- malformed corpus --------------------------------------------------------

const R = (s: string) => `${s}\r\nHost: a\r\n\r\n`;
const H = (...fields: string[]) => `POST / HTTP/1.1\r\nHost: a\r\n${fields.join("\r\n")}\r\n\r\n`;

const MALFORMED: [name: string, raw: string, code: RequestErrorCode, status: number][] = [
  // line terminators (RFC 9112 §2.2)
  ["bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", "BARE_LF", 400],
  ["bare LF ending head", "GET / HTTP/1.1\r\nHost: a\n\n", "BARE_LF", 400],
  ["bare LF before request", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "BARE_LF", 400],
  ["bare CR in request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", "BARE_CR", 400],
  ["bare CR in field value", "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", "BARE_CR", 400],
  ["bare CR before request", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", "BARE_CR", 400],
  // request line (RFC 9112 §3)
  ["invalid method token", R("G(T / HTTP/1.1"), "INVALID_METHOD", 400],
  ["non-ASCII method", R("G\xc9T / HTTP/1.1"), "INVALID_METHOD", 400],
  ["leading space", R(" GET / HTTP/1.1"), "INVALID_METHOD", 400],
  ["double space", R("GET  / HTTP/1.1"), "INVALID_REQUEST_LINE", 400],
  ["HTTP/0.9 style", "GET /\r\n\r\n", "INVALID_REQUEST_LINE", 400],
  ["no SP at all", "GET\r\n\r\n", "INVALID_REQUEST_LINE", 400],
  ["space in target", R("GET /a b HTTP/1.1"), "INVALID_VERSION", 400],
  ["tab in target", R("GET /a\tb HTTP/1.1"), "INVALID_TARGET", 400],
  ["non-ASCII target", R("GET /caf\xe9 HTTP/1.1"), "INVALID_TARGET", 400],
  ["NUL in target", R("GET /\x00 HTTP/1.1"), "INVALID_TARGET", 400],
  ["fragment in target", R("GET /a#b HTTP/1.1"), "INVALID_TARGET", 400],
  ["backslash in target", R("GET /a\\..\\b HTTP/1.1"), "INVALID_TARGET", 400],
  ["backslash in an absolute-form path", R("GET http://a/b\\c?d HTTP/1.1"), "INVALID_TARGET", 400],
  ["bad percent-encoding", R("GET /%zz HTTP/1.1"), "INVALID_TARGET", 400],
  ["relative target", R("GET index.html HTTP/1.1"), "INVALID_TARGET", 400],
  ["ftp absolute-form", R("GET ftp://a/ HTTP/1.1"), "INVALID_TARGET", 400],
  ["userinfo in absolute-form", R("GET http://u@a/ HTTP/1.1"), "INVALID_TARGET", 400],
  ["asterisk with GET", R("GET * HTTP/1.1"), "ASTERISK_NOT_OPTIONS", 400],
  ["lowercase version", R("GET / http/1.1"), "INVALID_VERSION", 400],
  ["version without minor", R("GET / HTTP/1"), "INVALID_VERSION", 400],
  ["two-digit minor", R("GET / HTTP/1.10"), "INVALID_VERSION", 400],
  ["trailing space after version", R("GET / HTTP/1.1 "), "INVALID_VERSION", 400],
  ["HTTP/2.0", R("GET / HTTP/2.0"), "VERSION_NOT_SUPPORTED", 505],
  ["HTTP/0.9 with version", R("GET / HTTP/0.9"), "VERSION_NOT_SUPPORTED", 505],
  ["unknown method", R("BREW /pot HTTP/1.1"), "METHOD_NOT_IMPLEMENTED", 501],
  ["methods are case-sensitive", R("get / HTTP/1.1"), "METHOD_NOT_IMPLEMENTED", 501],
  ["CONNECT authority-form", R("CONNECT a:443 HTTP/1.1"), "CONNECT_NOT_IMPLEMENTED", 501],
  ["TRACE", R("TRACE / HTTP/1.1"), "TRACE_NOT_IMPLEMENTED", 501],
  // field lines (RFC 9112 §5)
  ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", "OBS_FOLD", 400],
  ["obs-fold with tab", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", "OBS_FOLD", 400],
  ["whitespace before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", "OBS_FOLD", 400],
  ["space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "WHITESPACE_BEFORE_COLON", 400],
  ["tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", "WHITESPACE_BEFORE_COLON", 400],
  ["no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", "WHITESPACE_BEFORE_COLON", 400],
  ["no colon, one word", "GET / HTTP/1.1\r\nHost\r\n\r\n", "MISSING_COLON", 400],
  ["empty field name", "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", "INVALID_FIELD_NAME", 400],
  ["invalid name char", "GET / HTTP/1.1\r\nX@Y: a\r\nHost: a\r\n\r\n", "INVALID_FIELD_NAME", 400],
  ["non-ASCII name", "GET / HTTP/1.1\r\nX\xe9: a\r\nHost: a\r\n\r\n", "INVALID_FIELD_NAME", 400],
  ["NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", "INVALID_FIELD_VALUE", 400],
  ["DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", "INVALID_FIELD_VALUE", 400],
  ["ESC in value", "GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[31m\r\n\r\n", "INVALID_FIELD_VALUE", 400],
  // Host (RFC 9112 §3.2)
  ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", "HOST_MISSING", 400],
  ["two Host lines", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HOST_REPEATED", 400],
  ["Host list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", "HOST_INVALID", 400],
  ["empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", "HOST_INVALID", 400],
  ["Host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "HOST_INVALID", 400],
  ["Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", "HOST_INVALID", 400],
  ["Host port not digits", "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", "HOST_INVALID", 400],
  ["Host port too big", "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", "HOST_INVALID", 400],
  ["Host bad IPv6", "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", "HOST_INVALID", 400],
  ["Host unclosed IPv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", "HOST_INVALID", 400],
  // framing / smuggling (RFC 9112 §6.3)
  [
    "CL + TE",
    H("Content-Length: 5", "Transfer-Encoding: chunked"),
    "CONTENT_LENGTH_WITH_TRANSFER_ENCODING",
    400,
  ],
  [
    "TE + CL",
    H("Transfer-Encoding: chunked", "Content-Length: 0"),
    "CONTENT_LENGTH_WITH_TRANSFER_ENCODING",
    400,
  ],
  [
    "duplicate CL, same value",
    H("Content-Length: 5", "Content-Length: 5"),
    "DUPLICATE_CONTENT_LENGTH",
    400,
  ],
  [
    "duplicate CL, different",
    H("Content-Length: 5", "Content-Length: 6"),
    "DUPLICATE_CONTENT_LENGTH",
    400,
  ],
  ["CL list", H("Content-Length: 1, 2"), "INVALID_CONTENT_LENGTH", 400],
  ["CL same-value list", H("Content-Length: 5, 5"), "INVALID_CONTENT_LENGTH", 400],
  ["CL +1", H("Content-Length: +1"), "INVALID_CONTENT_LENGTH", 400],
  ["CL -1", H("Content-Length: -1"), "INVALID_CONTENT_LENGTH", 400],
  ["CL hex", H("Content-Length: 0x10"), "INVALID_CONTENT_LENGTH", 400],
  ["CL decimal point", H("Content-Length: 1.0"), "INVALID_CONTENT_LENGTH", 400],
  ["CL empty", H("Content-Length:"), "INVALID_CONTENT_LENGTH", 400],
  ["CL inner space", H("Content-Length: 1 2"), "INVALID_CONTENT_LENGTH", 400],
  ["CL overflow", H("Content-Length: 18446744073709551617"), "INVALID_CONTENT_LENGTH", 400],
  ["TE chunked, gzip", H("Transfer-Encoding: chunked, gzip"), "CHUNKED_NOT_FINAL", 400],
  ["TE xchunked", H("Transfer-Encoding: xchunked"), "CHUNKED_NOT_FINAL", 400],
  ["TE chunked-false", H("Transfer-Encoding: chunked-false"), "CHUNKED_NOT_FINAL", 400],
  ["TE gzip only", H("Transfer-Encoding: gzip"), "CHUNKED_NOT_FINAL", 400],
  ["TE identity", H("Transfer-Encoding: identity"), "CHUNKED_NOT_FINAL", 400],
  ["TE empty", H("Transfer-Encoding:"), "CHUNKED_NOT_FINAL", 400],
  [
    "TE split, gzip last",
    H("Transfer-Encoding: chunked", "Transfer-Encoding: gzip"),
    "CHUNKED_NOT_FINAL",
    400,
  ],
  ["TE chunked twice", H("Transfer-Encoding: chunked, chunked"), "INVALID_TRANSFER_ENCODING", 400],
  ["TE with parameter", H("Transfer-Encoding: chunked;x=1"), "INVALID_TRANSFER_ENCODING", 400],
  ["TE quoted", H('Transfer-Encoding: "chunked"'), "INVALID_TRANSFER_ENCODING", 400],
  [
    "TE gzip, chunked",
    H("Transfer-Encoding: gzip, chunked"),
    "TRANSFER_CODING_NOT_IMPLEMENTED",
    501,
  ],
  [
    "TE over two lines",
    H("Transfer-Encoding: deflate", "Transfer-Encoding: chunked"),
    "TRANSFER_CODING_NOT_IMPLEMENTED",
    501,
  ],
  [
    "TE in HTTP/1.0",
    "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    "TRANSFER_ENCODING_IN_HTTP10",
    400,
  ],
];

for (const [name, raw, code, status] of MALFORMED) {
  Deno.test(`parser: malformed → ${status}: ${name}`, () => {
    const error = assertParseError(raw, code);
    assertEquals(error.status, status);
    assert(error.message.startsWith(`${status} `), error.message);
  });
}

Deno.test("parser: a malformed request is rejected whatever the byte boundary", () => {
  // Every prefix is either incomplete or already the same error.
  for (const [, raw, code] of MALFORMED) {
    const bytes = enc(raw);
    for (let i = 0; i <= bytes.length; i++) {
      try {
        parseRequestHead(bytes.subarray(0, i));
      } catch (error) {
        if (!(error instanceof RequestError)) throw error;
        assertEquals(error.code, code, `${JSON.stringify(raw)} @${i}`);
      }
    }
  }
});

/** Feeds `bytes` to one HeadParser a byte more per call, as a dripping client's reads arrive. */
function drip(bytes: Uint8Array, parser = new HeadParser()) {
  for (let i = 1; i < bytes.length; i++) {
    assertStrictEquals(parser.parse(bytes.subarray(0, i)), INCOMPLETE, `@${i}`);
  }
  return parser.parse(bytes);
}

Deno.test("HeadParser: a head dripped a byte per read parses as if whole", () => {
  const parser = new HeadParser();
  for (const { name, raw } of VALID) {
    const result = drip(enc(raw), parser);
    assertEquals(result, parseRequestHead(enc(raw)), name);
    parser.reset();
  }
});

Deno.test("HeadParser: a dripped malformed request gets the same error", () => {
  for (const [, raw, code] of MALFORMED) {
    const error = assertThrows(() => drip(enc(raw)), RequestError);
    assertEquals(error.code, code, `${JSON.stringify(raw)}: ${error.message}`);
  }
});

Deno.test("HeadParser: CPU for a dripped head grows linearly with its size", () => {
  // The largest head the default limits allow (8 KiB request line, 16 KiB of
  // fields), a byte per read. Re-parsed from its first byte after each read,
  // this took about 1.7 s; scanned incrementally, a few milliseconds.
  const head = enc(
    `GET /${"a".repeat(8000)} HTTP/1.1\r\nHost: a\r\n` +
      `X-Long: ${"v".repeat(8000)}\r\n` + `X-Fill: ${"v".repeat(80)}\r\n`.repeat(90) + "\r\n",
  );
  const started = performance.now();
  const result = drip(head);
  const elapsedMs = performance.now() - started;
  if (!result.done) throw new Error("incomplete");
  assertEquals(result.head.fields.length, 92);
  assert(elapsedMs < 250, `a dripped ${head.length}-byte head took ${elapsedMs.toFixed(0)} ms`);
});

// --- limits -------------------------------------------------------------------

Deno.test("parser: request line over the limit → 414, even before its CRLF", () => {
  const limits = resolveLimits({ maxRequestLineBytes: 32 });
  const line = `GET /${"a".repeat(32 - 14)} HTTP/1.1`; // exactly 32 bytes
  assertEquals(line.length, 32);
  assertEquals(parse(`${line}\r\nHost: a\r\n\r\n`, limits).head.method, "GET");
  assertParseError(
    `GET /${"a".repeat(19)} HTTP/1.1\r\nHost: a\r\n\r\n`,
    "REQUEST_LINE_TOO_LONG",
    limits,
  );
  assertParseError(`GET /${"a".repeat(40)}`, "REQUEST_LINE_TOO_LONG", limits);
  // The exact-limit line with only its CR so far is still just incomplete.
  assertStrictEquals(parseRequestHead(enc(`${line}\r`), limits), INCOMPLETE);
});

Deno.test("parser: header bytes over the limit → 431, even before the head ends", () => {
  const limits = resolveLimits({ maxHeaderBytes: 64 });
  const fields = "Host: a\r\nX: " + "b".repeat(64 - 9 - 5) + "\r\n"; // exactly 64 bytes
  assertEquals(fields.length, 64);
  assert(parse(`GET / HTTP/1.1\r\n${fields}\r\n`, limits).head);
  assertParseError(`GET / HTTP/1.1\r\n${fields}Y: 1\r\n\r\n`, "HEADERS_TOO_LARGE", limits);
  assertParseError(`GET / HTTP/1.1\r\nX: ${"b".repeat(100)}`, "HEADERS_TOO_LARGE", limits);
});

Deno.test("parser: header count over the limit → 431", () => {
  const limits = resolveLimits({ maxHeaderCount: 3 });
  assert(parse("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", limits).head);
  assertParseError(
    "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
    "TOO_MANY_HEADERS",
    limits,
  );
});

Deno.test("parser: Content-Length over the body limit → 413 before any body byte", () => {
  const limits = resolveLimits({ maxBodyBytes: 10 });
  assertEquals(parse(H("Content-Length: 10"), limits).head.framing, { kind: "length", length: 10 });
  assertParseError(H("Content-Length: 11"), "BODY_TOO_LARGE", limits);
});

Deno.test("parser: the default limits are the documented constants", () => {
  assertEquals(DEFAULT_LIMITS.maxRequestLineBytes, 8192);
  assertEquals(DEFAULT_LIMITS.maxHeaderCount, 100);
  assert(Object.isFrozen(DEFAULT_LIMITS));
  assertThrows(() => resolveLimits({ headTimeoutMs: NaN }), RangeError);
  assertThrows(() => resolveLimits({ maxConnections: 0 }), RangeError);
  assertThrows(() => resolveLimits({ bogus: 1 } as never), TypeError);
});

Deno.test("parser: parseFieldLine trims OWS and keeps inner whitespace", () => {
  const line = enc("Accept:\t text/html ,  */*\t ");
  assertEquals(parseFieldLine(line, 0, line.length), ["accept", "text/html ,  */*"]);
  const empty = enc("X-Empty:   ");
  assertEquals(parseFieldLine(empty, 0, empty.length), ["x-empty", ""]);
});
