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
 * - an invalid or unsatisfiable range set gets 416 (§14.2, §15.5.17).
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
 * import { selectRange } from "./range.ts";
 * selectRange("bytes=0-99", 1000); // { kind: "partial", start: 0, end: 99 }
 * selectRange("bytes=-100", 1000); // { kind: "partial", start: 900, end: 999 }
 * selectRange("bytes=2000-", 1000).kind; // "unsatisfiable"
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
  for (const member of fieldValue.slice(equals + 1).split(",")) {
    const spec = member.trim();
    if (spec === "") continue; // empty list elements are allowed (§5.6.1)
    const match = BYTE_RANGE_SPEC.exec(spec);
    if (!match || (match[1] === "" && match[2] === "")) {
      return { kind: "unsatisfiable", reason: `invalid range ${JSON.stringify(spec)}` };
    }
    const [, first, last] = match;
    if (first === "") {
      // Suffix range: the last N bytes.
      const suffixLength = Number(last);
      if (suffixLength > 0) {
        satisfiable.push({ start: Math.max(0, length - suffixLength), end: length - 1 });
      }
      continue;
    }
    const start = Number(first);
    const end = last === "" ? length - 1 : Number(last);
    if (end < start) {
      return { kind: "unsatisfiable", reason: `invalid range ${spec}: last byte before first` };
    }
    if (start < length) satisfiable.push({ start, end: Math.min(end, length - 1) });
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
 * Formats `Content-Range` for a 206 (RFC 9110 §14.4): `bytes start-end/length`.
 *
 * @example
 * ```ts
 * import { contentRange } from "./range.ts";
 * contentRange(0, 99, 1000); // "bytes 0-99/1000"
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
 * import { unsatisfiedContentRange } from "./range.ts";
 * const value = unsatisfiedContentRange(1000);
 * value.startsWith("bytes *") && value.endsWith("/1000"); // true
 * ```
 */
export function unsatisfiedContentRange(length: number): string {
  return `bytes */${length}`;
}
