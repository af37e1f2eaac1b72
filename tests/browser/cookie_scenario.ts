/**
 * The cookie server in a real Chromium, as the README walks through it: a new
 * visitor gets an HttpOnly, SameSite=Lax `session_id`; reloads send it back
 * and the visit count goes up; the logout button ends the session; clearing
 * the browser's cookies makes a new visitor again.
 *
 * @module
 */
import { assert, assertEquals, AssertionError, assertMatch, assertNotEquals } from "@std/assert";
import type { WireExchange } from "./document_load.ts";
import type { RunStep, TestServer } from "./harness.ts";
import type { CdpCookie } from "./protocol.ts";
import type { ScreenshotFolder } from "./screenshots.ts";
import type { Tab } from "./tab.ts";

/** The session cookie's lifetime the server promises: 7 days. */
const SEVEN_DAYS_S = 7 * 24 * 60 * 60;

/**
 * Runs the cookie scenario in `tab` against `server`, one reported step each,
 * saving a screenshot after each.
 *
 * @example
 * ```ts ignore
 * await withCookieServer((server) => cookieScenario(tab, server, shots, stepsOf(t)));
 * ```
 */
export async function cookieScenario(
  tab: Tab,
  server: TestServer,
  shots: ScreenshotFolder,
  step: RunStep,
): Promise<void> {
  const url = `${server.origin}/`;
  let sessionId = "";

  await step("first visit: new visitor, session_id is HttpOnly and SameSite=Lax", async () => {
    const load = await tab.navigate(url);
    assertEquals(load.final.status, 200);
    assertEquals(sentSessionId(load.final), undefined, "a fresh profile has no cookie to send");
    assertMatch(load.final.responseHeaders["set-cookie"] ?? "", /^session_id=[^;]+;/);
    assertEquals(await readPage(tab), { greeting: "Welcome, new visitor!", visits: 1 });

    const cookie = await expectSessionCookie(tab, url);
    assertEquals(
      await tab.evaluate("document.cookie"),
      "",
      "HttpOnly: the page's scripts cannot see the cookie",
    );
    sessionId = cookie.value;
    await shots.take(tab, "new-visitor");
  });

  let name = "";
  await step("reload: the browser sends the cookie back, visit 2", async () => {
    const load = await tab.reload();
    assertEquals(sentSessionId(load.final), sessionId, "the reload must carry the session cookie");
    const page = await readPage(tab);
    assertMatch(page.greeting, /^Welcome back, User\d+!$/);
    assertEquals(page.visits, 2);
    name = page.greeting;
    await shots.take(tab, "welcome-back");
  });

  await step("reload again: same visitor, visit 3", async () => {
    const load = await tab.reload();
    assertEquals(sentSessionId(load.final), sessionId);
    assertEquals(await readPage(tab), { greeting: name, visits: 3 });
    assertEquals((await expectSessionCookie(tab, url)).value, sessionId, "the id is kept");
  });

  await step("log out: POST /logout → 303 → GET /, new visitor", async () => {
    const load = await tab.clickAndLoad("#logout");
    const [logout, home] = load.exchanges;
    assertEquals([logout.method, new URL(logout.url).pathname], ["POST", "/logout"]);
    // The server refuses a logout whose Origin is not its own; a page served with
    // Referrer-Policy: no-referrer makes the browser send `Origin: null` here.
    assertEquals(logout.requestHeaders["origin"], server.origin, "the logout POST's Origin");
    assertEquals(sentSessionId(logout), sessionId, "the logout names its session");
    assertEquals(logout.status, 303, "POST /logout");
    assertEquals(logout.responseHeaders["location"], "/");
    assertMatch(logout.responseHeaders["set-cookie"] ?? "", /^session_id=;.*Max-Age=0/i);
    assertEquals(load.exchanges.length, 2, "the POST and the GET its 303 redirects to");
    assertEquals([home.method, new URL(home.url).pathname, home.status], ["GET", "/", 200]);
    assertEquals(sentSessionId(load.final), undefined, "the expired cookie must not be sent");
    assertEquals(await readPage(tab), { greeting: "Welcome, new visitor!", visits: 1 });

    const cookie = await expectSessionCookie(tab, url);
    assertNotEquals(cookie.value, sessionId, "after logout, a new session");
    sessionId = cookie.value;
    await shots.take(tab, "after-logout");
  });

  await step("clear the browser's cookies, reload: new visitor again", async () => {
    await tab.clearCookies();
    assertEquals(await tab.cookies(url), [], "Network.clearBrowserCookies left cookies");
    const load = await tab.reload();
    assertEquals(sentSessionId(load.final), undefined, "no cookie left to send");
    assertEquals(await readPage(tab), { greeting: "Welcome, new visitor!", visits: 1 });
    assertNotEquals((await expectSessionCookie(tab, url)).value, sessionId);
    await shots.take(tab, "cookies-cleared");
  });
}

/** The `session_id` in the `Cookie` header `exchange`'s request sent, if any. */
function sentSessionId(exchange: WireExchange): string | undefined {
  const header = exchange.requestHeaders["cookie"] ?? "";
  return /(?:^|;\s*)session_id=([^;]*)/.exec(header)?.[1];
}

/** The browser's `session_id` cookie, checked against the attributes the README promises. */
async function expectSessionCookie(tab: Tab, url: string): Promise<CdpCookie> {
  const cookies = await tab.cookies(url);
  const cookie = cookies.find((c) => c.name === "session_id");
  if (!cookie) {
    throw new AssertionError(
      `no session_id among the browser's cookies: ${JSON.stringify(cookies)}`,
    );
  }
  assertEquals(
    {
      httpOnly: cookie.httpOnly,
      sameSite: cookie.sameSite,
      path: cookie.path,
      secure: cookie.secure,
    },
    { httpOnly: true, sameSite: "Lax", path: "/", secure: false },
    "session_id attributes as the browser stored them",
  );
  const secondsLeft = cookie.expires - Date.now() / 1000;
  assert(
    Math.abs(secondsLeft - SEVEN_DAYS_S) < 120,
    `session_id should expire in 7 days (Max-Age=${SEVEN_DAYS_S}), expires in ${secondsLeft} s`,
  );
  return cookie;
}

/** The greeting and the visit number, as the visitor reads them. */
async function readPage(tab: Tab): Promise<{ greeting: string; visits: number }> {
  return await tab.evaluate(`({
    greeting: document.getElementById("greeting").textContent,
    visits: Number(document.querySelector("#visits strong").textContent),
  })`);
}
