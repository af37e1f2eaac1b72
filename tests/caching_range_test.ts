import { assertEquals } from "@std/assert";
import {
  contentRange,
  type RangeSelection,
  selectRange,
  unsatisfiedContentRange,
} from "../lib/caching/range.ts";

const partial = (start: number, end: number): RangeSelection => ({ kind: "partial", start, end });

Deno.test("selectRange answers byte ranges against a 10-byte file (RFC 9110 §14.1.2)", () => {
  const cases: [string, RangeSelection | RangeSelection["kind"]][] = [
    ["bytes=0-4", partial(0, 4)],
    ["bytes=5-", partial(5, 9)], // open-ended
    ["bytes=9-9", partial(9, 9)],
    ["bytes=8-20", partial(8, 9)], // last-pos past the end is clamped
    ["bytes=0-99999999999999999999", partial(0, 9)],
    ["bytes=-3", partial(7, 9)], // suffix: the last 3 bytes
    ["bytes=-30", partial(0, 9)], // suffix longer than the file: all of it
    ["BYTES=0-1", partial(0, 1)], // units are case-insensitive
    ["bytes= 0-1 ", partial(0, 1)],
    ["bytes=0-1, 20-30", partial(0, 1)], // only one range is satisfiable
    ["bytes=10-", "unsatisfiable"], // starts at the end
    ["bytes=10-20", "unsatisfiable"],
    ["bytes=-0", "unsatisfiable"], // zero-length suffix
    ["bytes=20-30, 40-", "unsatisfiable"],
    ["bytes=5-2", "unsatisfiable"], // invalid: last before first
    ["bytes=abc", "unsatisfiable"], // invalid syntax
    ["bytes=-", "unsatisfiable"],
    ["bytes=1-2-3", "unsatisfiable"],
    ["bytes=+1-2", "unsatisfiable"],
    ["bytes=", "unsatisfiable"],
    ["bytes=0-1,5-6", "full"], // several ranges: the full 200 instead of multipart
    ["items=0-1", "full"], // unknown unit: ignored
    ["0-1", "full"],
  ];
  for (const [input, expected] of cases) {
    const selection = selectRange(input, 10);
    if (typeof expected === "string") assertEquals(selection.kind, expected, input);
    else assertEquals(selection, expected, input);
  }
});

Deno.test("selectRange drops unsatisfiable members of a set (RFC 9110 §14.1.2, §14.2)", () => {
  // A 100-byte file: 200- and 100-150 are valid but select no byte of it.
  const cases: [string, RangeSelection | RangeSelection["kind"]][] = [
    ["bytes=0-4,200-", partial(0, 4)],
    ["bytes=200-,0-4", partial(0, 4)],
    ["bytes=200-, 0-4, 300-", partial(0, 4)],
    ["bytes=100-,-5", partial(95, 99)],
    ["bytes=100-150,90-", partial(90, 99)],
    ["bytes=-0,3-5", partial(3, 5)], // a zero-length suffix is unsatisfiable, not invalid
    ["bytes=0-4,10-20,200-", "full"], // two satisfiable members remain: full 200
    ["bytes=200-,300-", "unsatisfiable"],
    ["bytes=0-4,200-100", "unsatisfiable"], // an invalid member invalidates the set
    ["bytes=0-4,x-", "unsatisfiable"],
    // Invalid by its digits, though both round to the same double.
    ["bytes=0-4,99999999999999999999-99999999999999999998", "unsatisfiable"],
    ["bytes=0-4,99999999999999999998-99999999999999999999", partial(0, 4)],
    ["bytes=0-4,0200-", partial(0, 4)], // leading zeros
    ["bytes=5-005", partial(5, 5)],
  ];
  for (const [input, expected] of cases) {
    const selection = selectRange(input, 100);
    if (typeof expected === "string") assertEquals(selection.kind, expected, input);
    else assertEquals(selection, expected, input);
  }
});

Deno.test("selectRange ignores Range for an empty file", () => {
  for (const input of ["bytes=0-", "bytes=-5", "bytes=0-0"]) {
    assertEquals(selectRange(input, 0).kind, "full", input);
  }
});

Deno.test("Content-Range values (RFC 9110 §14.4)", () => {
  assertEquals(contentRange(0, 4, 10), "bytes 0-4/10");
  assertEquals(unsatisfiedContentRange(10), "bytes */10");
});
