/**
 * The demo page (`index.html`) asks the server for its own current validators
 * with a `HEAD` request after every load. Without a mark, that request shows
 * in the access log as `HEAD / 200 no validators in request` right after a
 * `GET / 304`, and reads as if the page had been downloaded anyway. The page
 * adds `?demo-page-head` to it, and the log says what it is.
 *
 * @module
 */

/** The query string the demo page puts on its own `HEAD` request. */
const DEMO_PAGE_HEAD_QUERY = "?demo-page-head";

/**
 * The note the access log appends to a `HEAD` request's line when the request
 * is the demo page's own; `""` for any other request.
 *
 * @param url The request URL.
 * @returns The note, starting with a space, or `""`.
 *
 * @example
 * ```ts
 * import { assertEquals, assertStringIncludes } from "jsr:@std/assert@1.0.19";
 * import { demoPageHeadNote } from "./demo_page_head.ts";
 * assertStringIncludes(demoPageHeadNote("http://localhost:8000/?demo-page-head"), "demo page");
 * assertEquals(demoPageHeadNote("http://localhost:8000/"), "");
 * ```
 */
export function demoPageHeadNote(url: string): string {
  return url.endsWith(DEMO_PAGE_HEAD_QUERY)
    ? " [the demo page's own HEAD request for the current validators: headers only, " +
      "the page was not downloaded again]"
    : "";
}
