/**
 * Entity tags (RFC 9110 §8.8.3): making a strong `ETag` from content, parsing
 * the lists clients send in `If-Match` / `If-None-Match`, and the two ways of
 * comparing tags.
 *
 * @module
 */
import { encodeHex } from "jsr:@std/encoding@1.0.11/hex";

/** One parsed entity-tag, e.g. `W/"abc"` is `{ weak: true, opaqueTag: '"abc"' }`. */
export interface EntityTag {
  /** `true` when the tag carried the `W/` prefix (RFC 9110 §8.8.1). */
  weak: boolean;
  /** The quoted part, quotes included: `"abc"`. */
  opaqueTag: string;
}

/**
 * The value of `If-Match` or `If-None-Match`: either `*` ("any current
 * representation") or a list of entity-tags (RFC 9110 §13.1.1, §13.1.2).
 */
export type EntityTagCondition = "*" | EntityTag[];

/**
 * Makes a strong entity-tag from content: the hex SHA-256 digest, quoted.
 * Strong because it changes whenever any byte changes (RFC 9110 §8.8.1).
 * The value equals what `sha256sum FILE` prints, so readers can check it.
 *
 * @param content The exact bytes that will be sent as the body.
 * @returns A quoted strong entity-tag such as `"e3b0c442…"`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { strongEntityTagFor } from "./entity_tag.ts";
 * const etag = await strongEntityTagFor(new Uint8Array());
 * assertEquals(etag, '"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"');
 * ```
 */
export async function strongEntityTagFor(content: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", content);
  return `"${encodeHex(new Uint8Array(digest))}"`;
}

/**
 * One list member: optional `W/`, then a quoted string of etagc characters
 * (RFC 9110 §8.8.3: %x21 / %x23-7E / obs-text, i.e. anything visible but `"`).
 * Commas are legal *inside* the quotes, which is why lists are scanned with
 * this sticky pattern rather than split on ",".
 */
const ENTITY_TAG_MEMBER = /[ \t]*(W\/)?("[\x21\x23-\x7E\x80-\xFF]*")[ \t]*(?:,|$)/y;
/** Empty list elements (`a, , b`) are allowed and ignored (RFC 9110 §5.6.1). */
const EMPTY_MEMBER = /[ \t]*,/y;

/**
 * Parses an `If-Match` or `If-None-Match` field value.
 *
 * A malformed member ends the list: past it we can no longer tell where one
 * tag stops and the next begins. Callers then simply find no match among the
 * tags before it, which is the safe reading of a garbled condition.
 *
 * @param value The field value (several field lines joined with ", " by `Headers`).
 * @returns `"*"` or the list of tags that could be parsed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { parseEntityTagCondition } from "./entity_tag.ts";
 * assertEquals(parseEntityTagCondition("*"), "*");
 * assertEquals(parseEntityTagCondition('"a,b", W/"c"'), [
 *   { weak: false, opaqueTag: '"a,b"' },
 *   { weak: true, opaqueTag: '"c"' },
 * ]);
 * ```
 */
export function parseEntityTagCondition(value: string): EntityTagCondition {
  if (value.trim() === "*") return "*";
  const tags: EntityTag[] = [];
  let position = 0;
  while (position < value.length) {
    EMPTY_MEMBER.lastIndex = position;
    if (EMPTY_MEMBER.test(value)) {
      position = EMPTY_MEMBER.lastIndex;
      continue;
    }
    ENTITY_TAG_MEMBER.lastIndex = position;
    const match = ENTITY_TAG_MEMBER.exec(value);
    if (!match) break;
    tags.push({ weak: match[1] !== undefined, opaqueTag: match[2] });
    position = ENTITY_TAG_MEMBER.lastIndex;
  }
  return tags;
}

/**
 * Parses a single entity-tag such as the value of an `ETag` or `If-Range` field.
 *
 * @param value The field value.
 * @returns The tag, or `undefined` when `value` is not exactly one entity-tag.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { parseEntityTag } from "./entity_tag.ts";
 * assertEquals(parseEntityTag('W/"v1"'), { weak: true, opaqueTag: '"v1"' });
 * assertEquals(parseEntityTag("Sun, 06 Nov 1994 08:49:37 GMT"), undefined);
 * ```
 */
export function parseEntityTag(value: string): EntityTag | undefined {
  const condition = parseEntityTagCondition(value);
  if (condition === "*" || condition.length !== 1) return undefined;
  // Reject trailing garbage after the one tag the scanner accepted.
  const [tag] = condition;
  return value.trim() === (tag.weak ? "W/" : "") + tag.opaqueTag ? tag : undefined;
}

/**
 * Strong comparison (RFC 9110 §8.8.3.2): both tags strong and identical.
 * Used by `If-Match` and `If-Range`, where the client needs byte-identical content.
 *
 * @example
 * ```ts
 * import { assert, assertFalse } from "jsr:@std/assert@1.0.19";
 * import { strongMatch } from "./entity_tag.ts";
 * assert(strongMatch({ weak: false, opaqueTag: '"1"' }, { weak: false, opaqueTag: '"1"' }));
 * assertFalse(strongMatch({ weak: true, opaqueTag: '"1"' }, { weak: true, opaqueTag: '"1"' }));
 * ```
 */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaqueTag === b.opaqueTag;
}

/**
 * Weak comparison (RFC 9110 §8.8.3.2): identical opaque tags, `W/` ignored.
 * Used by `If-None-Match`, where "equivalent for caching" is enough.
 *
 * @example
 * ```ts
 * import { assert, assertFalse } from "jsr:@std/assert@1.0.19";
 * import { weakMatch } from "./entity_tag.ts";
 * assert(weakMatch({ weak: true, opaqueTag: '"1"' }, { weak: false, opaqueTag: '"1"' }));
 * assertFalse(weakMatch({ weak: false, opaqueTag: '"1"' }, { weak: false, opaqueTag: '"2"' }));
 * ```
 */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaqueTag === b.opaqueTag;
}
