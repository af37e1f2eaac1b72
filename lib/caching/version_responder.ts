/**
 * From a file version and a request to a response: the conditional header
 * fields decide between 200, 206, 304, 412 and 416 (Go's `net/http` calls
 * this half `serveContent`; finding the version is `file_resolver.ts`'s).
 * The protocol decisions live in pure functions ({@linkcode evaluatePreconditions},
 * {@linkcode selectRange}); this module builds the responses they choose.
 *
 * @module
 */
import { STATUS_TEXT } from "jsr:@std/http@1.1.3/status";
import type { FileVersion } from "./file_version.ts";
import { evaluatePreconditions } from "./preconditions.ts";
import { contentRange, selectRange, unsatisfiedContentRange } from "./range.ts";

export type { FileSignature } from "./file_version.ts";
export type { FileVersion };

/** A response and the reason for it, for the access log. */
export interface Answer {
  /** What to send. */
  response: Response;
  /** Why, for the access log. */
  reason: string;
}

/**
 * Parts of a range at most this long are copied into their own response;
 * longer ones are sent as a stream of slices of the shared bytes, so a client
 * asking for `bytes=0-` of a large file does not make the server copy it.
 */
const COPIED_RANGE_BYTES = 64 * 1024;

/**
 * Answers a request with a version of a file.
 *
 * @param request The request (its method and conditional header fields).
 * @param version The current version of the file it names.
 * @param source How the version was found, for the log line.
 * @returns The response and the reason for it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { createFileVersion } from "./file_version.ts";
 * import { answerWithVersion } from "./version_responder.ts";
 * const body = new TextEncoder().encode("hello");
 * const stat = { size: 5, mtimeMs: 0, ctimeMs: null, dev: null, ino: null };
 * const version = await createFileVersion(body, "a.txt", 0, stat);
 * const request = new Request("http://localhost/a.txt", {
 *   headers: { "if-none-match": version.etag },
 * });
 * const { response } = answerWithVersion(request, version, "from memory");
 * assertEquals(response.status, 304);
 * ```
 */
export function answerWithVersion(request: Request, version: FileVersion, source: string): Answer {
  const decision = evaluatePreconditions(request.method, request.headers, version);
  const reason = `${decision.reason} (${source})`;
  switch (decision.outcome) {
    case "precondition-failed":
      return plainAnswer(412, reason, version.responseFields);
    case "not-modified":
      return { response: version.notModified.clone(), reason };
    case "evaluate-range":
      return answerWithRange(request, version, source, reason);
    case "send-full":
      // For HEAD too: the handler turns it into a body-less response with the
      // same fields and the body's Content-Length (RFC 9110 §9.3.2).
      return { response: version.ok.clone(), reason };
  }
}

/** The `Range` field decides: 206 with one part, 416, or the full 200. */
function answerWithRange(
  request: Request,
  version: FileVersion,
  source: string,
  reason: string,
): Answer {
  const { body } = version;
  const range = selectRange(request.headers.get("range") ?? "", body.length);
  if (range.kind === "unsatisfiable") {
    return plainAnswer(416, `${range.reason} (${source})`, {
      ...version.responseFields,
      "content-range": unsatisfiedContentRange(body.length),
    });
  }
  if (range.kind === "full") {
    return { response: version.ok.clone(), reason: `${range.reason} (${source})` };
  }
  const headers = new Headers(version.ok.headers);
  headers.set("content-range", contentRange(range.start, range.end, body.length));
  headers.set("content-length", String(range.end + 1 - range.start));
  const part = body.subarray(range.start, range.end + 1);
  const content = part.length <= COPIED_RANGE_BYTES ? part : streamOf(part);
  return { response: new Response(content, { status: 206, headers }), reason };
}

/** The bytes as a stream of copied slices, one per pull: memory per response stays small. */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      const end = Math.min(offset + COPIED_RANGE_BYTES, bytes.length);
      controller.enqueue(bytes.slice(offset, end));
      offset = end;
      if (offset === bytes.length) controller.close();
    },
  }, { highWaterMark: 0 });
}

/**
 * A short plain-text response for everything that is not a file: the status
 * line's words, and `explanation` when the client should know why.
 *
 * @param status The status code.
 * @param reason For the access log.
 * @param headers Extra header fields (`Location`, `Allow`, `Content-Range`).
 * @param explanation A sentence for the body.
 * @returns The response and its reason.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { plainAnswer } from "./version_responder.ts";
 * const { response, reason } = plainAnswer(404, "no such file");
 * assertEquals([response.status, reason], [404, "no such file"]);
 * assertEquals(await response.text(), "404 Not Found\n");
 * ```
 */
export function plainAnswer(
  status: number,
  reason: string,
  headers: Record<string, string> = {},
  explanation?: string,
): Answer {
  const words = `${status} ${STATUS_TEXT[status as keyof typeof STATUS_TEXT]}\n`;
  const body = explanation === undefined ? words : `${words}${explanation}\n`;
  return {
    response: new Response(body, {
      status,
      headers: { "content-type": "text/plain; charset=UTF-8", ...headers },
    }),
    reason,
  };
}
