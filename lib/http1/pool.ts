/**
 * The server's open connections: who is let in, who is refused, and the one
 * sweep that enforces every connection's deadlines.
 *
 * Admission, in order, for each accepted connection:
 *
 * 1. Its client address already holds `maxConnectionsPerClient`: `503`.
 * 2. Every one of `maxConnections` slots is taken: the connection idle
 *    longest in keep-alive is closed to make room (nginx reuses connections
 *    the same way); when none is idle, `503`.
 * 3. Otherwise it is served.
 *
 * A refused connection gets its `503` with `Connection: close` (past the
 * per-address limit, after {@linkcode CLIENT_REFUSAL_DELAY_MS}) and the same
 * lingering close as any error, and never counts towards either limit. At
 * most {@linkcode MAX_PENDING_REFUSALS} are pending at once; past that a
 * connection is closed without a response.
 *
 * @module
 */
import { formatHostPort } from "../net_address.ts";
import { type ConnectionContext, Http1Connection, type Transport } from "./connection.ts";
import { RequestError } from "./errors.ts";
import type { Http1Limits } from "./limits.ts";

/**
 * Above this many open connections, a keep-alive connection waits one timer
 * tick before reading its next request.
 *
 * Why: Deno runs every socket read of the process through one task, and
 * tokio lets a task complete only 128 I/O operations per turn (its "coop
 * budget"). With more sockets ready than that, the reads left over are not
 * served in arrival order, and some wait for hundreds of milliseconds while
 * others are answered again and again. Waiting one tick lets the client's
 * next request arrive first, so the read completes as soon as it is made,
 * and every connection gets its turn. It costs throughput only while this
 * crowded (see the README's Performance section for the figures).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { CROWDED_CONNECTIONS } from "./pool.ts";
 * assertEquals(CROWDED_CONNECTIONS, 128);
 * ```
 */
export const CROWDED_CONNECTIONS = 128;

/**
 * How long, on average, a connection past its address's limit waits for its
 * `503`. A
 * client that reconnects the moment it is refused would otherwise keep the
 * server busy refusing it thousands of times a second, and the accept queue
 * full in front of everyone else; this way each of its attempts costs it a
 * second and the server an idle socket. (Past the global limit the `503` is
 * immediate: that client may be anyone.)
 */
const CLIENT_REFUSAL_DELAY_MS = 1000;

/**
 * Most refused connections waiting for their `503` or its lingering close at
 * once; past it a connection is closed without a response. As many as the
 * default connection cap, so refusals never hold more descriptors than the
 * connections being served.
 */
const MAX_PENDING_REFUSALS = 512;

/**
 * Every connection of one server.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { ConnectionPool } from "./pool.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const pool = new ConnectionPool({
 *   handler: () => ({ status: 200 }),
 *   limits: DEFAULT_LIMITS,
 *   log: console.log,
 *   secure: false,
 *   fallbackAuthority: "127.0.0.1:8000",
 * });
 * const response = fetch(`http://127.0.0.1:${listener.addr.port}/`);
 * pool.admit(await listener.accept());
 * assertEquals((await response).status, 200);
 * await pool.shutdown();
 * ```
 */
export class ConnectionPool {
  #ctx: ConnectionContext;
  #limits: Http1Limits;
  /** Connections being served, in the order they were admitted. */
  #served = new Set<Http1Connection>();
  /** Admitted connections per client address. */
  #perClient = new Map<string, number>();
  /** Evicted and refused connections, until they have finished closing. */
  #closing = new Set<Http1Connection>();
  #sweep: ReturnType<typeof setInterval>;
  #shuttingDown = false;
  /** Connections closed at once because too many refusals were pending; logged by the sweep. */
  #droppedRefusals = 0;
  /** The next timer tick, shared by every connection that paces its read. */
  #nextTick: Promise<void> | null = null;

  /** An empty pool for a server with these settings; starts the deadline sweep. */
  constructor(settings: Omit<ConnectionContext, "paceNextRead">) {
    this.#limits = settings.limits;
    this.#ctx = { ...settings, paceNextRead: () => this.#paceNextRead() };
    // One interval checks every connection's read and write deadlines,
    // instead of a timer set and cleared around every read and write.
    this.#sweep = setInterval(() => this.#expire(Date.now()), sweepIntervalMs(this.#limits));
  }

  /** Serves `conn`, or refuses it with a `503` (see the module's admission rules). */
  admit(conn: Transport): void {
    const client = (conn.remoteAddr as Deno.NetAddr).hostname;
    const held = this.#perClient.get(client) ?? 0;
    const limits = this.#limits;
    if (held >= limits.maxConnectionsPerClient) {
      const error = new RequestError(
        "CLIENT_CONNECTION_LIMIT",
        `client ${client} already holds ${held} connections, the limit per client address`,
      );
      // Spread over half to one and a half times the delay: refused together,
      // an attacker's connections would otherwise all come back together,
      // a burst that can overflow the listen backlog in front of everyone else.
      this.#refuse(conn, error, CLIENT_REFUSAL_DELAY_MS * (0.5 + Math.random()));
      return;
    }
    if (this.#served.size >= limits.maxConnections && !this.#evictIdlest()) {
      const error = new RequestError(
        "CONNECTION_LIMIT",
        `connection limit of ${limits.maxConnections} reached, none idle; retry later`,
      );
      this.#refuse(conn, error, 0);
      return;
    }
    const connection = new Http1Connection(conn, this.#ctx);
    this.#served.add(connection);
    this.#perClient.set(client, held + 1);
    connection.done.then(() => this.#release(connection, client));
  }

  /**
   * Graceful shutdown of every connection (see
   * {@linkcode Http1Connection.shutdown}); resolves when all are closed.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    for (const connection of this.#served) connection.shutdown();
    for (const connection of this.#closing) connection.shutdown();
    while (this.#served.size + this.#closing.size > 0) {
      await Promise.all([...this.#served, ...this.#closing].map((c) => c.done));
    }
    clearInterval(this.#sweep);
  }

  /** Closes the connection idle longest in keep-alive; returns whether there was one. */
  #evictIdlest(): boolean {
    let idlest: Http1Connection | null = null;
    let idlestSince = Infinity;
    for (const connection of this.#served) {
      const since = connection.idleKeepAliveSince;
      if (since !== null && since < idlestSince) {
        idlest = connection;
        idlestSince = since;
      }
    }
    if (idlest === null || !idlest.evictIdle()) return false;
    this.#ctx.log(
      `http1: closed an idle keep-alive connection [client ${formatHostPort(idlest.remoteAddr)}] ` +
        `to make room: connection limit of ${this.#limits.maxConnections} reached`,
    );
    this.#served.delete(idlest);
    this.#closing.add(idlest);
    return true;
  }

  #refuse(conn: Transport, error: RequestError, delayMs: number): void {
    if (this.#closing.size >= MAX_PENDING_REFUSALS) {
      // Refusals are bounded too: past this many, close without a word.
      this.#droppedRefusals++;
      try {
        conn.close();
      } catch { /* already closed */ }
      return;
    }
    const connection = new Http1Connection(conn, this.#ctx, { error, delayMs });
    this.#closing.add(connection);
    connection.done.then(() => this.#closing.delete(connection));
    if (this.#shuttingDown) connection.shutdown();
  }

  #release(connection: Http1Connection, client: string): void {
    this.#served.delete(connection);
    this.#closing.delete(connection);
    const held = this.#perClient.get(client)! - 1;
    if (held === 0) this.#perClient.delete(client);
    else this.#perClient.set(client, held);
  }

  #expire(now: number): void {
    for (const connection of this.#served) connection.expire(now);
    for (const connection of this.#closing) connection.expire(now);
    if (this.#droppedRefusals > 0) {
      this.#ctx.log(
        `http1: closed ${this.#droppedRefusals} connections without a response: ` +
          `${this.#closing.size} refusals already pending`,
      );
      this.#droppedRefusals = 0;
    }
  }

  /** See {@linkcode CROWDED_CONNECTIONS}. */
  #paceNextRead(): Promise<void> | null {
    if (this.#served.size <= CROWDED_CONNECTIONS) return null;
    this.#nextTick ??= new Promise<void>((resolve) =>
      setTimeout(() => {
        this.#nextTick = null;
        resolve();
      }, 0)
    );
    return this.#nextTick;
  }
}

/**
 * How often deadlines are swept: a quarter of the shortest timeout, between
 * 10 and 250 ms. A timeout then fires at most a quarter (or 250 ms) late,
 * while a few hundred connections cost the sweep microseconds.
 */
function sweepIntervalMs(limits: Http1Limits): number {
  const shortest = Math.min(
    limits.headTimeoutMs,
    limits.bodyTimeoutMs,
    limits.idleTimeoutMs,
    limits.writeTimeoutMs,
    limits.lingerTimeoutMs,
  );
  return Math.max(10, Math.min(250, Math.floor(shortest / 4)));
}
