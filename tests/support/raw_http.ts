/**
 * Test support: raw HTTP/1.1 exchanges over loopback TCP, and a strict
 * response parser that tells a well-formed sequence of responses from a
 * truncated or garbled one.
 *
 * @module
 */
import { concat } from "jsr:@std/bytes@1.0.6/concat";

/** What came back for one {@linkcode exchange}. */
export interface ExchangeResult {
  /** Every byte the server sent before closing. */
  bytes: Uint8Array;
  /** The connection was reset (rather than closed cleanly) at some point. */
  reset: boolean;
  /** The server neither closed nor finished within the deadline; we closed. */
  timedOut: boolean;
}

/** Options for {@linkcode exchange}. */
export interface ExchangeOptions {
  /** Give up (and close) after this long. Default 10 s. */
  timeoutMs?: number;
  /**
   * Half-close after writing, so the server sees EOF after the last byte.
   * Default true. `Deno.serve` (hyper) abandons a response still being
   * produced when the client half-closes, so tests of it pass false and
   * send `Connection: close` instead.
   */
  halfClose?: boolean;
}

/**
 * Connects, writes `request`, optionally half-closes, and reads until the
 * server closes or the timeout passes. Never throws for network errors: a
 * write the server refused or a reset are outcomes, not failures.
 */
export async function exchange(
  port: number,
  request: Uint8Array,
  { timeoutMs = 10_000, halfClose = true }: ExchangeOptions = {},
): Promise<ExchangeResult> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let reset = false;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, timeoutMs);
  const chunks: Uint8Array[] = [];
  try {
    // Write and read concurrently: a server may answer (and close) before
    // it has read everything, and a large write could otherwise deadlock.
    const writing = (async () => {
      let rest = request;
      while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
      if (halfClose) await conn.closeWrite();
    })().catch(() => {
      reset = true;
    });
    const buf = new Uint8Array(65536);
    while (true) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        if (!timedOut) reset = true;
        break;
      }
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    await writing;
  } finally {
    clearTimeout(timer);
    if (!timedOut) conn.close();
  }
  return { bytes: concat(chunks), reset, timedOut };
}

/** One parsed response. */
export interface ParsedResponse {
  status: number;
  /** The status line and field lines, without the blank line that ends them. */
  head: string;
  /** Field names in lower case, in the order sent. */
  headers: [string, string][];
  body: Uint8Array;
}

/** What {@linkcode parseResponseAt} found at a position. */
export type ResponseAt =
  | { kind: "response"; response: ParsedResponse; end: number }
  | { kind: "incomplete"; error: string }
  | { kind: "malformed"; error: string };

/**
 * Parses the one response that starts at `pos` in `bytes`, framed by
 * Content-Length (1xx, 204 and 304 have no body, nor has any response to
 * `HEAD` when `head` is set). `incomplete` when more bytes could still
 * complete it; `malformed` when none could.
 */
export function parseResponseAt(
  bytes: Uint8Array,
  pos: number,
  { head = false }: { head?: boolean } = {},
): ResponseAt {
  const headEnd = indexOfCrlfCrlf(bytes, pos);
  if (headEnd === -1) return { kind: "incomplete", error: `truncated head at byte ${pos}` };
  const headText = latin1(bytes.subarray(pos, headEnd));
  const [statusLine, ...lines] = headText.split("\r\n");
  const match = /^HTTP\/1\.[01] ([1-5][0-9][0-9]) [\x20-\x7e]*$/.exec(statusLine);
  if (match === null) {
    return { kind: "malformed", error: `bad status line ${JSON.stringify(statusLine)}` };
  }
  const status = Number(match[1]);
  const headers: [string, string][] = [];
  for (const line of lines) {
    const field = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\r\n]*?)[ \t]*$/.exec(line);
    if (field === null) {
      return { kind: "malformed", error: `bad field line ${JSON.stringify(line)}` };
    }
    headers.push([field[1].toLowerCase(), field[2]]);
  }
  const bodyStart = headEnd + 4;
  let length = 0;
  if (!head && status >= 200 && status !== 204 && status !== 304) {
    const lengths = headers.filter(([name]) => name === "content-length");
    if (lengths.length !== 1 || !/^[0-9]+$/.test(lengths[0][1])) {
      return { kind: "malformed", error: `status ${status} without one valid Content-Length` };
    }
    length = Number(lengths[0][1]);
  }
  if (bytes.length - bodyStart < length) {
    const error = `truncated body: ${bytes.length - bodyStart} of ${length} bytes`;
    return { kind: "incomplete", error };
  }
  const body = bytes.subarray(bodyStart, bodyStart + length);
  return {
    kind: "response",
    response: { status, head: headText, headers, body },
    end: bodyStart + length,
  };
}

/**
 * Parses `bytes` as a sequence of complete HTTP/1.1 responses (see
 * {@linkcode parseResponseAt}). Returns the responses, or an `error` saying
 * where the bytes stop being well-formed (a truncated response, a garbled
 * status line, trailing garbage).
 */
export function parseResponses(
  bytes: Uint8Array,
  options: { head?: boolean } = {},
): { responses: ParsedResponse[]; error: string | null } {
  const responses: ParsedResponse[] = [];
  let pos = 0;
  // Bounded: every response consumes at least the 4 bytes of its head's end.
  while (pos < bytes.length) {
    const found = parseResponseAt(bytes, pos, options);
    if (found.kind !== "response") return { responses, error: found.error };
    responses.push(found.response);
    pos = found.end;
  }
  return { responses, error: null };
}

/** The status of the first final (non-1xx) response, or `null` when there is none. */
export function firstFinalStatus(responses: readonly ParsedResponse[]): number | null {
  return responses.find((r) => r.status >= 200)?.status ?? null;
}

/** A response as text: fields by name (a repeated field's values joined with "\n"), body decoded. */
export interface TextResponse {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: string;
}

/** {@linkcode ParsedResponse} as a {@linkcode TextResponse}. */
export function asText(response: ParsedResponse): TextResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) {
    headers[name] = name in headers ? `${headers[name]}\n${value}` : value;
  }
  const body = new TextDecoder().decode(response.body);
  return { status: response.status, head: response.head, headers, body };
}

/**
 * A raw TCP client on one connection: writes bytes as given and reads the
 * responses one at a time, each parsed by {@linkcode parseResponseAt}.
 */
export class RawClient {
  #buf: Uint8Array = new Uint8Array(0);
  #chunk = new Uint8Array(65536);

  constructor(readonly conn: Deno.Conn) {}

  /** Connects to `port` on 127.0.0.1. */
  static async open(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Writes all of `data` (a string is sent as UTF-8). */
  async write(data: string | Uint8Array): Promise<void> {
    let bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    while (bytes.length > 0) bytes = bytes.subarray(await this.conn.write(bytes));
  }

  /** Reads one response; `head: true` for a response to HEAD (no body). Throws at EOF or garbage. */
  async read(options: { head?: boolean } = {}): Promise<TextResponse> {
    while (true) {
      const found = parseResponseAt(this.#buf, 0, options);
      if (found.kind === "response") {
        this.#buf = this.#buf.subarray(found.end);
        return asText(found.response);
      }
      if (found.kind === "malformed") throw new Error(`${found.error}: ${this.text()}`);
      if (!await this.#more()) throw new Error(`EOF: ${found.error}: ${this.text()}`);
    }
  }

  /** Reads until the server closes; returns everything not yet consumed. */
  async readToEnd(): Promise<string> {
    while (await this.#more()) { /* accumulate */ }
    return this.text();
  }

  /** True when the server closed the connection with nothing more to read. */
  async closedByServer(): Promise<boolean> {
    return (await this.readToEnd()) === "";
  }

  /** What has been received and not yet consumed, as UTF-8. */
  text(): string {
    return new TextDecoder().decode(this.#buf);
  }

  /** Closes the connection, if it is still open. */
  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  async #more(): Promise<boolean> {
    const n = await this.conn.read(this.#chunk).catch(() => null);
    if (n === null) return false;
    this.#buf = concat([this.#buf, this.#chunk.subarray(0, n)]);
    return true;
  }
}

function indexOfCrlfCrlf(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

function latin1(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}
