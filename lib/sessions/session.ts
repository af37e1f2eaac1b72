/**
 * What a session is, and the interface every session store implements. The id
 * is the only secret: whoever holds it *is* that visitor, so it is long,
 * random, and only ever accepted if this server issued it (`session_id.ts`).
 *
 * @module
 */

/** One visitor's server-side state. The cookie carries only {@linkcode Session.id}. */
export interface Session {
  /** The unguessable token stored in the `session_id` cookie. */
  id: string;
  /** Display name the server assigned, e.g. `User123`; unique per store. */
  name: string;
  /** How many times this visitor loaded the page, this visit included. */
  visits: number;
  /** When the session was created (ms since the epoch). */
  firstSeen: number;
  /** When the visitor was last seen (ms since the epoch). Expiry slides from here. */
  lastSeen: number;
}

/** Why {@linkcode SessionStore.create} stored nothing. */
export type NotCreated =
  /** The store holds as many sessions as it may; established ones are kept. */
  | "full"
  /** The id is stored already, or was logged out and may not be stored again. */
  | "taken";

/**
 * Storage for sessions. Implementations must make {@linkcode SessionStore.recordVisit}
 * atomic (two servers sharing a store never lose a visit) and must treat a
 * session idle for longer than their time-to-live as gone.
 */
export interface SessionStore {
  /** Where sessions live, for the start-up message, e.g. `memory` or `Deno KV at data/s.kv`. */
  readonly description: string;
  /**
   * The secret session ids are signed with, made at random the first time;
   * processes sharing the store get the same one, so they recognise each
   * other's ids.
   */
  secret(): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Stores a session under `id` (an id this server issued at `firstSeen`, the
   * visitor's first, unstored visit) with the next unique `User<N>` name;
   * `now` is its second visit. Established sessions are never evicted to make
   * room: a full store stores nothing.
   */
  create(id: string, firstSeen: number, now: number): Promise<Session | NotCreated>;
  /** Counts one more visit; `undefined` when the id is unknown, expired or logged out. */
  recordVisit(id: string, now: number): Promise<Session | undefined>;
  /**
   * Ends a stored session. Its id is remembered as ended for the store's
   * time-to-live, so that the same id coming back (its MAC is still valid) is
   * not stored again. Any other id is ignored, and costs no write.
   */
  delete(id: string, now: number): Promise<void>;
  /** Releases the store's resources. */
  close(): void;
}

/** How long a session may sit idle before it is forgotten: 7 days, renewed on every visit. */
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Most sessions a store takes: held at once in memory; created per
 * time-to-live in Deno KV. Bounds what a flood of new visitors can use.
 */
export const DEFAULT_MAX_SESSIONS = 100_000;

/**
 * The display name for the `n`th visitor a store has seen.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { userName } from "./session.ts";
 * assertEquals(userName(123), "User123");
 * ```
 */
export function userName(n: number): string {
  return `User${n}`;
}
