/**
 * Escaping text for the HTML pages both servers build (the caching server's
 * directory listings, the cookie server's page).
 *
 * @module
 */

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Text safe in HTML element content and in quoted attribute values.
 *
 * @param text Any text, e.g. a file name a client chose.
 * @returns The text with `&`, `<`, `>`, `"` and `'` as character references.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { escapeHtml } from "./html.ts";
 * assertEquals(escapeHtml(`<img src=x onerror="a('&')">`), "&lt;img src=x onerror=&quot;a(&#39;&amp;&#39;)&quot;&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character]);
}
