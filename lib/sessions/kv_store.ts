/**
 * A session store in Deno KV: sessions survive restarts, and several server
 * processes opening the same store share them. Needs `--unstable-kv`.
 *
 * @module
 */
import { delay } from "jsr:@std/async@1.5.0/delay";
import { GroupCommit } from "./group_commit.ts";
import {
  DEFAULT_MAX_SESSIONS,
  type NotCreated,
  type Session,
  SESSION_TTL_MS,
  type SessionStore,
  userName,
} from "./session.ts";
import { newSecret } from "./session_id.ts";

const SESSIONS = "sessions";
const USER_COUNTER: Deno.KvKey = ["counters", "users"];
/** Sessions created per period: `["counters", "created", period]`. */
const CREATED = ["counters", "created"] as const;
const SECRET: Deno.KvKey = ["config", "session-id-secret"];
/**
 * The time-to-live is counted in this many periods (plus the current one),
 * so the sessions created within it are 9 counters: one `getMany`.
 */
const PERIODS_PER_TTL = 8;

/**
 * How often a write is tried when another process changed the same key first
 * or held SQLite's write lock; with the backoff below that is about 2 s at most.
 */
const MAX_COMMIT_ATTEMPTS = 12;
/** First retry waits up to this long; each further retry doubles it (capped at 256 ms). */
const FIRST_BACKOFF_MS = 2;
/**
 * Most sessions created in one commit: whether their keys are free is read
 * with one `Kv.getMany`, which reads at most 10 keys. Creations are rare
 * (a visitor's second visit, rate-limited per client), so this is plenty.
 */
const MAX_CREATES_PER_COMMIT = 10;
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
  /**
   * Most sessions created within one time-to-live; past it, new ones are not
   * stored. Default {@linkcode DEFAULT_MAX_SESSIONS}.
   */
  maxSessions?: number;
}

/** A visit waiting to be counted. */
interface Visit {
  id: string;
  now: number;
}

/** A session waiting to be stored: its id, its unstored first visit, and this one. */
interface Creation {
  id: string;
  firstSeen: number;
  now: number;
}

/** What a logged-out id leaves behind, so that it is never stored again. */
interface Ended {
  ended: number;
}

/** What `["sessions", id]` holds. */
type Stored = Session | Ended;

function isEnded(value: Stored): value is Ended {
  return "ended" in value;
}

/**
 * Sessions as KV entries under `["sessions", id]`, each written with
 * `expireIn` so KV deletes idle ones by itself. KV may delete expired keys
 * late, so reads check `lastSeen` too. A logged-out id leaves an `{ ended }`
 * entry for the time-to-live, so it is never stored again. The secret that
 * signs session ids is kept under `["config", "session-id-secret"]`, so
 * processes sharing the file recognise each other's ids. How many sessions
 * were created is counted per eighth of the time-to-live: past
 * `maxSessions` created within one time-to-live, new sessions are not stored
 * (KV never evicts; established sessions stay).
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
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { KvSessionStore } from "./kv_store.ts";
 * const store = new KvSessionStore(await Deno.openKv(":memory:"));
 * await store.create("a".repeat(64), 1000, 2000);
 * assertEquals((await store.recordVisit("a".repeat(64), 3000))?.visits, 3);
 * store.close();
 * ```
 */
export class KvSessionStore implements SessionStore {
  /** Where the sessions live, for the start-up message. */
  readonly description: string;
  #kv: Deno.Kv;
  #ttlMs: number;
  #maxSessions: number;
  #secret: Promise<Uint8Array<ArrayBuffer>> | undefined;
  #creates = new GroupCommit<Creation, Session | NotCreated>(
    (creations) => this.#commitWithRetry(() => this.#tryCreate(creations)),
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
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.description = options.description ?? "Deno KV";
  }

  /** {@inheritDoc SessionStore.secret} */
  secret(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#secret === undefined) {
      this.#secret = this.#commitWithRetry(() => this.#tryReadOrMakeSecret());
      this.#secret.catch(() => this.#secret = undefined); // a failed read is tried again
    }
    return this.#secret;
  }

  /** {@inheritDoc SessionStore.create} */
  create(id: string, firstSeen: number, now: number): Promise<Session | NotCreated> {
    return this.#creates.submit({ id, firstSeen, now });
  }

  /** {@inheritDoc SessionStore.recordVisit} */
  recordVisit(id: string, now: number): Promise<Session | undefined> {
    return this.#visits.submit({ id, now });
  }

  /** {@inheritDoc SessionStore.delete} */
  async delete(id: string, now: number): Promise<void> {
    // Only a stored session leaves a mark: a logout naming any other id,
    // however many, writes nothing.
    const ended: Ended = { ended: now };
    await this.#commitWithRetry(async () => {
      const entry = await this.#kv.get<Stored>([SESSIONS, id]);
      if (entry.value === null || isEnded(entry.value)) return true;
      const transaction = this.#kv.atomic().check(entry);
      transaction.set([SESSIONS, id], ended, { expireIn: this.#ttlMs });
      return (await transaction.commit()).ok || null;
    });
  }

  /** Closes the KV database. */
  close(): void {
    this.#kv.close();
  }

  /** The stored secret, or a new one stored unless another process stored one first (`null`). */
  async #tryReadOrMakeSecret(): Promise<Uint8Array<ArrayBuffer> | null> {
    const stored = await this.#kv.get<Uint8Array<ArrayBuffer>>(SECRET);
    if (stored.value !== null) return stored.value;
    const secret = newSecret();
    const { ok } = await this.#kv.atomic().check(stored).set(SECRET, secret).commit();
    return ok ? secret : null;
  }

  /**
   * One attempt at storing `creations`. The user numbers, the creation
   * counts and the sessions are written in one transaction, so a number is
   * never handed out twice, even by two processes at once. An id already
   * stored (or ended), or repeated in the group, is `"taken"`; past the cap,
   * `"full"`. `null`: lost a race.
   */
  async #tryCreate(creations: Creation[]): Promise<(Session | NotCreated)[] | null> {
    const period = Math.floor(creations[0].now / (this.#ttlMs / PERIODS_PER_TTL));
    const periodKeys = Array.from(
      { length: PERIODS_PER_TTL + 1 },
      (_, i) => [...CREATED, period - i],
    );
    const [[counter, ...periods], existing] = await Promise.all([
      this.#kv.getMany<[bigint, ...number[]]>([USER_COUNTER, ...periodKeys]),
      this.#kv.getMany<Stored[]>(creations.map(({ id }) => [SESSIONS, id])),
    ]);
    let created = periods.reduce((sum, entry) => sum + ((entry.value as number | null) ?? 0), 0);
    const usersBefore = Number(counter.value ?? 0n);
    const seen = new Set<string>();
    const sessions: Session[] = [];
    const results = creations.map(({ id, firstSeen, now }, i): Session | NotCreated => {
      if (existing[i].value !== null || seen.has(id)) return "taken";
      seen.add(id);
      if (created >= this.#maxSessions) return "full";
      created++;
      const name = userName(usersBefore + sessions.length + 1);
      const session: Session = { id, name, visits: 2, firstSeen, lastSeen: now };
      sessions.push(session);
      return session;
    });
    if (sessions.length === 0) return results;
    const transaction = this.#kv.atomic()
      .check(counter, periods[0])
      .set(USER_COUNTER, BigInt(usersBefore + sessions.length))
      .set(periodKeys[0], ((periods[0].value as number | null) ?? 0) + sessions.length, {
        expireIn: this.#ttlMs + this.#ttlMs / PERIODS_PER_TTL,
      });
    for (const session of sessions) {
      transaction
        .check({ key: [SESSIONS, session.id], versionstamp: null })
        .set([SESSIONS, session.id], session, { expireIn: this.#ttlMs });
    }
    return (await transaction.commit()).ok ? results : null;
  }

  /**
   * One attempt at counting `visits`, in order; several to one session add
   * up, each seeing its own count. `undefined` for a visit to an unknown or
   * expired session. `null`: another process changed a session first.
   */
  async #tryRecordVisits(visits: Visit[]): Promise<(Session | undefined)[] | null> {
    const ids = [...new Set(visits.map((visit) => visit.id))];
    const entries = await this.#kv.getMany<Stored[]>(ids.map((id) => [SESSIONS, id]));
    const read = new Map(ids.map((id, i) => [id, entries[i]]));
    const updated = new Map<string, Session>();
    const results = visits.map(({ id, now }) => {
      const session = updated.get(id) ?? read.get(id)!.value;
      if (session === null || isEnded(session) || now - session.lastSeen >= this.#ttlMs) {
        return undefined;
      }
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
