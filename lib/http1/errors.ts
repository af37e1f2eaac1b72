/**
 * The one error type of the HTTP/1.1 layer: {@linkcode RequestError}.
 *
 * Every way a request can fail to be received — malformed syntax, a smuggling
 * shape, a limit, a timeout — has its own {@linkcode RequestErrorCode}, and
 * each code maps to exactly one response status in {@linkcode ERROR_STATUS}.
 * The server turns any `RequestError` into that status, a short text body,
 * `Connection: close`, and one log line built from {@linkcode RequestError.message}.
 *
 * @module
 */
import { STATUS_TEXT } from "jsr:@std/http@1.1.3/status";

/**
 * Failure kind → response status. After any of these the connection is
 * closed: once framing is in doubt, the next byte cannot be trusted to start
 * a request (RFC 9112 §6.3, §9.6).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { ERROR_STATUS } from "./errors.ts";
 * assertEquals(ERROR_STATUS.BARE_LF, 400);
 * ```
 */
export const ERROR_STATUS = {
  // 400 Bad Request — malformed syntax (RFC 9112 §2.2, §3, §5).
  BARE_LF: 400,
  BARE_CR: 400,
  INVALID_REQUEST_LINE: 400,
  INVALID_METHOD: 400,
  INVALID_TARGET: 400,
  ASTERISK_NOT_OPTIONS: 400,
  INVALID_VERSION: 400,
  OBS_FOLD: 400,
  WHITESPACE_BEFORE_COLON: 400,
  MISSING_COLON: 400,
  INVALID_FIELD_NAME: 400,
  INVALID_FIELD_VALUE: 400,
  // 400 — Host (RFC 9112 §3.2).
  HOST_MISSING: 400,
  HOST_REPEATED: 400,
  HOST_INVALID: 400,
  // 400 — message framing (RFC 9112 §6); the request-smuggling shapes.
  INVALID_CONTENT_LENGTH: 400,
  DUPLICATE_CONTENT_LENGTH: 400,
  CONTENT_LENGTH_WITH_TRANSFER_ENCODING: 400,
  TRANSFER_ENCODING_IN_HTTP10: 400,
  INVALID_TRANSFER_ENCODING: 400,
  CHUNKED_NOT_FINAL: 400,
  INVALID_CHUNK_SIZE: 400,
  CHUNK_SIZE_OVERFLOW: 400,
  CHUNK_LINE_TOO_LONG: 400,
  INVALID_CHUNK_EXTENSION: 400,
  MISSING_CHUNK_CRLF: 400,
  UNEXPECTED_EOF: 400,
  // 408 Request Timeout (RFC 9110 §15.5.9).
  HEAD_TIMEOUT: 408,
  BODY_TIMEOUT: 408,
  // 413 Content Too Large (RFC 9110 §15.5.14).
  BODY_TOO_LARGE: 413,
  // 414 URI Too Long (RFC 9110 §15.5.15).
  REQUEST_LINE_TOO_LONG: 414,
  // 431 Request Header Fields Too Large (RFC 6585 §5).
  HEADERS_TOO_LARGE: 431,
  TOO_MANY_HEADERS: 431,
  // 501 Not Implemented (RFC 9110 §15.6.2).
  METHOD_NOT_IMPLEMENTED: 501,
  CONNECT_NOT_IMPLEMENTED: 501,
  TRACE_NOT_IMPLEMENTED: 501,
  TRANSFER_CODING_NOT_IMPLEMENTED: 501,
  // 503 Service Unavailable (RFC 9110 §15.6.4): refused at accept, before any request.
  CONNECTION_LIMIT: 503,
  CLIENT_CONNECTION_LIMIT: 503,
  // 505 HTTP Version Not Supported (RFC 9110 §15.6.6).
  VERSION_NOT_SUPPORTED: 505,
} as const;

/**
 * One code per failure kind; see {@linkcode ERROR_STATUS} for its status.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { ERROR_STATUS, type RequestErrorCode } from "./errors.ts";
 * const code: RequestErrorCode = "CONTENT_LENGTH_WITH_TRANSFER_ENCODING";
 * assertEquals(ERROR_STATUS[code], 400);
 * ```
 */
export type RequestErrorCode = keyof typeof ERROR_STATUS;

/**
 * A request that could not be received: malformed, over a limit, or too slow.
 * `status` is derived from `code`, so the two can never disagree; `reason`
 * says precisely why, citing the RFC; `message` is the ready-made log line,
 * e.g. `400 Bad Request: Content-Length and Transfer-Encoding both present
 * (RFC 9112 §6.3)`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { RequestError } from "./errors.ts";
 * const err = new RequestError("BARE_LF", "bare LF line terminator (RFC 9112 §2.2)");
 * assertEquals([err.status, err.message], [400, "400 Bad Request: bare LF line terminator (RFC 9112 §2.2)"]);
 * ```
 */
export class RequestError extends Error {
  /** Always `"RequestError"`. */
  override name = "RequestError";
  /** The failure kind. */
  readonly code: RequestErrorCode;
  /** The response status for this failure kind. */
  readonly status: number;
  /** Human explanation with the RFC section, without the status prefix. */
  readonly reason: string;

  /** Builds the error; `status` comes from {@linkcode ERROR_STATUS}. */
  constructor(code: RequestErrorCode, reason: string) {
    const status = ERROR_STATUS[code];
    super(`${status} ${statusText(status)}: ${reason}`);
    this.code = code;
    this.status = status;
    this.reason = reason;
  }
}

/**
 * The standard reason phrase for `status`, or `""` when it has none (a reason
 * phrase may be empty, RFC 9112 §4).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { statusText } from "./errors.ts";
 * assertEquals(statusText(431), "Request Header Fields Too Large");
 * ```
 */
export function statusText(status: number): string {
  return (STATUS_TEXT as Record<number, string | undefined>)[status] ?? "";
}

/**
 * The error for a bare LF ending a line of `part` (the head, a chunk-size
 * line, a trailer): lines must end in CRLF (RFC 9112 §2.2).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { bareLfError } from "./errors.ts";
 * const error = bareLfError("chunked body");
 * assertEquals([error.code, error.status], ["BARE_LF", 400]);
 * ```
 */
export function bareLfError(part: string): RequestError {
  return new RequestError(
    "BARE_LF",
    `bare LF line terminator in ${part}; lines must end in CRLF (RFC 9112 §2.2)`,
  );
}

/**
 * The error for a CR not followed by LF (RFC 9112 §2.2).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { bareCrError } from "./errors.ts";
 * assertEquals(bareCrError().code, "BARE_CR");
 * ```
 */
export function bareCrError(): RequestError {
  return new RequestError("BARE_CR", "bare CR not followed by LF (RFC 9112 §2.2)");
}
