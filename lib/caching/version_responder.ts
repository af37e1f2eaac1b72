/**
 * From a file version and a request to a response: the conditional header
 * fields decide between 200, 206, 304, 412 and 416 (Go's `net/http` calls
 * this half `serveContent`; finding the version is `file_resolver.ts`'s).
 * The protocol decisions live in pure functions ({@linkcode evaluatePreconditions},
 * {@linkcode selectRange}); this module builds the responses they choose.
 * A version held in memory answers from its prebuilt responses; one too
 * large to hold streams its body (or the range's part) from disk, through a
 * descriptor opened and verified per response.
 *
 * @module
 */
import { STATUS_TEXT } from "jsr:@std/http@1.1.3/status";
import type { FileVersion } from "./file_version.ts";
import { evaluatePreconditions } from "./preconditions.ts";
import { contentRange, selectRange, unsatisfiedContentRange } from "./range.ts";
import { sameFileState, streamOpenFile } from "./streamed_file.ts";
import { closeDescriptor, openInsideRoot } from "./verified_read.ts";

export type { FileSignature } from "./file_version.ts";
export type { StreamedFileLocation } from "./file_version.ts";
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
 * The file of a streamed version is no longer that version when a response
 * opens it (changed, replaced or gone since the version was read): the
 * request must be resolved again.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { VersionChangedError } from "./version_responder.ts";
 * assertEquals(new VersionChangedError("/srv/a.bin").realPath, "/srv/a.bin");
 * ```
 */
export class VersionChangedError extends Error {
  /** Always `"VersionChangedError"`. */
  override name = "VersionChangedError";
  /** The file that changed. */
  readonly realPath: string;

  /**
   * Creates the error for one file.
   *
   * @param realPath The file that changed.
   */
  constructor(realPath: string) {
    super(`${realPath} changed since its version was read`);
    this.realPath = realPath;
  }
}

/**
 * Answers a request with a version of a file.
 *
 * @param request The request (its method and conditional header fields).
 * @param version The current version of the file it names.
 * @param source How the version was found, for the log line.
 * @param onAbort Told why when a streamed body stops short because the file
 *   changed while it was sent.
 * @returns The response and the reason for it; a promise when the body is
 *   streamed from disk.
 * @throws {VersionChangedError} (the promise rejects) when a streamed
 *   version's file is no longer that version.
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
 * const { response } = await answerWithVersion(request, version, "from memory");
 * assertEquals(response.status, 304);
 * ```
 */
export function answerWithVersion(
  request: Request,
  version: FileVersion,
  source: string,
  onAbort: (reason: string) => void = () => {},
): Answer | Promise<Answer> {
  const decision = evaluatePreconditions(request.method, request.headers, version);
  const reason = `${decision.reason} (${source})`;
  switch (decision.outcome) {
    case "precondition-failed":
      return plainAnswer(412, reason, version.responseFields);
    case "not-modified":
      return { response: version.notModified.clone(), reason };
    case "evaluate-range":
      return answerWithRange(request, version, source, reason, onAbort);
    case "send-full":
      return answerInFull(request, version, reason, onAbort);
  }
}

/** The 200 with the whole body. */
function answerInFull(
  request: Request,
  version: FileVersion,
  reason: string,
  onAbort: (reason: string) => void,
): Answer | Promise<Answer> {
  // For HEAD, the handler turns it into a body-less response with the same
  // fields and the body's Content-Length (RFC 9110 §9.3.2); a streamed
  // version's `ok` has no body to open the file for.
  if (version.body !== null || request.method === "HEAD") {
    return { response: version.ok.clone(), reason };
  }
  const part = { start: 0, end: version.size - 1, onAbort };
  return answerFromDisk(version, part, 200, version.ok.headers, reason);
}

/**
 * Streams bytes of a version too large to hold from a descriptor of its
 * own, opened and verified like every read, after checking that the file is
 * still the version the response's fields describe.
 */
async function answerFromDisk(
  version: FileVersion,
  part: { start: number; end: number; onAbort: (reason: string) => void },
  status: number,
  headers: Headers,
  reason: string,
): Promise<Answer> {
  const { realPath, realRoot } = version.file!;
  let opened;
  try {
    opened = openInsideRoot(realPath, realRoot);
  } catch {
    // Gone, replaced by something unservable, or swapped: resolving again says which.
    throw new VersionChangedError(realPath);
  }
  if (!sameFileState(version.stat, opened.info)) {
    await closeDescriptor(opened.fd);
    throw new VersionChangedError(realPath);
  }
  const body = streamOpenFile(opened.fd, { ...part, expected: version.stat });
  return { response: new Response(body, { status, headers }), reason };
}

/** The `Range` field decides: 206 with one part, 416, or the full 200. */
function answerWithRange(
  request: Request,
  version: FileVersion,
  source: string,
  reason: string,
  onAbort: (reason: string) => void,
): Answer | Promise<Answer> {
  const { body, size } = version;
  const range = selectRange(request.headers.get("range") ?? "", size);
  if (range.kind === "unsatisfiable") {
    return plainAnswer(416, `${range.reason} (${source})`, {
      ...version.responseFields,
      "content-range": unsatisfiedContentRange(size),
    });
  }
  if (range.kind === "full") {
    return answerInFull(request, version, `${range.reason} (${source})`, onAbort);
  }
  const headers = new Headers(version.ok.headers);
  headers.set("content-range", contentRange(range.start, range.end, size));
  headers.set("content-length", String(range.end + 1 - range.start));
  if (body === null) {
    return answerFromDisk(version, { ...range, onAbort }, 206, headers, reason);
  }
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
