/**
 * An in-memory cache of file versions, one per path.
 *
 * A request that finds the cached version still matching a fresh `stat` costs
 * one `stat` and nothing else: no read, no hash. When `stat` differs, the file
 * is read and hashed once, and every request that arrives while that read is
 * in flight waits for the same promise instead of starting its own.
 *
 * @module
 */
import { SEPARATOR } from "jsr:@std/path@1.1.6/constants";
import { createFileVersion, type FileVersion, isUnchanged, signatureOf } from "./file_version.ts";

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
  readonly #versions = new Map<string, FileVersion>();
  readonly #loading = new Map<string, Promise<FileVersion>>();

  /**
   * Creates an empty cache for files under `realRoot`.
   *
   * @param realRoot The root directory as returned by `Deno.realPath`, so
   *   that real paths of files can be compared with it.
   */
  constructor(realRoot: string) {
    this.#realRoot = realRoot;
  }

  /**
   * The cached version of `path`, if `info` (a fresh `stat` of it) says the
   * file has not changed since it was read; otherwise `undefined`.
   */
  lookup(path: string, info: Deno.FileInfo): FileVersion | undefined {
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
    this.#versions.delete(path);
  }

  async #read(path: string): Promise<FileVersion> {
    const realPath = await Deno.realPath(path);
    if (!isInside(realPath, this.#realRoot)) {
      this.#versions.delete(path);
      throw new OutsideRootError(`${path} resolves to ${realPath}, outside the root`);
    }
    // stat before reading: if the file changes during the read, the recorded
    // stat is the older one, so the next request sees a difference and
    // reads again rather than keeping stale bytes.
    const info = await Deno.stat(realPath);
    const body = await Deno.readFile(realPath);
    const version = await createFileVersion(
      body,
      realPath,
      info.mtime?.getTime() ?? Date.now(),
      signatureOf(info),
    );
    this.#versions.set(path, version);
    return version;
  }
}

/** `child` is `root` itself or below it. Both must be real paths. */
function isInside(child: string, root: string): boolean {
  if (child === root) return true;
  const prefix = root.endsWith(SEPARATOR) ? root : root + SEPARATOR;
  return child.startsWith(prefix);
}
