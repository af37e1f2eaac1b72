/**
 * A buffered reader over a `Deno.Conn` with deadlines — the only place the
 * server reads from a socket.
 *
 * `Deno.Conn.read` has no timeout. Racing every read against its own
 * `setTimeout` works, but a timer set and cleared per read costs more than
 * parsing a request head, paid on every request. Instead, each {@linkcode ConnReader.fill} only
 * records its deadline, and the server sweeps all connections a few times a
 * second ({@linkcode ConnReader.expire}): a fill whose deadline has passed
 * resolves `"timeout"`. A timeout therefore fires up to one sweep interval
 * late, which no limit needs to be more precise than.
 *
 * A read that outlives its fill (timed out) stays in flight and its bytes
 * count for the next fill (a second concurrent read on one socket is not
 * allowed). Reads never reject: errors (reset, socket closed under it)
 * surface as `"eof"`.
 *
 * @module
 */

/**
 * Outcome of {@linkcode ConnReader.fill}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { FillResult } from "./reader.ts";
 * const outcomes: FillResult[] = ["data", "eof", "timeout"];
 * assertEquals(outcomes.length, 3);
 * ```
 */
export type FillResult = "data" | "eof" | "timeout";

/**
 * Buffers bytes from a connection. `buffered` is a view of the unconsumed
 * bytes; `consume(n)` drops the first `n`; `fill(deadline)` appends one read.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { ConnReader } from "./reader.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * using conn = await listener.accept();
 * const reader = new ConnReader(conn, 8192, 65536);
 * await client.write(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
 * assertEquals(await reader.fill(Date.now() + 1000), "data");
 * assertEquals(reader.buffered.length, 16);
 * reader.consume(16);
 * const waiting = reader.fill(Date.now() + 10);
 * reader.expire(Date.now() + 20); // the server's deadline sweep
 * assertEquals(await waiting, "timeout");
 * client.close();
 * await reader.fill(Infinity); // the read still in flight ends
 * ```
 */
export class ConnReader {
  #conn: Pick<Deno.Conn, "read">;
  #buf: Uint8Array;
  #maxSize: number;
  #start = 0;
  #end = 0;
  /** The read in flight, if any; it settles (never rejects) when the read ends. */
  #inFlight: Promise<void> | null = null;
  /** Resolves the current fill; `null` when no fill is waiting. */
  #waiter: ((result: FillResult) => void) | null = null;
  /** The current fill's deadline (epoch ms); `Infinity` when none is waiting. */
  #deadline = Infinity;
  /** How a read that finished after its fill timed out ended, for the next fill. */
  #unreported: FillResult | null = null;

  /**
   * `initialSize` is the starting buffer; it doubles on demand up to
   * `maxSize`. Parsers enforce the real limits before that is reached.
   */
  constructor(conn: Pick<Deno.Conn, "read">, initialSize: number, maxSize: number) {
    this.#conn = conn;
    this.#buf = new Uint8Array(Math.min(initialSize, maxSize));
    this.#maxSize = maxSize;
  }

  /** The unconsumed bytes (a view into the internal buffer; valid until the next fill). */
  get buffered(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /** Number of unconsumed bytes. */
  get size(): number {
    return this.#end - this.#start;
  }

  /** Drops the first `n` unconsumed bytes. */
  consume(n: number): void {
    this.#start += n;
    // Rewind an empty buffer so the next read lands at the front, unless a
    // read still in flight is writing at the current end.
    if (this.#start === this.#end && this.#inFlight === null) this.#start = this.#end = 0;
  }

  /**
   * Reads once more into the buffer, waiting until `deadline` (epoch ms).
   * Resolves `"data"` when bytes were appended, `"eof"` when the peer closed
   * or the socket failed, `"timeout"` when the deadline passed first (noticed
   * by the next {@linkcode ConnReader.expire}).
   */
  fill(deadline: number): Promise<FillResult> {
    if (this.#unreported !== null) {
      const result = this.#unreported;
      this.#unreported = null;
      return Promise.resolve(result);
    }
    if (deadline <= Date.now()) return Promise.resolve("timeout");
    if (this.#inFlight === null) this.#startRead();
    this.#deadline = deadline;
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  /**
   * Moves the deadline of a waiting fill earlier (never later); e.g. graceful
   * shutdown gives a new connection a short grace period.
   */
  shortenDeadline(deadline: number): void {
    if (this.#waiter !== null && deadline < this.#deadline) this.#deadline = deadline;
  }

  /** The sweep: ends a waiting fill with `"timeout"` if its deadline is past `now`. */
  expire(now: number): void {
    if (this.#waiter !== null && now >= this.#deadline) this.#report("timeout");
  }

  /** Waits for a read in flight (after the socket is closed it settles promptly). */
  async settle(): Promise<void> {
    await this.#inFlight;
  }

  #startRead(): void {
    this.#makeRoom();
    this.#inFlight = this.#conn.read(this.#buf.subarray(this.#end)).then(
      (n) => this.#readDone(n),
      () => this.#readDone(null), // reset, or closed during shutdown/timeout: treat as EOF
    );
  }

  #readDone(n: number | null): void {
    // The buffer is only reallocated or compacted while no read is in flight,
    // so the bytes landed at the current end.
    this.#inFlight = null;
    if (n !== null) this.#end += n;
    const result = n === null ? "eof" : "data";
    if (this.#waiter === null) this.#unreported = result;
    else this.#report(result);
  }

  #report(result: FillResult): void {
    const resolve = this.#waiter!;
    this.#waiter = null;
    this.#deadline = Infinity;
    resolve(result);
  }

  #makeRoom(): void {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end < this.#buf.length) return;
    if (this.#start > 0) {
      // Compact: move unconsumed bytes (a pipelined request) to the front.
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
      return;
    }
    if (this.#buf.length >= this.#maxSize) {
      throw new RangeError("ConnReader buffer limit reached");
    }
    const grown = new Uint8Array(Math.min(this.#buf.length * 2, this.#maxSize));
    grown.set(this.#buf.subarray(0, this.#end));
    this.#buf = grown;
  }
}
