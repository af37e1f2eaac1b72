/**
 * Fuzzing the pure HTTP/1.1 parser (`parseRequestHead` and `ChunkedDecoder`)
 * with seeded, reproducible mutations of valid requests (see
 * `tests/support/fuzz.ts`; the seed is printed, `FUZZ_SEED` replays it,
 * `FUZZ_CASES` changes the count). The long run is `tests/fuzz/parser_fuzz.ts`.
 *
 * The invariants checked for every case are those of `checkParserCase`.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import {
  bytesOf,
  checkParserCase,
  fuzzCases,
  fuzzSeed,
  generateCase,
  parseLikeServer,
  type ParseOutcome,
  Prng,
  show,
  VALID_REQUESTS,
} from "./support/fuzz.ts";
import { GRAMMAR_TABLE } from "./fixtures/http1/rfc9112_grammar.ts";

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

Deno.test("parser fuzz: mutated requests never throw anything but RequestError", () => {
  const seed = fuzzSeed("parser fuzz");
  const rng = new Prng(seed);
  const total = fuzzCases(20000);
  const tally = { request: 0, incomplete: 0, error: 0, invalidByConstruction: 0 };
  for (let i = 0; i < total; i++) {
    const c = generateCase(rng);
    const outcome = checkParserCase(c, rng, `case ${i} (seed ${seed})`);
    tally[outcome.kind]++;
    if (c.invalid !== null) tally.invalidByConstruction++;
  }
  console.log(`parser fuzz: ${total} cases`, tally);
});
