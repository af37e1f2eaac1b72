import { assertEquals, assertStringIncludes } from "@std/assert";
import {
  checkIfMatch,
  checkIfModifiedSince,
  checkIfNoneMatch,
  checkIfRange,
  checkIfUnmodifiedSince,
  type Condition,
  type CurrentValidators,
  evaluatePreconditions,
  type PreconditionDecision,
} from "../lib/caching/preconditions.ts";

/** Last-Modified of the file under test: Sun, 06 Nov 1994 08:49:37 GMT. */
const CURRENT: CurrentValidators = { etag: '"v2"', lastModified: 784111777 };
const SAME = "Sun, 06 Nov 1994 08:49:37 GMT";
const EARLIER = "Sun, 06 Nov 1994 08:49:36 GMT";
const LATER = "Sun, 06 Nov 1994 08:49:38 GMT";

type Outcome = PreconditionDecision["outcome"];
const FULL: Outcome = "send-full";
const NOT_MODIFIED: Outcome = "not-modified";
const FAILED: Outcome = "precondition-failed";
const RANGE: Outcome = "evaluate-range";

interface Case {
  name: string;
  method?: string;
  headers: Record<string, string>;
  outcome: Outcome;
  /** Part of the access-log reason. */
  reason?: string;
}

const cases: Case[] = [
  { name: "no conditions", headers: {}, outcome: FULL, reason: "no validators" },

  // Step 1, If-Match (§13.1.1): strong comparison; false → 412.
  { name: "If-Match current", headers: { "if-match": '"v2"' }, outcome: FULL },
  { name: "If-Match in a list", headers: { "if-match": '"v1", "v2"' }, outcome: FULL },
  { name: "If-Match *", headers: { "if-match": "*" }, outcome: FULL },
  { name: "If-Match old", headers: { "if-match": '"v1"' }, outcome: FAILED, reason: "If-Match" },
  { name: "If-Match weak never matches", headers: { "if-match": 'W/"v2"' }, outcome: FAILED },
  { name: "If-Match garbage", headers: { "if-match": "v2" }, outcome: FAILED },
  {
    name: "If-Match is evaluated before If-None-Match",
    headers: { "if-match": '"v1"', "if-none-match": '"v2"' },
    outcome: FAILED,
  },

  // Step 2, If-Unmodified-Since (§13.1.4): only without If-Match; false → 412.
  {
    name: "If-Unmodified-Since same second",
    headers: { "if-unmodified-since": SAME },
    outcome: FULL,
  },
  { name: "If-Unmodified-Since later", headers: { "if-unmodified-since": LATER }, outcome: FULL },
  {
    name: "If-Unmodified-Since earlier",
    headers: { "if-unmodified-since": EARLIER },
    outcome: FAILED,
    reason: "If-Unmodified-Since",
  },
  {
    name: "If-Unmodified-Since invalid date is ignored",
    headers: { "if-unmodified-since": "yesterday" },
    outcome: FULL,
  },
  {
    name: "If-Unmodified-Since is ignored when If-Match is present",
    headers: { "if-match": '"v2"', "if-unmodified-since": EARLIER },
    outcome: FULL,
  },

  // Step 3, If-None-Match (§13.1.2): weak comparison; false → 304 for GET/HEAD, else 412.
  {
    name: "If-None-Match current",
    headers: { "if-none-match": '"v2"' },
    outcome: NOT_MODIFIED,
    reason: 'If-None-Match matched "v2"',
  },
  { name: "If-None-Match weak", headers: { "if-none-match": 'W/"v2"' }, outcome: NOT_MODIFIED },
  { name: "If-None-Match list", headers: { "if-none-match": '"v1", "v2"' }, outcome: NOT_MODIFIED },
  { name: "If-None-Match *", headers: { "if-none-match": "*" }, outcome: NOT_MODIFIED },
  {
    name: "If-None-Match HEAD",
    method: "HEAD",
    headers: { "if-none-match": '"v2"' },
    outcome: NOT_MODIFIED,
  },
  {
    name: "If-None-Match on other methods fails instead",
    method: "DELETE",
    headers: { "if-none-match": '"v2"' },
    outcome: FAILED,
  },
  {
    name: "If-None-Match old",
    headers: { "if-none-match": '"v1"' },
    outcome: FULL,
    reason: 'ETag changed: client has "v1", current is "v2"',
  },
  {
    name: "If-None-Match comma inside a tag",
    headers: { "if-none-match": '"x,v2"' },
    outcome: FULL,
  },

  // Step 4, If-Modified-Since (§13.1.3): only without If-None-Match, GET/HEAD; false → 304.
  {
    name: "If-Modified-Since same second",
    headers: { "if-modified-since": SAME },
    outcome: NOT_MODIFIED,
    reason: "not modified since",
  },
  {
    name: "If-Modified-Since later",
    headers: { "if-modified-since": LATER },
    outcome: NOT_MODIFIED,
  },
  {
    name: "If-Modified-Since earlier",
    headers: { "if-modified-since": EARLIER },
    outcome: FULL,
    reason: "after If-Modified-Since",
  },
  {
    name: "If-Modified-Since RFC 850 format",
    headers: { "if-modified-since": "Sunday, 06-Nov-94 08:49:37 GMT" },
    outcome: NOT_MODIFIED,
  },
  {
    name: "If-Modified-Since asctime format",
    headers: { "if-modified-since": "Sun Nov  6 08:49:37 1994" },
    outcome: NOT_MODIFIED,
  },
  {
    name: "If-Modified-Since invalid date is ignored",
    headers: { "if-modified-since": "Sun, 06 Nov 1994" },
    outcome: FULL,
    reason: "ignored invalid If-Modified-Since",
  },
  {
    name: "If-Modified-Since is ignored when If-None-Match is present",
    headers: { "if-none-match": '"v1"', "if-modified-since": LATER },
    outcome: FULL,
    reason: "ETag changed",
  },
  {
    name: "If-Modified-Since HEAD",
    method: "HEAD",
    headers: { "if-modified-since": SAME },
    outcome: NOT_MODIFIED,
  },
  {
    name: "If-Modified-Since is ignored for other methods",
    method: "POST",
    headers: { "if-modified-since": SAME },
    outcome: FULL,
  },

  // Step 5, If-Range (§13.1.5) for a GET with Range.
  { name: "Range alone", headers: { range: "bytes=0-1" }, outcome: RANGE },
  { name: "Range is for GET only", method: "HEAD", headers: { range: "bytes=0-1" }, outcome: FULL },
  {
    name: "If-Range current ETag",
    headers: { range: "bytes=0-1", "if-range": '"v2"' },
    outcome: RANGE,
    reason: "If-Range matched",
  },
  {
    name: "If-Range old ETag",
    headers: { range: "bytes=0-1", "if-range": '"v1"' },
    outcome: FULL,
    reason: "full body instead of bytes=0-1",
  },
  {
    name: "If-Range weak ETag never matches",
    headers: { range: "bytes=0-1", "if-range": 'W/"v2"' },
    outcome: FULL,
  },
  {
    name: "If-Range exact Last-Modified",
    headers: { range: "bytes=0-1", "if-range": SAME },
    outcome: RANGE,
  },
  {
    name: "If-Range other date",
    headers: { range: "bytes=0-1", "if-range": LATER },
    outcome: FULL,
  },
  { name: "If-Range without Range", headers: { "if-range": '"v1"' }, outcome: FULL },
  {
    name: "a 304 wins over Range (step 3 before step 5)",
    headers: { range: "bytes=0-1", "if-none-match": '"v2"' },
    outcome: NOT_MODIFIED,
  },
];

/** Headers that count how often each field is read. */
class CountingHeaders extends Headers {
  reads = new Map<string, number>();
  override get(name: string): string | null {
    this.reads.set(name, (this.reads.get(name) ?? 0) + 1);
    return super.get(name);
  }
}

Deno.test("evaluatePreconditions follows RFC 9110 §13.2.2", async (t) => {
  for (const { name, method = "GET", headers, outcome, reason } of cases) {
    await t.step(name, () => {
      const counting = new CountingHeaders(headers);
      const decision = evaluatePreconditions(method, counting, CURRENT);
      assertEquals(decision.outcome, outcome);
      if (reason !== undefined) assertStringIncludes(decision.reason, reason);
      // On a server each read is a call into the runtime: no field is read twice.
      for (const [field, count] of counting.reads) {
        assertEquals(count, 1, `${field} read ${count}×`);
      }
    });
  }
});

Deno.test("evaluatePreconditions reads five fields for a plain GET, three for a revalidation", () => {
  const plain = new CountingHeaders();
  evaluatePreconditions("GET", plain, CURRENT);
  assertEquals([...plain.reads.keys()], [
    "if-match",
    "if-unmodified-since",
    "if-none-match",
    "if-modified-since",
    "range",
  ]);
  const revalidation = new CountingHeaders({ "if-none-match": '"v2"' });
  assertEquals(evaluatePreconditions("GET", revalidation, CURRENT).outcome, "not-modified");
  assertEquals([...revalidation.reads.keys()], [
    "if-match",
    "if-unmodified-since",
    "if-none-match",
  ]);
});

/** One step, its field's value (absent when undefined), and what it must find. */
type StepCase = [
  step: (headers: Headers, current: CurrentValidators) => Condition,
  field: string,
  value: string | undefined,
  result: Condition["result"],
];

Deno.test("each §13.2.2 step evaluates its own field: true, false, or none (absent or ignored)", () => {
  const steps: StepCase[] = [
    [checkIfMatch, "if-match", undefined, "none"],
    [checkIfMatch, "if-match", '"v2"', true],
    [checkIfMatch, "if-match", "*", true],
    [checkIfMatch, "if-match", 'W/"v2"', false],
    [checkIfMatch, "if-match", "", false],
    [checkIfUnmodifiedSince, "if-unmodified-since", undefined, "none"],
    [checkIfUnmodifiedSince, "if-unmodified-since", SAME, true],
    [checkIfUnmodifiedSince, "if-unmodified-since", EARLIER, false],
    [checkIfUnmodifiedSince, "if-unmodified-since", "yesterday", "none"],
    [checkIfNoneMatch, "if-none-match", undefined, "none"],
    [checkIfNoneMatch, "if-none-match", '"v1"', true],
    [checkIfNoneMatch, "if-none-match", 'W/"v2"', false],
    [checkIfNoneMatch, "if-none-match", "*", false],
    [checkIfModifiedSince, "if-modified-since", undefined, "none"],
    [checkIfModifiedSince, "if-modified-since", EARLIER, true],
    [checkIfModifiedSince, "if-modified-since", SAME, false],
    [checkIfModifiedSince, "if-modified-since", LATER, false],
    [checkIfModifiedSince, "if-modified-since", "not a date", "none"],
    [checkIfRange, "if-range", undefined, "none"],
    [checkIfRange, "if-range", '"v2"', true],
    [checkIfRange, "if-range", 'W/"v2"', false],
    [checkIfRange, "if-range", SAME, true],
    [checkIfRange, "if-range", LATER, false],
    [checkIfRange, "if-range", "garbage", false],
  ];
  for (const [step, field, value, result] of steps) {
    const headers = new CountingHeaders(value === undefined ? {} : { [field]: value });
    const label = `${step.name} ${JSON.stringify(value)}`;
    // The value read comes back with the result, so no caller reads the field again.
    assertEquals(step(headers, CURRENT), { result, value: value ?? null }, label);
    assertEquals([...headers.reads], [[field, 1]], label);
  }
});
