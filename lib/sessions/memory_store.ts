/**
 * A session store in process memory: fast, and gone when the process exits.
 *
 * @module
 */
import {
  newSessionId,
  type Session,
  SESSION_TTL_MS,
  type SessionStore,
  userName,
} from "./session.ts";

/** Upper bound on sessions held at once, so a flood of new visitors cannot exhaust memory. */
export const DEFAULT_MAX_SESSIONS = 100_000;

/** Options for {@linkcode MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /** Idle time after which a session is forgotten. Default {@linkcode SESSION_TTL_MS}. */
  ttlMs?: number;
  /** Most sessions held; past it the least recently seen is evicted. Default {@linkcode DEFAULT_MAX_SESSIONS}. */
  maxSessions?: number;
}

/**
 * Keeps sessions in a `Map` ordered by last visit: every visit moves its session
 * to the end, so the oldest entries are always at the front. Expired sessions
 * are swept from the front on every create, which keeps memory bounded without
 * a timer.
 *
 * @example
 * ```ts
 * import { MemorySessionStore } from "./memory_store.ts";
 * const store = new MemorySessionStore();
 * const session = await store.create(Date.now());
 * const again = await store.recordVisit(session.id, Date.now());
 * console.log(again?.visits); // 2
 * ```
 */
export class MemorySessionStore implements SessionStore {
  /** Always `memory`. */
  readonly description = "memory (lost on restart)";
  #sessions = new Map<string, Session>();
  #usersCreated = 0;
  #ttlMs: number;
  #maxSessions: number;

  /** Creates an empty store. */
  constructor(options: MemorySessionStoreOptions = {}) {
    this.#ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  }

  /** Number of sessions currently held (expired ones not yet swept included). */
  get size(): number {
    return this.#sessions.size;
  }

  /** {@inheritDoc SessionStore.create} */
  create(now: number): Promise<Session> {
    this.#evict(now);
    const session: Session = {
      id: newSessionId(),
      name: userName(++this.#usersCreated),
      visits: 1,
      firstSeen: now,
      lastSeen: now,
    };
    this.#sessions.set(session.id, session);
    return Promise.resolve({ ...session });
  }

  /** {@inheritDoc SessionStore.recordVisit} */
  recordVisit(id: string, now: number): Promise<Session | undefined> {
    const session = this.#sessions.get(id);
    if (session === undefined) return Promise.resolve(undefined);
    this.#sessions.delete(id);
    if (this.#isExpired(session, now)) return Promise.resolve(undefined);
    session.visits++;
    session.lastSeen = now;
    this.#sessions.set(id, session); // re-insert: now the most recently seen
    return Promise.resolve({ ...session });
  }

  /** {@inheritDoc SessionStore.delete} */
  delete(id: string): Promise<void> {
    this.#sessions.delete(id);
    return Promise.resolve();
  }

  /** Drops every session. */
  close(): void {
    this.#sessions.clear();
  }

  #isExpired(session: Session, now: number): boolean {
    return now - session.lastSeen >= this.#ttlMs;
  }

  /** Sweeps expired sessions from the front, then makes room for one more. */
  #evict(now: number): void {
    for (const session of this.#sessions.values()) {
      if (!this.#isExpired(session, now) && this.#sessions.size < this.#maxSessions) break;
      this.#sessions.delete(session.id);
    }
  }
}
