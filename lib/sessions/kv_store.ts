/**
 * A session store in Deno KV: sessions survive restarts, and several server
 * processes opening the same store share them. Needs `--unstable-kv`.
 *
 * @module
 */
import { delay } from "jsr:@std/async@1.5.0/delay";
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

/** Options for {@linkcode KvSessionStore}. */
export interface KvSessionStoreOptions {
  /** Idle time after which a session is forgotten. Default {@linkcode SESSION_TTL_MS}. */
  ttlMs?: number;
  /** How to describe this store at start-up; default `Deno KV`. */
  description?: string;
}

/**
 * Sessions as KV entries under `["sessions", id]`, each written with
 * `expireIn` so KV deletes idle ones by itself. KV may delete expired keys
 * late, so reads check `lastSeen` too.
 *
 * Every update is an atomic compare-and-set on the entry's versionstamp,
 * retried with backoff on conflict: two servers counting a visit at once both
 * count. Within one process, updates to the same key are queued rather than
 * left to collide. A write is committed before the server answers, so an
 * acknowledged session or visit is never lost.
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
  /** Per key, the promise of the last queued update; see {@linkcode KvSessionStore.#queued}. */
  #queueTails = new Map<string, Promise<unknown>>();

  /** Wraps an open KV database; {@linkcode KvSessionStore.close} closes it. */
  constructor(kv: Deno.Kv, options: KvSessionStoreOptions = {}) {
    this.#kv = kv;
    this.#ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.description = options.description ?? "Deno KV";
  }

  /** {@inheritDoc SessionStore.create} */
  async create(now: number): Promise<Session> {
    const id = newSessionId();
    // The user number and the session are written in one transaction, so a
    // number is never handed out twice, even by two processes at once.
    return await this.#queued("counter", () =>
      this.#commitWithRetry(async () => {
        const counter = await this.#kv.get<bigint>(USER_COUNTER);
        const number = (counter.value ?? 0n) + 1n;
        const session: Session = {
          id,
          name: userName(Number(number)),
          visits: 1,
          firstSeen: now,
          lastSeen: now,
        };
        const result = await this.#kv.atomic()
          .check(counter)
          .check({ key: [SESSIONS, id], versionstamp: null })
          .set(USER_COUNTER, number)
          .set([SESSIONS, id], session, { expireIn: this.#ttlMs })
          .commit();
        return result.ok ? session : null;
      }));
  }

  /** {@inheritDoc SessionStore.recordVisit} */
  async recordVisit(id: string, now: number): Promise<Session | undefined> {
    return await this.#queued(id, () =>
      this.#commitWithRetry(async () => {
        const entry = await this.#kv.get<Session>([SESSIONS, id]);
        if (entry.value === null || now - entry.value.lastSeen >= this.#ttlMs) return undefined;
        const session = { ...entry.value, visits: entry.value.visits + 1, lastSeen: now };
        const result = await this.#kv.atomic()
          .check(entry)
          .set([SESSIONS, id], session, { expireIn: this.#ttlMs })
          .commit();
        return result.ok ? session : null;
      }));
  }

  /** {@inheritDoc SessionStore.delete} */
  async delete(id: string): Promise<void> {
    await this.#kv.delete([SESSIONS, id]);
  }

  /** Closes the KV database. */
  close(): void {
    this.#kv.close();
  }

  /** Runs `task` once every update queued before it for the same key has settled. */
  #queued<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (this.#queueTails.get(key) ?? Promise.resolve()).then(task);
    const tail = run.catch(() => {});
    this.#queueTails.set(key, tail);
    tail.then(() => {
      if (this.#queueTails.get(key) === tail) this.#queueTails.delete(key);
    });
    return run;
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
