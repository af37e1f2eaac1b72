/**
 * Reading one cookie out of a `Cookie` request header (RFC 6265 §5.4).
 *
 * @module
 */

/**
 * The value of the cookie `name` in a `Cookie` header value, or `undefined`
 * when it is not there.
 *
 * A browser sends `name=value` pairs separated by `"; "` (RFC 6265 §4.2.1);
 * this also accepts `";"` with any spaces or tabs around pairs. Pairs without
 * `=`, and other apps' odd cookies (on `localhost` every port shares the
 * jar), are skipped rather than failing the request. When the name repeats,
 * the first pair wins: browsers list the cookie with the longest matching
 * path first (RFC 6265 §5.4 step 2). A value in double quotes is returned
 * without them, as the cookie-value grammar allows (RFC 6265 §4.1.1).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { findCookie } from "./cookie_header.ts";
 * assertEquals(findCookie("theme=dark; session_id=abc", "session_id"), "abc");
 * assertEquals(findCookie("session_id=\"abc\"", "session_id"), "abc");
 * assertEquals(findCookie("=junk; theme=dark", "session_id"), undefined);
 * assertEquals(findCookie(null, "session_id"), undefined);
 * ```
 */
export function findCookie(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  let start = 0;
  // The next "=" at or after `start`, searched for again only once `start`
  // has passed it: a header of many pairs without "=" would otherwise be
  // searched to its end once per pair (quadratic in its length).
  let equals = header.indexOf("=");
  while (start < header.length) {
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    if (equals !== -1 && equals < start) equals = header.indexOf("=", start);
    if (equals === -1) return undefined; // no pair from here on has a value
    if (equals < end && header.slice(start, equals).trim() === name) {
      const value = header.slice(equals + 1, end).trim();
      return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
        ? value.slice(1, -1)
        : value;
    }
    start = end + 1;
  }
  return undefined;
}
