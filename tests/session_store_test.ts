import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { KvSessionStore } from "../lib/sessions/kv_store.ts";
import { MemorySessionStore } from "../lib/sessions/memory_store.ts";
import type { NotCreated, Session, SessionStore } from "../lib/sessions/session.ts";
import { isWellFormedSessionId, newSecret, SessionIdSigner } from "../lib/sessions/session_id.ts";

/** A well-formed id; stores do not check MACs (the app does before it creates). */
function randomId(): string {
  return crypto.getRandomValues(new Uint8Array(48)).toBase64({ alphabet: "base64url" });
}

function stored(result: Session | NotCreated): Session {
  if (typeof result === "string") throw new Error(`not stored: ${result}`);
  return result;
}

Deno.test("session ids: 64 base64url characters, unique, recognised only under their secret", async () => {
  const signer = await SessionIdSigner.fromSecret(newSecret());
  const ids = new Set(await Promise.all(Array.from({ length: 2000 }, () => signer.issue(T0))));
  assertEquals(ids.size, 2000);
  for (const id of ids) assert(isWellFormedSessionId(id), id);
  const id = [...ids][0];
  assertEquals(await signer.issuedAt(id), T0);
  const other = await SessionIdSigner.fromSecret(newSecret());
  assertEquals(await other.issuedAt(id), undefined, "another secret");
  // Any change to the random part, the time or the MAC breaks the MAC.
  for (const at of [0, 30, 40, 63]) {
    const flipped = id.slice(0, at) + (id[at] === "A" ? "B" : "A") + id.slice(at + 1);
    assertEquals(await signer.issuedAt(flipped), undefined, `changed at ${at}`);
  }
});

Deno.test("isWellFormedSessionId rejects anything the server would not issue", () => {
  const valid = randomId();
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
const stores: { name: string; open: (maxSessions?: number) => Promise<SessionStore> }[] = [
  {
    name: "memory",
    open: (maxSessions) => Promise.resolve(new MemorySessionStore({ ttlMs: TTL, maxSessions })),
  },
  {
    name: "kv",
    open: async (maxSessions) =>
      new KvSessionStore(await Deno.openKv(":memory:"), { ttlMs: TTL, maxSessions }),
  },
];

for (const { name, open } of stores) {
  Deno.test(`${name} store: create, visit, expire, delete`, async () => {
    const store = await open();
    try {
      const firstId = randomId();
      const first = stored(await store.create(firstId, T0 - 5, T0));
      assertEquals(
        [first.id, first.name, first.visits, first.firstSeen, first.lastSeen],
        [firstId, "User1", 2, T0 - 5, T0],
      );
      const second = stored(await store.create(randomId(), T0, T0));
      assertEquals(second.name, "User2");
      assertNotEquals(second.id, first.id);
      assertEquals(await store.create(firstId, T0, T0 + 1), "taken", "already stored");

      const visit = await store.recordVisit(first.id, T0 + 10);
      assertEquals([visit?.visits, visit?.lastSeen, visit?.firstSeen], [3, T0 + 10, T0 - 5]);
      assertEquals(await store.recordVisit(randomId(), T0), undefined, "unknown id");

      // Expiry slides from the last visit.
      assertEquals((await store.recordVisit(first.id, T0 + 10 + TTL - 1))?.visits, 4);
      assertEquals(await store.recordVisit(second.id, T0 + TTL), undefined, "idle for the TTL");

      await store.delete(first.id, T0 + 20);
      assertEquals(await store.recordVisit(first.id, T0 + 21), undefined, "deleted");
      assertEquals(await store.create(first.id, T0, T0 + 22), "taken", "a logged-out id stays out");
      await store.delete(first.id, T0 + 23); // deleting twice is harmless
    } finally {
      store.close();
    }
  });

  Deno.test(`${name} store: concurrent visits are all counted`, async () => {
    const store = await open();
    try {
      const session = stored(await store.create(randomId(), T0, T0));
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.recordVisit(session.id, T0 + i)),
      );
      assertEquals((await store.recordVisit(session.id, T0 + 100))?.visits, 53);
    } finally {
      store.close();
    }
  });

  Deno.test(`${name} store: when full, established sessions stay and new ones are not stored`, async () => {
    const store = await open(3);
    try {
      const established = [];
      for (let i = 0; i < 3; i++) established.push(stored(await store.create(randomId(), T0, T0)));
      for (let i = 0; i < 5; i++) {
        assertEquals(await store.create(randomId(), T0, T0 + 1 + i), "full");
      }
      for (const session of established) {
        assertEquals((await store.recordVisit(session.id, T0 + 10))?.visits, 3, "kept");
      }
      // Once a time-to-live has passed, there is room again.
      assertEquals(stored(await store.create(randomId(), T0, T0 + 2 * TTL)).visits, 2);
    } finally {
      store.close();
    }
  });

  Deno.test(`${name} store: a secret is made once and kept`, async () => {
    const store = await open();
    try {
      const secret = await store.secret();
      assertEquals(secret.length, 32);
      assertEquals(await store.secret(), secret);
    } finally {
      store.close();
    }
  });
}

Deno.test("memory store: expired sessions are swept when new ones arrive", async () => {
  const store = new MemorySessionStore({ ttlMs: TTL });
  for (let i = 0; i < 1000; i++) await store.create(randomId(), T0, T0);
  assertEquals(store.size, 1000);
  await store.create(randomId(), T0 + TTL, T0 + TTL);
  assertEquals(store.size, 1);
});

Deno.test("kv store: two stores on one database share sessions, the secret, and never reuse a name", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sessions.kv`;
  const one = new KvSessionStore(await Deno.openKv(path), { ttlMs: TTL });
  const two = new KvSessionStore(await Deno.openKv(path), { ttlMs: TTL });
  try {
    const [secretOne, secretTwo] = await Promise.all([one.secret(), two.secret()]);
    assertEquals(secretOne, secretTwo, "both processes sign ids with one secret");
    const created = (await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).create(randomId(), T0, T0)),
    )).map(stored);
    const names = new Set(created.map((s) => s.name));
    assertEquals(names.size, 20, [...names].join(","));
    assertEquals((await two.recordVisit(created[1].id, T0 + 1))?.visits, 3);
    assertEquals((await one.recordVisit(created[1].id, T0 + 2))?.visits, 4);
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
    // More than one commit can carry (10 new sessions, 256 visits): several groups.
    const ids = Array.from({ length: 150 }, randomId);
    const same = ids[7];
    created = (await Promise.all(ids.map((id) => store.create(id, T0, T0)))).map(stored);
    assertEquals(await store.create(same, T0, T0), "taken");
    const numbers = created.map((session) => Number(session.name.slice("User".length)));
    assertEquals(numbers.toSorted((a, b) => a - b), Array.from({ length: 150 }, (_, i) => i + 1));

    const target = created[0];
    const visits = await Promise.all(
      Array.from({ length: 300 }, (_, i) => store.recordVisit(target.id, T0 + i)),
    );
    const counts = visits.map((session) => session!.visits).toSorted((a, b) => a - b);
    assertEquals(counts, Array.from({ length: 300 }, (_, i) => i + 3), "each visit its own count");
  } finally {
    store.close();
  }
  // Everything acknowledged above is on disk: a new process sees it.
  const reopened = new KvSessionStore(await Deno.openKv(path), { ttlMs: TTL });
  try {
    assertEquals((await reopened.recordVisit(created[0].id, T0 + 1000))?.visits, 303);
    const later = await Promise.all(
      created.slice(1).map((session) => reopened.recordVisit(session.id, T0 + 1000)),
    );
    assertEquals(later.map((session) => session?.visits), created.slice(1).map(() => 3));
    assertEquals(stored(await reopened.create(randomId(), T0, T0)).name, "User151");
  } finally {
    reopened.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kv store: two creations of one id in one group store it once", async () => {
  const store = new KvSessionStore(await Deno.openKv(":memory:"), { ttlMs: TTL });
  try {
    const id = randomId();
    const results = await Promise.all([
      store.create(randomId(), T0, T0), // commits alone; the next three share a group
      store.create(id, T0, T0),
      store.create(id, T0, T0),
      store.create(randomId(), T0, T0),
    ]);
    assertEquals(results.map((r) => typeof r === "string" ? r : r.name), [
      "User1",
      "User2",
      "taken",
      "User3",
    ]);
  } finally {
    store.close();
  }
});
