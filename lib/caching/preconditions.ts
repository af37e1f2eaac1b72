/**
 * Conditional requests: RFC 9110 §13.2.2 "Precedence of Preconditions" as
 * pure functions. Each condition is one small step that reads its field and
 * says whether it holds ({@linkcode checkIfMatch} … {@linkcode checkIfRange},
 * like `checkIfMatch` … `checkIfRange` in Go's net/http); one function,
 * {@linkcode evaluatePreconditions}, runs them in the RFC's order and decides
 * between 412, 304, a partial (ranged) response and the full 200, saying why
 * in words fit for an access log.
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
 * One condition, evaluated (Go's `condResult`): `true` or `false` as RFC 9110
 * §13.1 defines it, or `"none"` when the field is absent or must be ignored
 * (a date that is not a valid HTTP-date).
 */
export type ConditionResult = boolean | "none";

/** What a step found: the condition's result, and the field value it read for it. */
export interface Condition {
  /** The condition's result. */
  result: ConditionResult;
  /** The field value as received; `null` when the field is absent. */
  value: string | null;
}

/** An absent field: shared, so a request without conditions allocates nothing for them. */
const ABSENT: Condition = Object.freeze({ result: "none", value: null });

/**
 * Evaluates the conditional header fields of a request in the order RFC 9110
 * §13.2.2 prescribes. Each step is written as the RFC states it; a later step
 * only runs, and its field is only read, when the earlier ones let the
 * request through. No field is read twice: on a server, every read of a
 * request field is a call into the runtime.
 *
 * @param method The request method; 304 is only possible for GET and HEAD.
 * @param headers The request header fields.
 * @param current The validators of the file as it is now.
 * @returns The decision and a human-readable reason.
 *
 * @example A browser revalidating its cached copy
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { evaluatePreconditions } from "./preconditions.ts";
 * const decision = evaluatePreconditions(
 *   "GET",
 *   new Headers({ "if-none-match": '"v1"' }),
 *   { etag: '"v1"', lastModified: 784111777 },
 * );
 * assertEquals(decision.outcome, "not-modified");
 * ```
 */
export function evaluatePreconditions(
  method: string,
  headers: Headers,
  current: CurrentValidators,
): PreconditionDecision {
  const isGetOrHead = method === "GET" || method === "HEAD";

  // Step 1: If-Match. False → 412.
  const ifMatch = checkIfMatch(headers, current);
  if (ifMatch.result === false) {
    return failed(
      `If-Match ${brief(ifMatch.value!)} does not strongly match ETag ${brief(current.etag)}`,
    );
  }
  // Step 2: only without If-Match, If-Unmodified-Since. False → 412.
  if (ifMatch.result === "none") {
    const ifUnmodifiedSince = checkIfUnmodifiedSince(headers, current);
    if (ifUnmodifiedSince.result === false) {
      return failed(
        `modified at ${formatHttpDate(current.lastModified * 1000)}, ` +
          `after If-Unmodified-Since ${ifUnmodifiedSince.value}`,
      );
    }
  }
  // Step 3: If-None-Match. False → 304 for GET and HEAD, else 412.
  const ifNoneMatch = checkIfNoneMatch(headers, current);
  if (ifNoneMatch.result === false) {
    const reason = `If-None-Match matched ${brief(ifNoneMatch.value!)}`;
    return isGetOrHead ? { outcome: "not-modified", reason } : failed(reason);
  }
  // Step 4: only for GET and HEAD without If-None-Match, If-Modified-Since. False → 304.
  let ifModifiedSince = ABSENT;
  if (ifNoneMatch.result === "none" && isGetOrHead) {
    ifModifiedSince = checkIfModifiedSince(headers, current);
    if (ifModifiedSince.result === false) {
      return {
        outcome: "not-modified",
        reason: `not modified since If-Modified-Since ${ifModifiedSince.value}`,
      };
    }
  }
  // Step 5: a GET with Range gets a partial response unless If-Range is false.
  // Range is defined for GET alone (§14.2).
  const range = method === "GET" ? headers.get("range") : null;
  if (range !== null) return decideRange(range, checkIfRange(headers, current));

  // Step 6: no precondition stopped the request; say why the client needs the body.
  return {
    outcome: "send-full",
    reason: explainFullResponse(ifNoneMatch, ifModifiedSince, current),
  };
}

/**
 * Step 1 (RFC 9110 §13.1.1): `If-Match` holds when `*` or one of its entity
 * tags strongly matches the current `ETag`. A value that is not a list of
 * entity tags matches nothing.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { checkIfMatch } from "./preconditions.ts";
 * const current = { etag: '"v2"', lastModified: 784111777 };
 * const headers = new Headers({ "if-match": '"v1", "v2"' });
 * assertEquals(checkIfMatch(headers, current), { result: true, value: '"v1", "v2"' });
 * assertEquals(checkIfMatch(new Headers(), current).result, "none");
 * ```
 */
export function checkIfMatch(headers: Headers, current: CurrentValidators): Condition {
  const value = headers.get("if-match");
  if (value === null) return ABSENT;
  return { result: conditionMatches(value, current.etag, strongMatch), value };
}

/**
 * Step 2 (RFC 9110 §13.1.4): `If-Unmodified-Since` holds when the file was
 * last modified at or before its date. An invalid date is ignored.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { checkIfUnmodifiedSince } from "./preconditions.ts";
 * const current = { etag: '"v2"', lastModified: 784111778 };
 * const since = "Sun, 06 Nov 1994 08:49:37 GMT"; // a second before
 * const headers = new Headers({ "if-unmodified-since": since });
 * assertEquals(checkIfUnmodifiedSince(headers, current), { result: false, value: since });
 * ```
 */
export function checkIfUnmodifiedSince(headers: Headers, current: CurrentValidators): Condition {
  const value = headers.get("if-unmodified-since");
  if (value === null) return ABSENT;
  const date = parseHttpDate(value);
  return { result: date === undefined ? "none" : current.lastModified <= date, value };
}

/**
 * Step 3 (RFC 9110 §13.1.2): `If-None-Match` holds when neither `*` nor any
 * of its entity tags weakly matches the current `ETag`: false means the
 * client already has this representation.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { checkIfNoneMatch } from "./preconditions.ts";
 * const current = { etag: '"v2"', lastModified: 784111777 };
 * const headers = new Headers({ "if-none-match": 'W/"v2"' });
 * assertEquals(checkIfNoneMatch(headers, current), { result: false, value: 'W/"v2"' });
 * ```
 */
export function checkIfNoneMatch(headers: Headers, current: CurrentValidators): Condition {
  const value = headers.get("if-none-match");
  if (value === null) return ABSENT;
  return { result: !conditionMatches(value, current.etag, weakMatch), value };
}

/**
 * Step 4 (RFC 9110 §13.1.3): `If-Modified-Since` holds when the file was
 * last modified after its date, compared in whole seconds. An invalid date
 * is ignored.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { checkIfModifiedSince } from "./preconditions.ts";
 * const current = { etag: '"v2"', lastModified: 784111777 };
 * const since = "Sun, 06 Nov 1994 08:49:37 GMT"; // the same second
 * const headers = new Headers({ "if-modified-since": since });
 * assertEquals(checkIfModifiedSince(headers, current), { result: false, value: since });
 * const invalid = new Headers({ "if-modified-since": "soon" });
 * assertEquals(checkIfModifiedSince(invalid, current).result, "none");
 * ```
 */
export function checkIfModifiedSince(headers: Headers, current: CurrentValidators): Condition {
  const value = headers.get("if-modified-since");
  if (value === null) return ABSENT;
  const date = parseHttpDate(value);
  return { result: date === undefined ? "none" : current.lastModified > date, value };
}

/**
 * Step 5 (RFC 9110 §13.1.5): `If-Range` holds when its entity tag strongly
 * matches the current `ETag`, or its date exactly equals `Last-Modified`.
 * Anything else, garbage included, is false: the full representation is sent.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { checkIfRange } from "./preconditions.ts";
 * const current = { etag: '"v2"', lastModified: 784111777 };
 * const byDate = new Headers({ "if-range": "Sun, 06 Nov 1994 08:49:37 GMT" });
 * assertEquals(checkIfRange(byDate, current).result, true);
 * assertEquals(checkIfRange(new Headers({ "if-range": '"v1"' }), current).result, false);
 * ```
 */
export function checkIfRange(headers: Headers, current: CurrentValidators): Condition {
  const value = headers.get("if-range");
  if (value === null) return ABSENT;
  const tag = parseEntityTag(value);
  if (tag !== undefined) return { result: strongMatch(tag, strongTag(current.etag)), value };
  return { result: parseHttpDate(value) === current.lastModified, value };
}

/** Step 5's decision: evaluate `range` unless `If-Range` is false. */
function decideRange(range: string, ifRange: Condition): PreconditionDecision {
  if (ifRange.result === "none") return { outcome: "evaluate-range", reason: range };
  if (ifRange.result) return { outcome: "evaluate-range", reason: `If-Range matched, ${range}` };
  return {
    outcome: "send-full",
    reason: `If-Range ${brief(ifRange.value!)} does not match; full body instead of ${range}`,
  };
}

/** `*` matches any current representation; a list matches if any member does. */
function conditionMatches(
  fieldValue: string,
  etag: string,
  compare: (a: EntityTag, b: EntityTag) => boolean,
): boolean {
  const condition = parseEntityTagCondition(fieldValue);
  if (condition === "*") return true;
  const current = strongTag(etag);
  return condition.some((tag) => compare(tag, current));
}

/** The server's own `ETag`, quoted, as an entity tag: always strong. */
function strongTag(etag: string): EntityTag {
  return { weak: false, opaqueTag: etag };
}

function failed(reason: string): PreconditionDecision {
  return { outcome: "precondition-failed", reason };
}

/** Why the client needs the whole body, from what steps 3 and 4 found. */
function explainFullResponse(
  ifNoneMatch: Condition,
  ifModifiedSince: Condition,
  current: CurrentValidators,
): string {
  if (ifNoneMatch.value !== null) {
    return `ETag changed: client has ${brief(ifNoneMatch.value)}, current is ${
      brief(current.etag)
    }`;
  }
  if (ifModifiedSince.value === null) return "no validators in request";
  if (ifModifiedSince.result === "none") {
    return `ignored invalid If-Modified-Since ${JSON.stringify(ifModifiedSince.value)}`;
  }
  return `modified at ${formatHttpDate(current.lastModified * 1000)}, ` +
    `after If-Modified-Since ${ifModifiedSince.value}`;
}

/** Shortens long field values (64-hex-digit ETags) so an access-log line stays readable. */
function brief(fieldValue: string): string {
  if (fieldValue.length <= 24) return fieldValue;
  return `${fieldValue.slice(0, 13)}…${fieldValue.endsWith('"') ? '"' : ""}`;
}
