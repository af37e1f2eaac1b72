/**
 * Test support: raw HTTP/1.1 exchanges over loopback TCP, and a strict
 * response parser that tells a well-formed sequence of responses from a
 * truncated or garbled one.
 *
 * @module
 */

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
  headers: [string, string][];
  body: Uint8Array;
}

/**
 * Parses `bytes` as a sequence of complete HTTP/1.1 responses framed by
 * Content-Length (1xx, 204 and 304 have no body). Returns the responses, or
 * an `error` saying where the bytes stop being well-formed (a truncated
 * response, a garbled status line, trailing garbage).
 */
export function parseResponses(
  bytes: Uint8Array,
): { responses: ParsedResponse[]; error: string | null } {
  const responses: ParsedResponse[] = [];
  let pos = 0;
  // Bounded: every iteration consumes at least the 4 bytes of a head's end.
  while (pos < bytes.length) {
    const headEnd = indexOfCrlfCrlf(bytes, pos);
    if (headEnd === -1) return { responses, error: `truncated head at byte ${pos}` };
    const head = latin1(bytes.subarray(pos, headEnd));
    const [statusLine, ...lines] = head.split("\r\n");
    const match = /^HTTP\/1\.[01] ([1-5][0-9][0-9]) [\x20-\x7e]*$/.exec(statusLine);
    if (match === null) {
      return { responses, error: `bad status line ${JSON.stringify(statusLine)}` };
    }
    const status = Number(match[1]);
    const headers: [string, string][] = [];
    for (const line of lines) {
      const field = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\r\n]*?)[ \t]*$/.exec(line);
      if (field === null) return { responses, error: `bad field line ${JSON.stringify(line)}` };
      headers.push([field[1].toLowerCase(), field[2]]);
    }
    pos = headEnd + 4;
    let length = 0;
    if (status >= 200 && status !== 204 && status !== 304) {
      const lengths = headers.filter(([name]) => name === "content-length");
      if (lengths.length !== 1 || !/^[0-9]+$/.test(lengths[0][1])) {
        return { responses, error: `status ${status} without one valid Content-Length` };
      }
      length = Number(lengths[0][1]);
    }
    if (bytes.length - pos < length) {
      return { responses, error: `truncated body: ${bytes.length - pos} of ${length} bytes` };
    }
    responses.push({ status, headers, body: bytes.subarray(pos, pos + length) });
    pos += length;
  }
  return { responses, error: null };
}

/** The status of the first final (non-1xx) response, or `null` when there is none. */
export function firstFinalStatus(responses: readonly ParsedResponse[]): number | null {
  return responses.find((r) => r.status >= 200)?.status ?? null;
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

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
