import { assertEquals } from "@std/assert";
import {
  type EntityTag,
  parseEntityTag,
  parseEntityTagCondition,
  strongEntityTagFor,
  strongMatch,
  weakMatch,
} from "../lib/caching/entity_tag.ts";

const strong = (opaque: string): EntityTag => ({ weak: false, opaqueTag: `"${opaque}"` });
const weak = (opaque: string): EntityTag => ({ weak: true, opaqueTag: `"${opaque}"` });

Deno.test("parseEntityTagCondition reads If-Match / If-None-Match values", () => {
  const cases: [string, "*" | EntityTag[]][] = [
    ["*", "*"],
    [" * ", "*"],
    ['"a"', [strong("a")]],
    ['W/"a"', [weak("a")]],
    ['"a", W/"b"', [strong("a"), weak("b")]],
    ['"a",W/"b"  ,  "c"', [strong("a"), weak("b"), strong("c")]],
    ['"a,b"', [strong("a,b")]], // a comma inside the quotes is part of the tag
    ['"a", , "b"', [strong("a"), strong("b")]], // empty list elements are ignored
    ['""', [strong("")]],
    ["", []],
    ["a", []], // unquoted: not an entity-tag
    ['w/"a"', []], // the W/ prefix is case-sensitive
    ['"a", b, "c"', [strong("a")]], // a malformed member ends the list
    ['"a" "b"', []],
    ['"a\\"b"', []], // no escaping inside entity-tags
  ];
  for (const [input, expected] of cases) {
    assertEquals(parseEntityTagCondition(input), expected, input);
  }
});

Deno.test("parseEntityTag accepts exactly one tag", () => {
  const cases: [string, EntityTag | undefined][] = [
    ['"v1"', strong("v1")],
    [' W/"v1" ', weak("v1")],
    ['"v1", "v2"', undefined],
    ["*", undefined],
    ["Sun, 06 Nov 1994 08:49:37 GMT", undefined],
  ];
  for (const [input, expected] of cases) assertEquals(parseEntityTag(input), expected, input);
});

Deno.test("strong and weak comparison follow the table in RFC 9110 §8.8.3.2", () => {
  const cases: [EntityTag, EntityTag, boolean, boolean][] = [
    // a, b, strong comparison, weak comparison
    [weak("1"), weak("1"), false, true],
    [weak("1"), weak("2"), false, false],
    [weak("1"), strong("1"), false, true],
    [strong("1"), strong("1"), true, true],
    [strong("1"), strong("2"), false, false],
  ];
  for (const [a, b, isStrongMatch, isWeakMatch] of cases) {
    const label = `${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
    assertEquals(strongMatch(a, b), isStrongMatch, `strong: ${label}`);
    assertEquals(weakMatch(a, b), isWeakMatch, `weak: ${label}`);
  }
});

Deno.test("strongEntityTagFor is the quoted hex SHA-256 of the content", async () => {
  const cases: [string, string][] = [
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  ];
  for (const [content, sha256] of cases) {
    assertEquals(await strongEntityTagFor(new TextEncoder().encode(content)), `"${sha256}"`);
  }
});
