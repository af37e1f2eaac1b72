/**
 * Conditional requests: RFC 9110 §13.2.2 "Precedence of Preconditions" as one
 * pure function. Given the request method, its header fields and the current
 * validators of the file, it decides between 412, 304, a partial (ranged)
 * response and the full 200 — and says why, in words fit for an access log.
 *
 * @module
 */
import {
  type EntityTag,
  parseEntityTag,
  parseEntityTagCondition,
  strongMatch,
  weakMatch,
} from "./entity_tag.ts";
import { formatHttpDate, parseHttpDate } from "../http_date.ts";

/** The validators of the representation the server would send. */
export interface CurrentValidators {
  /** The strong `ETag`, quoted: `"9f86d0…"`. */
  etag: string;
  /** `Last-Modified` in whole seconds since the Unix epoch (HTTP dates have no finer grain). */
  lastModified: number;
}

/** What to do with the request, and why. */
export type PreconditionDecision =
  /** Respond 412 Precondition Failed. */
  | { outcome: "precondition-failed"; reason: string }
  /** Respond 304 Not Modified: the client's cached copy is current. */
  | { outcome: "not-modified"; reason: string }
  /** Go on to evaluate the `Range` field (206, or 416 when unsatisfiable). */
  | { outcome: "evaluate-range"; reason: string }
  /** Respond 200 with the full representation. */
  | { outcome: "send-full"; reason: string };

/**
 * Evaluates the conditional header fields of a request in the order RFC 9110
 * §13.2.2 prescribes. Each step is written as the RFC states it; a later step
 * only runs when the earlier ones let the request through.
 *
 * @param method The request method; 304 is only possible for GET and HEAD.
 * @param headers The request header fields.
 * @param current The validators of the file as it is now.
 * @returns The decision and a human-readable reason.
 *
 * @example A browser revalidating its cached copy
 * ```ts
 * import { evaluatePreconditions } from "./preconditions.ts";
 * const decision = evaluatePreconditions(
 *   "GET",
 *   new Headers({ "if-none-match": '"v1"' }),
 *   { etag: '"v1"', lastModified: 784111777 },
 * );
 * decision.outcome; // "not-modified"
 * ```
 */
export function evaluatePreconditions(
  method: string,
  headers: Headers,
  current: CurrentValidators,
): PreconditionDecision {
  // Each field is read once, and only when its step is reached: on a server,
  // every read of a request field is a call into the runtime.
  const currentTag: EntityTag = { weak: false, opaqueTag: current.etag };
  const isGetOrHead = method === "GET" || method === "HEAD";

  // Step 1 (§13.1.1): If-Match, strong comparison. False → 412.
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null) {
    if (!conditionMatches(ifMatch, currentTag, strongMatch)) {
      return {
        outcome: "precondition-failed",
        reason: `If-Match ${brief(ifMatch)} does not strongly match ETag ${brief(current.etag)}`,
      };
    }
  } else {
    // Step 2 (§13.1.4): only without If-Match, If-Unmodified-Since. False → 412.
    // An invalid date is ignored, as if the field were absent.
    const ifUnmodifiedSince = headers.get("if-unmodified-since");
    const date = parseDateField(ifUnmodifiedSince);
    if (date !== undefined && current.lastModified > date) {
      return {
        outcome: "precondition-failed",
        reason: `modified at ${formatHttpDate(current.lastModified * 1000)}, ` +
          `after If-Unmodified-Since ${ifUnmodifiedSince}`,
      };
    }
  }

  // Step 3 (§13.1.2): If-None-Match, weak comparison. False → 304 for GET/HEAD, else 412.
  const ifNoneMatch = headers.get("if-none-match");
  // Read in step 4, which only GET and HEAD reach (§13.1.3: ignored for other methods).
  let ifModifiedSince: string | null = null;
  if (ifNoneMatch !== null) {
    if (conditionMatches(ifNoneMatch, currentTag, weakMatch)) {
      return isGetOrHead
        ? { outcome: "not-modified", reason: `If-None-Match matched ${brief(ifNoneMatch)}` }
        : { outcome: "precondition-failed", reason: `If-None-Match matched ${brief(ifNoneMatch)}` };
    }
    // True: the client's copies are all outdated. Skip step 4 and go on to step 5.
  } else if (isGetOrHead) {
    // Step 4 (§13.1.3): only without If-None-Match, If-Modified-Since. False → 304.
    // Ignored when the date is invalid; compared in whole seconds.
    ifModifiedSince = headers.get("if-modified-since");
    const date = parseDateField(ifModifiedSince);
    if (date !== undefined && current.lastModified <= date) {
      return {
        outcome: "not-modified",
        reason: `not modified since If-Modified-Since ${ifModifiedSince}`,
      };
    }
  }

  // Step 5 (§13.1.5): a GET with Range and If-Range gets a partial response only if
  // If-Range still matches. Range is defined for GET alone (§14.2).
  const range = method === "GET" ? headers.get("range") : null;
  if (range !== null) {
    const ifRange = headers.get("if-range");
    if (ifRange === null) return { outcome: "evaluate-range", reason: range };
    if (ifRangeMatches(ifRange, currentTag, current.lastModified)) {
      return { outcome: "evaluate-range", reason: `If-Range matched, ${range}` };
    }
    return {
      outcome: "send-full",
      reason: `If-Range ${brief(ifRange)} does not match; full body instead of ${range}`,
    };
  }

  // Step 6: no precondition stopped the request; say why the client needs the body.
  return {
    outcome: "send-full",
    reason: explainFullResponse(ifNoneMatch, ifModifiedSince, current),
  };
}

/** `*` matches any current representation; a list matches if any member does. */
function conditionMatches(
  fieldValue: string,
  current: EntityTag,
  compare: (a: EntityTag, b: EntityTag) => boolean,
): boolean {
  const condition = parseEntityTagCondition(fieldValue);
  return condition === "*" || condition.some((tag) => compare(tag, current));
}

/**
 * §13.1.5: an entity-tag must strongly match the current ETag; an HTTP-date must
 * exactly equal Last-Modified. Anything else (e.g. garbage) is false.
 */
function ifRangeMatches(fieldValue: string, current: EntityTag, lastModified: number): boolean {
  const tag = parseEntityTag(fieldValue);
  if (tag !== undefined) return strongMatch(tag, current);
  return parseHttpDate(fieldValue) === lastModified;
}

/** A date field's value in seconds; `undefined` when absent or not a valid HTTP-date. */
function parseDateField(value: string | null): number | undefined {
  return value === null ? undefined : parseHttpDate(value);
}

/** Why the client needs the whole body, from the fields steps 3 and 4 read (null: absent or not read). */
function explainFullResponse(
  ifNoneMatch: string | null,
  ifModifiedSince: string | null,
  current: CurrentValidators,
): string {
  if (ifNoneMatch !== null) {
    return `ETag changed: client has ${brief(ifNoneMatch)}, current is ${brief(current.etag)}`;
  }
  if (ifModifiedSince === null) return "no validators in request";
  if (parseHttpDate(ifModifiedSince) === undefined) {
    return `ignored invalid If-Modified-Since ${JSON.stringify(ifModifiedSince)}`;
  }
  return `modified at ${formatHttpDate(current.lastModified * 1000)}, ` +
    `after If-Modified-Since ${ifModifiedSince}`;
}

/** Shortens long field values (64-hex-digit ETags) so an access-log line stays readable. */
function brief(fieldValue: string): string {
  if (fieldValue.length <= 24) return fieldValue;
  return `${fieldValue.slice(0, 13)}…${fieldValue.endsWith('"') ? '"' : ""}`;
}
