/**
 * A session store in Deno KV: sessions survive restarts, and several server
 * processes opening the same store share them. Needs `--unstable-kv`.
 *
 * @module
 */
import { delay } from "jsr:@std/async@1.5.0/delay";
import { GroupCommit } from "./group_commit.ts";
import {
  newSessionId,
  type Session,
  SESSION_TTL_MS,
  type SessionStore,
  userName,
} from "./session.ts";

const SESSIONS = "sessions";
const USER_COUNTER: Deno.KvKey = ["counters", "users"];

/**
 * How often a write is tried when another process changed the same key first
 * or held SQLite's write lock; with the backoff below that is about 2 s at most.
 */
const MAX_COMMIT_ATTEMPTS = 12;
/** First retry waits up to this long; each further retry doubles it (capped at 256 ms). */
const FIRST_BACKOFF_MS = 2;
/**
 * Most sessions created in one commit: each needs a check that its key is new,
 * and Deno KV allows 100 checks per atomic operation (the counter takes one).
 */
const MAX_CREATES_PER_COMMIT = 64;
/** Most sessions one commit of visits touches: `Kv.getMany` reads at most 10 keys. */
const MAX_SESSIONS_PER_COMMIT = 10;
/** Most visits in one commit; several visits to one session cost one write. */
const MAX_VISITS_PER_COMMIT = 256;

/** Options for {@linkcode KvSessionStore}. */
export interface KvSessionStoreOptions {
  /** Idle time after which a session is forgotten. Default {@linkcode SESSION_TTL_MS}. */
  ttlMs?: number;
  /** How to describe this store at start-up; default `Deno KV`. */
  description?: string;
}

/** A visit waiting to be counted. */
interface Visit {
  id: string;
  now: number;
}

/**
 * Sessions as KV entries under `["sessions", id]`, each written with
 * `expireIn` so KV deletes idle ones by itself. KV may delete expired keys
 * late, so reads check `lastSeen` too.
 *
 * Writes are group-committed (see {@linkcode GroupCommit}): visits and new
 * sessions that arrive while a commit is in flight go together in the next
 * one, so under load one commit, the cost that bounds this store, carries
 * many of them. Each is still committed before the server answers, so an
 * acknowledged session or visit is never lost, and each visit gets its own
 * count. Every commit is an atomic compare-and-set on the versionstamps it
 * read, retried with backoff on conflict: two servers counting a visit at
 * once both count.
 *
 * @example
 * ```ts ignore
 * import { KvSessionStore } from "./kv_store.ts";
 * const store = new KvSessionStore(await Deno.openKv(":memory:"));
 * const session = await store.create(Date.now());
 * console.log((await store.recordVisit(session.id, Date.now()))?.visits); // 2
 * store.close();
 * ```
 */
export class KvSessionStore implements SessionStore {
  /** Where the sessions live, for the start-up message. */
  readonly description: string;
  #kv: Deno.Kv;
  #ttlMs: number;
  #creates = new GroupCommit<number, Session>(
    (times) => this.#commitWithRetry(() => this.#tryCreate(times)),
    { maxItems: MAX_CREATES_PER_COMMIT },
  );
  #visits = new GroupCommit<Visit, Session | undefined>(
    (visits) => this.#commitWithRetry(() => this.#tryRecordVisits(visits)),
    { maxItems: MAX_VISITS_PER_COMMIT, maxKeys: MAX_SESSIONS_PER_COMMIT, keyOf: (v) => v.id },
  );

  /** Wraps an open KV database; {@linkcode KvSessionStore.close} closes it. */
  constructor(kv: Deno.Kv, options: KvSessionStoreOptions = {}) {
    this.#kv = kv;
    this.#ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.description = options.description ?? "Deno KV";
  }

  /** {@inheritDoc SessionStore.create} */
  create(now: number): Promise<Session> {
    return this.#creates.submit(now);
  }

  /** {@inheritDoc SessionStore.recordVisit} */
  recordVisit(id: string, now: number): Promise<Session | undefined> {
    return this.#visits.submit({ id, now });
  }

  /** {@inheritDoc SessionStore.delete} */
  async delete(id: string): Promise<void> {
    await this.#kv.delete([SESSIONS, id]);
  }

  /** Closes the KV database. */
  close(): void {
    this.#kv.close();
  }

  /**
   * One attempt at creating a session per time in `times`. The user numbers
   * and the sessions are written in one transaction, so a number is never
   * handed out twice, even by two processes at once. `null`: lost a race.
   */
  async #tryCreate(times: number[]): Promise<Session[] | null> {
    const counter = await this.#kv.get<bigint>(USER_COUNTER);
    const usersBefore = counter.value ?? 0n;
    const sessions = times.map((now, i): Session => ({
      id: newSessionId(),
      name: userName(Number(usersBefore) + 1 + i),
      visits: 1,
      firstSeen: now,
      lastSeen: now,
    }));
    const transaction = this.#kv.atomic()
      .check(counter)
      .set(USER_COUNTER, usersBefore + BigInt(times.length));
    for (const session of sessions) {
      transaction
        .check({ key: [SESSIONS, session.id], versionstamp: null })
        .set([SESSIONS, session.id], session, { expireIn: this.#ttlMs });
    }
    return (await transaction.commit()).ok ? sessions : null;
  }

  /**
   * One attempt at counting `visits`, in order; several to one session add
   * up, each seeing its own count. `undefined` for a visit to an unknown or
   * expired session. `null`: another process changed a session first.
   */
  async #tryRecordVisits(visits: Visit[]): Promise<(Session | undefined)[] | null> {
    const ids = [...new Set(visits.map((visit) => visit.id))];
    const entries = await this.#kv.getMany<Session[]>(ids.map((id) => [SESSIONS, id]));
    const read = new Map(ids.map((id, i) => [id, entries[i]]));
    const updated = new Map<string, Session>();
    const results = visits.map(({ id, now }) => {
      const session = updated.get(id) ?? read.get(id)!.value;
      if (session === null || now - session.lastSeen >= this.#ttlMs) return undefined;
      const visited = { ...session, visits: session.visits + 1, lastSeen: now };
      updated.set(id, visited);
      return visited;
    });
    if (updated.size === 0) return results;
    const transaction = this.#kv.atomic();
    for (const [id, session] of updated) {
      transaction.check(read.get(id)!).set([SESSIONS, id], session, { expireIn: this.#ttlMs });
    }
    return (await transaction.commit()).ok ? results : null;
  }

  /**
   * Runs `attempt` until it commits (returns non-null), waiting a random,
   * doubling backoff after a lost compare-and-set or a busy database.
   */
  async #commitWithRetry<T>(attempt: () => Promise<T | null>): Promise<T> {
    for (let i = 1;; i++) {
      try {
        const result = await attempt();
        if (result !== null) return result;
      } catch (error) {
        // Another process holding SQLite's write lock is a conflict like any other.
        if (!(error instanceof Error && /database is locked/.test(error.message))) throw error;
      }
      if (i === MAX_COMMIT_ATTEMPTS) {
        throw new Error(`session store: gave up after ${MAX_COMMIT_ATTEMPTS} conflicting writes`);
      }
      await delay(Math.random() * FIRST_BACKOFF_MS * 2 ** Math.min(i, 7));
    }
  }
}
