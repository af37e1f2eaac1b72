/**
 * The cookie server in a real Chromium, as the README walks through it: a new
 * visitor gets an HttpOnly, SameSite=Lax `session_id` and nothing is stored;
 * the first reload sends it back and stores the session, and the visit count
 * goes up; the logout button ends the session and the page says what the
 * logout did; clearing the browser's cookies makes a new visitor again. At
 * every step the page shows the request line, the `Cookie` it received and
 * the `Set-Cookie` it answered, with header names kept whole.
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
    assertStringIncludes(await textOf(tab, "#what-happened"), "The server stored nothing.");

    const cookie = await expectSessionCookie(tab, url);
    await expectConversation(tab, { line: "GET /", sentId: undefined, setId: cookie.value });
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
    assertStringIncludes(await textOf(tab, "#what-happened"), "stored your session now");
    await expectConversation(tab, { line: "GET /", sentId: sessionId, setId: sessionId });
    name = page.greeting;
    await shots.take(tab, "welcome-back");
  });

  await step("reload again: same visitor, visit 3", async () => {
    const load = await tab.reload();
    assertEquals(sentSessionId(load.final), sessionId);
    assertEquals(await readPage(tab), { greeting: name, visits: 3 });
    assertEquals((await expectSessionCookie(tab, url)).value, sessionId, "the id is kept");
    assertEquals(await textOf(tab, "#logged-out"), null, "no logout account before a logout");
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
    assertEquals(logout.responseHeaders["location"], "/?logged-out");
    assertMatch(logout.responseHeaders["set-cookie"] ?? "", /^session_id=;.*Max-Age=0/i);
    assertEquals(load.exchanges.length, 2, "the POST and the GET its 303 redirects to");
    const { pathname, search } = new URL(home.url);
    assertEquals([home.method, pathname, search, home.status], ["GET", "/", "?logged-out", 200]);
    assertEquals(sentSessionId(load.final), undefined, "the expired cookie must not be sent");
    assertEquals(await readPage(tab), { greeting: "Welcome, new visitor!", visits: 1 });

    // The page says what the logout did, instead of looking like a first visit.
    const account = await textOf(tab, "#logged-out") ?? "";
    for (
      const said of [
        "You logged out",
        "POST /logout",
        "deleted your session",
        "303 See Other",
        "Set-Cookie: session_id=; Max-Age=0",
        "expired",
        "303 brought your browser back here",
      ]
    ) {
      assertStringIncludes(account, said, "the logout account");
    }
    const cookie = await expectSessionCookie(tab, url);
    assertNotEquals(cookie.value, sessionId, "after logout, a new session");
    await expectConversation(tab, {
      line: "GET /?logged-out",
      sentId: undefined,
      setId: cookie.value,
    });
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

/** The text of the element `selector` selects, whitespace collapsed; `null` if there is none. */
async function textOf(tab: Tab, selector: string): Promise<string | null> {
  return await tab.evaluate(
    `document.querySelector(${
      JSON.stringify(selector)
    })?.textContent.replace(/\\s+/g, " ") ?? null`,
  );
}

/**
 * The page's conversation box shows the request line, the `Cookie` received
 * and the `Set-Cookie` answered, ids shortened to 6 characters (never whole:
 * the cookie is HttpOnly), and no header name broken across lines.
 */
async function expectConversation(
  tab: Tab,
  expected: { line: string; sentId: string | undefined; setId: string },
): Promise<void> {
  const shown = {
    line: await textOf(tab, "#request-line"),
    cookie: await textOf(tab, "#request-cookie"),
    setCookie: await textOf(tab, "#response-set-cookie"),
  };
  assertEquals(shown, {
    line: expected.line,
    cookie: expected.sentId === undefined
      ? "(no session_id cookie)"
      : `Cookie: session_id=${expected.sentId.slice(0, 6)}…`,
    setCookie: `Set-Cookie: session_id=${expected.setId.slice(0, 6)}…; ` +
      "HttpOnly; Max-Age=604800; SameSite=Lax; Path=/",
  }, "the conversation box");
  const html = await tab.evaluate<string>("document.body.innerHTML");
  assert(!html.includes(expected.setId), "the whole id must never be in the page");
  await expectHeaderNamesWhole(tab);
}

/**
 * Every hyphenated word of a code snippet (`Set-Cookie:`, `Max-Age=0`) is in
 * a no-wrap span and renders on one line: browsers break lines after hyphens.
 */
async function expectHeaderNamesWhole(tab: Tab): Promise<void> {
  const words = await tab.evaluate<{ text: string; lines: number; nowrap: boolean }[]>(
    `[...document.querySelectorAll("code .word")].map((word) => ({
      text: word.textContent,
      lines: word.getClientRects().length,
      nowrap: getComputedStyle(word).whiteSpace === "nowrap",
    }))`,
  );
  for (const name of ["Set-Cookie:", "Max-Age=0"]) {
    assert(words.some((word) => word.text.startsWith(name)), `${name} kept whole`);
  }
  for (const word of words) {
    assertEquals([word.lines, word.nowrap], [1, true], `"${word.text}" on one line`);
  }
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
