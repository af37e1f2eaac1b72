import { assert, assertEquals } from "@std/assert";
import { findCookie } from "../lib/sessions/cookie_header.ts";

Deno.test("findCookie: the value of a named cookie in a Cookie header", () => {
  const cases: [header: string | null, expected: string | undefined][] = [
    ["session_id=abc", "abc"],
    ["theme=dark; session_id=abc; lang=en", "abc"],
    ["theme=dark;session_id=abc", "abc"], // no space after ";"
    ["  session_id = abc  ", "abc"], // whitespace around name and value
    ["session_id=", ""],
    ['session_id="abc"', "abc"], // DQUOTE-wrapped cookie-value (RFC 6265 §4.1.1)
    ["session_id=first; session_id=second", "first"], // the most specific path comes first
    ["xsession_id=abc", undefined], // a longer name is another cookie
    ["session_idx=abc", undefined],
    ["=junk; novalue; session_id=abc", "abc"], // odd pairs are skipped
    ["session_id", undefined],
    ["a=b=c; session_id=x=y", "x=y"], // "=" inside a value belongs to it
    ["", undefined],
    [null, undefined],
  ];
  for (const [header, expected] of cases) {
    assertEquals(findCookie(header, "session_id"), expected, String(header));
  }
});

Deno.test("findCookie: linear in the header's length, not quadratic", () => {
  // 512 KiB of pairs without "=": searched to the end for "=" once per pair,
  // this took seconds; scanned once, a few milliseconds.
  const header = ";".repeat(512 * 1024) + "session_id=abc";
  const started = performance.now();
  assertEquals(findCookie(header, "session_id"), "abc");
  assertEquals(findCookie(header, "other"), undefined);
  const elapsedMs = performance.now() - started;
  assert(elapsedMs < 500, `findCookie took ${elapsedMs.toFixed(1)} ms`);
});
