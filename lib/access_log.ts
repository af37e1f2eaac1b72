/**
 * The access log both servers write to stdout: one line per request, in the
 * teaching format (`GET / 304 If-None-Match matched …`) or as JSON lines.
 *
 * Lines are collected and written in batches, with one asynchronous write per
 * batch, so a slow terminal or a full pipe never stalls request handling
 * (`console.log` is a synchronous write per call). Memory is bounded: when the
 * output cannot keep up, lines are dropped and a line says how many. No line
 * ever holds a raw control character: C0 and C1 controls and DEL are escaped,
 * so a client cannot forge a log line or drive the terminal.
 *
 * @module
 */

/** C0 controls, DEL and C1 controls: U+0000–U+001F and U+007F–U+009F. */
// deno-lint-ignore no-control-regex -- finding controls is the point
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/;
// deno-lint-ignore no-control-regex -- finding controls is the point
const CONTROLS_GLOBAL = /[\x00-\x1f\x7f-\x9f]/g;
/** What JSON.stringify leaves raw: DEL and the C1 controls. */
const JSON_RAW_CONTROLS = /[\x7f-\x9f]/g;

/**
 * Replaces every C0 and C1 control character and DEL with a visible `\xHH`
 * escape. A log line must never carry one raw: a newline (or U+0085, which
 * some viewers treat as one) would let a client forge a separate line, and
 * ESC sequences would drive the terminal showing the log.
 *
 * @param text A log line, possibly holding client-supplied values.
 * @returns The line with each control written as `\xHH`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { escapeControls } from "./access_log.ts";
 * assertEquals(escapeControls("GET /a\u0085b\x1b[2J 404"), "GET /a\\x85b\\x1b[2J 404");
 * assertEquals(escapeControls("GET / 200"), "GET / 200");
 * ```
 */
export function escapeControls(text: string): string {
  if (!CONTROLS.test(text)) return text;
  return text.replace(CONTROLS_GLOBAL, hexEscape);
}

function hexEscape(control: string): string {
  return `\\x${control.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/** `text`: the teaching lines, as they are. `json`: one JSON object per line. */
export type LogFormat = "text" | "json";

/** The log formats, for flag parsing and usage text. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/**
 * A request line as both servers write it: method, path, status, and the
 * reason (after a space or `": "`). The method is a token, which has no `:`,
 * so `watch: …` lines never match.
 */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) ([1-5]\d\d)(?::? (.*))?$/s;
/** An HTTP/1.1 layer error: `400 Bad Request: why [client …]`. */
const STATUS_LINE = /^([1-5]\d\d) (.*)$/s;

/**
 * One log line as a JSON object on one line: `time` (ISO 8601, UTC), then
 * `method`, `path`, `status` and `reason` for a request line, `status` and
 * `message` for an error line with a status first, or `message` alone. DEL and
 * the C1 controls are written as `\u00XX` escapes, as JSON.stringify writes
 * the C0 ones, so the line holds no raw control either.
 *
 * @param line A log line in the teaching format.
 * @param time When it was logged.
 * @returns The JSON text, without a newline.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { formatJsonLine } from "./access_log.ts";
 * const time = new Date("2026-01-02T03:04:05.678Z");
 * assertEquals(
 *   JSON.parse(formatJsonLine("GET /a 304 If-None-Match matched", time)),
 *   { time: "2026-01-02T03:04:05.678Z", method: "GET", path: "/a", status: 304, reason: "If-None-Match matched" },
 * );
 * assertEquals(
 *   formatJsonLine("watch: modify /a\u0085", time),
 *   '{"time":"2026-01-02T03:04:05.678Z","message":"watch: modify /a\\u0085"}',
 * );
 * ```
 */
export function formatJsonLine(line: string, time: Date): string {
  const request = REQUEST_LINE.exec(line);
  const status = request ? undefined : STATUS_LINE.exec(line);
  const record = request
    ? {
      time: time.toISOString(),
      method: request[1],
      path: request[2],
      status: Number(request[3]),
      reason: request[4] ?? "",
    }
    : status
    ? { time: time.toISOString(), status: Number(status[1]), message: status[2] }
    : { time: time.toISOString(), message: line };
  return JSON.stringify(record).replace(JSON_RAW_CONTROLS, jsonEscape);
}

function jsonEscape(control: string): string {
  return `\\u${control.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * The line that stands in for lines dropped because the output could not
 * keep up, with the count grouped by thousands.
 *
 * @param count How many lines were dropped.
 * @returns The notice, e.g. `… 1,234 log lines dropped (output too slow)`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { dropNotice } from "./access_log.ts";
 * assertEquals(dropNotice(1234), "… 1,234 log lines dropped (output too slow)");
 * ```
 */
export function dropNotice(count: number): string {
  return `… ${count.toLocaleString("en-US")} log line${count === 1 ? "" : "s"} dropped ` +
    "(output too slow)";
}

/** Where the log goes: `Deno.stdout`, or an open file. */
export interface LogOutput {
  /** Writes some of `bytes`, resolving with how many. */
  write(bytes: Uint8Array): Promise<number>;
  /** Writes some of `bytes` at once, blocking; used only at exit. */
  writeSync(bytes: Uint8Array): number;
}

/** Options for {@linkcode AccessLog}. */
export interface AccessLogOptions {
  /** Default `Deno.stdout`. */
  output?: LogOutput;
  /** Default `"text"`. */
  format?: LogFormat;
  /** Write as soon as this many characters are waiting. Default 64 KiB. */
  batchChars?: number;
  /** Otherwise write this long after the first line waiting. Default 50 ms. */
  flushIntervalMs?: number;
  /**
   * Most characters held waiting while a write is in progress; lines past it
   * are dropped and counted. Default 1 MiB (a write in progress holds at most
   * as much again).
   */
  maxPendingChars?: number;
}

/**
 * A buffered, bounded log writer. `log(line)` costs no I/O: the line is
 * escaped, formatted and kept; batches go out in one asynchronous write each,
 * when `batchChars` are waiting or `flushIntervalMs` after the first line, and
 * one write at a time, in order. While a write is in progress, at most
 * `maxPendingChars` wait; past that, lines are dropped and replaced by one
 * {@linkcode dropNotice} line where the gap is.
 *
 * `close()` writes everything still waiting. At process exit (`Deno.exit`,
 * or the end of the program) whatever waits is written synchronously, unless
 * a write is still stuck in progress.
 *
 * @example Log to a file, then close
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { AccessLog } from "./access_log.ts";
 * const path = await Deno.makeTempFile();
 * const file = await Deno.open(path, { write: true });
 * const log = new AccessLog({ output: file });
 * log.log("GET / 200 no validators in request");
 * log.log("GET /\x1b[2J 404 not found");
 * assertEquals(await log.close(), true);
 * file.close();
 * assertEquals(
 *   await Deno.readTextFile(path),
 *   "GET / 200 no validators in request\nGET /\\x1b[2J 404 not found\n",
 * );
 * await Deno.remove(path);
 * ```
 */
export class AccessLog {
  readonly #output: LogOutput;
  readonly #json: boolean;
  readonly #batchChars: number;
  readonly #flushIntervalMs: number;
  readonly #maxPendingChars: number;
  #pending: string[] = [];
  #pendingChars = 0;
  /** Lines dropped since the last notice was queued. */
  #droppedSinceNotice = 0;
  #droppedTotal = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | null = null;
  /** Set when the output failed (e.g. a closed pipe): nothing more is written. */
  #broken = false;
  readonly #onUnload = () => this.#writeRemainingSync();

  /**
   * Starts an empty log; it flushes what waits at process exit until closed.
   *
   * @param options Output, format, batch size, interval and bound.
   */
  constructor(options: AccessLogOptions = {}) {
    this.#output = options.output ?? Deno.stdout;
    this.#json = options.format === "json";
    this.#batchChars = options.batchChars ?? 64 * 1024;
    this.#flushIntervalMs = options.flushIntervalMs ?? 50;
    this.#maxPendingChars = options.maxPendingChars ?? 1024 * 1024;
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /** Lines dropped so far because the output could not keep up or failed. */
  get dropped(): number {
    return this.#droppedTotal;
  }

  /** Whether a write failed (e.g. the reader of a pipe went away): nothing more is written. */
  get failed(): boolean {
    return this.#broken;
  }

  /** Queues one line (bound, so it can be passed as a callback). */
  readonly log = (line: string): void => {
    const text = this.#json ? formatJsonLine(line, new Date()) : escapeControls(line);
    if (this.#broken || this.#pendingChars + text.length > this.#maxPendingChars) {
      this.#droppedSinceNotice++;
      this.#droppedTotal++;
      return;
    }
    this.#queueDropNotice();
    this.#pending.push(text);
    this.#pendingChars += text.length + 1;
    if (this.#writing !== null) return;
    if (this.#pendingChars >= this.#batchChars) this.#startWriting();
    else this.#timer ??= setTimeout(() => this.#startWriting(), this.#flushIntervalMs);
  };

  /** Writes everything queued so far; resolves once it is written (or the output failed). */
  async flush(): Promise<void> {
    while (this.#writing !== null || this.#hasQueued()) {
      if (this.#writing === null) this.#startWriting();
      await this.#writing;
    }
  }

  /**
   * Writes everything queued, waiting at most `timeoutMs` for a slow output.
   * Resolves `true` when all of it was written, `false` if the output is
   * still stuck (the caller may then exit anyway) or failed.
   */
  async close(timeoutMs = 5000): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const flushed = this.flush().then(() => !this.#broken);
    try {
      return await Promise.race([flushed, expired]);
    } finally {
      clearTimeout(timer);
      clearTimeout(this.#timer);
      this.#timer = undefined;
      globalThis.removeEventListener("unload", this.#onUnload);
    }
  }

  #hasQueued(): boolean {
    return !this.#broken && (this.#pending.length > 0 || this.#droppedSinceNotice > 0);
  }

  #queueDropNotice(): void {
    if (this.#droppedSinceNotice === 0) return;
    const notice = this.#json
      ? formatJsonLine(dropNotice(this.#droppedSinceNotice), new Date())
      : dropNotice(this.#droppedSinceNotice);
    this.#droppedSinceNotice = 0;
    this.#pending.push(notice);
    this.#pendingChars += notice.length + 1;
  }

  /** Takes everything queued as one batch: its bytes, and how many lines it holds. */
  #takeBatch(): { bytes: Uint8Array; lines: number } {
    this.#queueDropNotice();
    const lines = this.#pending.length;
    const text = this.#pending.join("\n") + "\n";
    this.#pending = [];
    this.#pendingChars = 0;
    return { bytes: new TextEncoder().encode(text), lines };
  }

  #startWriting(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing !== null || !this.#hasQueued()) return;
    this.#writing = this.#writeBatch(this.#takeBatch()).finally(() => {
      this.#writing = null;
      if (this.#pendingChars >= this.#batchChars) this.#startWriting();
      else if (this.#hasQueued()) {
        this.#timer ??= setTimeout(() => this.#startWriting(), this.#flushIntervalMs);
      }
    });
  }

  async #writeBatch({ bytes, lines }: { bytes: Uint8Array; lines: number }): Promise<void> {
    try {
      for (let written = 0; written < bytes.length;) {
        written += await this.#output.write(bytes.subarray(written));
      }
    } catch (error) {
      this.#fail(error, lines);
    }
  }

  /** At exit: write what waits, unless a write is stuck (writing now could block forever). */
  #writeRemainingSync(): void {
    clearTimeout(this.#timer);
    if (this.#writing !== null || !this.#hasQueued()) return;
    const { bytes, lines } = this.#takeBatch();
    try {
      for (let written = 0; written < bytes.length;) {
        written += this.#output.writeSync(bytes.subarray(written));
      }
    } catch (error) {
      this.#fail(error, lines);
    }
  }

  /** The output failed: count the lost batch and whatever waits, and stop writing. */
  #fail(error: unknown, lostLines: number): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#droppedTotal += lostLines + this.#pending.length;
    this.#pending = [];
    this.#pendingChars = 0;
    console.error(`access log: cannot write (${error}); further lines are discarded`);
  }
}

/**
 * The default log sink of the library functions (`createCachingHandler`,
 * `serveHttp1`, `createCookieApp`) when the caller passes none: one
 * synchronous `console.log` per line, with controls escaped. The programs use
 * an {@linkcode AccessLog} instead.
 *
 * @param line A log line.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { printLogLine } from "./access_log.ts";
 * assertEquals(printLogLine("GET / 200"), undefined);
 * ```
 */
export function printLogLine(line: string): void {
  console.log(escapeControls(line));
}
