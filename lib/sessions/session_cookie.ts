/**
 * The `session_id` cookie as the server writes it (RFC 6265 §4.1).
 *
 * @module
 */

/** The cookie that carries the session id. */
export const SESSION_COOKIE = "session_id";

/**
 * The attributes every `session_id` cookie carries, in the order @std/http's
 * `setCookie` writes them: `Secure` only over TLS (a browser on plain HTTP
 * refuses to store a Secure cookie), `HttpOnly` (no script can read it),
 * `Max-Age` (`0` expires it), `SameSite=Lax` (other sites' forms and scripts
 * cannot send it along) and `Path=/`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { sessionCookieAttributes } from "./session_cookie.ts";
 * assertEquals(
 *   sessionCookieAttributes({ secure: false, maxAgeSeconds: 604800 }),
 *   "HttpOnly; Max-Age=604800; SameSite=Lax; Path=/",
 * );
 * assertEquals(
 *   sessionCookieAttributes({ secure: true, maxAgeSeconds: 0 }),
 *   "Secure; HttpOnly; Max-Age=0; SameSite=Lax; Path=/",
 * );
 * ```
 */
export function sessionCookieAttributes(
  options: { secure: boolean; maxAgeSeconds: number },
): string {
  if (!Number.isSafeInteger(options.maxAgeSeconds) || options.maxAgeSeconds < 0) {
    throw new RangeError(`Max-Age must be a whole number of seconds: ${options.maxAgeSeconds}`);
  }
  const secure = options.secure ? "Secure; " : "";
  return `${secure}HttpOnly; Max-Age=${options.maxAgeSeconds}; SameSite=Lax; Path=/`;
}
