/**
 * Directory listings as file versions: the page {@linkcode renderListing}
 * makes becomes a {@linkcode FileVersion} like any file's, with a strong
 * `ETag` (the page's SHA-256) and a `Last-Modified` (the newest mtime among
 * the directory and its entries), so conditional requests, ranges and 304s
 * work on it exactly as on files.
 *
 * Concurrent requests for one directory share one build. With a change
 * monitor, a built listing is reused until something under the root changes;
 * without one, every request reads the directory again (a 304 then saves the
 * transfer, not the work), since only reading it tells whether it changed.
 *
 * @module
 */
import { join } from "jsr:@std/path@1.1.6/join";
import type { ChangeMonitor } from "./change_monitor.ts";
import { type DirectoryContents, readListing, renderListing } from "./directory_listing.ts";
import { createFileVersion, type FileVersion } from "./file_version.ts";
import { placeUnderRoot } from "./place_under_root.ts";

export type { ChangeListener } from "./change_monitor.ts";
export type { FileSignature } from "./file_version.ts";
export type { StreamedFileLocation } from "./file_version.ts";
export type { ChangeMonitor, FileVersion };

/**
 * Most bytes of listing pages kept between requests (with a change monitor).
 * A listing is at most about 3 MiB (10,000 entries), so a few large ones or
 * many small ones fit; past this, the kept ones are dropped and rebuilt.
 */
const MAX_KEPT_BYTES = 16 * 2 ** 20;

/** Options for {@linkcode ListingVersions}. */
export interface ListingVersionsOptions {
  /** `Cache-Control` of the listings' responses. */
  cacheControl: string;
  /** Fields added to every response (CORS's, when on). */
  responseFields?: [string, string][];
  /** Reports changes under the root; without it, listings are never reused. */
  changes?: ChangeMonitor;
}

/** A listing, or why there is none. */
export type ListingResult =
  | { kind: "version"; version: FileVersion; source: string }
  | { kind: "refusal"; status: number; reason: string };

/**
 * Builds, shares and keeps the listings of directories under one root.
 *
 * @example
 * ```ts
 * import { assertEquals, assertStringIncludes } from "jsr:@std/assert@1.0.19";
 * import { ListingVersions } from "./listing_versions.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * const listings = new ListingVersions(root, { cacheControl: "no-cache" });
 * const result = await listings.listing([]);
 * assertEquals(result.kind, "version");
 * if (result.kind === "version") {
 *   assertStringIncludes(new TextDecoder().decode(result.version.body!), "a.txt");
 * }
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export class ListingVersions {
  readonly #realRoot: string;
  readonly #options: ListingVersionsOptions;
  /** Builds in flight, by URL path: concurrent requests share one. */
  readonly #building = new Map<string, Promise<ListingResult>>();
  /** Built listings, by URL path, valid while the monitor's generation stands still. */
  readonly #kept = new Map<string, FileVersion>();
  #keptGeneration = -1;
  #keptBytes = 0;

  /**
   * Creates an empty set of listings for directories under `realRoot`.
   *
   * @param realRoot The root directory as `Deno.realPath` returns it.
   * @param options `Cache-Control`, extra response fields and the change monitor.
   */
  constructor(realRoot: string, options: ListingVersionsOptions) {
    this.#realRoot = realRoot;
    this.#options = options;
  }

  /**
   * The listing of the directory that decoded URL path `segments` name (the
   * caller has refused hidden and `..` segments), or a 404 when it is not a
   * directory inside the root.
   *
   * @param segments The directory's path segments under the root; `[]` is the root.
   * @returns The listing's version and how it was found, or the refusal.
   */
  listing(segments: string[]): Promise<ListingResult> {
    const urlPath = segments.length === 0 ? "/" : `/${segments.join("/")}/`;
    const { changes } = this.#options;
    if (changes?.watching) {
      if (changes.generation !== this.#keptGeneration) this.#forgetKept(changes.generation);
      const kept = this.#kept.get(urlPath);
      if (kept !== undefined) {
        return Promise.resolve({ kind: "version", version: kept, source: KEPT });
      }
    }
    let building = this.#building.get(urlPath);
    if (building === undefined) {
      const generation = changes?.generation ?? 0;
      building = this.#build(segments, urlPath)
        .then((result) => {
          if (result.kind === "version") this.#keep(urlPath, result.version, generation);
          return result;
        })
        .finally(() => this.#building.delete(urlPath));
      this.#building.set(urlPath, building);
    }
    return building;
  }

  async #build(segments: string[], urlPath: string): Promise<ListingResult> {
    const directory = join(this.#realRoot, ...segments);
    let realDirectory: string;
    try {
      realDirectory = await Deno.realPath(directory);
      if (!(await Deno.stat(realDirectory)).isDirectory) return notADirectory();
    } catch {
      return notADirectory();
    }
    const refusal = refuseRealPath(realDirectory, this.#realRoot);
    if (refusal !== undefined) return refusal;
    let contents: DirectoryContents;
    try {
      contents = await readListing(realDirectory, this.#realRoot);
    } catch (error) {
      return refusalFor(error);
    }
    const { entries, truncated, newestMs } = contents;
    const body = new TextEncoder().encode(renderListing(urlPath, entries, truncated));
    const signature = { size: body.length, mtimeMs: newestMs, ctimeMs: null, dev: null, ino: null };
    const version = await createFileVersion(body, "listing.html", newestMs, signature, {
      cacheControl: this.#options.cacheControl,
      responseFields: this.#options.responseFields,
    });
    const source = `directory listing of ${entries.length} entries, read and hashed`;
    return { kind: "version", version, source };
  }

  /** Keeps a listing built as of `generation`, if nothing has changed since. */
  #keep(urlPath: string, version: FileVersion, generation: number): void {
    const { changes } = this.#options;
    if (!changes?.watching || changes.generation !== generation) return;
    if (generation !== this.#keptGeneration) this.#forgetKept(generation);
    const size = version.size;
    if (this.#keptBytes + size > MAX_KEPT_BYTES) this.#forgetKept(generation);
    if (size > MAX_KEPT_BYTES) return;
    this.#keptBytes += size - (this.#kept.get(urlPath)?.size ?? 0);
    this.#kept.set(urlPath, version);
  }

  #forgetKept(generation: number): void {
    this.#kept.clear();
    this.#keptBytes = 0;
    this.#keptGeneration = generation;
  }
}

const KEPT = "directory listing: no file event since it was built, no disk access";

/** A directory reached through symbolic links is listed only where it could be served. */
function refuseRealPath(realDirectory: string, realRoot: string): ListingResult | undefined {
  switch (placeUnderRoot(realDirectory, realRoot)) {
    case "outside":
      return { kind: "refusal", status: 404, reason: "symbolic link out of the root" };
    case "hidden":
      return { kind: "refusal", status: 404, reason: "symbolic link to a hidden directory" };
    default:
      return undefined;
  }
}

/** A directory that vanished while read is a 404, one this process may not read a 403. */
function refusalFor(error: unknown): ListingResult {
  if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
    return notADirectory();
  }
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    return { kind: "refusal", status: 403, reason: `cannot read the directory: ${error.message}` };
  }
  throw error;
}

function notADirectory(): ListingResult {
  return { kind: "refusal", status: 404, reason: "no such directory" };
}
