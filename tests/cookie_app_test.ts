/**
 * The cookie application behind Deno.serve, driven with fetch: the session
 * logic on its own. tests/cookie_server_test.ts runs it behind the hand-written
 * HTTP/1.1 server.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { createWebCookieApp } from "../lib/sessions/app.ts";
import { MemorySessionStore } from "../lib/sessions/memory_store.ts";
import { newSecret, SessionIdSigner } from "../lib/sessions/session_id.ts";

interface App {
  url: string;
  logs: string[];
  close: () => Promise<void>;
}

function startApp(): Promise<App> {
  const logs: string[] = [];
  const store = new MemorySessionStore();
  const handler = createWebCookieApp({ store, log: (line) => logs.push(line) });
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) =>
        resolve({
          url: `http://127.0.0.1:${port}`,
          logs,
          close: async () => {
            await server.shutdown();
            store.close();
          },
        }),
    }, handler);
  });
}

/** Fetches and reads the body, so no response is left open. */
async function get(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { redirect: "manual", ...init });
  return { response, body: await response.text() };
}

function sessionIdOf(response: Response): string {
  const match = response.headers.get("set-cookie")?.match(/^session_id=([^;]*)/);
  if (!match) throw new Error("expected a session_id Set-Cookie");
  return match[1];
}

Deno.test("new visitor → welcome back → logout → new visitor", async () => {
  const app = await startApp();
  try {
    const first = await get(`${app.url}/`);
    assertEquals(first.response.status, 200);
    assertStringIncludes(first.body, "Welcome, new visitor!");
    assertEquals(first.response.headers.get("content-type"), "text/html; charset=utf-8");
    assertEquals(first.response.headers.get("cache-control"), "no-store");
    assertMatch(
      first.response.headers.get("set-cookie")!,
      /^session_id=[A-Za-z0-9_-]{64}; HttpOnly; Max-Age=604800; SameSite=Lax; Path=\/$/,
    );
    const id = sessionIdOf(first.response);
    assert(!first.body.includes(id), "the HttpOnly id must not be printed into the page");
    const text = first.body.replace(/<[^>]*>/g, "");
    assertStringIncludes(text, `curl -v -c jar -b jar ${app.url}/`);

    const cookie = `session_id=${id}`;
    const second = await get(`${app.url}/`, { headers: { cookie } });
    assertStringIncludes(second.body, "Welcome back, User1!");
    assertStringIncludes(second.body, "visit number <strong>2</strong>");
    assertEquals(sessionIdOf(second.response), id, "the same id, with its lifetime renewed");

    const third = await get(`${app.url}/`, { headers: { cookie } });
    assertStringIncludes(third.body, "visit number <strong>3</strong>");

    const logout = await get(`${app.url}/logout`, { method: "POST", headers: { cookie } });
    assertEquals(logout.response.status, 303);
    assertEquals(logout.response.headers.get("location"), "/?logged-out");
    assertMatch(logout.response.headers.get("set-cookie")!, /^session_id=; HttpOnly; Max-Age=0;/);

    const after = await get(`${app.url}/`, { headers: { cookie } });
    assertStringIncludes(after.body, "Welcome, new visitor!");
    assertStringIncludes(after.body, "stored nothing");
    assert(sessionIdOf(after.response) !== id, "a logged-out id is never revived");
    assertEquals(app.logs.length, 5);
  } finally {
    await app.close();
  }
});

Deno.test("ids the server did not issue are never adopted", async () => {
  const app = await startApp();
  try {
    // Well-formed, but signed under another secret: forged.
    const forgedId = await (await SessionIdSigner.fromSecret(newSecret())).issue(Date.now());
    const cases = [forgedId, "attacker-chosen", `${forgedId}; session_id=x`];
    for (const forged of cases) {
      const { response, body } = await get(`${app.url}/`, {
        headers: { cookie: `session_id=${forged}` },
      });
      assertStringIncludes(body, "Welcome, new visitor!");
      assertStringIncludes(body, "will not take back");
      assert(sessionIdOf(response) !== forged);
    }
  } finally {
    await app.close();
  }
});

Deno.test("several cookies, and unparsable Cookie headers, are handled", async () => {
  const app = await startApp();
  try {
    const id = sessionIdOf((await get(`${app.url}/`)).response);
    const among = await get(`${app.url}/`, {
      headers: { cookie: `theme=dark; session_id=${id}; lang=en` },
    });
    assertStringIncludes(among.body, "Welcome back, User1!");

    const broken = await get(`${app.url}/`, { headers: { cookie: "=oops; session_id" } });
    assertEquals(broken.response.status, 200);
    assertStringIncludes(broken.body, "Welcome, new visitor!");
  } finally {
    await app.close();
  }
});

Deno.test("routing: 405 with Allow, 404, HEAD, cross-site logout refused", async () => {
  const app = await startApp();
  try {
    const cases: [string, string, number, string | null][] = [
      ["GET", "/logout", 405, "POST"],
      ["DELETE", "/", 405, "GET, HEAD"],
      ["POST", "/", 405, "GET, HEAD"],
      ["GET", "/nope", 404, null],
      ["GET", "/favicon.ico", 404, null],
    ];
    for (const [method, path, status, allow] of cases) {
      const { response } = await get(`${app.url}${path}`, { method });
      assertEquals(response.status, status, `${method} ${path}`);
      assertEquals(response.headers.get("allow"), allow, `${method} ${path}`);
    }

    const head = await get(`${app.url}/`, { method: "HEAD" });
    assertEquals(head.response.status, 200);
    assertEquals(head.body, "");

    const id = sessionIdOf((await get(`${app.url}/`)).response);
    const forged = await get(`${app.url}/logout`, {
      method: "POST",
      headers: { cookie: `session_id=${id}`, origin: "https://evil.example" },
    });
    assertEquals(forged.response.status, 403);
    const still = await get(`${app.url}/`, { headers: { cookie: `session_id=${id}` } });
    assertStringIncludes(still.body, "Welcome back");
  } finally {
    await app.close();
  }
});
