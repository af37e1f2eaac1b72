import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { KvSessionStore } from "../lib/sessions/kv_store.ts";
import { MemorySessionStore } from "../lib/sessions/memory_store.ts";
import {
  isWellFormedSessionId,
  newSessionId,
  type Session,
  type SessionStore,
} from "../lib/sessions/session.ts";

Deno.test("session ids are 256-bit base64url and do not repeat", () => {
  const ids = new Set(Array.from({ length: 10_000 }, newSessionId));
  assertEquals(ids.size, 10_000);
  for (const id of ids) assert(isWellFormedSessionId(id), id);
});

Deno.test("isWellFormedSessionId rejects anything the server would not issue", () => {
  const valid = newSessionId();
  for (
    const bad of [
      "",
      "admin",
      valid + "A",
      valid.slice(1),
      valid.slice(1) + "=",
      valid.slice(1) + "/",
    ]
  ) {
    assertEquals(isWellFormedSessionId(bad), false, bad);
  }
});

const TTL = 60_000;
const T0 = 1_700_000_000_000;

/** Each store implementation must pass the same contract. */
const stores: { name: string; open: () => Promise<SessionStore> }[] = [
  { name: "memory", open: () => Promise.resolve(new MemorySessionStore({ ttlMs: TTL })) },
  {
    name: "kv",
    open: async () => new KvSessionStore(await Deno.openKv(":memory:"), { ttlMs: TTL }),
  },
];

for (const { name, open } of stores) {
  Deno.test(`${name} store: create, visit, expire, delete`, async () => {
    const store = await open();
    try {
      const first = await store.create(T0);
      assertEquals([first.name, first.visits, first.firstSeen, first.lastSeen], [
        "User1",
        1,
        T0,
        T0,
      ]);
      const second = await store.create(T0);
      assertEquals(second.name, "User2");
      assertNotEquals(second.id, first.id);

      const visit = await store.recordVisit(first.id, T0 + 10);
      assertEquals([visit?.visits, visit?.lastSeen, visit?.firstSeen], [2, T0 + 10, T0]);
      assertEquals(await store.recordVisit(newSessionId(), T0), undefined, "unknown id");

      // Expiry slides from the last visit.
      assertEquals((await store.recordVisit(first.id, T0 + 10 + TTL - 1))?.visits, 3);
      assertEquals(await store.recordVisit(second.id, T0 + TTL), undefined, "idle for the TTL");

      await store.delete(first.id);
      assertEquals(await store.recordVisit(first.id, T0 + 20), undefined, "deleted");
      await store.delete(first.id); // deleting twice is harmless
    } finally {
      store.close();
    }
  });

  Deno.test(`${name} store: concurrent visits are all counted`, async () => {
    const store = await open();
    try {
      const session = await store.create(T0);
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.recordVisit(session.id, T0 + i)),
      );
      assertEquals((await store.recordVisit(session.id, T0 + 100))?.visits, 52);
    } finally {
      store.close();
    }
  });
}

Deno.test("memory store: bounded; the least recently seen session is evicted first", async () => {
  const store = new MemorySessionStore({ ttlMs: TTL, maxSessions: 2 });
  const a = await store.create(T0);
  const b = await store.create(T0 + 1);
  await store.recordVisit(a.id, T0 + 2); // a is now more recent than b
  const c = await store.create(T0 + 3);
  assertEquals(store.size, 2);
  assertEquals(await store.recordVisit(b.id, T0 + 4), undefined, "b evicted");
  assertEquals((await store.recordVisit(a.id, T0 + 4))?.visits, 3);
  assertEquals((await store.recordVisit(c.id, T0 + 4))?.visits, 2);
});

Deno.test("memory store: expired sessions are swept when new ones arrive", async () => {
  const store = new MemorySessionStore({ ttlMs: TTL });
  for (let i = 0; i < 1000; i++) await store.create(T0);
  assertEquals(store.size, 1000);
  await store.create(T0 + TTL);
  assertEquals(store.size, 1);
});

Deno.test("kv store: two stores on one database share sessions and never reuse a name", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sessions.kv`;
  const one = new KvSessionStore(await Deno.openKv(path), { ttlMs: TTL });
  const two = new KvSessionStore(await Deno.openKv(path), { ttlMs: TTL });
  try {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).create(T0)),
    );
    const names = new Set(created.map((s) => s.name));
    assertEquals(names.size, 20, [...names].join(","));
    assertEquals((await two.recordVisit(created[1].id, T0 + 1))?.visits, 2);
    assertEquals((await one.recordVisit(created[1].id, T0 + 2))?.visits, 3);
  } finally {
    one.close();
    two.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kv store: a burst of visits and new sessions, each with its own number, all durable", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sessions.kv`;
  const store = new KvSessionStore(await Deno.openKv(path), { ttlMs: TTL });
  let created: Session[] = [];
  try {
    // More than one commit can carry (64 new sessions, 256 visits): several groups.
    created = await Promise.all(Array.from({ length: 150 }, () => store.create(T0)));
    const numbers = created.map((session) => Number(session.name.slice("User".length)));
    assertEquals(numbers.toSorted((a, b) => a - b), Array.from({ length: 150 }, (_, i) => i + 1));

    const target = created[0];
    const visits = await Promise.all(
      Array.from({ length: 300 }, (_, i) => store.recordVisit(target.id, T0 + i)),
    );
    const counts = visits.map((session) => session!.visits).toSorted((a, b) => a - b);
    assertEquals(counts, Array.from({ length: 300 }, (_, i) => i + 2), "each visit its own count");
  } finally {
    store.close();
  }
  // Everything acknowledged above is on disk: a new process sees it.
  const reopened = new KvSessionStore(await Deno.openKv(path), { ttlMs: TTL });
  try {
    assertEquals((await reopened.recordVisit(created[0].id, T0 + 1000))?.visits, 302);
    const later = await Promise.all(
      created.slice(1).map((session) => reopened.recordVisit(session.id, T0 + 1000)),
    );
    assertEquals(later.map((session) => session?.visits), created.slice(1).map(() => 2));
    assertEquals((await reopened.create(T0)).name, "User151");
  } finally {
    reopened.close();
    await Deno.remove(dir, { recursive: true });
  }
});
