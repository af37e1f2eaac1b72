/**
 * The README's browser walk-throughs, automated: both servers watched in a
 * real headless Chromium over the Chrome DevTools Protocol. The driver and
 * the scenarios live in `tests/browser/`.
 *
 * Without a Chromium (set `CHROME_PATH`, or install `chromium`) these tests
 * are reported as ignored, with the reason printed once.
 */
import { cachingScenario, maxAgeScenario } from "./browser/caching_scenario.ts";
import { findChromium } from "./browser/chromium.ts";
import { compressionScenario } from "./browser/compression_scenario.ts";
import { cookieScenario } from "./browser/cookie_scenario.ts";
import { corsScenario } from "./browser/cors_scenario.ts";
import {
  stepsOf,
  trustTestCertificate,
  withCachingSite,
  withCookieServer,
  withCorsSites,
  withTab,
} from "./browser/harness.ts";
import { ScreenshotFolder } from "./browser/screenshots.ts";

const chromium = findChromium();
const executable = "path" in chromium ? chromium.path : undefined;
if ("missing" in chromium) console.log(`browser tests ignored: ${chromium.missing}`);

Deno.test({
  name: "browser: caching demo in Chromium shows 200, 304, 200 after an edit, 304",
  ignore: executable === undefined,
  async fn(t) {
    const shots = await ScreenshotFolder.create("caching");
    try {
      await withCachingSite((site) =>
        withTab(executable!, (tab) => cachingScenario(tab, site, shots, stepsOf(t)))
      );
    } finally {
      console.log(`screenshots: ${shots.path}`);
    }
  },
});

Deno.test({
  name: "browser: caching demo over HTTPS: HTTP/2 carries the same 200, 304, 200, 304",
  ignore: executable === undefined,
  async fn(t) {
    const shots = await ScreenshotFolder.create("caching-https");
    // The test certificate is self-signed; this browser, and only this one, trusts it anyway.
    const trustFlags = await trustTestCertificate();
    try {
      await withCachingSite(
        (site) =>
          withTab(
            executable!,
            (tab) => cachingScenario(tab, site, shots, stepsOf(t)),
            trustFlags,
          ),
        { tls: true },
      );
    } finally {
      console.log(`screenshots: ${shots.path}`);
    }
  },
});

Deno.test({
  name: "browser: with max-age=60 a link to the page is served from the cache, a reload gets 304",
  ignore: executable === undefined,
  async fn(t) {
    await withCachingSite(
      (site) => withTab(executable!, (tab) => maxAgeScenario(tab, site, stepsOf(t))),
      { cacheControl: "max-age=60" },
    );
  },
});

Deno.test({
  name:
    "browser: with --compress the page arrives gzipped, its own ETag and Vary, a reload gets 304",
  ignore: executable === undefined,
  async fn(t) {
    await withCachingSite(
      (site) => withTab(executable!, (tab) => compressionScenario(tab, site, stepsOf(t))),
      { compress: true },
    );
  },
});

Deno.test({
  name: "browser: with --cors a page on another origin reads files, ETag and Content-Range",
  ignore: executable === undefined,
  async fn(t) {
    await withCorsSites((sites) =>
      withTab(executable!, (tab) => corsScenario(tab, sites, stepsOf(t)))
    );
  },
});

Deno.test({
  name: "browser: cookie sessions in Chromium: new visitor, welcome back, logout, cleared cookies",
  ignore: executable === undefined,
  async fn(t) {
    const shots = await ScreenshotFolder.create("cookies");
    try {
      await withCookieServer((server) =>
        withTab(executable!, (tab) => cookieScenario(tab, server, shots, stepsOf(t)))
      );
    } finally {
      console.log(`screenshots: ${shots.path}`);
    }
  },
});
