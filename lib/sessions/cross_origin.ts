/**
 * Is this state-changing request from a page of this server? The check Go
 * 1.25's `http.CrossOriginProtection` makes, as a pure function over the
 * request's fields.
 *
 * The origin compared against is the one the server is reached at: the
 * listener's scheme and the `Host` field. Never the request-target: a client
 * may send `POST http://evil.example/logout` (the absolute form) with the real
 * `Host`, and the target then names whatever origin the forger wants.
 *
 * @module
 */

/** What {@linkcode checkSameOrigin} reads from a request. */
export interface OriginFacts {
  /** The `Host` field, or `null` when there is none (only HTTP/1.0 may omit it). */
  host: string | null;
  /** Whether the request came over TLS (the listener's scheme). */
  secure: boolean;
  /** The `Origin` field, or `null`. */
  origin: string | null;
  /** The `Sec-Fetch-Site` field, or `null`. */
  secFetchSite: string | null;
  /** The `Referer` field, or `null`. */
  referer: string | null;
}

/** The verdict, and the reason for it in words, for the log. */
export interface OriginVerdict {
  /** Whether the request may go on. */
  allowed: boolean;
  /** Why, e.g. `Origin http://evil.example is not http://localhost:8080`. */
  reason: string;
}

/**
 * The origin the server is reached at: the scheme of the connection and the
 * `Host` field, serialized as browsers serialize `Origin` (lower case, default
 * port dropped). `null` when `Host` is missing or is not a bare `host[:port]`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { serverOrigin } from "./cross_origin.ts";
 * assertEquals(serverOrigin("LocalHost:80", false), "http://localhost");
 * assertEquals(serverOrigin("localhost:8443", true), "https://localhost:8443");
 * assertEquals(serverOrigin("user@evil.example", false), null);
 * assertEquals(serverOrigin(null, false), null);
 * ```
 */
export function serverOrigin(host: string | null, secure: boolean): string | null {
  // Without these, what follows `http://` is exactly the authority.
  if (host === null || host === "" || /[/?#@\\]/.test(host)) return null;
  return URL.parse(`${secure ? "https" : "http"}://${host}`)?.origin ?? null;
}

/** The origin of a URL or `Origin` value, as browsers serialize it; `"null"` if opaque or invalid. */
function originOf(value: string): string {
  return URL.parse(value)?.origin ?? "null";
}

/**
 * Decides whether a state-changing request comes from this server's own
 * pages, refusing anything cross-site:
 *
 * 1. `Sec-Fetch-Site` other than `same-origin` or `none` (a typed URL or a
 *    bookmark) is refused: `same-site` and `cross-site` pages are not ours.
 * 2. With `Origin`: it must be the server's own origin ({@linkcode serverOrigin}).
 *    `Origin: null` (a sandboxed or privacy-sensitive context) is refused.
 * 3. Without `Origin`, `Sec-Fetch-Site` (step 1) decides if present, then
 *    `Referer`, whose origin must be the server's own.
 * 4. None of the three: not a browser (curl, a script), or one too old to
 *    send any; allowed, as Go allows it. `SameSite=Lax` keeps the cookie off
 *    cross-site POSTs from modern browsers anyway.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { checkSameOrigin } from "./cross_origin.ts";
 * const request = { host: "localhost:8080", secure: false, secFetchSite: null, referer: null };
 * assertEquals(checkSameOrigin({ ...request, origin: "http://localhost:8080" }).allowed, true);
 * assertEquals(checkSameOrigin({ ...request, origin: "http://evil.example" }).allowed, false);
 * assertEquals(
 *   checkSameOrigin({ ...request, origin: null, referer: "http://evil.example/form" }).allowed,
 *   false,
 * );
 * ```
 */
export function checkSameOrigin(facts: OriginFacts): OriginVerdict {
  const own = serverOrigin(facts.host, facts.secure);
  const site = facts.secFetchSite;
  if (site !== null && site !== "same-origin" && site !== "none") {
    return { allowed: false, reason: `Sec-Fetch-Site: ${site}` };
  }
  if (facts.origin !== null) return compare("Origin", facts.origin, own);
  if (site !== null) return { allowed: true, reason: `Sec-Fetch-Site: ${site}` };
  if (facts.referer !== null) return compare("Referer", facts.referer, own);
  return { allowed: true, reason: "no Origin, Sec-Fetch-Site or Referer: not a browser page" };
}

function compare(field: string, value: string, own: string | null): OriginVerdict {
  if (own === null) {
    return { allowed: false, reason: `${field} ${value}, and no Host to compare it with` };
  }
  return originOf(value) === own
    ? { allowed: true, reason: `${field} is this server's origin` }
    : { allowed: false, reason: `${field} ${value} is not ${own}` };
}
