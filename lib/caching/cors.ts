/**
 * Cross-origin resource sharing (the Fetch standard's CORS protocol) for a
 * server of public files, opt-in with `--cors`.
 *
 * Every response carries the same two fields, whoever asks:
 * `Access-Control-Allow-Origin: *` lets a script on any origin read it, and
 * `Access-Control-Expose-Headers` lets that script read the validators and
 * range fields too (by default a cross-origin script sees only the
 * CORS-safelisted response fields). A preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) gets `204` with what a script may send.
 *
 * No field depends on the request's `Origin`, so no response needs
 * `Vary: Origin`: a shared cache may give any origin the response stored for
 * another. Echoing the origin instead of `*` would need that `Vary`, and is
 * only required for credentialed requests, which a server of public files
 * never needs (`*` refuses them: no cookies or HTTP authentication are sent).
 *
 * @module
 */

/**
 * The fields every response carries with CORS on: 200, 206, 304, 412, 416,
 * errors and preflights alike, so a cached response stays readable whichever
 * response last refreshed it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { CORS_RESPONSE_FIELDS } from "./cors.ts";
 * const fields = new Headers(CORS_RESPONSE_FIELDS);
 * assertEquals(fields.get("access-control-allow-origin"), "*");
 * ```
 */
export const CORS_RESPONSE_FIELDS: [string, string][] = [
  ["access-control-allow-origin", "*"],
  // Last-Modified is CORS-safelisted already; it is listed for the reader's sake.
  ["access-control-expose-headers", "ETag, Last-Modified, Content-Range, Accept-Ranges"],
];

/** The methods a file supports: what a preflight allows, and `Allow` lists (with OPTIONS). */
const CORS_METHODS = ["GET", "HEAD"];

/**
 * The request fields a script may send. They are the ones this server acts
 * on; none is CORS-safelisted (`Range` only for a single range), so a script
 * that revalidates or asks for a range first sends a preflight.
 */
const CORS_REQUEST_FIELDS = [
  "If-Match",
  "If-None-Match",
  "If-Modified-Since",
  "If-Unmodified-Since",
  "If-Range",
  "Range",
];

/**
 * How long a browser may reuse a preflight's answer, in seconds: a day.
 * Browsers cap it (Chromium at two hours, Firefox at a day); the answer never
 * changes while the server runs.
 */
const PREFLIGHT_MAX_AGE_SECONDS = 86_400;

/** The answer to an `OPTIONS` request with CORS on. */
export interface OptionsAnswer {
  /** Always `204 No Content`: a preflight needs an ok status and no body. */
  status: 204;
  /** The response's fields, {@linkcode CORS_RESPONSE_FIELDS} included. */
  headers: [string, string][];
  /** For the access log: a preflight or not, and whether the browser will allow it. */
  reason: string;
}

/**
 * Answers an `OPTIONS` request. A CORS preflight (it carries
 * `Access-Control-Request-Method`) gets the methods and request fields a
 * script may use, and how long to remember that; a plain `OPTIONS` gets
 * `Allow` (RFC 9110 §9.3.7). The answer is the same for every path and
 * origin: what the browser does with it is its decision, which the log line
 * predicts.
 *
 * @param requestFields The request's header fields.
 * @returns The status, fields and log reason.
 *
 * @example A preflight for a revalidation from another origin
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { answerOptions } from "./cors.ts";
 * const answer = answerOptions(new Headers({
 *   origin: "https://app.example",
 *   "access-control-request-method": "GET",
 *   "access-control-request-headers": "if-none-match",
 * }));
 * assertEquals(answer.status, 204);
 * assertEquals(new Headers(answer.headers).get("access-control-allow-methods"), "GET, HEAD");
 * assertEquals(answer.reason, "CORS preflight from https://app.example for GET with if-none-match: allowed");
 * ```
 */
export function answerOptions(requestFields: Headers): OptionsAnswer {
  const method = requestFields.get("access-control-request-method");
  if (method === null) {
    return {
      status: 204,
      headers: [...CORS_RESPONSE_FIELDS, ["allow", [...CORS_METHODS, "OPTIONS"].join(", ")]],
      reason: "OPTIONS without Access-Control-Request-Method: not a preflight, Allow sent",
    };
  }
  const origin = requestFields.get("origin") ?? "(no Origin)";
  const requested = requestFields.get("access-control-request-headers") ?? "";
  return {
    status: 204,
    headers: [
      ...CORS_RESPONSE_FIELDS,
      ["access-control-allow-methods", CORS_METHODS.join(", ")],
      ["access-control-allow-headers", CORS_REQUEST_FIELDS.join(", ")],
      ["access-control-max-age", String(PREFLIGHT_MAX_AGE_SECONDS)],
    ],
    reason: `CORS preflight from ${origin} for ${method}` +
      (requested === "" ? "" : ` with ${requested}`) + `: ${verdictOn(method, requested)}`,
  };
}

/** What the browser will conclude from the preflight's answer, for the log. */
function verdictOn(method: string, requestedFields: string): string {
  // Browsers send GET and HEAD upper-case here (the Fetch standard normalizes them).
  if (!CORS_METHODS.includes(method)) {
    return `refused (${method} is not an allowed method)`;
  }
  const allowed = new Set(CORS_REQUEST_FIELDS.map((name) => name.toLowerCase()));
  const refused = requestedFields.split(",").map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "" && !allowed.has(name));
  return refused.length === 0 ? "allowed" : `refused (fields not allowed: ${refused.join(", ")})`;
}
