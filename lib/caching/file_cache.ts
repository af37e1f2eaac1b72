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
 *
 * @module
 */
import { SEPARATOR } from "jsr:@std/path@1.1.6/constants";
import {
  createFileVersion,
  type FileSignature,
  type FileVersion,
  isRacy,
  isUnchanged,
} from "./file_version.ts";
import { readInsideRoot } from "./verified_read.ts";

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
  /** Largest file read at all; larger ones are refused with 403. Default: `maxBytes`. */
  maxFileBytes?: number;
  /** `Cache-Control` of the versions' responses. Default `no-cache`. */
  cacheControl?: string;
  /** Fields every response of every version carries (CORS's, when on). */
  responseFields?: [string, string][];
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
 * assertEquals(version.body.length, 5);
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
  /** In insertion order, so the first entries are the ones cached longest ago. */
  readonly #byKey = new Map<string, CachedFile>();
  readonly #byRealPath = new Map<string, CachedFile>();
  readonly #loading = new Map<string, Promise<FileVersion>>();
  #bytes = 0;
  /** Counts {@linkcode FileCache.invalidate} calls, so a read that overlapped one is not kept. */
  #invalidations = 0;

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
    this.#maxFileBytes = options.maxFileBytes ?? this.#maxBytes;
    this.#cacheControl = options.cacheControl ?? "no-cache";
    this.#responseFields = options.responseFields ?? [];
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
    this.#invalidations++;
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
    const invalidationsBefore = this.#invalidations;
    const readAtMs = Date.now();
    const { realPath, info, body } = await readInsideRoot(
      path,
      this.#realRoot,
      this.#maxFileBytes,
    );
    const signature = {
      size: info.size,
      mtimeMs: info.mtimeMs,
      ctimeMs: info.ctimeMs,
      dev: info.dev,
      ino: info.ino,
    };
    const version = await createFileVersion(body, realPath, info.mtimeMs, signature, {
      cacheControl: this.#cacheControl,
      responseFields: this.#responseFields,
    });
    if (this.#invalidations === invalidationsBefore) {
      const key = fileKey(path, info.dev, info.ino);
      const racy = isRacy(signature, readAtMs);
      this.#remember({ realPath, key, version, readAtMs, racy });
    }
    return version;
  }

  #remember(entry: CachedFile): void {
    const previous = this.#byRealPath.get(entry.realPath);
    if (previous !== undefined) this.#forget(previous);
    const sameFile = this.#byKey.get(entry.key);
    if (sameFile !== undefined) this.#forget(sameFile);
    const size = entry.version.body.length;
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
    this.#bytes -= entry.version.body.length;
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

/** A racily clean entry whose last read is a recheck interval old. */
function isDue(entry: CachedFile, nowMs: number): boolean {
  return entry.racy && nowMs - entry.readAtMs >= RACY_RECHECK_MS;
}
