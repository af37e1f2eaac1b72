/**
 * Session floods from one client address, against both stores:
 *
 * - cookieless requests store nothing: the memory store stays empty, and the
 *   Deno KV file (with its write-ahead log) does not grow past the secret;
 * - ids minted and brought back are stored at the documented rate per client
 *   address, no faster;
 * - through either flood, a user with two visits is still recognised.
 *
 * `FLOOD_SECONDS` (default 1) sets how long each flood lasts,
 * `FLOOD_REQUESTS` (default 5,000) how many cookieless requests the KV size
 * test sends, and `FLOOD_MAX_SESSIONS` (default 1,000) the stores' cap; the
 * README's figures come from `FLOOD_SECONDS=60 FLOOD_REQUESTS=100000
 * FLOOD_MAX_SESSIONS=100000`.
 *
 * @module
 */
import { assert, assertEquals, assertLessOrEqual, assertStringIncludes } from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { serveCookies } from "../cookie_server.ts";
import { createWebCookieApp } from "../lib/sessions/app.ts";
import { NEW_SESSIONS_PER_MINUTE } from "../lib/sessions/creation_rate.ts";
import { KvSessionStore } from "../lib/sessions/kv_store.ts";
import { MemorySessionStore } from "../lib/sessions/memory_store.ts";
import type { SessionStore } from "../lib/sessions/session.ts";
import { RawClient } from "./support/raw_http.ts";

const FLOOD_MS = Number(Deno.env.get("FLOOD_SECONDS") ?? 1) * 1000;
const FLOOD_REQUESTS = Number(Deno.env.get("FLOOD_REQUESTS") ?? 5000);
const MAX_SESSIONS = Number(Deno.env.get("FLOOD_MAX_SESSIONS") ?? 1000);
/** Connections each flood uses at once. */
const CONNECTIONS = 8;
/** Requests pipelined per write in the cookieless flood. */
const PIPELINED = 50;

const encoder = new TextEncoder();
const COOKIELESS = encoder.encode("HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(PIPELINED));

/** The next `count` response heads on a keep-alive connection (HEAD answers have no body). */
async function heads(client: RawClient, count: number): Promise<string[]> {
  const heads: string[] = [];
  while (heads.length < count) heads.push((await client.read({ head: true })).head);
  return heads;
}

/** Runs `loop` on {@linkcode CONNECTIONS} keep-alive connections while `more()`; total requests. */
async function flood(
  port: number,
  more: (sent: number) => boolean,
  loop: (client: RawClient) => Promise<number>,
): Promise<number> {
  let sent = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    const client = await RawClient.open(port);
    try {
      while (more(sent)) {
        const answered = await loop(client); // not `sent += await …`: that reads `sent` first
        sent += answered;
      }
    } finally {
      client.close();
    }
  }));
  return sent;
}

/** Cookieless HEADs, {@linkcode PIPELINED} at a time; every answer must be a 200. */
async function cookieless(client: RawClient): Promise<number> {
  await client.write(COOKIELESS);
  for (const head of await heads(client, PIPELINED)) assert(head.startsWith("HTTP/1.1 200 "), head);
  return PIPELINED;
}

/** One minted id brought straight back: a first visit, and a second with its cookie. */
async function mintAndReturn(client: RawClient): Promise<number> {
  await client.write(encoder.encode("HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const [first] = await heads(client, 1);
  const id = /set-cookie: session_id=([^;]+);/i.exec(first)![1];
  await client.write(
    encoder.encode(`HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: session_id=${id}\r\n\r\n`),
  );
  const [second] = await heads(client, 1);
  assert(second.startsWith("HTTP/1.1 200 "), second);
  return 2;
}

/** A visitor in a browser: `visit()` sends the cookie it was given, like a cookie jar. */
function visitor(port: number) {
  let cookie: string | undefined;
  return async function visit(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      headers: cookie === undefined ? {} : { cookie },
    });
    const body = await response.text();
    cookie = /^session_id=[^;]+/.exec(response.headers.get("set-cookie") ?? "")?.[0];
    return body;
  };
}

/** Serves `store` on port 0 while `use` runs; then stops the server and closes the store. */
async function withServer(
  store: SessionStore,
  use: (port: number, logs: string[]) => Promise<void>,
): Promise<void> {
  const logs: string[] = [];
  const server = serveCookies({ port: 0, store, onListen() {}, log: (line) => logs.push(line) });
  try {
    await use(server.addr.port, logs);
  } finally {
    await server.shutdown();
    store.close();
  }
}

const stores: { name: string; open: (dir: string) => Promise<SessionStore> }[] = [
  {
    name: "memory",
    open: () => Promise.resolve(new MemorySessionStore({ maxSessions: MAX_SESSIONS })),
  },
  {
    name: "KV",
    open: async (dir) =>
      new KvSessionStore(await Deno.openKv(join(dir, "s.kv")), { maxSessions: MAX_SESSIONS }),
  },
];

const kinds = [
  { kind: "cookieless requests", loop: cookieless },
  { kind: "ids minted and brought back", loop: mintAndReturn },
];

for (const { name: storeName, open } of stores) {
  for (const { kind, loop } of kinds) {
    Deno.test(`session flood, ${storeName} store: a two-visit user survives a flood of ${kind}`, async () => {
      const dir = await Deno.makeTempDir({ prefix: "session_flood_" });
      try {
        await withServer(await open(dir), async (port, logs) => {
          const visit = visitor(port);
          assertStringIncludes(await visit(), "Welcome, new visitor!");
          const name = /Welcome back, (User\d+)!/.exec(await visit())?.[1];
          assert(name !== undefined, "the second visit stores the session");

          const started = Date.now();
          const sent = await flood(port, () => Date.now() - started < FLOOD_MS, loop);
          const seconds = (Date.now() - started) / 1000;

          const third = await visit();
          assertStringIncludes(third, `Welcome back, ${name}!`);
          assertStringIncludes(third, "visit number <strong>3</strong>");
          const stored = logs.filter((line) => line.endsWith("; session stored")).length;
          const limited = logs.filter((line) => line.includes("new sessions a minute")).length;
          console.log(
            `${storeName}, ${kind}: ${sent} requests in ${seconds.toFixed(1)} s; ` +
              `${stored} sessions stored (the user's included), ${limited} refused by the rate ` +
              `limit; the two-visit user came back as ${name}, visit 3`,
          );
          // One for the user, then the bucket's burst and what it refilled meanwhile.
          const allowed = 1 + NEW_SESSIONS_PER_MINUTE * (1 + seconds / 60);
          assertLessOrEqual(stored, Math.ceil(allowed));
          if (kind === "ids minted and brought back") assert(limited > 0, "the limit was reached");
        });
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
}

/** Bytes of a KV file and its write-ahead log. */
async function kvBytes(path: string): Promise<number> {
  let total = 0;
  for (const file of [path, `${path}-wal`]) {
    total += await Deno.stat(file).then((info) => info.size, () => 0);
  }
  return total;
}

Deno.test("session flood, KV store: cookieless requests write nothing to the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "session_flood_bytes_" });
  const path = join(dir, "s.kv");
  try {
    await withServer(new KvSessionStore(await Deno.openKv(path)), async (port) => {
      const empty = await kvBytes(path);
      // The first request stores the secret ids are signed with: the one write.
      const first = await fetch(`http://127.0.0.1:${port}/`);
      await first.body?.cancel();
      const withSecret = await kvBytes(path);
      const sent = await flood(port, (n) => n < FLOOD_REQUESTS, cookieless);
      const after = await kvBytes(path);
      console.log(
        `KV file + WAL: ${empty} bytes opened, ${withSecret} with the secret, ${after} after ` +
          `${sent} more cookieless requests (${after - withSecret} bytes written by them)`,
      );
      assertEquals(after, withSecret);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("session flood, KV store: logouts naming ids that were never stored write nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "session_flood_logout_" });
  const path = join(dir, "s.kv");
  try {
    await withServer(new KvSessionStore(await Deno.openKv(path)), async (port) => {
      const first = await fetch(`http://127.0.0.1:${port}/`); // stores the secret
      const minted = /^session_id=([^;]+)/.exec(first.headers.get("set-cookie")!)![1];
      await first.body?.cancel();
      const before = await kvBytes(path);
      for (let i = 0; i < 500; i++) {
        const id = i === 0 ? minted : crypto.getRandomValues(new Uint8Array(48)).toBase64({
          alphabet: "base64url",
        });
        const response = await fetch(`http://127.0.0.1:${port}/logout`, {
          method: "POST",
          headers: { cookie: `session_id=${id}` },
          redirect: "manual",
        });
        await response.body?.cancel();
        assertEquals(response.status, 303);
      }
      assertEquals(await kvBytes(path), before);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("session flood: a client over its rate is answered and told why, then stored later", async () => {
  let time = Date.UTC(2026, 0, 1);
  const logs: string[] = [];
  const store = new MemorySessionStore();
  // The app behind Deno.serve: the same app, with a clock the test moves.
  const app = createWebCookieApp({
    store,
    log: (line) => logs.push(line),
    newSessionsPerMinute: 2,
    now: () => time,
  });
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: listening.resolve }, app);
  try {
    const { port } = await listening.promise;
    const visits = Array.from({ length: 3 }, () => visitor(port));
    for (const visit of visits) await visit();
    assertStringIncludes(await visits[0](), "stored your session now");
    assertStringIncludes(await visits[1](), "stored your session now");
    const refused = await visits[2]();
    assertStringIncludes(refused, "Welcome back!");
    assertStringIncludes(refused, "more than 2 new sessions a minute came from your address");
    assertEquals(store.size, 2);
    assertStringIncludes(logs.at(-1)!, "not stored: more than 2 new sessions a minute");
    time += 30_000; // half a minute: one more token
    assertStringIncludes(await visits[2](), "stored your session now");
    assertEquals(store.size, 3);
  } finally {
    await server.shutdown();
    store.close();
  }
});
