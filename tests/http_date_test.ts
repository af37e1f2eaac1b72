import { assertEquals } from "@std/assert";
import { currentHttpDate, formatHttpDate, parseHttpDate } from "../lib/http_date.ts";

/** Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110 §5.6.7. */
const RFC_EXAMPLE = 784111777;
const NOW_2026 = Date.UTC(2026, 0, 1);

Deno.test("parseHttpDate accepts the three formats of RFC 9110 §5.6.7 and nothing else", () => {
  const cases: [string, number | undefined][] = [
    ["Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE], // IMF-fixdate
    ["Sunday, 06-Nov-94 08:49:37 GMT", RFC_EXAMPLE], // obsolete RFC 850
    ["Sun Nov  6 08:49:37 1994", RFC_EXAMPLE], // obsolete asctime
    ["Sun Nov 16 08:49:37 1994", RFC_EXAMPLE + 10 * 86400],
    ["  Sun, 06 Nov 1994 08:49:37 GMT ", RFC_EXAMPLE], // surrounding whitespace
    ["Thu, 01 Jan 1970 00:00:00 GMT", 0],
    ["Sun, 06 Nov 1994 08:49:37 UTC", undefined], // only "GMT"
    ["Sun, 6 Nov 1994 08:49:37 GMT", undefined], // day needs two digits
    ["Sun, 06 nov 1994 08:49:37 GMT", undefined], // month names are case-sensitive
    ["Sun, 31 Feb 1994 08:49:37 GMT", undefined], // no such day
    ["Sun, 06 Nov 1994 24:00:00 GMT", undefined],
    ["Sun, 06 Nov 1994 08:60:00 GMT", undefined],
    ["Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", undefined], // a list
    ["1994-11-06T08:49:37Z", undefined],
    ["784111777", undefined],
    ["", undefined],
  ];
  for (const [input, expected] of cases) {
    assertEquals(parseHttpDate(input, NOW_2026), expected, JSON.stringify(input));
  }
});

Deno.test("parseHttpDate places two-digit RFC 850 years at most 50 years ahead", () => {
  const cases: [string, number][] = [
    ["Friday, 01-Jan-27 00:00:00 GMT", 2027],
    ["Thursday, 01-Jan-70 00:00:00 GMT", 2070], // 44 years ahead: still the future
    ["Saturday, 01-Jan-77 00:00:00 GMT", 1977], // 51 years ahead: the past instead
  ];
  for (const [input, year] of cases) {
    const seconds = parseHttpDate(input, NOW_2026);
    assertEquals(new Date((seconds ?? NaN) * 1000).getUTCFullYear(), year, input);
  }
});

Deno.test("formatHttpDate writes IMF-fixdate and drops milliseconds", () => {
  const cases: [number, string][] = [
    [0, "Thu, 01 Jan 1970 00:00:00 GMT"],
    [RFC_EXAMPLE * 1000, "Sun, 06 Nov 1994 08:49:37 GMT"],
    [RFC_EXAMPLE * 1000 + 999, "Sun, 06 Nov 1994 08:49:37 GMT"],
  ];
  for (const [time, expected] of cases) assertEquals(formatHttpDate(time), expected);
  assertEquals(parseHttpDate(formatHttpDate(1_700_000_000_000)), 1_700_000_000);
});

Deno.test("currentHttpDate is IMF-fixdate, formatted once per second", () => {
  assertEquals(currentHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  assertEquals(currentHttpDate(999), "Thu, 01 Jan 1970 00:00:00 GMT");
  assertEquals(currentHttpDate(1_700_000_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
  assertEquals(currentHttpDate(1000), "Thu, 01 Jan 1970 00:00:01 GMT");
});
