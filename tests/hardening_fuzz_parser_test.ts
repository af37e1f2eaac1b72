/**
 * Fuzzing the pure HTTP/1.1 parser (`parseRequestHead` and `ChunkedDecoder`)
 * with seeded, reproducible mutations of valid requests (see
 * `tests/support/fuzz.ts`; the seed is printed, `FUZZ_SEED` replays it,
 * `FUZZ_CASES` changes the count). The long run is `tests/fuzz/parser_fuzz.ts`.
 *
 * Invariants checked for every case:
 * - nothing but `HttpParseError` is ever thrown;
 * - a case invalid by construction never parses as a complete request;
 * - every prefix of the bytes is consistent with the whole: never a
 *   complete request before the whole's end of request, and never an error
 *   where the whole parses;
 * - the chunked decoder gives the same body however the bytes are split.
 *
 * @module
 */
import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { ChunkedDecoder } from "../lib/http1/chunked.ts";
import { DEFAULT_LIMITS } from "../lib/http1/limits.ts";
import { parseRequestHead } from "../lib/http1/parser.ts";
import {
  bytesOf,
  fuzzCases,
  fuzzSeed,
  generateCase,
  GRAMMAR_TABLE,
  parseLikeServer,
  type ParseOutcome,
  Prng,
  show,
  VALID_REQUESTS,
} from "./support/fuzz.ts";

/** The status a server derives from a parse outcome (200 for a complete request). */
function statusOf(outcome: ParseOutcome): number | "incomplete" {
  if (outcome.kind === "incomplete") return "incomplete";
  return outcome.kind === "error" ? outcome.status : 200;
}

Deno.test("parser fuzz: RFC 9112 grammar table gives the expected status", () => {
  for (const row of GRAMMAR_TABLE) {
    const bytes = bytesOf(row.request);
    const outcome = parseLikeServer(bytes);
    assertEquals(statusOf(outcome), row.status, `${row.name} (RFC ${row.rfc})`);
    if (outcome.kind === "request") {
      assertEquals(outcome.bytesConsumed, bytes.length, `${row.name}: whole request consumed`);
    }
  }
});

Deno.test("parser fuzz: every valid request truncated at every position is incomplete", () => {
  let cases = 0;
  for (const request of VALID_REQUESTS) {
    const bytes = bytesOf(request);
    for (let cut = 0; cut < bytes.length; cut++) {
      assertEquals(parseLikeServer(bytes.subarray(0, cut)), { kind: "incomplete" }, show(bytes));
      cases++;
    }
    const whole = parseLikeServer(bytes);
    assert(whole.kind === "request" && whole.bytesConsumed === bytes.length, show(bytes));
  }
  console.log(`truncation: ${cases} prefixes`);
});

Deno.test("parser fuzz: mutated requests never throw anything but HttpParseError", () => {
  const seed = fuzzSeed("parser fuzz");
  const rng = new Prng(seed);
  const total = fuzzCases(20000);
  const tally = { request: 0, incomplete: 0, error: 0, invalidByConstruction: 0 };
  for (let i = 0; i < total; i++) {
    const c = generateCase(rng);
    const where = `case ${i} (seed ${seed}, ${c.mutation}): ${show(c.bytes)}`;
    let whole: ParseOutcome;
    try {
      whole = parseLikeServer(c.bytes);
    } catch (error) {
      throw new Error(`non-HttpParseError escaped the parser, ${where}`, { cause: error });
    }
    tally[whole.kind]++;
    if (c.invalid !== null) {
      tally.invalidByConstruction++;
      assertNotEquals(
        whole.kind,
        "request",
        `invalid (${c.invalid}) parsed as a request, ${where}`,
      );
    }
    checkPrefix(c.bytes, whole, rng.int(c.bytes.length + 1), where);
    if (whole.kind === "request") checkChunkedSplits(c.bytes, rng, where);
  }
  console.log(`parser fuzz: ${total} cases`, tally);
});

/** A prefix never contradicts the whole (`parseRequestHead` restarts from byte 0 each call). */
function checkPrefix(bytes: Uint8Array, whole: ParseOutcome, cut: number, where: string): void {
  const part = parseLikeServer(bytes.subarray(0, cut));
  if (part.kind === "request") {
    if (whole.kind !== "request") {
      throw new Error(`prefix ${cut} complete but whole is ${whole.kind}, ${where}`);
    }
    assertEquals(part.bytesConsumed, whole.bytesConsumed, `prefix ${cut}, ${where}`);
  }
  if (part.kind === "error") {
    assertEquals(
      whole.kind,
      "error",
      `prefix ${cut} failed (${part.code}) but whole did not, ${where}`,
    );
  }
  if (whole.kind === "request" && cut >= whole.bytesConsumed) {
    assertEquals(part, whole, `prefix ${cut} past the request end, ${where}`);
  }
}

/** Feeding the chunked body in random pieces decodes exactly what feeding it whole did. */
function checkChunkedSplits(bytes: Uint8Array, rng: Prng, where: string): void {
  const head = parseRequestHead(bytes);
  if (!head.done || head.head.framing.kind !== "chunked") return;
  const rest = bytes.subarray(head.bytesConsumed);
  const whole = new ChunkedDecoder(DEFAULT_LIMITS);
  const usedWhole = whole.feed(rest);
  const split = new ChunkedDecoder(DEFAULT_LIMITS);
  let used = 0;
  // Bounded: each round consumes at least one byte or ends the body.
  while (!split.done && used < rest.length) {
    const piece = rest.subarray(used, used + 1 + rng.int(8));
    used += split.feed(piece);
  }
  assertEquals(split.done, whole.done, where);
  assertEquals(used, usedWhole, where);
  assertEquals(split.body(), whole.body(), where);
}
