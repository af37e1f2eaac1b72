/**
 * The long fuzz run of the HTTP/1.1 parser: the invariants of the CI fuzz
 * test (`tests/hardening_fuzz_parser_test.ts`), for a million cases by
 * default. Runs as `deno task fuzz`.
 *
 * ```sh
 * deno run --allow-env=FUZZ_SEED,FUZZ_CASES tests/fuzz/parser_fuzz.ts
 * FUZZ_SEED=123 FUZZ_CASES=5000000 deno task fuzz   # replay a seed, or run longer
 * ```
 *
 * Exits 1 on the first violation, printing the seed, the case number, the
 * mutation and the bytes.
 *
 * @module
 */
import { checkParserCase, fuzzCases, fuzzSeed, generateCase, Prng } from "../support/fuzz.ts";

const seed = fuzzSeed("parser fuzz (long run)");
const total = fuzzCases(1_000_000);
const rng = new Prng(seed);
const tally = { request: 0, incomplete: 0, error: 0, invalidByConstruction: 0 };
const started = performance.now();
try {
  for (let i = 0; i < total; i++) {
    const c = generateCase(rng);
    tally[checkParserCase(c, rng, `case ${i} (seed ${seed})`).kind]++;
    if (c.invalid !== null) tally.invalidByConstruction++;
    if ((i + 1) % 100_000 === 0) {
      console.log(`${i + 1} cases, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  }
} catch (error) {
  console.error(error);
  Deno.exit(1);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`parser fuzz: ${total} cases in ${seconds} s, no violation`, tally);
