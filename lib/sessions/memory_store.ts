/**
 * A session store in process memory: fast, and gone when the process exits.
 *
 * @module
 */
import {
  DEFAULT_MAX_SESSIONS,
  type NotCreated,
  type Session,
  SESSION_TTL_MS,
  type SessionStore,
  userName,
} from "./session.ts";
import { newSecret } from "./session_id.ts";

/** Options for {@linkcode MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /** Idle time after which a session is forgotten. Default {@linkcode SESSION_TTL_MS}. */
  ttlMs?: number;
  /** Most sessions held (ended ones included); past it, new ones are not stored. Default {@linkcode DEFAULT_MAX_SESSIONS}. */
  maxSessions?: number;
}

/** A session and its neighbours in last-visit order. */
interface Entry {
  session: Session;
  /** Logged out: kept only so that its id is not stored again; `lastSeen` is the logout. */
  ended: boolean;
  /** The entry visited just before this one (toward the oldest); `null` for the oldest. */
  older: Entry | null;
  /** The entry visited just after this one (toward the newest); `null` for the newest. */
  newer: Entry | null;
}

/**
 * Keeps sessions in a `Map` by id, and in a doubly linked list ordered by last
 * visit: every visit moves its session to the newest end, so the oldest is
 * always at the other. Expired sessions are swept from the oldest end on
 * every create, which keeps memory bounded without a timer. When the store is
 * full, a new session is not stored: established ones are never evicted for
 * it, so a flood of new sessions cannot push real users out.
 *
 * Why a list and not the `Map`'s own insertion order (delete and re-set on
 * every visit)? V8 leaves a deleted `Map` entry in its hash bucket until the
 * table is rebuilt, so one session visited over and over (one busy client)
 * grew a chain every lookup walked, and a visit cost more the more sessions
 * were held. Relinking two list nodes costs the same at any size.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { MemorySessionStore } from "./memory_store.ts";
 * const store = new MemorySessionStore({ maxSessions: 1 });
 * assertEquals((await store.create("a".repeat(64), 1000, 2000)) !== "full", true);
 * assertEquals((await store.recordVisit("a".repeat(64), 3000))?.visits, 3);
 * assertEquals(await store.create("b".repeat(64), 1000, 3000), "full");
 * ```
 */
export class MemorySessionStore implements SessionStore {
  /** Always `memory`. */
  readonly description = "memory (lost on restart)";
  #entries = new Map<string, Entry>();
  #oldest: Entry | null = null;
  #newest: Entry | null = null;
  #usersCreated = 0;
  #ttlMs: number;
  #maxSessions: number;
  #secret = newSecret();

  /** Creates an empty store. */
  constructor(options: MemorySessionStoreOptions = {}) {
    this.#ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  }

  /** Number of sessions currently held (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size;
  }

  /** A random secret per process: ids from before a restart are not recognised. */
  secret(): Promise<Uint8Array<ArrayBuffer>> {
    return Promise.resolve(this.#secret);
  }

  /** {@inheritDoc SessionStore.create} */
  create(id: string, firstSeen: number, now: number): Promise<Session | NotCreated> {
    this.#sweep(now);
    if (this.#entries.has(id)) return Promise.resolve("taken");
    if (this.#entries.size >= this.#maxSessions) return Promise.resolve("full");
    const session: Session = {
      id,
      name: userName(++this.#usersCreated),
      visits: 2,
      firstSeen,
      lastSeen: now,
    };
    const entry: Entry = { session, ended: false, older: null, newer: null };
    this.#entries.set(id, entry);
    this.#linkNewest(entry);
    return Promise.resolve({ ...session });
  }

  /** {@inheritDoc SessionStore.recordVisit} */
  recordVisit(id: string, now: number): Promise<Session | undefined> {
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.ended) return Promise.resolve(undefined);
    const { session } = entry;
    if (this.#isExpired(session, now)) {
      this.#remove(entry);
      return Promise.resolve(undefined);
    }
    session.visits++;
    this.#touch(entry, now); // now the most recently seen
    return Promise.resolve({ ...session });
  }

  /** {@inheritDoc SessionStore.delete} */
  delete(id: string, now: number): Promise<void> {
    const entry = this.#entries.get(id);
    if (entry !== undefined) {
      entry.ended = true;
      this.#touch(entry, now);
    }
    return Promise.resolve();
  }

  /** Drops every session. */
  close(): void {
    this.#entries.clear();
    this.#oldest = this.#newest = null;
  }

  #isExpired(session: Session, now: number): boolean {
    return now - session.lastSeen >= this.#ttlMs;
  }

  /** Forgets expired sessions, from the oldest end. */
  #sweep(now: number): void {
    while (this.#oldest !== null && this.#isExpired(this.#oldest.session, now)) {
      this.#remove(this.#oldest);
    }
  }

  /** Marks `entry` seen at `now`, moving it to the newest end. */
  #touch(entry: Entry, now: number): void {
    entry.session.lastSeen = now;
    this.#unlink(entry);
    this.#linkNewest(entry);
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.session.id);
    this.#unlink(entry);
  }

  #linkNewest(entry: Entry): void {
    entry.older = this.#newest;
    entry.newer = null;
    if (this.#newest !== null) this.#newest.newer = entry;
    else this.#oldest = entry;
    this.#newest = entry;
  }

  #unlink(entry: Entry): void {
    if (entry.older !== null) entry.older.newer = entry.newer;
    else this.#oldest = entry.newer;
    if (entry.newer !== null) entry.newer.older = entry.older;
    else this.#newest = entry.older;
    entry.older = entry.newer = null;
  }
}
