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
import { bareCrError, bareLfError, RequestError } from "./errors.ts";
import { DEFAULT_LIMITS, type Http1Limits } from "./limits.ts";
import { parseFieldLine } from "./parser.ts";
import { CR, FIELD_VALUE_CHAR, hex, HEX_VALUE, HTAB, LF, SP, TCHAR } from "./syntax.ts";

/**
 * The limits the chunked decoder enforces.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { ChunkedLimits } from "./chunked.ts";
 * import { ChunkedDecoder } from "./chunked.ts";
 * const limits: ChunkedLimits = { maxBodyBytes: 64, maxChunkLineBytes: 32, maxHeaderBytes: 256, maxHeaderCount: 4 };
 * assertEquals(new ChunkedDecoder(limits).done, false);
 * ```
 */
export type ChunkedLimits = Pick<
  Http1Limits,
  "maxBodyBytes" | "maxChunkLineBytes" | "maxHeaderBytes" | "maxHeaderCount"
>;

enum State {
  /** Reading chunk-size hex digits. */
  Size,
  /** Inside the chunk extensions after the size (see {@linkcode Ext}), until CR. */
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

/**
 * Where the decoder is in the chunk extensions (RFC 9112 §7.1.1):
 *
 * ```text
 * chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * chunk-ext-name = token
 * chunk-ext-val  = token / quoted-string
 * ```
 *
 * Whitespace is allowed only before `;` and around `=`: not after the size or
 * a value when no extension follows (`a \r\n`), and every name needs a token
 * (`2;`) and every `=` a value (`;x=`). llhttp refuses all of these; a
 * lenient parser is one half of a framing differential.
 */
enum Ext {
  /** Right after the size digits: CR, `;` or BWS. */
  AfterSize,
  /** BWS after the size: `;` must follow. */
  AfterSizeBws,
  /** BWS that must be followed by `;`. */
  BeforeSemicolon,
  /** After `;`: BWS, then the first byte of a name. */
  BeforeName,
  /** Inside a name token. */
  Name,
  /** BWS after a name: `=` or `;` must follow. */
  AfterNameBws,
  /** After `=`: BWS, then a token or a quoted-string. */
  BeforeValue,
  /** Inside a token value. */
  TokenValue,
  /** Inside a quoted-string value. */
  Quoted,
  /** After `\` in a quoted-string. */
  QuotedPair,
  /** After a value (or its closing quote): CR, `;` or BWS. */
  AfterValue,
}

// Stop accumulating before size * 16 + 15 could exceed 2^53 - 1.
const MAX_SIZE_BEFORE_SHIFT = Math.floor((Number.MAX_SAFE_INTEGER - 15) / 16);

/**
 * Decodes one chunked body, incrementally.
 *
 * @example Decode a body that arrives in two pieces
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { ChunkedDecoder } from "./chunked.ts";
 * const enc = new TextEncoder();
 * const decoder = new ChunkedDecoder();
 * decoder.feed(enc.encode("5\r\nhel"));
 * const used = decoder.feed(enc.encode("lo\r\n0\r\n\r\nGET /"));
 * assertEquals([decoder.done, used, new TextDecoder().decode(decoder.body())], [true, 9, "hello"]);
 * ```
 */
export class ChunkedDecoder {
  #limits: ChunkedLimits;
  #state = State.Size;
  #ext = Ext.AfterSize;
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
    while (i < end && this.#state !== State.Done) {
      switch (this.#state) {
        case State.Size:
          i = this.#readSize(input, i, end);
          break;
        case State.Extension:
          this.#readExtension(input[i++]);
          break;
        case State.SizeLf:
          this.#readSizeLf(input[i++]);
          break;
        case State.Data:
          i = this.#readData(input, i, end);
          break;
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
        case State.Trailer:
          this.#readTrailer(input[i++]);
          break;
        case State.TrailerLf:
          this.#readTrailerLf(input[i++]);
          break;
        case State.EndLf:
          if (input[i++] !== LF) throw bareCrError();
          this.#state = State.Done;
          break;
      }
    }
    return i;
  }

  /** Hex digits of chunk-size; the first other byte starts the extensions. */
  #readSize(input: Uint8Array, from: number, end: number): number {
    let i = from;
    while (i < end) {
      const value = HEX_VALUE[input[i]];
      if (value === 0xff) break;
      if (this.#size > MAX_SIZE_BEFORE_SHIFT) {
        throw new RequestError("CHUNK_SIZE_OVERFLOW", "chunk-size overflows (RFC 9112 §7.1)");
      }
      this.#size = this.#size * 16 + value;
      this.#sizeDigits++;
      this.#countLineByte();
      i++;
    }
    if (i < end) {
      if (this.#sizeDigits === 0) throw invalidSize(input[i]);
      this.#state = State.Extension;
      this.#ext = Ext.AfterSize;
    }
    return i;
  }

  /** One byte of the chunk-size line after the digits; CR ends it. */
  #readExtension(b: number): void {
    this.#countLineByte();
    if (b === LF) throw bareLfError("chunked body");
    const next = nextExtensionState(this.#ext, b);
    if (next === null) this.#state = State.SizeLf;
    else this.#ext = next;
  }

  /** The LF ending the chunk-size line: data follows, or the trailers after size 0. */
  #readSizeLf(b: number): void {
    if (b !== LF) throw bareCrError();
    this.#lineBytes = 0;
    if (this.#size === 0) {
      this.#state = State.Trailer;
      return;
    }
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

  /** The hot path: one bulk copy per read, not per byte. */
  #readData(input: Uint8Array, from: number, end: number): number {
    const n = Math.min(this.#remaining, end - from);
    this.#out.set(input.subarray(from, from + n), this.#length);
    this.#length += n;
    this.#remaining -= n;
    if (this.#remaining === 0) this.#state = State.DataCr;
    return from + n;
  }

  /** A byte of a trailer field line; CR ends the line (an empty one ends the body). */
  #readTrailer(b: number): void {
    if (b === CR) {
      this.#state = this.#trailerLineLength === 0 ? State.EndLf : State.TrailerLf;
    } else if (b === LF) {
      throw bareLfError("chunked body");
    } else {
      this.#pushTrailerByte(b);
    }
  }

  /** The LF ending a trailer field line, which is validated like a header field, then discarded. */
  #readTrailerLf(b: number): void {
    if (b !== LF) throw bareCrError();
    if (++this.#trailerCount > this.#limits.maxHeaderCount) {
      throw new RequestError(
        "TOO_MANY_HEADERS",
        `more than ${this.#limits.maxHeaderCount} trailer fields`,
      );
    }
    parseFieldLine(this.#trailerLine!, 0, this.#trailerLineLength);
    this.#trailerLineLength = 0;
    this.#state = State.Trailer;
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

/**
 * The extension state after byte `b` (not LF), or `null` when `b` is the CR
 * that ends the chunk-size line. Throws where RFC 9112 §7.1.1 allows no `b`.
 */
function nextExtensionState(state: Ext, b: number): Ext | null {
  const whitespace = b === SP || b === HTAB;
  switch (state) {
    case Ext.AfterSize:
      if (b === CR) return null;
      if (b === SEMICOLON) return Ext.BeforeName;
      if (whitespace) return Ext.AfterSizeBws;
      throw invalidSize(b);
    case Ext.AfterSizeBws:
      if (b === SEMICOLON) return Ext.BeforeName;
      if (whitespace) return state;
      if (b === CR) {
        throw new RequestError(
          "INVALID_CHUNK_SIZE",
          "whitespace after chunk-size with no extension (RFC 9112 §7.1.1)",
        );
      }
      throw invalidSize(b);
    case Ext.AfterValue:
      if (b === CR) return null;
      if (b === SEMICOLON) return Ext.BeforeName;
      if (whitespace) return Ext.BeforeSemicolon;
      throw invalidExtension(`byte ${hex(b)} after a chunk extension value`);
    case Ext.BeforeSemicolon:
      if (b === SEMICOLON) return Ext.BeforeName;
      if (whitespace) return state;
      throw invalidExtension(`${describeByte(b)} after whitespace; only ";" may follow it`);
    case Ext.BeforeName:
      if (TCHAR[b] === 1) return Ext.Name;
      if (whitespace) return state;
      throw invalidExtension(`${describeByte(b)} where an extension name must start`);
    case Ext.Name:
    case Ext.AfterNameBws:
      if (b === EQUALS) return Ext.BeforeValue;
      if (b === SEMICOLON) return Ext.BeforeName;
      if (whitespace) return Ext.AfterNameBws;
      if (state === Ext.Name && TCHAR[b] === 1) return state;
      if (state === Ext.Name && b === CR) return null;
      throw invalidExtension(`${describeByte(b)} after an extension name`);
    case Ext.BeforeValue:
      if (b === DQUOTE) return Ext.Quoted;
      if (TCHAR[b] === 1) return Ext.TokenValue;
      if (whitespace) return state;
      throw invalidExtension(`${describeByte(b)} where an extension value must start`);
    case Ext.TokenValue:
      return TCHAR[b] === 1 ? state : nextExtensionState(Ext.AfterValue, b);
    case Ext.Quoted:
      if (b === DQUOTE) return Ext.AfterValue;
      if (b === BACKSLASH) return Ext.QuotedPair;
      if (FIELD_VALUE_CHAR[b] === 1) return state; // qdtext (RFC 9110 §5.6.4)
      throw invalidExtension(`${describeByte(b)} inside a quoted extension value`);
    case Ext.QuotedPair:
      if (FIELD_VALUE_CHAR[b] === 1) return Ext.Quoted;
      throw invalidExtension(`${describeByte(b)} after "\\" in a quoted extension value`);
  }
}

const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** How a byte is named in an error: CR says what is missing. */
function describeByte(b: number): string {
  return b === CR ? "end of line" : `byte ${hex(b)}`;
}

function invalidExtension(what: string): RequestError {
  return new RequestError("INVALID_CHUNK_EXTENSION", `${what} (RFC 9112 §7.1.1)`);
}

function invalidSize(b: number): RequestError {
  return new RequestError(
    "INVALID_CHUNK_SIZE",
    `invalid byte ${hex(b)} in chunk-size (RFC 9112 §7.1: 1*HEXDIG)`,
  );
}

function missingCrlf(): RequestError {
  return new RequestError(
    "MISSING_CHUNK_CRLF",
    "chunk-data not followed by CRLF (RFC 9112 §7.1)",
  );
}
