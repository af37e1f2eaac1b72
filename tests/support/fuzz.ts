/**
 * Test support for the hardening tests: a seeded PRNG, a corpus of valid
 * HTTP/1.1 requests, a request mutator whose outputs say whether they are
 * invalid by construction, and a pure "parse the way the server does" driver
 * over the parser and the chunked decoder.
 *
 * Everything random derives from one 32-bit seed, printed by
 * {@linkcode fuzzSeed} and overridable with `FUZZ_SEED`, so any failure can
 * be replayed exactly.
 *
 * @module
 */
import { ChunkedDecoder } from "../../lib/http1/chunked.ts";
import { RequestError } from "../../lib/http1/errors.ts";
import { DEFAULT_LIMITS, type Http1Limits } from "../../lib/http1/limits.ts";
import { parseRequestHead } from "../../lib/http1/parser.ts";

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counter): tiny, fast, and passes
 * PractRand, so a seed fully determines every case. Not for cryptography.
 */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d = 1;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = seed >>> 0;
    // Discard the first outputs: sfc32's early state still mirrors the seed.
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniform unsigned 32-bit integer. */
  next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A uniform integer in `[0, n)`. */
  int(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/**
 * The seed for this run: `FUZZ_SEED` when set (to replay a failure), else a
 * fresh random one. Printed either way, with the name of the run, so a
 * failing CI log always says how to reproduce it.
 */
export function fuzzSeed(name: string): number {
  const fromEnv = Deno.env.get("FUZZ_SEED");
  const seed = fromEnv !== undefined && fromEnv !== ""
    ? Number(fromEnv) >>> 0
    : crypto.getRandomValues(new Uint32Array(1))[0];
  console.log(`${name}: seed ${seed} (replay with FUZZ_SEED=${seed})`);
  return seed;
}

/**
 * How many cases a fuzz test runs: `FUZZ_CASES` when set, else `ciDefault`
 * (sized to take seconds in CI).
 */
export function fuzzCases(ciDefault: number): number {
  const fromEnv = Number(Deno.env.get("FUZZ_CASES") ?? "");
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : ciDefault;
}

/** Latin1 string → bytes (every char below 0x100 is one byte, so raw bytes survive). */
export function bytesOf(latin1: string): Uint8Array {
  const out = new Uint8Array(latin1.length);
  for (let i = 0; i < latin1.length; i++) out[i] = latin1.charCodeAt(i) & 0xff;
  return out;
}

/** Bytes → latin1 string, for messages and for searching. */
export function latin1Of(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

/**
 * Valid requests that both our server and `Deno.serve` answer `200` with an
 * echo handler. They cover every framing (none, Content-Length, chunked with
 * extensions and a trailer), HTTP/1.0, absolute-form, a leading empty line,
 * obs-text (non-UTF-8) in a value, `Expect: 100-continue` and cookies.
 */
export const VALID_REQUESTS: readonly string[] = [
  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET /path/x?q=1&r=%20 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: fuzz/1.0\r\n" +
  "Accept: */*\r\nCookie: a=b; session_id=xyz\r\n\r\n",
  "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n" +
  "hello world",
  "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
  "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
  "GET /old HTTP/1.0\r\n\r\n",
  "GET http://a/abs?x HTTP/1.1\r\nHost: a\r\n\r\n",
  "\r\nGET / HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xe9 \xff\xfe\r\n\r\n",
  "PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
  "DELETE /d HTTP/1.1\r\nHost: [::1]:80\r\nConnection: close\r\n\r\n",
];

/**
 * One generated case. `invalid` names the rule the mutation breaks when the
 * case is invalid by construction; `null` means validity is unknown (left to
 * the differential oracle).
 */
export interface FuzzCase {
  bytes: Uint8Array;
  mutation: string;
  invalid: string | null;
}

/** Bytes that may never appear in a field name (RFC 9110 §5.6.2 tchar), `:` excluded. */
const NON_TCHAR: readonly number[] = (() => {
  const tchar = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]$/;
  const out: number[] = [];
  for (let b = 0; b < 256; b++) {
    if (b !== 0x3a && !tchar.test(String.fromCharCode(b))) out.push(b);
  }
  return out;
})();

/** Control bytes never allowed in a field value (RFC 9110 §5.5): all but HTAB. */
const VALUE_CONTROLS: readonly number[] = [
  ...Array.from({ length: 0x20 }, (_, b) => b).filter((b) => b !== 0x09),
  0x7f,
];

/** Content-Length values that are not `1*DIGIT` or too large to frame: huge and negative numbers. */
const BAD_CONTENT_LENGTHS = [
  "-1",
  "+5",
  "-0",
  "0x10",
  "1e3",
  "1 1",
  "",
  "5, 5",
  "99999999999999999999",
  "18446744073709551617",
  "9007199254740993",
  "\xef\xbc\x91", // FULLWIDTH DIGIT ONE in UTF-8
];

/** chunk-size lines that are not `1*HEXDIG [ chunk-ext ]`. */
const BAD_CHUNK_SIZES = [
  "-1",
  "0x5",
  " 5",
  "g",
  "fffffffffffffffffffff",
  "5\x00",
  "5;a\x01b",
  "5;\x7f",
  "",
];

/** The header section's field lines of a request: `[start, end)` of each, CRLF excluded. */
function fieldLines(s: string): [number, number][] {
  const headStart = s.startsWith("\r\n") ? 2 : 0;
  const headEnd = s.indexOf("\r\n\r\n", headStart);
  const lines: [number, number][] = [];
  let pos = s.indexOf("\r\n", headStart) + 2;
  while (pos < headEnd + 2) {
    const end = s.indexOf("\r\n", pos);
    lines.push([pos, end]);
    pos = end + 2;
  }
  return lines;
}

type Mutator = (rng: Prng, s: string) => { s: string; invalid: string | null } | null;

/** Mutations whose result breaks a named rule, so it must never get a 2xx. */
const BREAKING: Record<string, Mutator> = {
  bareLf(rng, s) {
    const headEnd = s.indexOf("\r\n\r\n");
    const crlfs = [...s.slice(0, headEnd + 4).matchAll(/\r\n/g)].map((m) => m.index!);
    const at = rng.pick(crlfs.filter((i) => i > 1 || !s.startsWith("\r\n")));
    return { s: s.slice(0, at) + "\n" + s.slice(at + 2), invalid: "bare LF in head (ours only)" };
  },
  bareCr(rng, s) {
    const headEnd = s.indexOf("\r\n\r\n");
    const crlfs = [...s.slice(0, headEnd + 2).matchAll(/\r\n/g)].map((m) => m.index!);
    const at = rng.pick(crlfs);
    return { s: s.slice(0, at) + "\r" + s.slice(at + 2), invalid: "bare CR" };
  },
  oddByteInFieldName(rng, s) {
    const lines = fieldLines(s);
    if (lines.length === 0) return null;
    const [start, end] = rng.pick(lines);
    const colon = s.indexOf(":", start);
    if (colon === -1 || colon > end) return null;
    const at = start + 1 + rng.int(colon - start - 1 || 1);
    const b = String.fromCharCode(rng.pick(NON_TCHAR));
    return { s: s.slice(0, at) + b + s.slice(at), invalid: "non-tchar byte in field name" };
  },
  controlInFieldValue(rng, s) {
    const lines = fieldLines(s);
    if (lines.length === 0) return null;
    const [start, end] = rng.pick(lines);
    const colon = s.indexOf(":", start);
    const at = colon + 2 + rng.int(Math.max(1, end - colon - 2));
    const b = String.fromCharCode(rng.pick(VALUE_CONTROLS));
    return { s: s.slice(0, at) + b + s.slice(at), invalid: "control byte in field value" };
  },
  badContentLength(rng, s) {
    if (/transfer-encoding/i.test(s)) return null;
    const value = rng.pick(BAD_CONTENT_LENGTHS);
    const replaced = s.replace(/Content-Length: \d+/, `Content-Length: ${value}`);
    const out = replaced !== s ? replaced : insertField(s, `Content-Length: ${value}`);
    return { s: out, invalid: `Content-Length ${JSON.stringify(value)}` };
  },
  duplicateHost(_rng, s) {
    if (!s.includes("Host: ")) return null;
    return { s: insertField(s, "Host: b"), invalid: "two Host lines" };
  },
  missingHost(_rng, s) {
    if (!/HTTP\/1\.1\r\n/.test(s) || !s.includes("Host: ")) return null;
    return { s: s.replace(/Host: [^\r]*\r\n/, ""), invalid: "HTTP/1.1 without Host" };
  },
  contentLengthAndChunked(_rng, s) {
    if (!/Transfer-Encoding: chunked/.test(s)) return null;
    return { s: insertField(s, "Content-Length: 5"), invalid: "Content-Length with chunked" };
  },
  badChunkSize(rng, s) {
    if (!/Transfer-Encoding: chunked/.test(s)) return null;
    const value = rng.pick(BAD_CHUNK_SIZES);
    return { s: s.replace("\r\n6\r\n", `\r\n${value}\r\n`), invalid: `chunk-size ${value}` };
  },
  badTrailer(rng, s) {
    if (!s.includes("X-Trailer: t")) return null;
    const b = String.fromCharCode(rng.pick(NON_TCHAR.filter((b) => b !== 0x0d && b !== 0x0a)));
    return { s: s.replace("X-Trailer", `X-Tr${b}ailer`), invalid: "non-tchar in trailer name" };
  },
  obsFold(_rng, s) {
    return {
      s: s.replace(/(\r\n[A-Za-z-]+: [^\r]*)\r\n/, "$1\r\n folded\r\n"),
      invalid: "obs-fold",
    };
  },
  spaceBeforeColon(_rng, s) {
    return { s: s.replace(/\r\n([A-Za-z-]+):/, "\r\n$1 :"), invalid: "SP before colon" };
  },
  badVersion(rng, s) {
    const v = rng.pick(["HTTP/2.0", "http/1.1", "HTTP/1.10", "HTTP/1", "HTTP /1.1", "HTTP/1.1 "]);
    return { s: s.replace(/HTTP\/1\.[01]\r\n/, `${v}\r\n`), invalid: `version ${v}` };
  },
  badTargetByte(rng, s) {
    const b = rng.pick([0x00, 0x01, 0x7f, 0x80, 0xc3, 0xff, 0x23]);
    return {
      s: s.replace(/ (\/|http:\/\/a\/)/, `$&${String.fromCharCode(b)}`),
      invalid: `byte 0x${b.toString(16)} in target`,
    };
  },
  extraSpaceInRequestLine(_rng, s) {
    return { s: s.replace(/^(\r\n)?([A-Z]+) /, "$1$2  "), invalid: "two SP in request line" };
  },
  truncated(rng, s) {
    const at = rng.int(s.length);
    return { s: s.slice(0, at), invalid: "truncated (EOF before the request ends)" };
  },
  limitSizedHead(rng) {
    // Each part at, just under or just past its own limit, so together they
    // push the server's read buffer to its maximum before a limit trips.
    const blank = "\r\n".repeat(rng.pick([0, 1, DEFAULT_LIMITS.maxRequestLineBytes / 2]));
    const lineRoom = DEFAULT_LIMITS.maxRequestLineBytes - "GET / HTTP/1.1".length;
    const target = "/" + "t".repeat(rng.pick([0, lineRoom - 1, lineRoom, lineRoom + 1]));
    const field = `X-Big: ${"b".repeat(DEFAULT_LIMITS.maxHeaderBytes + rng.int(32768))}`;
    return {
      s: `${blank}GET ${target} HTTP/1.1\r\nHost: a\r\n${field}${
        rng.chance(0.5) ? "\r\n\r\n" : ""
      }`,
      invalid: "head over a size limit",
    };
  },
  hugeHeader(rng, s) {
    const n = DEFAULT_LIMITS.maxHeaderBytes + 1 + rng.int(4096);
    return { s: insertField(s, `X-Big: ${"b".repeat(n)}`), invalid: "header section over limit" };
  },
};

/** Mutations whose result may or may not be valid: the differential oracle decides. */
const BLIND: Record<string, Mutator> = {
  bitFlip(rng, s) {
    const bytes = bytesOf(s);
    const flips = 1 + rng.int(3);
    for (let i = 0; i < flips; i++) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
    return { s: latin1Of(bytes), invalid: null };
  },
  insertByte(rng, s) {
    const at = rng.int(s.length + 1);
    return { s: s.slice(0, at) + String.fromCharCode(rng.int(256)) + s.slice(at), invalid: null };
  },
  deleteByte(rng, s) {
    const at = rng.int(s.length);
    return { s: s.slice(0, at) + s.slice(at + 1), invalid: null };
  },
  duplicateCrlf(rng, s) {
    const crlfs = [...s.matchAll(/\r\n/g)].map((m) => m.index!);
    const at = rng.pick(crlfs);
    return { s: s.slice(0, at) + "\r\n" + s.slice(at), invalid: null };
  },
  removeCrlf(rng, s) {
    const crlfs = [...s.matchAll(/\r\n/g)].map((m) => m.index!);
    const at = rng.pick(crlfs);
    return { s: s.slice(0, at) + s.slice(at + 2), invalid: null };
  },
  chunkExtension(rng, s) {
    const ext = rng.pick([";a", ";a=b", ';a="q s"', " ;a", ";", ";=", ";a=\xff", ";a=b;c=d"]);
    return { s: s.replace("\r\n0\r\n", `\r\n0${ext}\r\n`), invalid: null };
  },
  oddFieldValue(rng, s) {
    const value = latin1Of(rng.bytes(1 + rng.int(16)).map((b) => b | 0x80));
    return { s: insertField(s, `X-Odd: ${value}`), invalid: null };
  },
  hugeNumber(rng, s) {
    const digits = "9".repeat(1 + rng.int(25));
    return { s: s.replace(/Content-Length: \d+/, `Content-Length: ${digits}`), invalid: null };
  },
  spliceTwo(rng, s) {
    return { s: s + rng.pick(VALID_REQUESTS), invalid: null };
  },
  randomBytes(rng) {
    return { s: latin1Of(rng.bytes(1 + rng.int(64))), invalid: null };
  },
};

function insertField(s: string, line: string): string {
  const at = s.indexOf("\r\n", s.startsWith("\r\n") ? 2 : 0) + 2;
  return s.slice(0, at) + line + "\r\n" + s.slice(at);
}

/**
 * One case from `rng`: usually one breaking mutation (invalid by
 * construction), otherwise one to three blind ones. A case combining both is
 * left to the oracle, since a blind mutation could repair the broken rule.
 */
export function generateCase(rng: Prng, requests: readonly string[] = VALID_REQUESTS): FuzzCase {
  const base = rng.pick(requests);
  if (rng.chance(0.5)) {
    const names = Object.keys(BREAKING);
    for (let attempt = 0; attempt < 8; attempt++) {
      const name = rng.pick(names);
      const out = BREAKING[name](rng, base);
      if (out !== null && out.s !== base) {
        return { bytes: bytesOf(out.s), mutation: name, invalid: out.invalid };
      }
    }
  }
  let s = base;
  const applied: string[] = [];
  const rounds = 1 + rng.int(3);
  const names = Object.keys(BLIND);
  for (let i = 0; i < rounds; i++) {
    const name = rng.pick(names);
    const out = BLIND[name](rng, s);
    if (out === null || out.s.length === 0) continue;
    s = out.s;
    applied.push(name);
  }
  return { bytes: bytesOf(s), mutation: applied.join("+") || "none", invalid: null };
}

/** What {@linkcode parseLikeServer} made of a byte stream. */
export type ParseOutcome =
  | { kind: "request"; method: string; bytesConsumed: number; bodyLength: number }
  | { kind: "incomplete" }
  | { kind: "error"; code: string; status: number };

/**
 * Reads the first request from `bytes` the way the server does (head, then
 * body by its framing), with no I/O. Any exception other than
 * `RequestError` propagates: that is exactly what the fuzz tests look for.
 */
export function parseLikeServer(
  bytes: Uint8Array,
  limits: Http1Limits = DEFAULT_LIMITS,
): ParseOutcome {
  try {
    const result = parseRequestHead(bytes, limits);
    if (!result.done) return { kind: "incomplete" };
    const { head, bytesConsumed } = result;
    const rest = bytes.subarray(bytesConsumed);
    let bodyLength = 0;
    let used = 0;
    if (head.framing.kind === "length") {
      if (rest.length < head.framing.length) return { kind: "incomplete" };
      bodyLength = used = head.framing.length;
    } else if (head.framing.kind === "chunked") {
      const decoder = new ChunkedDecoder(limits);
      used = decoder.feed(rest);
      if (!decoder.done) return { kind: "incomplete" };
      bodyLength = decoder.body().length;
    }
    return {
      kind: "request",
      method: head.method,
      bytesConsumed: bytesConsumed + used,
      bodyLength,
    };
  } catch (error) {
    if (error instanceof RequestError) {
      return { kind: "error", code: error.code, status: error.status };
    }
    throw error;
  }
}

/**
 * Runs one case through the parser and checks every invariant, throwing an
 * `Error` naming the case (`where`, plus mutation and bytes) on a violation:
 *
 * - nothing but `RequestError` escapes the parser or the chunked decoder;
 * - a case invalid by construction never parses as a complete request;
 * - a random prefix agrees with the whole: complete only when the whole is,
 *   at the same length; an error only when the whole is an error;
 * - a chunked body decodes the same when fed in random small pieces.
 */
export function checkParserCase(c: FuzzCase, rng: Prng, where: string): ParseOutcome {
  const label = `${where}, ${c.mutation}: ${show(c.bytes)}`;
  let whole: ParseOutcome;
  try {
    whole = parseLikeServer(c.bytes);
  } catch (error) {
    throw new Error(`non-RequestError escaped the parser, ${label}`, { cause: error });
  }
  if (c.invalid !== null && whole.kind === "request") {
    throw new Error(`invalid (${c.invalid}) parsed as a request, ${label}`);
  }
  const cut = rng.int(c.bytes.length + 1);
  const part = parseLikeServer(c.bytes.subarray(0, cut));
  const agrees = part.kind === "incomplete"
    ? whole.kind !== "request" || cut < whole.bytesConsumed
    : part.kind === "error"
    ? whole.kind === "error"
    : whole.kind === "request" && part.bytesConsumed === whole.bytesConsumed;
  if (!agrees) {
    throw new Error(`prefix of ${cut} bytes is ${part.kind}, whole is ${whole.kind}, ${label}`);
  }
  if (whole.kind === "request") checkChunkedSplits(c.bytes, rng, label);
  return whole;
}

function checkChunkedSplits(bytes: Uint8Array, rng: Prng, label: string): void {
  const head = parseRequestHead(bytes);
  if (!head.done || head.head.framing.kind !== "chunked") return;
  const rest = bytes.subarray(head.bytesConsumed);
  const whole = new ChunkedDecoder(DEFAULT_LIMITS);
  const usedWhole = whole.feed(rest);
  const split = new ChunkedDecoder(DEFAULT_LIMITS);
  let used = 0;
  // Bounded: each round consumes at least one byte or ends the body.
  while (!split.done && used < rest.length) {
    used += split.feed(rest.subarray(used, used + 1 + rng.int(8)));
  }
  const same = split.done === whole.done && used === usedWhole &&
    latin1Of(split.body()) === latin1Of(whole.body());
  if (!same) throw new Error(`chunked body decodes differently when split, ${label}`);
}

/** `bytes` as a short printable string for failure messages. */
export function show(bytes: Uint8Array, max = 300): string {
  const s = JSON.stringify(latin1Of(bytes.subarray(0, max)));
  return bytes.length > max ? `${s}… (${bytes.length} bytes)` : s;
}
