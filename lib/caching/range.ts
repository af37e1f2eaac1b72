/**
 * Range requests (RFC 9110 §14): parsing a `Range: bytes=…` field against the
 * length of the file, and formatting the `Content-Range` that answers it.
 *
 * This server sends a 206 for a single byte range only. Several ranges would
 * need a `multipart/byteranges` body; RFC 9110 §14.2 lets a server ignore
 * `Range` instead, so those get the full 200.
 *
 * @module
 */

/** What to send for a `Range` field, given the file's length. */
export type RangeSelection =
  /** 206 with bytes `start`..`end`, both inclusive (RFC 9110 §14.1.2). */
  | { kind: "partial"; start: number; end: number }
  /** 416 Range Not Satisfiable. */
  | { kind: "unsatisfiable"; reason: string }
  /** Ignore the field and send the full 200. */
  | { kind: "full"; reason: string };

/** One member of a range set, judged against the file's length. */
type RangeMember =
  | { kind: "satisfiable"; start: number; end: number }
  /** Valid, but selects no byte of this file: dropped from the set. */
  | { kind: "unsatisfiable" }
  /** Not a byte-range-spec at all: the whole set is invalid. */
  | { kind: "invalid"; reason: string };

/** `first-pos "-" [ last-pos ]` or `"-" suffix-length` (RFC 9110 §14.1.2). */
const BYTE_RANGE_SPEC = /^(\d*)-(\d*)$/;

/**
 * Decides how to answer `Range` for a representation of `length` bytes.
 *
 * Rules, from RFC 9110:
 * - an unknown range unit is ignored (§14.2); units are case-insensitive (§14.1);
 * - `a-b` is invalid when b < a; `a-` runs to the end; `-n` means the last n bytes,
 *   all of them when the file is shorter (§14.1.2);
 * - a range is satisfiable when it starts inside the file, or is a suffix of
 *   non-zero length (§14.1.2); `b` past the end is clamped to the last byte;
 * - a set is satisfiable when any member is (§14.1.2): unsatisfiable members
 *   are dropped; a set with an invalid member, or none satisfiable, gets 416
 *   (§14.2, §15.5.17).
 *
 * Decision where the RFC leaves a choice: an empty file ignores `Range` (a
 * 206 cannot describe zero bytes), as do several satisfiable ranges.
 *
 * @param fieldValue The `Range` field value, e.g. `bytes=0-99`.
 * @param length The length of the selected representation in bytes.
 * @returns The selection to send.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { selectRange } from "./range.ts";
 * assertEquals(selectRange("bytes=0-99", 1000), { kind: "partial", start: 0, end: 99 });
 * assertEquals(selectRange("bytes=-100", 1000), { kind: "partial", start: 900, end: 999 });
 * assertEquals(selectRange("bytes=0-4,2000-", 1000), { kind: "partial", start: 0, end: 4 });
 * assertEquals(selectRange("bytes=2000-", 1000).kind, "unsatisfiable");
 * ```
 */
export function selectRange(fieldValue: string, length: number): RangeSelection {
  const equals = fieldValue.indexOf("=");
  const unit = fieldValue.slice(0, equals).trim().toLowerCase();
  if (equals < 0 || unit !== "bytes") {
    return { kind: "full", reason: `ignored Range with unknown unit: ${fieldValue}` };
  }
  if (length === 0) return { kind: "full", reason: "ignored Range on an empty file" };

  const satisfiable: { start: number; end: number }[] = [];
  for (const element of fieldValue.slice(equals + 1).split(",")) {
    const spec = element.trim();
    if (spec === "") continue; // empty list elements are allowed (§5.6.1)
    const member = judgeByteRangeSpec(spec, length);
    if (member.kind === "invalid") return { kind: "unsatisfiable", reason: member.reason };
    if (member.kind === "satisfiable") satisfiable.push({ start: member.start, end: member.end });
  }

  if (satisfiable.length === 0) {
    return {
      kind: "unsatisfiable",
      reason: `no satisfiable range in ${fieldValue} for a ${length}-byte file`,
    };
  }
  if (satisfiable.length > 1) {
    return { kind: "full", reason: `several ranges (${fieldValue}); sending the whole file` };
  }
  return { kind: "partial", ...satisfiable[0] };
}

/**
 * One byte-range-spec (§14.1.2) against a file of `length` bytes (> 0).
 * Validity is judged on the digits as sent, before any clamping: `200-` is
 * valid on a 100-byte file (just unsatisfiable), and `9…9-9…8` is invalid
 * even where both numbers round to the same double.
 */
function judgeByteRangeSpec(spec: string, length: number): RangeMember {
  const match = BYTE_RANGE_SPEC.exec(spec);
  if (!match || (match[1] === "" && match[2] === "")) {
    return { kind: "invalid", reason: `invalid range ${JSON.stringify(spec)}` };
  }
  const [, first, last] = match;
  if (first === "") {
    // Suffix range: the last N bytes.
    const suffixLength = Number(last);
    if (suffixLength === 0) return { kind: "unsatisfiable" };
    return { kind: "satisfiable", start: Math.max(0, length - suffixLength), end: length - 1 };
  }
  if (last !== "" && compareDecimal(last, first) < 0) {
    return { kind: "invalid", reason: `invalid range ${spec}: last byte before first` };
  }
  const start = Number(first);
  if (start >= length) return { kind: "unsatisfiable" };
  const end = last === "" ? length - 1 : Math.min(Number(last), length - 1);
  return { kind: "satisfiable", start, end };
}

/** Compares two strings of decimal digits by value, exactly, at any length. */
function compareDecimal(a: string, b: string): number {
  const x = a.replace(/^0+/, "");
  const y = b.replace(/^0+/, "");
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Formats `Content-Range` for a 206 (RFC 9110 §14.4): `bytes start-end/length`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { contentRange } from "./range.ts";
 * assertEquals(contentRange(0, 99, 1000), "bytes 0-99/1000");
 * ```
 */
export function contentRange(start: number, end: number, length: number): string {
  return `bytes ${start}-${end}/${length}`;
}

/**
 * Formats `Content-Range` for a 416 (RFC 9110 §14.4): the unit, an asterisk
 * where the range would be, a slash and the real length, telling the client
 * how long the representation really is.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { unsatisfiedContentRange } from "./range.ts";
 * assertEquals(unsatisfiedContentRange(1000).split("/"), ["bytes *", "1000"]);
 * ```
 */
export function unsatisfiedContentRange(length: number): string {
  return `bytes */${length}`;
}
