/**
 * An in-memory cache of file versions, one per path.
 *
 * A request that finds the cached version still matching a fresh `stat` costs
 * one `stat` and nothing else: no read, no hash. When `stat` differs, the file
 * is read and hashed once, and every request that arrives while that read is
 * in flight waits for the same promise instead of starting its own.
 *
 * The cache holds at most a byte budget of file contents; past it, the
 * versions cached longest ago are dropped (and simply read again when next
 * asked for), so a large site cannot grow the process without bound.
 *
 * @module
 */
import { SEPARATOR } from "jsr:@std/path@1.1.6/constants";
import { createFileVersion, type FileVersion, isUnchanged, signatureOf } from "./file_version.ts";

/**
 * Default byte budget of a {@linkcode FileCache}: 256 MiB of file contents.
 *
 * @example
 * ```ts
 * import { DEFAULT_CACHE_BYTES } from "./file_cache.ts";
 * console.log(DEFAULT_CACHE_BYTES / 2 ** 20); // 256
 * ```
 */
export const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;

/**
 * The coarsest modification-time granularity allowed for: 2 s, FAT's. ext4
 * and APFS are far finer, but a network or removable disk may not be.
 */
const MTIME_GRANULARITY_MS = 2000;

/**
 * Thrown by {@linkcode FileCache.load} when a path resolves outside the root.
 *
 * @example
 * ```ts
 * import { OutsideRootError } from "./file_cache.ts";
 * const error: unknown = new OutsideRootError("/srv/site/link resolves to /etc/passwd");
 * if (error instanceof OutsideRootError) console.log("404: link leads outside the root");
 * ```
 */
export class OutsideRootError extends Error {
  /** Always `"OutsideRootError"`. */
  override name = "OutsideRootError";
}

/**
 * Caches the bytes and validators of files under one root directory.
 *
 * Bytes are only ever read from a path whose real path (symbolic links
 * resolved) lies inside the root, and the cache holds nothing else, so a
 * link pointing out of the root can never leak content, even if it is
 * retargeted after a read.
 *
 * @example
 * ```ts
 * import { FileCache } from "./file_cache.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * const cache = new FileCache(await Deno.realPath(root));
 * const info = await Deno.stat(`${root}/a.txt`);
 * const version = cache.lookup(`${root}/a.txt`, info) ?? await cache.load(`${root}/a.txt`);
 * console.log(version.etag);
 * ```
 */
export class FileCache {
  readonly #realRoot: string;
  readonly #maxBytes: number;
  /** In insertion order, so the first entries are the ones cached longest ago. */
  readonly #versions = new Map<string, FileVersion>();
  /** Paths whose cached version was read too soon after a write for `stat` to vouch for it. */
  readonly #racy = new Set<string>();
  readonly #loading = new Map<string, Promise<FileVersion>>();
  #bytes = 0;

  /**
   * Creates an empty cache for files under `realRoot`.
   *
   * @param realRoot The root directory as returned by `Deno.realPath`, so
   *   that real paths of files can be compared with it.
   * @param maxBytes Most bytes of file content kept at once. Default
   *   {@linkcode DEFAULT_CACHE_BYTES}.
   */
  constructor(realRoot: string, maxBytes: number = DEFAULT_CACHE_BYTES) {
    this.#realRoot = realRoot;
    this.#maxBytes = maxBytes;
  }

  /** Bytes of file content currently cached. */
  get size(): number {
    return this.#bytes;
  }

  /**
   * The cached version of `path`, if `info` (a fresh `stat` of it) says the
   * file has not changed since it was read; otherwise `undefined`.
   */
  lookup(path: string, info: Deno.FileInfo): FileVersion | undefined {
    if (this.#racy.has(path)) return undefined;
    const version = this.#versions.get(path);
    return version !== undefined && isUnchanged(version.stat, info) ? version : undefined;
  }

  /**
   * Reads and hashes `path`, or joins the read already in flight for it.
   * Either way the caller gets one consistent version: body and validators
   * from the same read.
   *
   * @throws {OutsideRootError} when the real path is outside the root.
   */
  load(path: string): Promise<FileVersion> {
    let loading = this.#loading.get(path);
    if (loading === undefined) {
      loading = this.#read(path).finally(() => this.#loading.delete(path));
      this.#loading.set(path, loading);
    }
    return loading;
  }

  /** Drops the cached version of `path`, e.g. after the file was deleted. */
  forget(path: string): void {
    const version = this.#versions.get(path);
    if (version === undefined) return;
    this.#racy.delete(path);
    this.#versions.delete(path);
    this.#bytes -= version.body.length;
  }

  async #read(path: string): Promise<FileVersion> {
    const realPath = await Deno.realPath(path);
    if (!isInside(realPath, this.#realRoot)) {
      this.forget(path);
      throw new OutsideRootError(`${path} resolves to ${realPath}, outside the root`);
    }
    // stat before reading: if the file changes during the read, the recorded
    // stat is the older one, so the next request sees a difference and
    // reads again rather than keeping stale bytes.
    const statAtMs = Date.now();
    const info = await Deno.stat(realPath);
    const body = await Deno.readFile(realPath);
    const version = await createFileVersion(
      body,
      realPath,
      info.mtime?.getTime() ?? Date.now(),
      signatureOf(info),
    );
    this.#remember(path, version);
    // "Racily clean", as git calls it: file systems stamp mtime with a coarse
    // clock (a few ms, up to 1–2 s on some), so a second write of the same
    // size in the same tick, to the same inode, leaves `stat` unchanged. Only
    // a version read a full tick after its mtime can be vouched for by `stat`;
    // until then every request reads the file again.
    if (statAtMs - version.stat.mtimeMs < MTIME_GRANULARITY_MS) this.#racy.add(path);
    return version;
  }

  #remember(path: string, version: FileVersion): void {
    this.forget(path);
    for (const oldPath of this.#versions.keys()) {
      if (this.#bytes + version.body.length <= this.#maxBytes) break;
      this.forget(oldPath);
    }
    this.#versions.set(path, version);
    this.#bytes += version.body.length;
  }
}

/** `child` is `root` itself or below it. Both must be real paths. */
function isInside(child: string, root: string): boolean {
  if (child === root) return true;
  const prefix = root.endsWith(SEPARATOR) ? root : root + SEPARATOR;
  return child.startsWith(prefix);
}
