/**
 * Test support: the strong `ETag` the caching server must send for some
 * content, computed here independently of the server's own code.
 *
 * @module
 */

/** `"<hex SHA-256 of content>"`, what `sha256sum` prints, quoted; a string is hashed as UTF-8. */
export async function sha256Tag(content: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `"${Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("")}"`;
}
