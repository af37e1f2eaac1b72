/**
 * From a request URL to a file version: decoding the path, finding the file
 * (a directory stands for its `index.html`), and getting its current version
 * from the {@linkcode FileCache}, or the refusal to answer instead. This is
 * the half of a static file server that Go's `net/http` calls `serveFile`;
 * turning the version into a response is `VersionResponder`'s half
 * (`version_responder.ts`), Go's `serveContent`.
 *
 * @module
 */
import { join } from "jsr:@std/path@1.1.6/join";
import type { ChangeMonitor } from "./change_monitor.ts";
import { DEFAULT_CACHE_BYTES, FileCache, fileKey } from "./file_cache.ts";
import { FileKeepsChangingError } from "./streamed_file.ts";
import { ListingVersions } from "./listing_versions.ts";
import {
  createFileVersion,
  type FileSignature,
  type FileVersion,
  type FileVersionOptions,
} from "./file_version.ts";
import { parseHttpDate } from "../http_date.ts";
import { decodeRequestPath, directoryRedirect } from "./request_path.ts";
import { tooLarge, UnservableFileError } from "./verified_read.ts";

export type { ChangeListener } from "./change_monitor.ts";
export type { FileSignature } from "./file_version.ts";
export type { StreamedFileLocation } from "./file_version.ts";
export type { ChangeMonitor, FileVersion };

/** Where a request URL led: a version to answer with, or the refusal to send instead. */
export type Resolution =
  | {
    kind: "version";
    version: FileVersion;
    /** How the version was found, for the access log. */
    source: string;
  }
  | {
    kind: "refusal";
    status: number;
    /** For the access log. */
    reason: string;
    headers?: Record<string, string>;
    /** What to tell the client in the body, when the status alone would puzzle it. */
    explanation?: string;
  };

/** Options for {@linkcode FileResolver}. */
export interface FileResolverOptions {
  /** Directory to serve. Files outside it, also via symbolic links, are never served. */
  root: string;
  /** Largest file served; larger ones are refused with 403. Default: no limit. */
  maxFileBytes?: number;
  /** Files larger than this are streamed from disk, not held in memory (see `FileCache`). */
  streamAboveBytes?: number;
  /** `Cache-Control` of every file response. Default `no-cache`. */
  cacheControl?: string;
  /** Byte budget of the file cache. Default {@linkcode DEFAULT_CACHE_BYTES}. */
  maxCacheBytes?: number;
  /** A page to serve at `/` and `/index.html` when the root has no `index.html`. */
  fallbackIndex?: URL;
  /**
   * Reports changes under `root`. With it, a URL spelling already resolved is
   * answered from memory until something under the root changes; without it,
   * every request checks its file with `stat`. The caller owns it.
   */
  changes?: ChangeMonitor;
  /** Fields every response carries besides its own (CORS's, when on). */
  responseFields?: [string, string][];
  /** A directory without `index.html` gets a listing of its entries instead of a 404. */
  listDirs?: boolean;
  /** Compression is on: compressible versions vary with `Accept-Encoding`. */
  negotiateEncoding?: boolean;
}

/**
 * Most URL spellings remembered with a change monitor, and the longest one:
 * each distinct spelling of a path is an entry, so the bounds keep a client
 * from growing the memory without limit (about 10,000 × 1 KiB at most). An
 * entry names a file in the cache, never holds its bytes.
 */
const MAX_REMEMBERED_PATHS = 10_000;
const MAX_REMEMBERED_PATH_LENGTH = 1024;

/** What an earlier request found for a URL spelling, as of a monitor generation. */
type Remembered =
  | { generation: number; key: string; stat: FileSignature }
  | { generation: number; fallback: FileVersion };

/** What an earlier look for a sibling found, as of a monitor generation: a version, or none. */
type RememberedSibling =
  | { generation: number; key: string; stat: FileSignature }
  | { generation: number; missing: true };

/** Where decoded segments led on disk. */
type Located =
  | { kind: "file"; path: string; info: Deno.FileInfo }
  | { kind: "fallback"; load: () => Promise<FileVersion> }
  | { kind: "listing"; segments: string[] }
  | Extract<Resolution, { kind: "refusal" }>;

const FROM_MEMORY = "no file event since last checked: no disk access";

/**
 * Resolves request URLs to versions of files under a root.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { FileResolver } from "./file_resolver.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * const resolver = new FileResolver({ root, maxFileBytes: 1024 });
 * const found = await resolver.resolve("http://localhost/a.txt", "/a.txt");
 * assertEquals(found.kind === "version" && found.version.size, 5);
 * assertEquals((await resolver.resolve("http://localhost/b.txt", "/b.txt")).kind, "refusal");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export class FileResolver {
  readonly #root: string;
  readonly #cache: FileCache;
  readonly #maxFileBytes: number;
  readonly #fallbackIndex?: () => Promise<FileVersion>;
  readonly #changes?: ChangeMonitor;
  /** With `listDirs`: the listings of directories without an `index.html`. */
  readonly #listings?: ListingVersions;
  /** With a change monitor: per raw URL path, what an earlier request found. */
  readonly #remembered = new Map<string, Remembered>();
  /** With a change monitor: per sibling path (`app.js.gz`), what an earlier look found. */
  readonly #siblings = new Map<string, RememberedSibling>();

  /**
   * Throws at once (not per request) if `root` does not exist.
   *
   * @param options The root and the limits.
   */
  constructor(options: FileResolverOptions) {
    this.#root = Deno.realPathSync(options.root);
    this.#maxFileBytes = options.maxFileBytes ?? Number.POSITIVE_INFINITY;
    const cacheControl = options.cacheControl ?? "no-cache";
    const { responseFields, changes, negotiateEncoding } = options;
    this.#cache = new FileCache(this.#root, {
      maxBytes: options.maxCacheBytes ?? DEFAULT_CACHE_BYTES,
      maxFileBytes: this.#maxFileBytes,
      streamAboveBytes: options.streamAboveBytes,
      cacheControl,
      responseFields,
      negotiateEncoding,
    });
    this.#fallbackIndex = options.fallbackIndex &&
      memoizeFallbackIndex(options.fallbackIndex, Date.now(), {
        cacheControl,
        responseFields,
        negotiateEncoding,
      });
    if (options.listDirs) {
      this.#listings = new ListingVersions(this.#root, { cacheControl, responseFields, changes });
    }
    this.#changes = changes;
    this.#changes?.onChange((paths) => this.#cache.invalidate(paths));
  }

  /** Bytes of file content the cache holds. */
  get cachedBytes(): number {
    return this.#cache.size;
  }

  /**
   * Forgets the version of the file at `realPath`: the next request for it
   * reads it again. For a response that found the file changed since its
   * version was read, before a file-system event said so.
   *
   * @param realPath The file's real path, as a version's `file` gives it.
   */
  forget(realPath: string): void {
    this.#cache.invalidate([realPath]);
  }

  /**
   * The version of the file `url` names, or the refusal to send. Synchronous
   * when nothing changed on disk since the same spelling was last resolved.
   *
   * @param url The request URL.
   * @param rawPath Its path as sent (see {@linkcode rawPathOf}), the memo's key.
   */
  resolve(url: string, rawPath: string): Resolution | Promise<Resolution> {
    const remembered = this.#changes?.watching ? this.#remembered.get(rawPath) : undefined;
    if (remembered !== undefined && remembered.generation === this.#changes!.generation) {
      if ("fallback" in remembered) {
        return { kind: "version", version: remembered.fallback, source: FROM_MEMORY };
      }
      const version = this.#cache.current(remembered.key, remembered.stat);
      if (version !== undefined) return { kind: "version", version, source: FROM_MEMORY };
    }
    return this.#resolveAndRemember(url, rawPath);
  }

  /**
   * The current version of the file next to `version`'s with `suffix` added
   * to its name (`app.js` → `app.js.gz`), if there is one that can be served:
   * a precompressed sibling. Read and checked like any file; with a change
   * monitor, what was found (or not) is remembered until something changes,
   * so asking costs no system call.
   *
   * @param version A version read from a file under the root.
   * @param suffix What the sibling's name adds: `.gz`, `.br`.
   * @returns The sibling's version, or `undefined`.
   */
  sibling(
    version: FileVersion,
    suffix: string,
  ): FileVersion | undefined | Promise<FileVersion | undefined> {
    if (version.realPath === null) return undefined;
    const path = version.realPath + suffix;
    const generation = this.#changes?.watching ? this.#changes.generation : undefined;
    const remembered = generation === undefined ? undefined : this.#siblings.get(path);
    if (remembered !== undefined && remembered.generation === generation) {
      if ("missing" in remembered) return undefined;
      const current = this.#cache.current(remembered.key, remembered.stat);
      if (current !== undefined) return current;
    }
    return this.#lookForSibling(path, generation);
  }

  async #lookForSibling(
    path: string,
    generation: number | undefined,
  ): Promise<FileVersion | undefined> {
    const info = statOrError(path);
    // A sibling that cannot be read (permissions, a fault) is no sibling: the
    // file itself is still served.
    const found = info instanceof Error || !info.isFile
      ? undefined
      : await this.#currentVersion(path, info).catch(() => undefined);
    const version = found?.kind === "version" ? found.version : undefined;
    if (generation !== undefined && path.length <= MAX_REMEMBERED_PATH_LENGTH) {
      if (this.#siblings.size >= MAX_REMEMBERED_PATHS) this.#siblings.clear();
      const { stat } = version ?? {};
      this.#siblings.set(
        path,
        stat === undefined
          ? { generation, missing: true }
          : { generation, key: fileKey(path, stat.dev, stat.ino), stat },
      );
    }
    return version;
  }

  /**
   * Looks on disk, and remembers what was found as of the generation seen
   * *before* looking: a change during the lookup makes it stale at once.
   */
  async #resolveAndRemember(url: string, rawPath: string): Promise<Resolution> {
    const generation = this.#changes?.generation ?? 0;
    const { pathname, search } = new URL(url);
    const located = this.#locate(pathname, search);
    if (located.kind === "refusal") return located;
    if (located.kind === "listing") return await this.#listings!.listing(located.segments);
    if (located.kind === "fallback") {
      const fallback = await located.load();
      this.#remember(rawPath, { generation, fallback });
      return { kind: "version", version: fallback, source: "demo page: root has no index.html" };
    }
    const found = await this.#currentVersion(located.path, located.info);
    if (found.kind === "version") {
      const { stat } = found.version;
      this.#remember(rawPath, { generation, key: fileKey(located.path, stat.dev, stat.ino), stat });
    }
    return found;
  }

  #remember(rawPath: string, remembered: Remembered): void {
    if (this.#changes === undefined || rawPath.length > MAX_REMEMBERED_PATH_LENGTH) return;
    if (this.#remembered.size >= MAX_REMEMBERED_PATHS) this.#remembered.clear();
    this.#remembered.set(rawPath, remembered);
  }

  /** The cached version if `stat` vouches for it, else a fresh read. */
  async #currentVersion(path: string, info: Deno.FileInfo): Promise<Resolution> {
    const cached = this.#cache.lookup(path, info);
    if (cached !== undefined) {
      return { kind: "version", version: cached, source: "unchanged on disk: stat only" };
    }
    const joined = this.#cache.isReading(path, info);
    try {
      const version = await this.#cache.load(path, info);
      return { kind: "version", version, source: describeRead(version, joined) };
    } catch (error) {
      if (error instanceof FileKeepsChangingError) {
        return { kind: "refusal", status: 503, reason: error.message, headers: RETRY_SOON };
      }
      if (error instanceof UnservableFileError) {
        // Only the size is worth telling the client; where a link leads stays in the log.
        const explanation = error.status === 403 ? explainSizeLimit(error.message) : undefined;
        return { kind: "refusal", status: error.status, reason: error.message, explanation };
      }
      if (isMissing(error)) return { kind: "refusal", status: 404, reason: "no such file" };
      throw error;
    }
  }

  /**
   * Maps a URL path to a regular file under the root and its stat.
   *
   * A URL ending in "/" names a directory, and stands for its index.html: that
   * file is stat-ed directly, so `/` costs one stat like any other file. A
   * directory URL without the slash is redirected to have one, because relative
   * links in its index.html resolve against the URL (Go's net/http does the same).
   */
  #locate(pathname: string, search: string): Located {
    // Decode the path, refusing anything that could name a file outside the root.
    const decoded = decodeRequestPath(pathname);
    if (!decoded.ok) return refusal(decoded.status, decoded.reason);
    const { segments, endsWithSlash } = decoded;
    const path = endsWithSlash
      ? join(this.#root, ...segments, "index.html")
      : join(this.#root, ...segments);
    const info = statOrError(path);
    if (info instanceof Error) return this.#locateMissing(info, segments, endsWithSlash);
    if (info.isDirectory && !endsWithSlash) {
      const location = directoryRedirect(pathname, search);
      return { ...refusal(301, `directory: redirect to ${location}`), headers: { location } };
    }
    if (!info.isFile) return refusal(404, "not a regular file");
    if (info.size > this.#maxFileBytes) {
      const reason = tooLarge(info.size, this.#maxFileBytes);
      return { ...refusal(403, reason), explanation: explainSizeLimit(reason) };
    }
    return { kind: "file", path, info };
  }

  /** What a path that `stat` could not find leads to: the fallback page, or a refusal. */
  #locateMissing(error: Error, segments: string[], endsWithSlash: boolean): Located {
    if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
      return refusal(403, `cannot read: ${error.message}`);
    }
    // Anything else that stops stat (a symlink loop, a name too long) also means
    // there is no file to serve; the log keeps the operating system's words.
    if (!(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory)) {
      return refusal(404, error.message);
    }
    const isRootIndex = endsWithSlash
      ? segments.length === 0
      : segments.length === 1 && segments[0] === "index.html";
    if (isRootIndex && this.#fallbackIndex && !this.#listings) {
      return { kind: "fallback", load: this.#fallbackIndex };
    }
    if (!endsWithSlash) return refusal(404, "no such file");
    if (this.#listings) return { kind: "listing", segments };
    return refusal(404, "no such directory, or it has no index.html");
  }
}

/** The body of a 403 for a file over the size limit: why, and what to do. */
function explainSizeLimit(reason: string): string {
  return `The ${reason} this server was started with; start it with a larger ` +
    "--max-file-size (or maxFileBytes) to serve it.";
}

/** For a file that changes too fast to read whole: ask again in a second. */
const RETRY_SOON = { "retry-after": "1" };

/** How a version was read, for the access log. */
function describeRead(version: FileVersion, joined: boolean): string {
  if (version.body !== null) {
    return joined ? "joined a read of the file in flight" : "file read and hashed";
  }
  return joined
    ? "waited for the hashing pass in flight; body streamed from disk"
    : "file hashed in one streaming pass; body streamed from disk";
}

function refusal(status: number, reason: string): Extract<Resolution, { kind: "refusal" }> {
  return { kind: "refusal", status, reason };
}

/** A file gone between `stat` and the read (Deno's errors, or node:fs's codes). */
function isMissing(error: unknown): boolean {
  if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
    return true;
  }
  const code = (error as { code?: unknown }).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** `Deno.statSync`, with the error returned rather than thrown. */
function statOrError(path: string): Deno.FileInfo | Error {
  // statSync, not await Deno.stat: on the 304 path the stat is all the I/O
  // there is, and skipping the trip through the event loop is worth much of
  // the throughput (the README's Performance section has the figures). The
  // price: a slow disk stalls every connection for the length of one stat,
  // acceptable for local files.
  try {
    return Deno.statSync(path);
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
}

/**
 * Loads the fallback index page on first use and keeps it. Its `ETag` comes
 * from its bytes; `Last-Modified` from the response that delivered it when
 * present (an http(s): URL), else the time the server started: a file: fetch
 * reports no modification time. A failed load is retried on the next request.
 */
function memoizeFallbackIndex(
  url: URL,
  startedAtMs: number,
  options: FileVersionOptions,
): () => Promise<FileVersion> {
  let loading: Promise<FileVersion> | undefined;
  return () => {
    loading ??= loadPage(url, startedAtMs, options).catch((error) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

async function loadPage(
  url: URL,
  startedAtMs: number,
  options: FileVersionOptions,
): Promise<FileVersion> {
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`fetching ${url} gave ${response.status}`);
  }
  const body = await response.bytes();
  const lastModified = parseHttpDate(response.headers.get("last-modified") ?? "");
  const modifiedMs = lastModified === undefined ? startedAtMs : lastModified * 1000;
  const stat = { size: body.length, mtimeMs: modifiedMs, ctimeMs: null, dev: null, ino: null };
  return await createFileVersion(body, url.pathname, modifiedMs, stat, options);
}

/**
 * The path of a request URL as the client sent it (`http://host/a/b?q` → `/a/b`),
 * without the cost of a full URL parse; used as a key and in the log, never to
 * name a file.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { rawPathOf } from "./file_resolver.ts";
 * assertEquals(rawPathOf("http://localhost:8000//a/b?q=1"), "//a/b");
 * ```
 */
export function rawPathOf(url: string): string {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart === -1) return "/";
  const queryStart = url.indexOf("?", pathStart);
  return queryStart === -1 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
}
