/**
 * Compression as Chromium sees it (`--compress`): the demo page arrives
 * gzipped, with its own strong ETag and `Vary: Accept-Encoding`, and a
 * reload revalidates that tag and gets a 304 that carries `Vary` too.
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import type { CachingSite, RunStep } from "./harness.ts";
import type { Tab } from "./tab.ts";

/**
 * Runs the compression scenario in `tab` against a site served with `compress: true`.
 *
 * @example
 * ```ts ignore
 * await withCachingSite((site) => withTab(executable, (tab) => compressionScenario(tab, site, step)), { compress: true });
 * ```
 */
export async function compressionScenario(
  tab: Tab,
  site: CachingSite,
  step: RunStep,
): Promise<void> {
  const url = `${site.origin}/`;
  let etag = "";

  await step("first load: the page gzipped, its own strong ETag, Vary", async () => {
    const { status, requestHeaders, responseHeaders } = (await tab.navigate(url)).final;
    assertStringIncludes(requestHeaders["accept-encoding"] ?? "", "gzip");
    assertEquals(status, 200);
    assertEquals(responseHeaders["content-encoding"], "gzip");
    assertEquals(responseHeaders["vary"], "accept-encoding");
    assertMatch(responseHeaders["etag"] ?? "", /^"[0-9a-f]{64}"$/, "a strong ETag, not W/");
    etag = responseHeaders["etag"]!;
    // The browser decoded it: the page is the demo page.
    const title = await tab.evaluate<string>("document.title");
    assert(title.length > 0, "the gzipped page rendered");
    assert(
      site.log.some((line) => line.includes("gzip, compressed on the fly")),
      site.log.join("\n"),
    );
  });

  await step("reload: If-None-Match with the gzip tag, 304 with Vary", async () => {
    const { status, requestHeaders, responseHeaders } = (await tab.reload()).final;
    assertEquals(requestHeaders["if-none-match"], etag);
    assertEquals(status, 304);
    assertEquals([responseHeaders["etag"], responseHeaders["vary"]], [etag, "accept-encoding"]);
  });
}
