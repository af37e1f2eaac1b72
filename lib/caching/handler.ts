/**
 * The caching file server as a request handler: maps a URL to a file under the
 * root, then answers with 200, 206, 304, 412 or 416 according to the
 * validators of that file and the conditional header fields of the request.
 *
 * The protocol decisions live in pure functions ({@linkcode evaluatePreconditions},
 * {@linkcode selectRange}, {@linkcode decodeRequestPath}); this module is the
 * thin shell that does the I/O around them and writes one access-log line per
 * request saying what was decided and why.
 *
 * @module
 */
import { STATUS_TEXT } from "jsr:@std/http@1.1.3/status";
import { join } from "jsr:@std/path@1.1.6/join";
import { printLogLine } from "../access_log.ts";
import type { ChangeMonitor } from "./change_monitor.ts";
import { demoPageHeadNote } from "./demo_page_head.ts";
import { FileCache, OutsideRootError } from "./file_cache.ts";
import { withoutBody } from "./head_response.ts";
import { createFileVersion, type FileVersion } from "./file_version.ts";
import { parseHttpDate } from "../http_date.ts";
import { evaluatePreconditions } from "./preconditions.ts";
import { contentRange, selectRange, unsatisfiedContentRange } from "./range.ts";
import { decodeRequestPath } from "./request_path.ts";

/** Options for {@linkcode createCachingHandler}. */
export interface CachingHandlerOptions {
  /** Directory to serve. Files outside it, also via symbolic links, are never served. */
  root: string;
  /**
   * `Cache-Control` for every file response. Default `no-cache`: browsers
   * store the file but revalidate on every use, so each reload shows the
   * 200-or-304 decision.
   */
  cacheControl?: string;
  /**
   * A page to serve at `/` when the root has no `index.html`, e.g. the demo
   * page next to the module when the server runs from a URL. Fetched once,
   * on first use.
   */
  fallbackIndex?: URL;
  /** Receives one access-log line per request. Default `console.log`. */
  log?: (line: string) => void;
  /**
   * Largest file served; larger ones get 403. Every file is held in memory
   * whole (its `ETag` is a digest of all its bytes), so this bounds what one
   * request can make the server read. Default {@linkcode DEFAULT_MAX_FILE_BYTES}.
   */
  maxFileBytes?: number;
  /** Byte budget of the in-memory file cache. Default 256 MiB (`DEFAULT_CACHE_BYTES`). */
  maxCacheBytes?: number;
  /**
   * Reports changes under `root`. With it, a path already resolved is answered
   * from memory until something under the root changes (no `stat` per request);
   * without it, every request checks its file with `stat`. The caller owns it
   * and closes it.
   */
  changes?: ChangeMonitor;
}

/**
 * Most raw URL paths remembered with a change monitor; past it the memory
 * starts over. Each distinct spelling of a path is an entry, so the bound
 * keeps a client from growing it without limit.
 */
const MAX_RESOLVED_PATHS = 10_000;

/**
 * Default {@linkcode CachingHandlerOptions.maxFileBytes}: 64 MiB, far above
 * any page or script, well below what a 2 GiB video would cost.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_FILE_BYTES } from "./handler.ts";
 * console.log(DEFAULT_MAX_FILE_BYTES / 2 ** 20); // 64
 * ```
 */
export const DEFAULT_MAX_FILE_BYTES = 64 * 2 ** 20;

/** The methods a static file supports; everything else gets 405 (RFC 9110 §15.5.6). */
const ALLOWED_METHODS = "GET, HEAD";

/** A response and the reason for it, for the access log. */
interface Answer {
  response: Response;
  reason: string;
}

/** What a URL path leads to: a version of a file to answer with, or the answer refusing it. */
type FoundVersion =
  | { kind: "version"; version: FileVersion; source: string }
  | { kind: "answer"; answer: Answer };

/** Where a URL path led: a file, the fallback index page, or a refusal. */
type FoundFile =
  | { kind: "file"; path: string; info: Deno.FileInfo }
  | { kind: "fallback"; load: () => Promise<FileVersion> }
  | { kind: "refused"; answer: Answer };

/**
 * Creates the request handler of the caching server.
 *
 * Throws at once (not per request) if `root` does not exist.
 *
 * @param options The root directory and optional settings.
 * @returns A handler for `Deno.serve`. Serve it with `automaticCompression: false`:
 *   compression would weaken the strong `ETag` on 200s but not on 304s.
 *
 * @example Embed the handler in your own server
 * ```ts ignore
 * import { createCachingHandler } from "./handler.ts";
 * const handler = createCachingHandler({ root: "./public", log: () => {} });
 * Deno.serve({ port: 8000, automaticCompression: false }, handler);
 * ```
 */
export function createCachingHandler(
  options: CachingHandlerOptions,
): (request: Request) => Response | Promise<Response> {
  const root = Deno.realPathSync(options.root);
  const cacheControl = options.cacheControl ?? "no-cache";
  const log = options.log ?? printLogLine;
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const cache = new FileCache(root, options.maxCacheBytes);
  const fallbackIndex = options.fallbackIndex &&
    memoizeFallbackIndex(options.fallbackIndex, Date.now());

  /**
   * With a change monitor: per raw URL path, the version an earlier request
   * resolved it to, and the monitor's generation before that lookup began.
   * While the generation stands still, nothing under the root has changed, so
   * the same path still leads to the same bytes: no decoding, no `stat`.
   */
  const resolvedPaths = new Map<string, { version: FileVersion; generation: number }>();
  const { changes } = options;
  const responsesByVersion = new WeakMap<FileVersion, VersionResponses>();

  // Not async: an answer from memory is returned as a Response, not a
  // Promise, and Deno.serve sends it without waiting a turn for a promise.
  return function handleCachingRequest(request: Request): Response | Promise<Response> {
    const rawPath = rawPathOf(request.url);
    let answer: Answer | Promise<Answer>;
    try {
      answer = route(request, rawPath);
    } catch (error) {
      answer = internalError(error);
    }
    if (answer instanceof Promise) {
      return answer.catch(internalError).then((settled) => send(request, rawPath, settled));
    }
    return send(request, rawPath, answer);
  };

  function send(request: Request, rawPath: string, answer: Answer): Response | Promise<Response> {
    const method = request.method;
    const note = method === "HEAD" ? demoPageHeadNote(request.url) : "";
    log(`${method} ${rawPath} ${answer.response.status} ${answer.reason}${note}`);
    return request.method === "HEAD" ? withoutBody(answer.response) : answer.response;
  }

  function route(request: Request, rawPath: string): Answer | Promise<Answer> {
    // 1. A file can be read (GET) or its header fields looked at (HEAD), nothing else.
    if (request.method !== "GET" && request.method !== "HEAD") {
      return respondWith(405, `method ${request.method} not allowed`, { allow: ALLOWED_METHODS });
    }
    // 2. Nothing changed on disk since this path was last resolved: answer from
    //    memory, synchronously.
    const resolved = changes?.watching ? resolvedPaths.get(rawPath) : undefined;
    if (resolved !== undefined && resolved.generation === changes!.generation) {
      return respondWithVersion(
        request,
        resolved.version,
        "no file event since last checked: no disk access",
      );
    }
    return lookUp(request, rawPath);
  }

  /**
   * Looks on disk, and remembers what was found as of the generation seen
   * *before* looking: a change during the lookup makes it stale at once.
   */
  async function lookUp(request: Request, rawPath: string): Promise<Answer> {
    const generation = changes?.generation ?? 0;
    const found = await findVersion(request);
    if (found.kind === "answer") return found.answer;
    if (changes !== undefined) {
      if (resolvedPaths.size >= MAX_RESOLVED_PATHS) resolvedPaths.clear();
      resolvedPaths.set(rawPath, { version: found.version, generation });
    }
    return respondWithVersion(request, found.version, found.source);
  }

  /** Finds the current version of the file a request names, or the answer refusing it. */
  async function findVersion(request: Request): Promise<FoundVersion> {
    const { pathname, search } = new URL(request.url);
    // Decode the path, refusing anything that could name a file outside the root.
    const decoded = decodeRequestPath(pathname);
    if (!decoded.ok) return { kind: "answer", answer: respondWith(decoded.status, decoded.reason) };

    // Find the file; a directory stands for its index.html.
    const found = findFile(decoded.segments, decoded.endsWithSlash, pathname, search);
    if (found.kind === "refused") return { kind: "answer", answer: found.answer };
    if (found.kind === "fallback") {
      return {
        kind: "version",
        version: await found.load(),
        source: "demo page: root has no index.html",
      };
    }

    // The current version: if the cached one still matches stat, that stat was all the I/O.
    const { path, info } = found;
    const cached = cache.lookup(path, info);
    if (cached !== undefined) {
      return { kind: "version", version: cached, source: "unchanged on disk: stat only" };
    }
    try {
      return { kind: "version", version: await cache.load(path), source: "file read and hashed" };
    } catch (error) {
      cache.forget(path);
      if (error instanceof OutsideRootError) {
        return { kind: "answer", answer: respondWith(404, "symbolic link leads outside the root") };
      }
      if (error instanceof Deno.errors.NotFound) {
        return { kind: "answer", answer: respondWith(404, "no such file") };
      }
      throw error;
    }
  }

  /**
   * Maps decoded segments to a regular file under the root and its stat.
   *
   * A URL ending in "/" names a directory, and stands for its index.html: that
   * file is stat-ed directly, so `/` costs one stat like any other file. A
   * directory URL without the slash is redirected to have one, because relative
   * links in its index.html resolve against the URL (Go's net/http does the same).
   */
  function findFile(
    segments: string[],
    endsWithSlash: boolean,
    pathname: string,
    search: string,
  ): FoundFile {
    const path = endsWithSlash ? join(root, ...segments, "index.html") : join(root, ...segments);
    const info = statOrError(path);
    if (info instanceof Error) {
      if (info instanceof Deno.errors.PermissionDenied || info instanceof Deno.errors.NotCapable) {
        return refused(403, `cannot read: ${info.message}`);
      }
      // Anything else that stops stat (a symlink loop, a name too long) also means
      // there is no file to serve; the log keeps the operating system's words.
      if (!(info instanceof Deno.errors.NotFound || info instanceof Deno.errors.NotADirectory)) {
        return refused(404, info.message);
      }
      if (!endsWithSlash) return refused(404, "no such file");
      if (segments.length === 0 && fallbackIndex) return { kind: "fallback", load: fallbackIndex };
      return refused(404, "no such directory, or it has no index.html");
    }
    if (info.isDirectory && !endsWithSlash) {
      const location = `${pathname}/${search}`;
      return refused(301, `directory: redirect to ${location}`, { location });
    }
    if (!info.isFile) return refused(404, "not a regular file");
    if (info.size > maxFileBytes) {
      return refused(403, `file of ${info.size} bytes exceeds the ${maxFileBytes}-byte limit`);
    }
    return { kind: "file", path, info };
  }

  function respondWithVersion(request: Request, version: FileVersion, source: string): Answer {
    const decision = evaluatePreconditions(request.method, request.headers, version);
    const reason = `${decision.reason} (${source})`;
    switch (decision.outcome) {
      case "precondition-failed":
        return respondWith(412, reason);
      case "not-modified":
        // RFC 9110 §15.4.5: the fields a 200 would carry to update a cache, no content.
        return { response: responsesOf(version).notModified.clone(), reason };
      case "evaluate-range": {
        const range = selectRange(request.headers.get("range") ?? "", version.body.length);
        if (range.kind === "unsatisfiable") {
          return respondWith(416, `${range.reason} (${source})`, {
            "content-range": unsatisfiedContentRange(version.body.length),
          });
        }
        if (range.kind === "full") return sendFull(version, `${range.reason} (${source})`);
        const headers = new Headers(responsesOf(version).ok.headers);
        headers.set("content-range", contentRange(range.start, range.end, version.body.length));
        const part = version.body.subarray(range.start, range.end + 1);
        return { response: new Response(part, { status: 206, headers }), reason };
      }
      case "send-full":
        return sendFull(version, reason);
    }
  }

  /**
   * The full body. For HEAD too: `send` turns it into a body-less response
   * with the same fields and the body's Content-Length (RFC 9110 §9.3.2).
   * Content-Length itself is left to Deno.serve, which knows the body's size.
   */
  function sendFull(version: FileVersion, reason: string): Answer {
    return { response: responsesOf(version).ok.clone(), reason };
  }

  /**
   * A version's 200 and 304 responses, built once per version and cloned per
   * request. Building one validates every header field (about 3.9 µs for the
   * 200's five); a clone copies the validated fields and shares the body
   * bytes, which nothing modifies (about 0.1 µs). The originals are never sent,
   * so their bodies are never consumed. `Date` is not among the fields:
   * Deno.serve adds the current one to every response, and `Last-Modified`,
   * clamped to a second before the file was read, can never be later (RFC 9110
   * §8.8.2.1), even though that `Date` can lag the clock by a second.
   */
  function responsesOf(version: FileVersion): VersionResponses {
    let responses = responsesByVersion.get(version);
    if (responses === undefined) {
      // ETag, Last-Modified and Cache-Control: what 200, 206 and 304 share.
      const validators: [string, string][] = [
        ["etag", version.etag],
        ["last-modified", version.lastModifiedHeader],
        ["cache-control", cacheControl],
      ];
      const fullFields: [string, string][] = [
        ...validators,
        ["content-type", version.contentType],
        ["accept-ranges", "bytes"],
      ];
      responses = {
        ok: new Response(version.body, { status: 200, headers: fullFields }),
        notModified: new Response(null, { status: 304, headers: validators }),
      };
      responsesByVersion.set(version, responses);
    }
    return responses;
  }
}

/** Templates of a version's responses: only ever cloned, never sent themselves. */
interface VersionResponses {
  ok: Response;
  notModified: Response;
}

/** `Deno.statSync`, with the error returned rather than thrown. */
function statOrError(path: string): Deno.FileInfo | Error {
  // statSync, not await Deno.stat: on the 304 path the stat is all the I/O there
  // is, and skipping the trip through the event loop matters. Against Deno.serve
  // returning a constant body, the project measured 0.56x that throughput with
  // statSync and 0.36x with Deno.stat. The price: a slow disk stalls every
  // connection for the length of one stat, acceptable for local files.
  try {
    return Deno.statSync(path);
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
}

function refused(status: number, reason: string, headers?: Record<string, string>): FoundFile {
  return { kind: "refused", answer: respondWith(status, reason, headers) };
}

/** An exception anywhere in answering: 500, with the error in the log only. */
function internalError(error: unknown): Answer {
  return respondWith(500, `unexpected error: ${error}`);
}

/** A short plain-text response for everything that is not a file. */
function respondWith(status: number, reason: string, headers: Record<string, string> = {}): Answer {
  const body = `${status} ${STATUS_TEXT[status as keyof typeof STATUS_TEXT]}\n`;
  return {
    response: new Response(body, {
      status,
      headers: { "content-type": "text/plain; charset=UTF-8", ...headers },
    }),
    reason,
  };
}

/**
 * Loads the fallback index page on first use and keeps it. Its `ETag` comes
 * from its bytes; `Last-Modified` from the response that delivered it when
 * present (an http(s): URL), else the time the server started: a file: fetch
 * reports no modification time. A failed load is retried on the next request.
 */
function memoizeFallbackIndex(url: URL, startedAtMs: number): () => Promise<FileVersion> {
  let loading: Promise<FileVersion> | undefined;
  return () => {
    loading ??= loadPage(url, startedAtMs).catch((error) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

async function loadPage(url: URL, startedAtMs: number): Promise<FileVersion> {
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`fetching ${url} gave ${response.status}`);
  }
  const body = await response.bytes();
  const lastModified = parseHttpDate(response.headers.get("last-modified") ?? "");
  const modifiedMs = lastModified === undefined ? startedAtMs : lastModified * 1000;
  const stat = { size: body.length, mtimeMs: modifiedMs, ctimeMs: null, ino: null };
  return await createFileVersion(body, url.pathname, modifiedMs, stat);
}

/**
 * The path of a request URL as the client sent it (`http://host/a/b?q` → `/a/b`),
 * without the cost of a full URL parse; used as a key and in the log, never to
 * name a file.
 */
function rawPathOf(url: string): string {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart === -1) return "/";
  const queryStart = url.indexOf("?", pathStart);
  return queryStart === -1 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
}
