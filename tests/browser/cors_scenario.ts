/**
 * CORS as a browser enforces it: a page on one origin fetches a file from a
 * caching server on another, with `cors: true`, and reads what the server
 * exposes; the same fetch from a server without CORS is refused by the
 * browser. The preflight that a revalidation needs is checked in the
 * server's log.
 *
 * @module
 */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import type { CorsSites, RunStep } from "./harness.ts";
import type { Tab } from "./tab.ts";

/** What a script on the page could read of a cross-origin response. */
interface ScriptView {
  status: number;
  etag: string | null;
  contentRange: string | null;
  body: string;
}

/**
 * Runs the CORS scenario in `tab`: the page comes from `sites.page`, the
 * fetches go to `sites.cors` (and once to `sites.noCors`).
 *
 * @example
 * ```ts ignore
 * await withCorsSites((sites) => withTab(executable, (tab) => corsScenario(tab, sites, step)));
 * ```
 */
export async function corsScenario(tab: Tab, sites: CorsSites, step: RunStep): Promise<void> {
  const file = `${sites.cors.origin}/data.txt`;
  let etag = "";
  await tab.navigate(`${sites.page.origin}/`);

  await step("a page on another origin reads the file and its ETag", async () => {
    const view = await fetchFromPage(tab, file, {});
    assertEquals([view.status, view.body], [200, sites.fileContent]);
    assertMatch(view.etag ?? "", /^"[0-9a-f]{64}"$/, "ETag must be exposed to the script");
    etag = view.etag!;
  });

  await step("a revalidation sends a preflight first, then gets 304", async () => {
    const view = await fetchFromPage(tab, file, { "if-none-match": etag });
    assertEquals([view.status, view.etag], [304, etag]);
    const preflight = sites.cors.log.find((line) => line.startsWith("OPTIONS /data.txt 204"));
    assertStringIncludes(
      preflight ?? `(no preflight logged: ${sites.cors.log.join(" | ")})`,
      `CORS preflight from ${sites.page.origin} for GET with if-none-match: allowed`,
    );
  });

  await step("a range request reads Content-Range", async () => {
    const view = await fetchFromPage(tab, file, { range: "bytes=0-3" });
    assertEquals([view.status, view.body], [206, sites.fileContent.slice(0, 4)]);
    assertEquals(view.contentRange, `bytes 0-3/${sites.fileContent.length}`);
  });

  await step("without CORS the browser refuses the same fetch", async () => {
    const outcome = await tab.evaluate<string>(
      `fetch(${JSON.stringify(`${sites.noCors.origin}/data.txt`)})
        .then((response) => "read " + response.status, (error) => error.name)`,
    );
    assertEquals(outcome, "TypeError", "a cross-origin read without Access-Control-Allow-Origin");
  });
}

/** Fetches `url` from the page's script with `headers`, bypassing the HTTP cache. */
function fetchFromPage(
  tab: Tab,
  url: string,
  headers: Record<string, string>,
): Promise<ScriptView> {
  return tab.evaluate<ScriptView>(`(async () => {
    const response = await fetch(${JSON.stringify(url)}, {
      headers: ${JSON.stringify(headers)},
      cache: "no-store",
    });
    return {
      status: response.status,
      etag: response.headers.get("etag"),
      contentRange: response.headers.get("content-range"),
      body: await response.text(),
    };
  })()`);
}
