/**
 * A buffered reader over a `Deno.Conn` with deadlines — the only place the
 * server reads from a socket.
 *
 * `Deno.Conn.read` has no timeout, so each read races a timer. A read that
 * loses the race stays pending and is reused by the next {@linkcode ConnReader.fill}
 * (a second concurrent read on one socket is not allowed), and it never
 * rejects: errors (reset, socket closed under it) surface as `"eof"`.
 *
 * @module
 */

/**
 * Outcome of {@linkcode ConnReader.fill}.
 *
 * @example
 * ```ts
 * import type { FillResult } from "./reader.ts";
 * const outcome: FillResult = "timeout";
 * console.log(outcome);
 * ```
 */
export type FillResult = "data" | "eof" | "timeout";

/**
 * Buffers bytes from a connection. `buffered` is a view of the unconsumed
 * bytes; `consume(n)` drops the first `n`; `fill(deadline)` appends one read.
 *
 * @example
 * ```ts ignore
 * import { ConnReader } from "./reader.ts";
 * declare const conn: Deno.Conn;
 * const reader = new ConnReader(conn, 8192, 65536);
 * if (await reader.fill(Date.now() + 1000) === "data") console.log(reader.buffered.length);
 * ```
 */
export class ConnReader {
  #conn: Deno.Conn;
  #buf: Uint8Array;
  #maxSize: number;
  #start = 0;
  #end = 0;
  #pending: Promise<number | null> | null = null;

  /**
   * `initialSize` is the starting buffer; it doubles on demand up to
   * `maxSize`. Parsers enforce the real limits before that is reached.
   */
  constructor(conn: Deno.Conn, initialSize: number, maxSize: number) {
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
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /**
   * Reads once more into the buffer, waiting until `deadline` (epoch ms).
   * Resolves `"data"` when bytes were appended, `"eof"` when the peer closed
   * or the socket failed, `"timeout"` when the deadline passed first.
   */
  async fill(deadline: number): Promise<FillResult> {
    if (this.#pending === null) {
      this.#makeRoom();
      const into = this.#buf.subarray(this.#end);
      const target = this.#buf;
      this.#pending = this.#conn.read(into).then(
        (n) => {
          // The buffer may only change while no read is pending, so `target`
          // is still the current buffer here.
          if (n !== null && target === this.#buf) this.#end += n;
          return n;
        },
        () => null, // reset, or closed during shutdown/timeout: treat as EOF
      );
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) return "timeout";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), remaining);
    });
    try {
      const result = await Promise.race([this.#pending, timeout]);
      if (result === "timeout") return "timeout";
      this.#pending = null;
      return result === null ? "eof" : "data";
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for an outstanding read (after the socket is closed it settles promptly). */
  async settle(): Promise<void> {
    await this.#pending;
  }

  #makeRoom(): void {
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
