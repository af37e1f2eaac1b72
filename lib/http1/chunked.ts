/**
 * Incremental decoder for the chunked transfer coding (RFC 9112 §7.1):
 *
 * ```text
 * chunked-body = *chunk last-chunk trailer-section CRLF
 * chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * last-chunk   = 1*("0") [ chunk-ext ] CRLF
 * ```
 *
 * A byte-driven state machine: feed it whatever arrived, it consumes up to
 * the end of the chunked body and no further (what follows is the next
 * pipelined request), and it keeps its place between calls, so a body split
 * at any byte boundary decodes identically. Chunk extensions are ignored
 * (RFC 9112 §7.1.1 lets a recipient ignore unrecognised ones) but bounded and
 * checked for control bytes; trailer fields are parsed like header fields and
 * discarded (RFC 9112 §7.1.2 forbids merging them into the header section
 * unless known to be safe). Decoded data is copied once into a growing output
 * buffer capped at `maxBodyBytes`.
 *
 * @module
 */
import { RequestError } from "./errors.ts";
import { DEFAULT_LIMITS, type Http1Limits } from "./limits.ts";
import { parseFieldLine } from "./parser.ts";
import { CR, FIELD_VALUE_CHAR, HEX_VALUE, HTAB, LF, SP } from "./syntax.ts";

/**
 * The limits the chunked decoder enforces.
 *
 * @example
 * ```ts
 * import type { ChunkedLimits } from "./chunked.ts";
 * import { ChunkedDecoder } from "./chunked.ts";
 * const limits: ChunkedLimits = { maxBodyBytes: 64, maxChunkLineBytes: 32, maxHeaderBytes: 256, maxHeaderCount: 4 };
 * console.log(new ChunkedDecoder(limits).done); // false
 * ```
 */
export type ChunkedLimits = Pick<
  Http1Limits,
  "maxBodyBytes" | "maxChunkLineBytes" | "maxHeaderBytes" | "maxHeaderCount"
>;

enum State {
  /** Reading chunk-size hex digits. */
  Size,
  /** After the digits: BWS before `;`, or CR. */
  SizeWhitespace,
  /** Inside ignored chunk extensions, until CR. */
  Extension,
  /** Expecting the LF of the chunk-size line. */
  SizeLf,
  /** Copying chunk-data. */
  Data,
  /** Expecting the CR after chunk-data. */
  DataCr,
  /** Expecting the LF after chunk-data. */
  DataLf,
  /** Reading a trailer field line (or the final empty line). */
  Trailer,
  /** Expecting the LF of a trailer field line. */
  TrailerLf,
  /** Expecting the LF of the final empty line. */
  EndLf,
  /** The whole chunked body has been read. */
  Done,
}

// Stop accumulating before size * 16 + 15 could exceed 2^53 - 1.
const MAX_SIZE_BEFORE_SHIFT = Math.floor((Number.MAX_SAFE_INTEGER - 15) / 16);

/**
 * Decodes one chunked body, incrementally.
 *
 * @example Decode a body that arrives in two pieces
 * ```ts
 * import { ChunkedDecoder } from "./chunked.ts";
 * const enc = new TextEncoder();
 * const decoder = new ChunkedDecoder();
 * decoder.feed(enc.encode("5\r\nhel"));
 * const used = decoder.feed(enc.encode("lo\r\n0\r\n\r\nGET /"));
 * console.log(decoder.done, used, new TextDecoder().decode(decoder.body())); // true 12 "hello"
 * ```
 */
export class ChunkedDecoder {
  #limits: ChunkedLimits;
  #state = State.Size;
  #size = 0;
  #sizeDigits = 0;
  #lineBytes = 0;
  #remaining = 0;
  #out: Uint8Array<ArrayBuffer>;
  #length = 0;
  #trailerLine: Uint8Array | null = null;
  #trailerLineLength = 0;
  #trailerBytes = 0;
  #trailerCount = 0;

  /** Creates a decoder enforcing `limits` (defaults: {@linkcode DEFAULT_LIMITS}). */
  constructor(limits: ChunkedLimits = DEFAULT_LIMITS) {
    this.#limits = limits;
    this.#out = new Uint8Array(Math.min(4096, limits.maxBodyBytes));
  }

  /** Whether the terminating empty line has been consumed. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** The decoded body so far (a view; complete once {@linkcode done}). */
  body(): Uint8Array<ArrayBuffer> {
    return this.#out.subarray(0, this.#length);
  }

  /**
   * Consumes bytes from `input` and returns how many were used: all of them,
   * or fewer when the body ended inside `input`. Throws
   * {@linkcode RequestError} on malformed input or an exceeded limit.
   */
  feed(input: Uint8Array): number {
    const end = input.length;
    let i = 0;
    while (i < end) {
      switch (this.#state) {
        case State.Size: {
          const b = input[i];
          const v = HEX_VALUE[b];
          if (v !== 0xff) {
            if (this.#size > MAX_SIZE_BEFORE_SHIFT) {
              throw new RequestError(
                "CHUNK_SIZE_OVERFLOW",
                "chunk-size overflows (RFC 9112 §7.1)",
              );
            }
            this.#size = this.#size * 16 + v;
            this.#sizeDigits++;
            this.#countLineByte();
            i++;
            break;
          }
          if (this.#sizeDigits === 0) throw invalidSize(b);
          this.#state = State.SizeWhitespace;
          break; // re-examine b in the next state
        }
        case State.SizeWhitespace: {
          const b = input[i++];
          this.#countLineByte();
          if (b === CR) this.#state = State.SizeLf;
          else if (b === 0x3b /* ; */) this.#state = State.Extension;
          else if (b !== SP && b !== HTAB) throw b === LF ? bareLf() : invalidSize(b); // BWS only
          break;
        }
        case State.Extension: {
          const b = input[i++];
          if (b === CR) {
            this.#state = State.SizeLf;
          } else if (FIELD_VALUE_CHAR[b] !== 1) {
            if (b === LF) throw bareLf();
            throw new RequestError(
              "INVALID_CHUNK_EXTENSION",
              `control byte 0x${b.toString(16).padStart(2, "0")} in chunk extension ` +
                "(RFC 9112 §7.1.1)",
            );
          }
          this.#countLineByte();
          break;
        }
        case State.SizeLf: {
          if (input[i++] !== LF) throw bareCr();
          this.#lineBytes = 0;
          if (this.#size === 0) {
            this.#state = State.Trailer;
          } else {
            if (this.#size > this.#limits.maxBodyBytes - this.#length) {
              throw new RequestError(
                "BODY_TOO_LARGE",
                `chunked body exceeds the ${this.#limits.maxBodyBytes}-byte limit`,
              );
            }
            this.#remaining = this.#size;
            this.#reserve(this.#length + this.#size);
            this.#state = State.Data;
          }
          break;
        }
        case State.Data: {
          // The hot path: one bulk copy per read, not per byte.
          const n = Math.min(this.#remaining, end - i);
          this.#out.set(input.subarray(i, i + n), this.#length);
          this.#length += n;
          this.#remaining -= n;
          i += n;
          if (this.#remaining === 0) this.#state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (input[i++] !== CR) throw missingCrlf();
          this.#state = State.DataLf;
          break;
        case State.DataLf:
          if (input[i++] !== LF) throw missingCrlf();
          this.#size = 0;
          this.#sizeDigits = 0;
          this.#state = State.Size;
          break;
        case State.Trailer: {
          const b = input[i++];
          if (b === CR) {
            this.#state = this.#trailerLineLength === 0 ? State.EndLf : State.TrailerLf;
          } else if (b === LF) {
            throw bareLf();
          } else {
            this.#pushTrailerByte(b);
          }
          break;
        }
        case State.TrailerLf: {
          if (input[i++] !== LF) throw bareCr();
          if (++this.#trailerCount > this.#limits.maxHeaderCount) {
            throw new RequestError(
              "TOO_MANY_HEADERS",
              `more than ${this.#limits.maxHeaderCount} trailer fields`,
            );
          }
          // Validated exactly like a header field, then discarded.
          parseFieldLine(this.#trailerLine!, 0, this.#trailerLineLength);
          this.#trailerLineLength = 0;
          this.#state = State.Trailer;
          break;
        }
        case State.EndLf:
          if (input[i++] !== LF) throw bareCr();
          this.#state = State.Done;
          return i;
        case State.Done:
          return i;
      }
    }
    return i;
  }

  #countLineByte(): void {
    if (++this.#lineBytes > this.#limits.maxChunkLineBytes) {
      throw new RequestError(
        "CHUNK_LINE_TOO_LONG",
        `chunk-size line longer than ${this.#limits.maxChunkLineBytes} bytes`,
      );
    }
  }

  #reserve(capacity: number): void {
    if (capacity <= this.#out.length) return;
    // Double (amortised O(1) per byte) but never past the body limit.
    let size = Math.max(this.#out.length * 2, 4096);
    while (size < capacity) size *= 2;
    const grown = new Uint8Array(Math.min(size, this.#limits.maxBodyBytes));
    grown.set(this.#out.subarray(0, this.#length));
    this.#out = grown;
  }

  #pushTrailerByte(b: number): void {
    if (++this.#trailerBytes > this.#limits.maxHeaderBytes) {
      throw new RequestError(
        "HEADERS_TOO_LARGE",
        `trailer section larger than ${this.#limits.maxHeaderBytes} bytes`,
      );
    }
    if (this.#trailerLine === null || this.#trailerLineLength === this.#trailerLine.length) {
      const grown = new Uint8Array(Math.max(256, this.#trailerLineLength * 2));
      if (this.#trailerLine !== null) grown.set(this.#trailerLine);
      this.#trailerLine = grown;
    }
    this.#trailerLine[this.#trailerLineLength++] = b;
  }
}

function invalidSize(b: number): RequestError {
  return new RequestError(
    "INVALID_CHUNK_SIZE",
    `invalid byte 0x${b.toString(16).padStart(2, "0")} in chunk-size (RFC 9112 §7.1: 1*HEXDIG)`,
  );
}

function bareLf(): RequestError {
  return new RequestError(
    "BARE_LF",
    "bare LF line terminator in chunked body; lines must end in CRLF (RFC 9112 §2.2)",
  );
}

function bareCr(): RequestError {
  return new RequestError("BARE_CR", "bare CR not followed by LF (RFC 9112 §2.2)");
}

function missingCrlf(): RequestError {
  return new RequestError(
    "MISSING_CHUNK_CRLF",
    "chunk-data not followed by CRLF (RFC 9112 §7.1)",
  );
}
