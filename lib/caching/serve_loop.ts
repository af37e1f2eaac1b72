/**
 * `Deno.serve`, kept serving when accepting fails and stopped within a bound.
 *
 * Two things `Deno.serve` does not do by itself:
 *
 * - **Survive a failed accept.** When `accept` fails (at the descriptor
 *   limit: "Too many open files"), `Deno.serve` closes its listener and
 *   rejects `finished`; the connections it already has go on. Left alone, the
 *   process exits. Here the failed instance is shut down gracefully, which
 *   closes its idle connections at once (also those that never sent a byte:
 *   `Deno.serve` has no idle or header timeout of its own) and lets responses
 *   in flight finish; a new instance listens on the same address after a
 *   back-off, as Go's accept loop backs off and nginx drains idle connections.
 * - **Bound a graceful shutdown.** Aborting `Deno.serve`'s `signal` cuts every
 *   connection at once, downloads included; `shutdown()` waits for responses in
 *   flight, however long they take. Here shutdown is graceful, and stops
 *   waiting after `shutdownTimeoutMs`, saying so.
 *
 * @module
 */
import { formatHostPort } from "../net_address.ts";

/** How long a shutdown waits for responses in flight by default: 30 s. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/** The first pause after a failed accept. */
const FIRST_ACCEPT_DELAY_MS = 10;
/** The longest pause between attempts to listen again (Go's accept loop also stops at 1 s). */
const MAX_ACCEPT_DELAY_MS = 1_000;

/** Options for {@linkcode startServeLoop}. */
export interface ServeLoopOptions {
  /** Interface to bind. */
  hostname: string;
  /** TCP port; `0` lets the OS choose, and a restart listens on the port it chose. */
  port: number;
  /** Answers each request. */
  handler: (request: Request) => Response | Promise<Response>;
  /** Receives a line for each failed accept, each restart, and a shutdown that ran out of time. */
  log: (line: string) => void;
  /** Called with the bound address once, when the server first listens. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** PEM certificate chain and key: serve HTTPS (and HTTP/2), as `Deno.serve` does with them. */
  tls?: { cert: string; key: string };
  /** How long {@linkcode ServeLoop.shutdown} waits for responses in flight. */
  shutdownTimeoutMs?: number;
}

/** How a shutdown ended. */
export interface ShutdownResult {
  /** `true` when every response in flight was sent; `false` when the bound ran out first. */
  drained: boolean;
}

/**
 * Serves `handler` with `Deno.serve` on `hostname:port` until shut down,
 * listening again whenever accepting fails.
 *
 * Throws at once, as `Deno.serve` does, when the first listen fails (e.g. the
 * port is taken); a later listen that fails is retried with back-off.
 *
 * @param options Where to listen, what to serve, where to log.
 * @returns The running loop.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { startServeLoop } from "./serve_loop.ts";
 * const loop = startServeLoop({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   handler: () => new Response("hello"),
 *   log: () => {},
 * });
 * const response = await fetch(`http://127.0.0.1:${loop.addr.port}/`);
 * assertEquals(await response.text(), "hello");
 * assertEquals(await loop.shutdown(), { drained: true });
 * ```
 */
export function startServeLoop(options: ServeLoopOptions): ServeLoop {
  return new ServeLoop(options);
}

/**
 * A running {@linkcode startServeLoop}: one `Deno.serve` listening, and
 * failed ones draining.
 *
 * @example Shutting down twice is one shutdown
 * ```ts
 * import { assertEquals, assertStrictEquals } from "jsr:@std/assert@1.0.19";
 * import { startServeLoop } from "./serve_loop.ts";
 * const loop = startServeLoop({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   handler: () => new Response("hello"),
 *   log: () => {},
 * });
 * assertStrictEquals(loop.shutdown(), loop.shutdown());
 * assertEquals(await loop.finished, { drained: true });
 * ```
 */
export class ServeLoop {
  /** The bound address (with the real port when `port` was 0). */
  readonly addr: Deno.NetAddr;
  readonly #options: ServeLoopOptions;
  /** `addr` as the log shows it. */
  readonly #where: string;
  /** Every instance whose connections may still be open: the listening one, and failed ones draining. */
  readonly #instances = new Set<Deno.HttpServer<Deno.NetAddr>>();
  readonly #finished = Promise.withResolvers<ShutdownResult>();
  #stopping: Promise<ShutdownResult> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #delayMs: number | undefined;
  #lastFailureAt = -Infinity;

  /** Listens at once; use {@linkcode startServeLoop}. */
  constructor(options: ServeLoopOptions) {
    this.#options = options;
    this.addr = this.#serve(options.port, options.onListen ?? (() => {})).addr;
    this.#where = formatHostPort(this.addr);
  }

  /** Resolves once a shutdown has ended. */
  get finished(): Promise<ShutdownResult> {
    return this.#finished.promise;
  }

  /**
   * Stops accepting, closes idle connections, and waits for the responses in
   * flight, at most `shutdownTimeoutMs`. Calling it again returns the same
   * promise.
   */
  shutdown(): Promise<ShutdownResult> {
    this.#stopping ??= this.#stop().then((result) => {
      this.#finished.resolve(result);
      return result;
    });
    return this.#stopping;
  }

  #serve(port: number, onListen: (addr: Deno.NetAddr) => void): Deno.HttpServer<Deno.NetAddr> {
    const { hostname, tls, handler } = this.#options;
    const server = Deno.serve(
      { hostname, port, onListen, automaticCompression: false, ...tls },
      handler,
    );
    this.#instances.add(server);
    server.finished.catch((error) => this.#recover(server, error));
    return server;
  }

  /** Deno.serve stopped accepting: its listener is closed, its connections still open. */
  #recover(failed: Deno.HttpServer<Deno.NetAddr>, error: unknown): void {
    if (this.#stopping !== undefined) return;
    const delay = this.#retryLater();
    this.#options.log(
      `accept failed on ${this.#where}: ${describe(error)}; ` +
        `closing idle connections, listening again in ${delay} ms`,
    );
    this.#shutDown(failed).then(() => this.#instances.delete(failed));
  }

  #listenAgain(): void {
    this.#retryTimer = undefined;
    try {
      this.#serve(this.addr.port, () => this.#options.log(`listening again on ${this.#where}`));
    } catch (error) {
      const delay = this.#retryLater();
      this.#options.log(
        `listening on ${this.#where} failed: ${describe(error)}; trying again in ${delay} ms`,
      );
    }
  }

  /** Schedules the next listen after a back-off that grows while failures follow each other. */
  #retryLater(): number {
    const now = performance.now();
    const delay = nextAcceptDelay(this.#delayMs, now - this.#lastFailureAt);
    this.#delayMs = delay;
    this.#lastFailureAt = now;
    this.#retryTimer = setTimeout(() => this.#listenAgain(), delay);
    return delay;
  }

  /** A graceful shutdown of one instance; a failure is logged, since there is nothing left to stop. */
  #shutDown(server: Deno.HttpServer<Deno.NetAddr>): Promise<void> {
    return server.shutdown().catch((error) =>
      this.#options.log(`shutdown of ${this.#where}: ${describe(error)}`)
    );
  }

  async #stop(): Promise<ShutdownResult> {
    clearTimeout(this.#retryTimer);
    const timeoutMs = this.#options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    const log = this.#options.log;
    log(`shutdown: stopped listening; waiting up to ${timeoutMs / 1000} s for responses in flight`);
    const allDrained = Promise.all([...this.#instances].map((server) => this.#shutDown(server)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timed out">((resolve) => {
      timer = setTimeout(() => resolve("timed out"), timeoutMs);
    });
    const outcome = await Promise.race([allDrained, timedOut]);
    clearTimeout(timer);
    if (outcome === "timed out") {
      log(`shutdown: stopped waiting after ${timeoutMs / 1000} s for responses still being sent`);
    }
    return { drained: outcome !== "timed out" };
  }
}

/**
 * The pause before listening again after a failed accept or listen: 10 ms
 * at first, doubling while failures follow each other (the next one within
 * twice the longest pause), at most 1 s. The first pause is short because
 * closing the failed listener's idle connections usually frees descriptors
 * at once; the doubling keeps a lasting shortage from becoming a busy loop.
 *
 * @param previousMs The last pause, or `undefined` before the first failure.
 * @param sinceLastFailureMs Time since that failure.
 * @returns The pause in milliseconds.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { nextAcceptDelay } from "./serve_loop.ts";
 * assertEquals(nextAcceptDelay(undefined, Infinity), 10);
 * assertEquals(nextAcceptDelay(10, 15), 20);
 * assertEquals(nextAcceptDelay(640, 700), 1000);
 * assertEquals(nextAcceptDelay(1000, 60_000), 10); // a failure long after the last
 * ```
 */
export function nextAcceptDelay(
  previousMs: number | undefined,
  sinceLastFailureMs: number,
): number {
  if (previousMs === undefined || sinceLastFailureMs > 2 * MAX_ACCEPT_DELAY_MS) {
    return FIRST_ACCEPT_DELAY_MS;
  }
  return Math.min(previousMs * 2, MAX_ACCEPT_DELAY_MS);
}

/** The operating system's words for a failure, without the class names Deno wraps them in. */
function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/^(\w*Error: )+/, "");
}
