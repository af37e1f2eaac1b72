/**
 * HTTP dates (RFC 9110 §5.6.7): the format servers send in `Date` and
 * `Last-Modified`, and the three formats recipients must accept in
 * `If-Modified-Since`, `If-Unmodified-Since` and `If-Range`.
 *
 * HTTP dates have one-second granularity, so the parser works in whole
 * seconds since the Unix epoch, where comparisons happen.
 *
 * Both servers use this module: the caching server for `Last-Modified` and
 * the conditional fields, the hand-written HTTP/1.1 server for `Date`.
 *
 * @module
 */

/**
 * Formats a time as an IMF-fixdate, the only format a sender may generate
 * (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
 *
 * @param time A `Date` or milliseconds since the Unix epoch; milliseconds are dropped.
 * @returns The IMF-fixdate string.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { formatHttpDate } from "./http_date.ts";
 * assertEquals(formatHttpDate(Date.UTC(1994, 10, 6, 8, 49, 37)), "Sun, 06 Nov 1994 08:49:37 GMT");
 * ```
 */
export function formatHttpDate(time: Date | number): string {
  // ECMAScript defines toUTCString() to produce exactly the IMF-fixdate layout.
  return new Date(time).toUTCString();
}

let cachedSecond = -1;
let cachedDate = "";

/**
 * The IMF-fixdate for `now`, cached per second: every response carries a
 * `Date` (RFC 9110 §6.6.1), and it only changes once a second.
 *
 * @param now Milliseconds since the Unix epoch; default the current time.
 * @returns The IMF-fixdate string for that second.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { currentHttpDate } from "./http_date.ts";
 * assertEquals(currentHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
 * ```
 */
export function currentHttpDate(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedDate = formatHttpDate(second * 1000);
    cachedSecond = second;
  }
  return cachedDate;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;
/** `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete, RFC 850) */
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d\d)-([A-Z][a-z]{2})-(\d\d) (\d\d):(\d\d):(\d\d) GMT$/;
/** `Sun Nov  6 08:49:37 1994` (obsolete, C's asctime()) */
const ASCTIME_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})$/;

/**
 * Parses an HTTP-date in any of the three formats RFC 9110 §5.6.7 requires
 * recipients to accept. Anything else (including a list of dates, or a
 * calendar-impossible date such as 31 Feb) yields `undefined`, which callers
 * treat as "no valid date": RFC 9110 §13.1.3 and §13.1.4 say to ignore such
 * `If-Modified-Since` / `If-Unmodified-Since` fields.
 *
 * @param value The field value, e.g. from `If-Modified-Since`.
 * @param nowMs The current time, used only to place two-digit RFC 850 years.
 * @returns Whole seconds since the Unix epoch, or `undefined` when invalid.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { parseHttpDate } from "./http_date.ts";
 * assertEquals(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
 * assertEquals(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
 * assertEquals(parseHttpDate("Sun Nov  6 08:49:37 1994"), 784111777);
 * assertEquals(parseHttpDate("yesterday"), undefined);
 * ```
 */
export function parseHttpDate(value: string, nowMs: number = Date.now()): number | undefined {
  const trimmed = value.trim();
  let match = IMF_FIXDATE.exec(trimmed);
  if (match) {
    const [, day, month, year, hour, minute, second] = match;
    return toEpochSeconds(year, month, day, hour, minute, second);
  }
  match = RFC850_DATE.exec(trimmed);
  if (match) {
    const [, day, month, twoDigitYear, hour, minute, second] = match;
    return toEpochSeconds(
      String(expandTwoDigitYear(Number(twoDigitYear), nowMs)),
      month,
      day,
      hour,
      minute,
      second,
    );
  }
  match = ASCTIME_DATE.exec(trimmed);
  if (match) {
    const [, month, day, hour, minute, second, year] = match;
    return toEpochSeconds(year, month, day.trim(), hour, minute, second);
  }
  return undefined;
}

/**
 * RFC 9110 §5.6.7: a two-digit year that "appears to be more than 50 years in
 * the future" means the most recent past year with those last two digits.
 */
function expandTwoDigitYear(twoDigitYear: number, nowMs: number): number {
  const currentYear = new Date(nowMs).getUTCFullYear();
  let year = currentYear - (currentYear % 100) + twoDigitYear;
  if (year > currentYear + 50) year -= 100;
  return year;
}

function toEpochSeconds(
  year: string,
  monthName: string,
  day: string,
  hour: string,
  minute: string,
  second: string,
): number | undefined {
  const month = MONTHS.indexOf(monthName);
  const [y, d, h, m, s] = [year, day, hour, minute, second].map(Number);
  // 60 is allowed for a leap second (RFC 9110 §5.6.7); Date.UTC rolls it over.
  if (month < 0 || d < 1 || h > 23 || m > 59 || s > 60) return undefined;
  const ms = Date.UTC(y, month, d, h, m, s);
  // Date.UTC silently rolls 31 Feb into March; a real date keeps its day of month.
  if (new Date(Date.UTC(y, month, d)).getUTCDate() !== d) return undefined;
  return ms / 1000;
}
