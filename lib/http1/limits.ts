/**
 * Every resource bound the HTTP/1.1 server enforces, in one place.
 *
 * A hand-written server on raw TCP is only as safe as its limits: without
 * them one client can make the process buffer unbounded bytes, or hold a
 * socket open forever. Each limit is a named constant with the reason for its
 * value; {@linkcode DEFAULT_LIMITS} bundles them and `serveHttp1` accepts a
 * `Partial<Http1Limits>` to override any of them (tests use tiny values).
 *
 * Worst-case memory is roughly `maxConnections × (maxRequestLineBytes +
 * maxHeaderBytes + maxBodyBytes)` plus what handlers return, because bodies
 * are buffered whole before the handler sees them.
 *
 * @module
 */

/**
 * Longest request line (method, target and version, without CRLF) accepted;
 * longer → `414 URI Too Long`. RFC 9112 §3 asks servers to support at least
 * 8000 octets, and real browsers cap URLs near that too.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { MAX_REQUEST_LINE_BYTES } from "./limits.ts";
 * assertEquals(MAX_REQUEST_LINE_BYTES, 8192);
 * ```
 */
export const MAX_REQUEST_LINE_BYTES = 8192;

/**
 * Most bytes of header field lines (all of them, CRLFs included, request line
 * excluded); more → `431 Request Header Fields Too Large` (RFC 6585 §5).
 * 16 KiB is Node.js's default and fits several large cookies.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { MAX_HEADER_BYTES } from "./limits.ts";
 * assertEquals(MAX_HEADER_BYTES, 16384);
 * ```
 */
export const MAX_HEADER_BYTES = 16384;

/**
 * Most header field lines; more → `431`. 100 is hyper/httparse's default:
 * real requests carry 10–30, and a count cap bounds per-field overhead that a
 * byte cap alone does not (many tiny fields).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { MAX_HEADER_COUNT } from "./limits.ts";
 * assertEquals(MAX_HEADER_COUNT, 100);
 * ```
 */
export const MAX_HEADER_COUNT = 100;

/**
 * Largest decoded request body; larger → `413 Content Too Large` (RFC 9110
 * §15.5.14). 1 MiB is ample for the forms and JSON these servers accept, and
 * bodies are buffered whole, so this is per-connection memory.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { MAX_BODY_BYTES } from "./limits.ts";
 * assertEquals(MAX_BODY_BYTES, 1048576);
 * ```
 */
export const MAX_BODY_BYTES = 1_048_576;

/**
 * Longest chunk-size line in a chunked body (size digits plus ignored chunk
 * extensions); longer → `400`. Extensions are unbounded in the grammar
 * (RFC 9112 §7.1.1), so without this a client could stream an endless
 * "size line" that never counts as body.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { MAX_CHUNK_LINE_BYTES } from "./limits.ts";
 * assertEquals(MAX_CHUNK_LINE_BYTES, 4096);
 * ```
 */
export const MAX_CHUNK_LINE_BYTES = 4096;

/**
 * Time allowed to receive a complete request head, from the connection's
 * accept (first request) or from the first byte of the request (later ones);
 * exceeded → `408 Request Timeout` and close. A real client sends its head in
 * one packet; 10 s tolerates slow links while a slowloris client, trickling
 * one byte at a time, loses its slot quickly.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { HEAD_TIMEOUT_MS } from "./limits.ts";
 * assertEquals(HEAD_TIMEOUT_MS, 10000);
 * ```
 */
export const HEAD_TIMEOUT_MS = 10_000;

/**
 * Time allowed to receive the whole body after the head; exceeded → `408`
 * and close. 30 s for at most 1 MiB means a floor of about 35 KB/s.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { BODY_TIMEOUT_MS } from "./limits.ts";
 * assertEquals(BODY_TIMEOUT_MS, 30000);
 * ```
 */
export const BODY_TIMEOUT_MS = 30_000;

/**
 * How long an idle keep-alive connection waits for its next request before
 * being closed silently (RFC 9112 §9.5 lets either side close an idle
 * connection at any time). 5 s is Node.js's default: long enough for a page's
 * follow-up requests, short enough not to hoard sockets.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { IDLE_TIMEOUT_MS } from "./limits.ts";
 * assertEquals(IDLE_TIMEOUT_MS, 5000);
 * ```
 */
export const IDLE_TIMEOUT_MS = 5_000;

/**
 * Time allowed for each response write to complete. A client that never reads
 * fills the kernel buffers and would otherwise pin the response in memory and
 * the socket open forever. 30 s matches the body timeout.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { WRITE_TIMEOUT_MS } from "./limits.ts";
 * assertEquals(WRITE_TIMEOUT_MS, 30000);
 * ```
 */
export const WRITE_TIMEOUT_MS = 30_000;

/**
 * Most connections served at once. When a new connection arrives with every
 * slot taken, the connection idle longest in keep-alive is closed to make
 * room for it (as nginx does); only when none is idle does it get an
 * immediate `503 Service Unavailable` with `Connection: close`. 512 keeps the
 * process well under the common 1024 file-descriptor limit (leaving room for
 * files and the KV store) and bounds worst-case buffered memory.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { MAX_CONNECTIONS } from "./limits.ts";
 * assertEquals(MAX_CONNECTIONS, 512);
 * ```
 */
export const MAX_CONNECTIONS = 512;

/**
 * Most connections served at once from one client address; beyond it that
 * address's new connections get `503`, while other clients are still let in.
 * Without it one client could hold every slot of {@linkcode MAX_CONNECTIONS}
 * and lock everyone else out. Half the global cap: one address (an attacker,
 * or a NAT in front of many users) never takes more than half the server, and
 * a load test with 256 connections from one machine still fits. nginx's
 * `limit_conn` is the same idea.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { MAX_CONNECTIONS, MAX_CONNECTIONS_PER_CLIENT } from "./limits.ts";
 * assertEquals(MAX_CONNECTIONS_PER_CLIENT, MAX_CONNECTIONS / 2);
 * ```
 */
export const MAX_CONNECTIONS_PER_CLIENT = 256;

/**
 * After an error response the server stops sending (half-close) and reads and
 * discards what the client still sends for at most this long before closing.
 * Closing a socket with unread input makes the kernel send a TCP RST, which
 * can destroy the error response before the client reads it ("lingering
 * close", as nginx and Apache do).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { LINGER_TIMEOUT_MS } from "./limits.ts";
 * assertEquals(LINGER_TIMEOUT_MS, 1000);
 * ```
 */
export const LINGER_TIMEOUT_MS = 1_000;

/**
 * The limits `serveHttp1` enforces; see each constant for the rationale.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { Http1Limits } from "./limits.ts";
 * const tight: Partial<Http1Limits> = { headTimeoutMs: 200, maxConnections: 2 };
 * assertEquals(tight.maxConnections, 2);
 * ```
 */
export interface Http1Limits {
  /** Request line bytes, CRLF excluded (→ 414). Default {@linkcode MAX_REQUEST_LINE_BYTES}. */
  maxRequestLineBytes: number;
  /** Header section bytes, request line excluded (→ 431). Default {@linkcode MAX_HEADER_BYTES}. */
  maxHeaderBytes: number;
  /** Header field lines (→ 431). Default {@linkcode MAX_HEADER_COUNT}. */
  maxHeaderCount: number;
  /** Decoded body bytes (→ 413). Default {@linkcode MAX_BODY_BYTES}. */
  maxBodyBytes: number;
  /** Chunk-size line bytes (→ 400). Default {@linkcode MAX_CHUNK_LINE_BYTES}. */
  maxChunkLineBytes: number;
  /** Milliseconds to receive a full head (→ 408). Default {@linkcode HEAD_TIMEOUT_MS}. */
  headTimeoutMs: number;
  /** Milliseconds to receive the body (→ 408). Default {@linkcode BODY_TIMEOUT_MS}. */
  bodyTimeoutMs: number;
  /** Milliseconds a keep-alive connection may idle (silent close). Default {@linkcode IDLE_TIMEOUT_MS}. */
  idleTimeoutMs: number;
  /** Milliseconds per response write (close). Default {@linkcode WRITE_TIMEOUT_MS}. */
  writeTimeoutMs: number;
  /** Concurrent connections (→ 503). Default {@linkcode MAX_CONNECTIONS}. */
  maxConnections: number;
  /** Concurrent connections from one client address (→ 503). Default {@linkcode MAX_CONNECTIONS_PER_CLIENT}. */
  maxConnectionsPerClient: number;
  /** Milliseconds of lingering close after an error. Default {@linkcode LINGER_TIMEOUT_MS}. */
  lingerTimeoutMs: number;
}

/**
 * The default {@linkcode Http1Limits}, frozen.
 *
 * @example Override one limit
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 * const limits = { ...DEFAULT_LIMITS, headTimeoutMs: 200 };
 * assertEquals(limits.maxHeaderCount, 100);
 * ```
 */
export const DEFAULT_LIMITS: Readonly<Http1Limits> = Object.freeze({
  maxRequestLineBytes: MAX_REQUEST_LINE_BYTES,
  maxHeaderBytes: MAX_HEADER_BYTES,
  maxHeaderCount: MAX_HEADER_COUNT,
  maxBodyBytes: MAX_BODY_BYTES,
  maxChunkLineBytes: MAX_CHUNK_LINE_BYTES,
  headTimeoutMs: HEAD_TIMEOUT_MS,
  bodyTimeoutMs: BODY_TIMEOUT_MS,
  idleTimeoutMs: IDLE_TIMEOUT_MS,
  writeTimeoutMs: WRITE_TIMEOUT_MS,
  maxConnections: MAX_CONNECTIONS,
  maxConnectionsPerClient: MAX_CONNECTIONS_PER_CLIENT,
  lingerTimeoutMs: LINGER_TIMEOUT_MS,
});

/**
 * Merges `overrides` over {@linkcode DEFAULT_LIMITS}, rejecting values that
 * are not positive integers (a `NaN` timeout would silently disable it).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { resolveLimits } from "./limits.ts";
 * assertEquals(resolveLimits({ maxConnections: 2 }).maxConnections, 2);
 * ```
 */
export function resolveLimits(overrides: Partial<Http1Limits> = {}): Http1Limits {
  const limits: Http1Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_LIMITS)) throw new TypeError(`Unknown HTTP/1 limit "${key}"`);
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`HTTP/1 limit ${key} must be a positive integer, got ${value}`);
    }
    limits[key as keyof Http1Limits] = value;
  }
  return limits;
}
