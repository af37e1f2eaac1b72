/**
 * An in-memory cache of file versions, one per file.
 *
 * Entries are keyed by the file itself (device and inode), not by a name: the
 * many spellings of one URL, and links to one file, all find the same entry,
 * and the bytes of each file are held once. A request whose fresh `stat` still
 * matches the cached version costs that `stat` and nothing else. Otherwise the
 * file is read and hashed once, and every request arriving while that read is
 * in flight waits for the same promise instead of starting its own.
 *
 * The cache holds at most a byte budget of file contents; past it, the
 * versions cached longest ago are dropped (and simply read again when next
 * asked for). Nothing else in the server keeps a version, so the budget bounds
 * the memory that file contents take, apart from responses still being sent.
 * Files above a size threshold are not held at all: their version is the
 * `ETag` of one streaming hashing pass with the `stat` it belongs to, and
 * responses stream the bytes from disk (`streamed_file.ts`).
 *
 * @module
 */
import { SEPARATOR } from "jsr:@std/path@1.1.6/constants";
import {
  createFileVersion,
  createStreamedVersion,
  type FileSignature,
  type FileVersion,
  isRacy,
  isUnchanged,
} from "./file_version.ts";
import { hashOpenFile } from "./streamed_file.ts";
import {
  closeDescriptor,
  type OpenedFile,
  openInsideRoot,
  readToEnd,
  tooLarge,
  UnservableFileError,
} from "./verified_read.ts";

export type { StreamedFileLocation } from "./file_version.ts";
export type { FileSignature, FileVersion };

/**
 * Default byte budget of a {@linkcode FileCache}: 256 MiB of file contents.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { DEFAULT_CACHE_BYTES } from "./file_cache.ts";
 * assertEquals(DEFAULT_CACHE_BYTES, 256 * 2 ** 20);
 * ```
 */
export const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;

/**
 * Default {@linkcode FileCacheOptions.streamAboveBytes}: files up to 16 MiB
 * are held in memory, larger ones streamed from disk.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { DEFAULT_STREAM_ABOVE_BYTES } from "./file_cache.ts";
 * assertEquals(DEFAULT_STREAM_ABOVE_BYTES, 16 * 2 ** 20);
 * ```
 */
export const DEFAULT_STREAM_ABOVE_BYTES = 16 * 2 ** 20;

/**
 * What a streamed version counts against the byte budget: it holds no file
 * bytes, only its validators and response fields.
 */
const STREAMED_ENTRY_BYTES = 1024;

/**
 * How often a racily clean version (see {@linkcode isRacy}) is read again:
 * once per ctime second at most, whatever the request rate. The read after
 * that second has passed is no longer racy, so each write costs at most two
 * reads; a request in between can get bytes up to this old.
 */
const RACY_RECHECK_MS = 1000;

/** Options for {@linkcode FileCache}. */
export interface FileCacheOptions {
  /** Most bytes of file content kept at once. Default {@linkcode DEFAULT_CACHE_BYTES}. */
  maxBytes?: number;
  /** Largest file served at all; larger ones are refused with 403. Default: no limit. */
  maxFileBytes?: number;
  /**
   * Files larger than this are never held in memory: they are hashed in one
   * streaming pass per version, and each response reads them from disk.
   * Default {@linkcode DEFAULT_STREAM_ABOVE_BYTES}, and at most `maxBytes`.
   */
  streamAboveBytes?: number;
  /** `Cache-Control` of the versions' responses. Default `no-cache`. */
  cacheControl?: string;
  /** Fields every response of every version carries (CORS's, when on). */
  responseFields?: [string, string][];
  /** Compression is on: compressible versions vary with `Accept-Encoding`. */
  negotiateEncoding?: boolean;
}

/** One cached file. */
interface CachedFile {
  /** Its real path under the root, to match file-system events against. */
  realPath: string;
  /** Its identity key in the cache. */
  key: string;
  version: FileVersion;
  /** When its read began. */
  readAtMs: number;
  /** Whether `stat` could not yet vouch for it when it was read. */
  racy: boolean;
}

/**
 * Caches the bytes and validators of files under one root directory.
 *
 * Bytes are only ever read through a descriptor whose file was checked to lie
 * inside the root and not to be hidden (see {@linkcode readInsideRoot}), and
 * the cache holds nothing else, so no symbolic link can make it serve a file
 * outside the root, even one swapped in during a read.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { FileCache } from "./file_cache.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * const cache = new FileCache(root);
 * const info = await Deno.stat(`${root}/a.txt`);
 * const version = cache.lookup(`${root}/a.txt`, info) ?? await cache.load(`${root}/a.txt`, info);
 * assertEquals(version.size, 5);
 * assertEquals(cache.size, 5);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export class FileCache {
  readonly #realRoot: string;
  readonly #maxBytes: number;
  readonly #maxFileBytes: number;
  readonly #cacheControl: string;
  readonly #responseFields: [string, string][];
  readonly #negotiateEncoding: boolean;
  /** In insertion order, so the first entries are the ones cached longest ago. */
  readonly #byKey = new Map<string, CachedFile>();
  readonly #byRealPath = new Map<string, CachedFile>();
  readonly #loading = new Map<string, Promise<FileVersion>>();
  readonly #streamAboveBytes: number;
  #bytes = 0;
  /** Reads in flight; an invalidation of their file marks them, so what they read is not kept. */
  readonly #reads = new Set<ReadInFlight>();

  /**
   * Creates an empty cache for files under `realRoot`.
   *
   * @param realRoot The root directory as returned by `Deno.realPath`, so
   *   that real paths of files can be compared with it.
   * @param options The byte budget, the largest file, `Cache-Control` and extra fields.
   */
  constructor(realRoot: string, options: FileCacheOptions = {}) {
    this.#realRoot = realRoot;
    this.#maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
    this.#maxFileBytes = options.maxFileBytes ?? Number.POSITIVE_INFINITY;
    this.#streamAboveBytes = Math.min(
      options.streamAboveBytes ?? DEFAULT_STREAM_ABOVE_BYTES,
      this.#maxBytes,
    );
    this.#cacheControl = options.cacheControl ?? "no-cache";
    this.#responseFields = options.responseFields ?? [];
    this.#negotiateEncoding = options.negotiateEncoding ?? false;
  }

  /** Bytes of file content currently cached. */
  get size(): number {
    return this.#bytes;
  }

  /**
   * The cached version of the file `info` (a fresh `stat` of `path`) describes,
   * if that `stat` says it has not changed since it was read, and the version
   * is not racily clean and due for another read; otherwise `undefined`.
   */
  lookup(path: string, info: Deno.FileInfo, nowMs: number = Date.now()): FileVersion | undefined {
    const entry = this.#byKey.get(fileKey(path, info.dev, info.ino));
    if (entry === undefined || !isUnchanged(entry.version.stat, info)) return undefined;
    return isDue(entry, nowMs) ? undefined : entry.version;
  }

  /**
   * The version found earlier under `key` (see {@linkcode fileKey}), if it is
   * still the cached one (`stat` is its signature, compared by identity) and
   * not due for a racy re-read: a check with no system call at all.
   */
  current(key: string, stat: FileSignature, nowMs: number = Date.now()): FileVersion | undefined {
    const entry = this.#byKey.get(key);
    if (entry === undefined || entry.version.stat !== stat || isDue(entry, nowMs)) return undefined;
    return entry.version;
  }

  /** Whether a read of the file `info` describes is in flight: a {@linkcode FileCache.load} would join it. */
  isReading(path: string, info: Deno.FileInfo): boolean {
    return this.#loading.has(fileKey(path, info.dev, info.ino));
  }

  /**
   * Reads and hashes the file at `path`, or joins the read already in flight
   * for the same file. Either way the caller gets one consistent version:
   * body and validators from the same read.
   *
   * @param path The file, as named under the root (links allowed).
   * @param info A `stat` of `path`, naming the file to share reads of.
   * @throws {UnservableFileError} when the file opened is outside the root,
   *   hidden, not a regular file or too large.
   * @throws {FileKeepsChangingError} when a file to stream changed during
   *   every hashing pass.
   */
  load(path: string, info: Deno.FileInfo): Promise<FileVersion> {
    const key = fileKey(path, info.dev, info.ino);
    let loading = this.#loading.get(key);
    if (loading === undefined) {
      loading = this.#read(path).finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  /**
   * Drops the cached versions of the files at or below each real path, and
   * keeps no read that was in flight meanwhile: after a file-system event for
   * a path, the next request reads and hashes it again, even if `stat` shows
   * no difference.
   *
   * @param realPaths Absolute paths under the root, as file-system events give them.
   */
  invalidate(realPaths: readonly string[]): void {
    for (const read of this.#reads) {
      if (
        read.realPath === undefined || realPaths.some((path) => isAtOrBelow(read.realPath!, path))
      ) {
        read.stale = true;
      }
    }
    for (const realPath of realPaths) {
      const exact = this.#byRealPath.get(realPath);
      if (exact !== undefined) {
        this.#forget(exact);
        continue;
      }
      const below = realPath + SEPARATOR;
      for (const entry of [...this.#byRealPath.values()]) {
        if (entry.realPath.startsWith(below)) this.#forget(entry);
      }
    }
  }

  async #read(path: string): Promise<FileVersion> {
    const read: ReadInFlight = { realPath: undefined, stale: false };
    this.#reads.add(read);
    try {
      const readAtMs = Date.now();
      const opened = openInsideRoot(path, this.#realRoot);
      read.realPath = opened.realPath;
      let version: FileVersion;
      try {
        version = await this.#versionOf(opened);
      } finally {
        await closeDescriptor(opened.fd);
      }
      if (!read.stale) {
        const key = fileKey(path, opened.info.dev, opened.info.ino);
        const racy = isRacy(version.stat, readAtMs);
        this.#remember({ realPath: opened.realPath, key, version, readAtMs, racy });
      }
      return version;
    } finally {
      this.#reads.delete(read);
    }
  }

  /** Reads and hashes an open file: whole into memory, or in a streaming pass when large. */
  async #versionOf({ fd, realPath, info }: OpenedFile): Promise<FileVersion> {
    if (info.size > this.#maxFileBytes) {
      throw new UnservableFileError(403, tooLarge(info.size, this.#maxFileBytes));
    }
    const options = {
      cacheControl: this.#cacheControl,
      responseFields: this.#responseFields,
      negotiateEncoding: this.#negotiateEncoding,
      realPath,
    };
    if (info.size <= this.#streamAboveBytes) {
      const body = await readToEnd(fd, info.size, this.#streamAboveBytes).catch((error) => {
        // Grown past the threshold while read: it is hashed as a large file instead.
        if (error instanceof UnservableFileError) return undefined;
        throw error;
      });
      if (body !== undefined) {
        return await createFileVersion(body, realPath, info.mtimeMs, info, options);
      }
    }
    const hashed = await hashOpenFile(fd, realPath);
    if (hashed.info.size > this.#maxFileBytes) {
      throw new UnservableFileError(403, tooLarge(hashed.info.size, this.#maxFileBytes));
    }
    return createStreamedVersion(
      { realPath, realRoot: this.#realRoot },
      hashed.etag,
      hashed.info,
      options,
    );
  }

  #remember(entry: CachedFile): void {
    const previous = this.#byRealPath.get(entry.realPath);
    if (previous !== undefined) this.#forget(previous);
    const sameFile = this.#byKey.get(entry.key);
    if (sameFile !== undefined) this.#forget(sameFile);
    const size = heldBytes(entry.version);
    if (size > this.#maxBytes) return;
    for (const oldest of this.#byKey.values()) {
      if (this.#bytes + size <= this.#maxBytes) break;
      this.#forget(oldest);
    }
    this.#byKey.set(entry.key, entry);
    this.#byRealPath.set(entry.realPath, entry);
    this.#bytes += size;
  }

  #forget(entry: CachedFile): void {
    if (this.#byKey.get(entry.key) !== entry) return;
    this.#byKey.delete(entry.key);
    this.#byRealPath.delete(entry.realPath);
    this.#bytes -= heldBytes(entry.version);
  }
}

/**
 * The key of a file in a {@linkcode FileCache}: its device and inode where the
 * platform has them, so that every name of one file finds one entry; else the
 * path it was found at.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { fileKey } from "./file_cache.ts";
 * assertEquals(fileKey("/srv/a.txt", 2049, 1234), "2049:1234");
 * assertEquals(fileKey("C:\\srv\\a.txt", null, null), "C:\\srv\\a.txt");
 * ```
 */
export function fileKey(path: string, dev: number | null, ino: number | null): string {
  return ino === null ? path : `${dev}:${ino}`;
}

/** A read in flight: the real path once opened, and whether an invalidation made it stale. */
interface ReadInFlight {
  realPath: string | undefined;
  stale: boolean;
}

/** What a version counts against the byte budget. */
function heldBytes(version: FileVersion): number {
  return version.body?.length ?? STREAMED_ENTRY_BYTES;
}

function isAtOrBelow(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(ancestor + SEPARATOR);
}

/** A racily clean entry whose last read is a recheck interval old. */
function isDue(entry: CachedFile, nowMs: number): boolean {
  return entry.racy && nowMs - entry.readAtMs >= RACY_RECHECK_MS;
}
