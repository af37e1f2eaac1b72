/**
 * The README's "Watch it in DevTools" steps for the caching server, in a real
 * Chromium: first load 200 with validators; reload revalidates (304); edit the
 * file, reload: 200 with a new ETag; reload: 304. After every load, the demo
 * page's own verdict (from the Performance API, read after the load event)
 * must agree with what CDP saw, and its history of this tab's loads must read
 * "200 → 304 → 304 → 200 (ETag changed) → 304" by the end.
 *
 * @module
 */
import {
  assert,
  assertEquals,
  AssertionError,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "@std/assert";
import type { DocumentLoad } from "./document_load.ts";
import type { CachingSite, RunStep } from "./harness.ts";
import type { ScreenshotFolder } from "./screenshots.ts";
import type { Tab } from "./tab.ts";

/** A strong entity tag: quoted, no `W/` (this server's are SHA-256 hex digests). */
const STRONG_ETAG = /^"[0-9a-f]{64}"$/;

/**
 * Runs the caching scenario in `tab` against `site`, one reported step per
 * README step, saving a screenshot after each.
 *
 * @example
 * ```ts ignore
 * await withCachingSite((site) => cachingScenario(tab, site, shots, stepsOf(t)));
 * ```
 */
export async function cachingScenario(
  tab: Tab,
  site: CachingSite,
  shots: ScreenshotFolder,
  step: RunStep,
): Promise<void> {
  const url = `${site.origin}/`;
  let etag = "";
  let lastModified = "";

  await step("first load: 200 with ETag and Last-Modified", async () => {
    const load = await tab.navigate(url);
    const { status, requestHeaders, responseHeaders } = load.final;
    assertEquals(requestHeaders["if-none-match"], undefined, "a fresh profile has nothing cached");
    assertEquals(status, 200, "first load");
    etag = expectStrongEtag(responseHeaders["etag"], "first load");
    lastModified = responseHeaders["last-modified"] ?? "";
    assert(
      !Number.isNaN(Date.parse(lastModified)),
      `Last-Modified: ${lastModified || "(missing)"}`,
    );
    const page = await expectPageAgrees(tab, load, etag, site.protocol, ["200"]);
    // Read before the response had finished, the sizes were 0 on most fresh loads.
    assert(page.bodySize > 0, `encodedBodySize on the first load: ${page.bodySize}`);
    assert(
      page.transferSize > page.bodySize,
      `transferSize ${page.transferSize} must exceed the ${page.bodySize}-byte body on a 200`,
    );
    assertEquals(page.cacheControl, "no-cache", "the page shows the Cache-Control it was sent");
    assertStringIncludes(page.cacheControlMeaning, "ask me before each use");
    // The page's own HEAD request is marked, and the log says what it is (the
    // page showed its answer, so the server has logged it).
    assert(
      site.log.some((line) => /^HEAD \/ 200 .*\[the demo page's own HEAD request/.test(line)),
      site.log.join("\n"),
    );
    await shots.take(tab, "first-load-200");
  });

  await step("reload: the browser sends If-None-Match and gets 304", async () => {
    const load = await tab.reload();
    const { status, requestHeaders, responseHeaders } = load.final;
    assertEquals(requestHeaders["if-none-match"], etag, "reload must revalidate with the ETag");
    assertEquals(requestHeaders["if-modified-since"], lastModified);
    assertEquals(status, 304, "unchanged file on reload");
    assertEquals(responseHeaders["etag"], etag, "a 304 repeats the ETag");
    await expectPageAgrees(tab, load, etag, site.protocol, ["200", "304"]);
    await shots.take(tab, "reload-304");
  });

  await step("reload once more: 304 again", async () => {
    const load = await tab.reload();
    assertEquals(load.final.status, 304, "still unchanged");
    await expectPageAgrees(tab, load, etag, site.protocol, ["200", "304", "304"]);
  });

  await step("edit index.html, reload: 200 with a new ETag", async () => {
    const before = await Deno.readTextFile(site.indexPath);
    const edited = before.replace("</h1>", " (edited)</h1>");
    assertNotEquals(edited, before, "the demo page should have an <h1> to edit");
    // The server watches its root; the reload must start after it has seen the edit.
    const seen = site.nextChange();
    await Deno.writeTextFile(site.indexPath, edited);
    await seen;

    const load = await tab.reload();
    const { status, requestHeaders, responseHeaders } = load.final;
    assertEquals(requestHeaders["if-none-match"], etag, "the browser still holds the old ETag");
    assertEquals(status, 200, "a changed file must be sent again");
    const newEtag = expectStrongEtag(responseHeaders["etag"], "after the edit");
    assertNotEquals(newEtag, etag, "the ETag must change when the bytes do");
    etag = newEtag;
    await expectPageAgrees(tab, load, etag, site.protocol, [
      "200",
      "304",
      "304",
      "200 (ETag changed)",
    ]);
    assertEquals(
      await tab.evaluate("document.querySelector('h1').textContent.endsWith('(edited)')"),
      true,
    );
    await shots.take(tab, "edited-200");
  });

  await step("reload again: 304 for the new ETag", async () => {
    const load = await tab.reload();
    assertEquals(load.final.requestHeaders["if-none-match"], etag);
    assertEquals(load.final.status, 304, "unchanged since the edit");
    await expectPageAgrees(tab, load, etag, site.protocol, [
      "200",
      "304",
      "304",
      "200 (ETag changed)",
      "304",
    ]);
    await shots.take(tab, "reload-after-edit-304");
    await tab.evaluate("document.getElementById('history-summary').scrollIntoView()");
    await shots.take(tab, "history");
  });
}

function expectStrongEtag(value: string | undefined, when: string): string {
  if (value === undefined) throw new AssertionError(`no ETag header on the response (${when})`);
  assertMatch(value, STRONG_ETAG, `ETag (${when})`);
  return value;
}

/** What the demo page shows about its own load. */
interface PageReport {
  /** `#verdict`'s class: `full`, `revalidated` or `cached`. */
  verdict: string;
  /** `#response-status`: the Performance API's `responseStatus`. */
  responseStatus: string;
  /** `#etag`: the server's current ETag, from the page's own HEAD request. */
  etag: string;
  /** `#protocol`: the Performance API's `nextHopProtocol`, then its name. */
  protocol: string;
  /** `#transfer-size`: bytes that crossed the network for this load. */
  transferSize: number;
  /** `#body-size`: the page's encoded body size. */
  bodySize: number;
  /** `#cache-control` and `#cache-control-meaning`: what the server sends, explained. */
  cacheControl: string;
  cacheControlMeaning: string;
  /** `#history-summary`: this tab's loads, e.g. `200 → 304`. */
  history: string;
  /** The last row of `#history`: bytes transferred, as shown. */
  lastHistoryBytes: number;
}

/**
 * The page's verdict must match the wire status CDP saw (`full` for 200,
 * `revalidated` for 304), its `responseStatus` must match the status
 * `Network.responseReceived` reported, and the ETag its HEAD request fetched
 * must be the current one, and its `nextHopProtocol` must be `protocol`. The
 * ETag and protocol fields may be filled after the load event, so this waits
 * (bounded) for them. The page's history must list `history`, its last row
 * with this load's transfer size.
 */
async function expectPageAgrees(
  tab: Tab,
  load: DocumentLoad,
  etag: string,
  protocol: string,
  history: string[],
): Promise<PageReport> {
  const page = await tab.waitForPage<PageReport>(
    "the demo page's verdict, its ETag and its protocol (filled after the page's HEAD request)",
    `(() => {
      const text = (id) => document.getElementById(id).textContent;
      const verdict = document.getElementById("verdict").className;
      // "\\u2013" (an en dash) is the placeholder until the page's script fills a field in.
      const filled = ["etag", "protocol", "history-summary"].every((id) => text(id) !== "\\u2013");
      if (verdict === "" || !filled) return null;
      const rows = document.querySelectorAll("#history tbody tr");
      return {
        verdict,
        responseStatus: text("response-status"),
        etag: text("etag"),
        protocol: text("protocol"),
        transferSize: parseInt(text("transfer-size")),
        bodySize: parseInt(text("body-size")),
        cacheControl: text("cache-control"),
        cacheControlMeaning: text("cache-control-meaning"),
        history: text("history-summary"),
        lastHistoryBytes: Number(rows[rows.length - 1].lastElementChild.textContent),
      };
    })()`,
  );
  const expected = load.final.status === 304 ? "revalidated" : "full";
  assertEquals(page.verdict, expected, `the page's verdict for a ${load.final.status} on the wire`);
  assertEquals(page.responseStatus, String(load.reportedStatus), "the page's responseStatus");
  assertEquals(page.etag, etag, "the ETag the page's HEAD request got");
  assertEquals(page.protocol.split(" ")[0], protocol, "the page's nextHopProtocol");
  assertEquals(page.history, history.join(" → "), "the page's history of this tab's loads");
  assertEquals(page.lastHistoryBytes, page.transferSize, "the history's bytes for this load");
  return page;
}

/**
 * The demo page's claim about `--cache-control max-age=60`, in Chromium:
 * following the page's own link to itself is answered from the cache with no
 * request to the server, while a reload still revalidates (304). The page
 * must show the value and say so.
 *
 * @example
 * ```ts ignore
 * await withCachingSite((site) => maxAgeScenario(tab, site, stepsOf(t)), {
 *   cacheControl: "max-age=60",
 * });
 * ```
 */
export async function maxAgeScenario(tab: Tab, site: CachingSite, step: RunStep): Promise<void> {
  const documentGets = () => site.log.filter((line) => line.startsWith("GET / ")).length;
  await step("first load: 200, and the page explains max-age=60", async () => {
    const load = await tab.navigate(`${site.origin}/`);
    assertEquals(load.final.status, 200);
    const page = await waitForHistory(tab, "200");
    assertEquals(page.cacheControl, "max-age=60");
    assertStringIncludes(page.meaning, "following a link to this page");
    assertStringIncludes(page.meaning, "A reload still asks");
  });

  await step("follow the page's link to itself: from the cache, no request", async () => {
    const before = documentGets();
    const recording = tab.session.record();
    try {
      await tab.evaluate(`document.getElementById("open-again").click()`);
      await recording.waitFor("Page.loadEventFired");
    } finally {
      recording.stop();
    }
    const page = await waitForHistory(tab, "200 → from cache");
    assertEquals(page.verdict, "cached");
    assertEquals(documentGets(), before, `no GET / reached the server:\n${site.log.join("\n")}`);
  });

  await step("reload: Chromium revalidates anyway, 304", async () => {
    const load = await tab.reload();
    assertEquals(load.final.status, 304, "a reload revalidates a fresh page");
    assertEquals((await waitForHistory(tab, "200 → from cache → 304")).verdict, "revalidated");
  });
}

/** Waits until the page's history reads `history`, then returns what the page shows. */
function waitForHistory(
  tab: Tab,
  history: string,
): Promise<{ verdict: string; cacheControl: string; meaning: string }> {
  return tab.waitForPage(
    `the page's history to read ${history}`,
    `(() => {
      const text = (id) => document.getElementById(id)?.textContent;
      if (text("history-summary") !== ${JSON.stringify(history)}) return null;
      return {
        verdict: document.getElementById("verdict").className,
        cacheControl: text("cache-control"),
        meaning: text("cache-control-meaning"),
      };
    })()`,
  );
}
