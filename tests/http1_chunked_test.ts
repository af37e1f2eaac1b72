import { assertEquals, assertThrows } from "@std/assert";
import { ChunkedDecoder } from "../lib/http1/chunked.ts";
import { RequestError, type RequestErrorCode } from "../lib/http1/errors.ts";
import { resolveLimits } from "../lib/http1/limits.ts";

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const dec = (b: Uint8Array) => String.fromCharCode(...b);

/** Feeds `raw` in pieces split at `cuts`, as successive reads would deliver it. */
function decode(raw: string, cuts: number[] = [], limits = resolveLimits()) {
  const bytes = enc(raw);
  const decoder = new ChunkedDecoder(limits);
  let consumed = 0;
  for (const end of [...cuts, bytes.length]) {
    // Like the server: unconsumed bytes stay buffered for the next feed.
    const used = decoder.feed(bytes.subarray(consumed, end));
    consumed += used;
    if (decoder.done) break;
  }
  return { done: decoder.done, body: dec(decoder.body()), consumed };
}

const VALID: [name: string, raw: string, body: string][] = [
  ["one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"],
  [
    "two chunks, hex sizes",
    "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n",
    "0123456789abcdefghij",
  ],
  ["empty body", "0\r\n\r\n", ""],
  ["leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"],
  ["extensions ignored", '5;name=val;q="a b"\r\nhello\r\n0;last\r\n\r\n', "hello"],
  ["BWS before extension", "5 ; x\r\nhello\r\n0\r\n\r\n", "hello"],
  ["BWS around =", '5;a = 1 ;b\t=\t"q\\"x"\r\nhello\r\n0\r\n\r\n', "hello"],
  ["empty quoted value", '5;a=""\r\nhello\r\n0\r\n\r\n', "hello"],
  ["trailers discarded", "5\r\nhello\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n", "hello"],
  ["binary data with CRLF inside", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"],
];

for (const [name, raw, body] of VALID) {
  Deno.test(`chunked: ${name}`, () => {
    const result = decode(raw + "GET / HTTP/1.1\r\n");
    assertEquals(result, { done: true, body, consumed: raw.length });
  });
}

Deno.test("chunked: split at every byte boundary decodes identically", () => {
  for (const [, raw, body] of VALID) {
    for (let i = 0; i <= raw.length; i++) {
      assertEquals(decode(raw, [i]), { done: true, body, consumed: raw.length }, `${raw} @${i}`);
    }
    // And one byte per read.
    const everyByte = Array.from({ length: raw.length }, (_, i) => i);
    assertEquals(decode(raw, everyByte).body, body);
  }
});

Deno.test("chunked: incomplete input is not done", () => {
  assertEquals(decode("5\r\nhel").done, false);
  assertEquals(decode("5\r\nhello\r\n0\r\n").done, false);
});

const MALFORMED: [name: string, raw: string, code: RequestErrorCode][] = [
  ["no size", "\r\nhello\r\n0\r\n\r\n", "INVALID_CHUNK_SIZE"],
  ["non-hex size", "g\r\n", "INVALID_CHUNK_SIZE"],
  ["0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", "INVALID_CHUNK_SIZE"],
  ["negative size", "-5\r\n", "INVALID_CHUNK_SIZE"],
  ["leading space", " 5\r\n", "INVALID_CHUNK_SIZE"],
  ["digits after BWS", "5 6\r\n", "INVALID_CHUNK_SIZE"],
  ["size overflow", "fffffffffffffffff1\r\n", "CHUNK_SIZE_OVERFLOW"],
  ["size just past 2^53", "20000000000000\r\n", "CHUNK_SIZE_OVERFLOW"],
  ["bare LF after size", "5\nhello\r\n0\r\n\r\n", "BARE_LF"],
  ["bare CR after size", "5\rhello\r\n0\r\n\r\n", "BARE_CR"],
  ["bare LF in extension", "5;a\nhello", "BARE_LF"],
  ["control byte in extension", "5;a\x00b\r\n", "INVALID_CHUNK_EXTENSION"],
  // RFC 9112 §7.1.1 allows none of these; llhttp refuses them all.
  ["SP after size, no extension", "a \r\n0123456789\r\n0\r\n\r\n", "INVALID_CHUNK_SIZE"],
  ["HTAB after size, no extension", "a\t\r\n0123456789\r\n0\r\n\r\n", "INVALID_CHUNK_SIZE"],
  ["empty extension", "2;\r\nab\r\n0\r\n\r\n", "INVALID_CHUNK_EXTENSION"],
  ["empty extension after one", "2;a;\r\nab\r\n0\r\n\r\n", "INVALID_CHUNK_EXTENSION"],
  ["= without a value", "2;x=\r\nab\r\n0\r\n\r\n", "INVALID_CHUNK_EXTENSION"],
  ["= without a name", "2;=1\r\nab\r\n0\r\n\r\n", "INVALID_CHUNK_EXTENSION"],
  ["unbalanced quote", '2;x="a\r\nab\r\n0\r\n\r\n', "INVALID_CHUNK_EXTENSION"],
  ["escaped closing quote", '2;x="a\\"\r\nab\r\n0\r\n\r\n', "INVALID_CHUNK_EXTENSION"],
  ["bytes after a quoted value", '2;x="a"b\r\nab\r\n0\r\n\r\n', "INVALID_CHUNK_EXTENSION"],
  ["SP after a value, no extension", "2;x=1 \r\nab\r\n0\r\n\r\n", "INVALID_CHUNK_EXTENSION"],
  ["SP after a name, no extension", "2;x \r\nab\r\n0\r\n\r\n", "INVALID_CHUNK_EXTENSION"],
  ["non-token name", "2;a@b\r\nab\r\n0\r\n\r\n", "INVALID_CHUNK_EXTENSION"],
  ["non-token value", "2;a=b@c\r\nab\r\n0\r\n\r\n", "INVALID_CHUNK_EXTENSION"],
  ["data longer than size", "3\r\nhello\r\n0\r\n\r\n", "MISSING_CHUNK_CRLF"],
  ["data not followed by CRLF", "5\r\nhello\n0\r\n\r\n", "MISSING_CHUNK_CRLF"],
  ["bare LF ending body", "0\r\n\n", "BARE_LF"],
  ["bare LF in trailer", "0\r\nX: 1\n\r\n", "BARE_LF"],
  ["obs-fold in trailer", "0\r\nX: 1\r\n 2\r\n\r\n", "OBS_FOLD"],
  ["invalid trailer", "0\r\nX : 1\r\n\r\n", "WHITESPACE_BEFORE_COLON"],
];

for (const [name, raw, code] of MALFORMED) {
  Deno.test(`chunked: malformed: ${name}`, () => {
    const error = assertThrows(() => decode(raw), RequestError);
    assertEquals(error.code, code, error.message);
    assertEquals(error.status, 400);
  });
}

Deno.test("chunked: limits", () => {
  const small = resolveLimits({ maxBodyBytes: 8, maxChunkLineBytes: 16, maxHeaderBytes: 16 });
  assertEquals(decode("4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n", [], small).body, "abcdefgh");
  const tooLarge = assertThrows(
    () => decode("4\r\nabcd\r\n5\r\nefghi\r\n0\r\n\r\n", [], small),
    RequestError,
  );
  assertEquals([tooLarge.code, tooLarge.status], ["BODY_TOO_LARGE", 413]);
  // The 413 comes from the size line, before any of that chunk's data.
  assertEquals(
    assertThrows(() => decode("ffff\r\n", [], small), RequestError).code,
    "BODY_TOO_LARGE",
  );
  const longLine = assertThrows(() => decode(`1;${"x".repeat(20)}`, [], small), RequestError);
  assertEquals(longLine.code, "CHUNK_LINE_TOO_LONG");
  const zeros = assertThrows(() => decode("0".repeat(20), [], small), RequestError);
  assertEquals(zeros.code, "CHUNK_LINE_TOO_LONG");
  const trailers = assertThrows(
    () => decode(`0\r\nX: ${"y".repeat(20)}\r\n\r\n`, [], small),
    RequestError,
  );
  assertEquals([trailers.code, trailers.status], ["HEADERS_TOO_LARGE", 431]);
  const count = resolveLimits({ maxHeaderCount: 1 });
  const many = assertThrows(() => decode("0\r\nA: 1\r\nB: 2\r\n\r\n", [], count), RequestError);
  assertEquals([many.code, many.status], ["TOO_MANY_HEADERS", 431]);
});

Deno.test("chunked: feeding after done consumes nothing", () => {
  const decoder = new ChunkedDecoder();
  assertEquals(decoder.feed(enc("0\r\n\r\nGET")), 5);
  assertEquals(decoder.feed(enc("GET")), 0);
});
