/**
 * Who is visiting: from the `session_id` a request carried to a
 * {@linkcode VisitOutcome}. A first visit stores nothing (express-session's
 * `saveUninitialized: false`); it gets an id signed by the server. The
 * session is stored when that id comes back, within the session lifetime,
 * if the client's rate of new sessions and the store allow it.
 *
 * @module
 */
import { clientKey, CreationRateLimiter } from "./creation_rate.ts";
import type { VisitOutcome } from "./page.ts";
import type { SessionStore } from "./session.ts";
import { isWellFormedSessionId, SessionIdSigner } from "./session_id.ts";

/** Options for {@linkcode VisitResolver}. */
export interface VisitResolverOptions {
  /** Where sessions live; also keeps the secret ids are signed with. */
  store: SessionStore;
  /** Session lifetime: an id unstored for longer than this is not stored any more. */
  ttlMs: number;
  /** New sessions stored per minute per client address (and the burst allowed). */
  newSessionsPerMinute?: number;
}

/**
 * Resolves visits against a store.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { MemorySessionStore } from "./memory_store.ts";
 * import { VisitResolver } from "./visits.ts";
 * const store = new MemorySessionStore();
 * const visits = new VisitResolver({ store, ttlMs: 60_000 });
 * const first = await visits.resolve(undefined, "127.0.0.1", 1000);
 * assertEquals([first.kind, store.size], ["new", 0]);
 * const id = first.kind === "new" ? first.id : "";
 * const second = await visits.resolve(id, "127.0.0.1", 2000);
 * assertEquals([second.kind, store.size], ["returning", 1]);
 * ```
 */
export class VisitResolver {
  #store: SessionStore;
  #ttlMs: number;
  #limiter: CreationRateLimiter;
  #signer: Promise<SessionIdSigner> | undefined;

  /** A resolver over `options.store`; its secret is read at the first visit. */
  constructor(options: VisitResolverOptions) {
    this.#store = options.store;
    this.#ttlMs = options.ttlMs;
    this.#limiter = new CreationRateLimiter({ perMinute: options.newSessionsPerMinute });
  }

  /** New sessions stored per minute per client address. */
  get newSessionsPerMinute(): number {
    return this.#limiter.perMinute;
  }

  /**
   * The outcome of a visit at `now` carrying `sent` (the `session_id`, if
   * any) from the client address `client`.
   */
  async resolve(sent: string | undefined, client: string, now: number): Promise<VisitOutcome> {
    if (sent === undefined || !isWellFormedSessionId(sent)) {
      return await this.#newVisitor(sent === undefined ? "no-cookie" : "unknown-id", now);
    }
    // Established sessions first: their visits need no MAC.
    const known = await this.#store.recordVisit(sent, now);
    if (known !== undefined) return { kind: "returning", session: known, storedNow: false };
    const issuedAt = await (await this.#signerOf()).issuedAt(sent);
    if (issuedAt === undefined || now - issuedAt >= this.#ttlMs) {
      return await this.#newVisitor("unknown-id", now);
    }
    if (!this.#limiter.take(clientKey(client), now)) {
      return { kind: "unstored", reason: "rate-limited", id: sent, firstSeen: issuedAt };
    }
    const created = await this.#store.create(sent, issuedAt, now);
    if (created === "full") {
      return { kind: "unstored", reason: "store-full", id: sent, firstSeen: issuedAt };
    }
    if (created !== "taken") return { kind: "returning", session: created, storedNow: true };
    // Stored meanwhile by a request in another tab, or logged out.
    const raced = await this.#store.recordVisit(sent, now);
    if (raced !== undefined) return { kind: "returning", session: raced, storedNow: false };
    return await this.#newVisitor("unknown-id", now);
  }

  async #newVisitor(cause: "no-cookie" | "unknown-id", now: number): Promise<VisitOutcome> {
    return { kind: "new", cause, id: await (await this.#signerOf()).issue(now) };
  }

  #signerOf(): Promise<SessionIdSigner> {
    if (this.#signer === undefined) {
      this.#signer = this.#store.secret().then((secret) => SessionIdSigner.fromSecret(secret));
      this.#signer.catch(() => this.#signer = undefined); // tried again at the next visit
    }
    return this.#signer;
  }
}

/**
 * One log line for a visit: what the server decided, and why.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { describeVisit } from "./visits.ts";
 * assertEquals(
 *   describeVisit("GET", { kind: "new", cause: "no-cookie", id: "x" }, 30),
 *   "GET / 200: new visitor (no session cookie); nothing stored until the id comes back",
 * );
 * ```
 */
export function describeVisit(method: string, outcome: VisitOutcome, perMinute: number): string {
  const line = `${method} / 200`;
  switch (outcome.kind) {
    case "new": {
      const why = outcome.cause === "no-cookie"
        ? "no session cookie"
        : "unknown session id ignored";
      return `${line}: new visitor (${why}); nothing stored until the id comes back`;
    }
    case "returning": {
      const { name, visits } = outcome.session;
      return `${line}: ${name} is back (visit ${visits})${
        outcome.storedNow ? "; session stored" : ""
      }`;
    }
    case "unstored":
      return `${line}: returning visitor not stored: ` +
        (outcome.reason === "rate-limited"
          ? `more than ${perMinute} new sessions a minute from this address`
          : "the session store is full");
  }
}
