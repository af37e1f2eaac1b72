/**
 * The caching file server as a request handler: {@linkcode FileResolver}
 * finds the version of the file a URL names, {@linkcode answerWithVersion}
 * turns it and the request's conditional header fields into a 200, 206, 304,
 * 412 or 416, and one access-log line per request says what was decided and why.
 *
 * @module
 */
import { printLogLine } from "../access_log.ts";
import type { ChangeMonitor } from "./change_monitor.ts";
import { answerOptions, CORS_RESPONSE_FIELDS } from "./cors.ts";
import { demoPageHeadNote } from "./demo_page_head.ts";
import { Representations } from "./content_coding.ts";
import { DEFAULT_CACHE_BYTES } from "./file_cache.ts";
import { FileResolver, rawPathOf, type Resolution } from "./file_resolver.ts";
import type { FileVersion } from "./file_version.ts";
import { withoutBody } from "./head_response.ts";
import {
  type Answer,
  answerWithVersion,
  plainAnswer,
  VersionChangedError,
} from "./version_responder.ts";

export type { ChangeListener } from "./change_monitor.ts";
export type { ChangeMonitor };

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
   * A page to serve at `/` (and `/index.html`) when the root has no
   * `index.html`, e.g. the demo page next to the module when the server runs
   * from a URL. Fetched once, on first use.
   */
  fallbackIndex?: URL;
  /** Receives one access-log line per request. Default `console.log`. */
  log?: (line: string) => void;
  /** Largest file served; larger ones get 403, with the reason in the body. Default: no limit. */
  maxFileBytes?: number;
  /**
   * Files larger than this are never held in memory: their `ETag` comes from
   * one streaming hashing pass per version, and each response streams the
   * bytes (or a range's) from disk. Default 16 MiB (`DEFAULT_STREAM_ABOVE_BYTES`).
   */
  streamAboveBytes?: number;
  /** Byte budget of the in-memory file cache. Default 256 MiB (`DEFAULT_CACHE_BYTES`). */
  maxCacheBytes?: number;
  /**
   * Reports changes under `root`. With it, a path already resolved is answered
   * from memory until something under the root changes (no `stat` per request),
   * and a change to a file makes the next request read and hash it again;
   * without it, every request checks its file with `stat`. The caller owns it
   * and closes it.
   */
  changes?: ChangeMonitor;
  /**
   * CORS for any origin (`cors.ts`): every response carries
   * `Access-Control-Allow-Origin: *` and exposes the validators and range
   * fields to scripts, and `OPTIONS` (a preflight) is answered. Default off.
   */
  cors?: boolean;
  /**
   * A directory without `index.html` answers with an HTML listing of its
   * entries (`directory_listing.ts`), with its own strong `ETag`, instead of a
   * 404; this replaces `fallbackIndex`. Default off.
   */
  listDirs?: boolean;
  /**
   * Compression (`content_coding.ts`): a compressible file is sent as its
   * precompressed `.br` or `.gz` sibling, or gzipped on the fly, when the
   * request's `Accept-Encoding` prefers it; each representation has its own
   * strong `ETag`, and all carry `Vary: Accept-Encoding`. Default off: every
   * file is sent as its bytes, its `ETag` what `sha256sum` prints.
   */
  compress?: boolean;
}

/**
 * Share of the file-cache budget ({@linkcode CachingHandlerOptions.maxCacheBytes})
 * that compressed representations may take besides it.
 */
const ENCODED_BUDGET_SHARE = 0.25;

/** The methods a static file supports; everything else gets 405 (RFC 9110 §15.5.6). */
const ALLOWED_METHODS = "GET, HEAD";
/** With CORS on, OPTIONS is answered too. */
const ALLOWED_METHODS_WITH_CORS = "GET, HEAD, OPTIONS";

/**
 * Creates the request handler of the caching server.
 *
 * Throws at once (not per request) if `root` does not exist.
 *
 * @param options The root directory and optional settings.
 * @returns A handler for `Deno.serve`. Serve it with `automaticCompression: false`:
 *   compression would weaken the strong `ETag` on 200s but not on 304s.
 *
 * @example Answer a request without a server
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { createCachingHandler } from "./handler.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/index.html`, "<p>hi</p>");
 * const handler = createCachingHandler({ root, log: () => {} });
 * const response = await handler(new Request("http://localhost/"));
 * assertEquals([response.status, await response.text()], [200, "<p>hi</p>"]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function createCachingHandler(
  options: CachingHandlerOptions,
): (request: Request) => Response | Promise<Response> {
  const log = options.log ?? printLogLine;
  const cors = options.cors ?? false;
  const resolver = resolverFor(options, cors);
  const context: AnswerContext = {
    log,
    extraFields: cors ? Object.fromEntries(CORS_RESPONSE_FIELDS) : {},
    representations: options.compress ? representationsOf(resolver, options) : undefined,
  };
  // For the answers that are not about a file version; versions carry their own.
  const corsFields = context.extraFields;

  // Not async: an answer from memory is returned as a Response, not a
  // Promise, and Deno.serve sends it without waiting a turn for a promise.
  return function handleCachingRequest(request: Request): Response | Promise<Response> {
    const rawPath = rawPathOf(request.url);
    let answer: Answer | Promise<Answer>;
    try {
      answer = answerRequest(request, rawPath);
    } catch (error) {
      answer = internalError(error, corsFields);
    }
    if (answer instanceof Promise) {
      return answer.catch((error) => internalError(error, corsFields))
        .then((settled) => logged(request, rawPath, settled, log));
    }
    return logged(request, rawPath, answer, log);
  };

  function answerRequest(
    request: Request,
    rawPath: string,
    attempt = 1,
  ): Answer | Promise<Answer> {
    // A file can be read (GET) or its header fields looked at (HEAD), nothing else;
    // with CORS, a browser may ask first what it may do (OPTIONS).
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") return answerOtherMethod(request, cors, corsFields);
    const resolution = resolver.resolve(request.url, rawPath);
    const answer = resolution instanceof Promise
      ? resolution.then((settled) => answerResolution(request, rawPath, settled, context))
      : answerResolution(request, rawPath, resolution, context);
    if (!(answer instanceof Promise)) return answer;
    return answer.catch((error) =>
      lookAgainIfChanged(
        error,
        resolver,
        attempt,
        corsFields,
        () => answerRequest(request, rawPath, attempt + 1),
      )
    );
  }
}

/** The half that finds file versions, set up from the handler's options. */
function resolverFor(options: CachingHandlerOptions, cors: boolean): FileResolver {
  return new FileResolver({
    root: options.root,
    cacheControl: options.cacheControl ?? "no-cache",
    maxFileBytes: options.maxFileBytes,
    streamAboveBytes: options.streamAboveBytes,
    maxCacheBytes: options.maxCacheBytes,
    fallbackIndex: options.fallbackIndex,
    changes: options.changes,
    // Built into every file version's 200, 206 and 304, so they cost nothing per request.
    responseFields: cors ? CORS_RESPONSE_FIELDS : undefined,
    listDirs: options.listDirs,
    negotiateEncoding: options.compress,
  });
}

/** Logs the request's line and hands over its response (HEAD's without a body). */
function logged(
  request: Request,
  rawPath: string,
  answer: Answer,
  log: (line: string) => void,
): Response | Promise<Response> {
  const method = request.method;
  const note = method === "HEAD" ? demoPageHeadNote(request.url) : "";
  log(`${method} ${rawPath} ${answer.response.status} ${answer.reason}${note}`);
  // HEAD gets the fields a GET would, and no body even over HTTP/2 (head_response.ts).
  return method === "HEAD" ? withoutBody(answer.response) : answer.response;
}

/** With CORS, OPTIONS is answered (`cors.ts`); any other method but GET and HEAD gets 405. */
function answerOtherMethod(
  request: Request,
  cors: boolean,
  corsFields: Record<string, string>,
): Answer {
  if (cors && request.method === "OPTIONS") {
    const { status, headers, reason } = answerOptions(request.headers);
    return { response: new Response(null, { status, headers }), reason };
  }
  const allow = cors ? ALLOWED_METHODS_WITH_CORS : ALLOWED_METHODS;
  return plainAnswer(405, `method ${request.method} not allowed`, { allow, ...corsFields });
}

/** What answering needs besides the request: the log, extra fields, compression. */
interface AnswerContext {
  log: (line: string) => void;
  /** Fields for the answers built per request (CORS's, when on); versions carry their own. */
  extraFields: Record<string, string>;
  /** With compression on: chooses the representation `Accept-Encoding` asks for. */
  representations: Representations | undefined;
}

function representationsOf(resolver: FileResolver, options: CachingHandlerOptions) {
  return new Representations({
    sibling: (version, suffix) => resolver.sibling(version, suffix),
    maxBytes: (options.maxCacheBytes ?? DEFAULT_CACHE_BYTES) * ENCODED_BUDGET_SHARE,
    versionOptions: {
      cacheControl: options.cacheControl ?? "no-cache",
      responseFields: options.cors ? CORS_RESPONSE_FIELDS : undefined,
      negotiateEncoding: true,
    },
  });
}

/**
 * A version's answer (its responses carry their own extra fields), in the
 * representation `Accept-Encoding` chooses when compression is on, or the
 * refusal with the context's extra fields.
 */
function answerResolution(
  request: Request,
  rawPath: string,
  resolution: Resolution,
  context: AnswerContext,
): Answer | Promise<Answer> {
  if (resolution.kind === "refusal") {
    const { status, reason, headers, explanation } = resolution;
    return plainAnswer(status, reason, { ...headers, ...context.extraFields }, explanation);
  }
  const { version, source } = resolution;
  if (context.representations === undefined || !version.negotiated) {
    return answerVersion(request, rawPath, version, source, context.log);
  }
  const chosen = context.representations.select(version, request.headers.get("accept-encoding"));
  if (chosen instanceof Promise) {
    return chosen.then((representation) =>
      answerVersion(
        request,
        rawPath,
        representation.version,
        source + representation.note,
        context.log,
      )
    );
  }
  return answerVersion(request, rawPath, chosen.version, source + chosen.note, context.log);
}

/** {@linkcode answerWithVersion}, logging through `log` a body streamed from disk that stops short. */
function answerVersion(
  request: Request,
  rawPath: string,
  version: FileVersion,
  source: string,
  log: (line: string) => void,
): Answer | Promise<Answer> {
  // Only a body streamed from disk can stop short; the hot path allocates nothing for it.
  const onAbort = version.body === null
    ? (reason: string) =>
      log(`${request.method} ${rawPath} aborted: ${reason}; the response was cut short`)
    : undefined;
  return answerWithVersion(request, version, source, onAbort);
}

/** Times a request looks for a version it can send before it gets 503. */
const VERSION_ATTEMPTS = 3;

/**
 * After a streamed version's file was found changed when a response opened
 * it: forget that version and look again, or answer 503 once it has changed
 * under every attempt. Any other error passes through.
 */
function lookAgainIfChanged(
  error: unknown,
  resolver: FileResolver,
  attempt: number,
  extraFields: Record<string, string>,
  lookAgain: () => Answer | Promise<Answer>,
): Answer | Promise<Answer> {
  if (!(error instanceof VersionChangedError)) throw error;
  resolver.forget(error.realPath);
  if (attempt < VERSION_ATTEMPTS) return lookAgain();
  const reason = `${error.message}, ${attempt} times`;
  return plainAnswer(503, reason, { "retry-after": "1", ...extraFields });
}

/** An exception anywhere in answering: 500, with the error in the log only. */
function internalError(error: unknown, extraFields: Record<string, string>): Answer {
  return plainAnswer(500, `unexpected error: ${error}`, extraFields);
}
