/**
 * Compression with validators that stay correct. A compressible file has up
 * to three representations: its own bytes, a precompressed sibling
 * (`app.js.br`, `app.js.gz`, as nginx's `gzip_static` serves them), and gzip
 * made on the fly with `CompressionStream`. Each is a file version of its
 * own, with its own strong `ETag` (the SHA-256 of the bytes sent), its own
 * `Content-Length` and ranges over its own bytes, and `Vary: Accept-Encoding`
 * on its 200, 206 and 304 alike; `Accept-Encoding` chooses among them
 * ({@linkcode rankCodings}, RFC 9110 §12.5.3).
 *
 * @module
 */
import {
  createFileVersion,
  createStreamedVersion,
  type FileVersion,
  type FileVersionOptions,
} from "./file_version.ts";

/** A content coding this server can send. */
export type Coding = "br" | "gzip" | "identity";

/** Server preference among codings the client rates equally: smallest first. */
const PREFERENCE: readonly Coding[] = ["br", "gzip", "identity"];

/** `coding [ OWS ";" OWS "q=" qvalue ]`, parameters other than q ignored. */
const MEMBER = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:;(.*))?$/;
const Q_PARAMETER = /(?:^|;)\s*q\s*=/i;
const QVALUE = /(?:^|;)\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*(?:;|$)/i;

/**
 * The codings a client accepts, best first, from its `Accept-Encoding`
 * (RFC 9110 §12.5.3): by q-value, then by this server's preference (br,
 * gzip, identity). A coding with `q=0` is refused; `*` stands for every
 * coding not named; `x-gzip` is gzip (§8.4.1.3). `identity` is acceptable
 * unless refused by name or by `*;q=0`, ranked last when not named, since
 * a client that names codings prefers them. No field at all: identity only.
 *
 * @param fieldValue The `Accept-Encoding` value, `null` when absent.
 * @returns Acceptable codings, most preferred first; empty when the client
 *   refuses all three.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { rankCodings } from "./content_coding.ts";
 * assertEquals(rankCodings("gzip, deflate, br, zstd"), ["br", "gzip", "identity"]);
 * assertEquals(rankCodings("br;q=0.5, gzip"), ["gzip", "br", "identity"]);
 * assertEquals(rankCodings("gzip;q=0, *"), ["br", "identity"]);
 * assertEquals(rankCodings(null), ["identity"]);
 * ```
 */
export function rankCodings(fieldValue: string | null): Coding[] {
  if (fieldValue === null) return ["identity"];
  const named = new Map<string, number>();
  for (const element of fieldValue.split(",")) {
    if (element.trim() === "") continue; // empty list elements are allowed (§5.6.1)
    const member = MEMBER.exec(element);
    if (member === null) continue; // not a coding: ignored, like an unknown one
    // No q parameter means q=1; a malformed one makes the member unusable.
    const params = member[2] ?? "";
    const qvalue = Q_PARAMETER.test(params) ? QVALUE.exec(params)?.[1] : "1";
    if (qvalue === undefined) continue;
    const coding = member[1].toLowerCase() === "x-gzip" ? "gzip" : member[1].toLowerCase();
    named.set(coding, Math.max(named.get(coding) ?? 0, Number(qvalue)));
  }
  const any = named.get("*");
  // A low but positive rank: acceptable, after every coding the client named.
  const identity = named.get("identity") ?? (any === 0 ? 0 : 1e-6);
  const rated = PREFERENCE.map((coding) => ({
    coding,
    q: coding === "identity" ? identity : named.get(coding) ?? any ?? 0,
  }));
  return rated.filter(({ q }) => q > 0)
    .sort((a, b) => b.q - a.q || PREFERENCE.indexOf(a.coding) - PREFERENCE.indexOf(b.coding))
    .map(({ coding }) => coding);
}

/**
 * Compresses bytes with gzip (`CompressionStream`).
 *
 * @param bytes The bytes to compress.
 * @returns The gzip member.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { gzip } from "./content_coding.ts";
 * const packed = await gzip(new TextEncoder().encode("a".repeat(1000)));
 * const unpacked = new Response(new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip")));
 * assertEquals(await unpacked.text(), "a".repeat(1000));
 * ```
 */
export async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const packed = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return await new Response(packed).bytes();
}

/** Where a representation's precompressed siblings are found: `FileResolver.sibling`. */
export type SiblingLookup = (
  version: FileVersion,
  suffix: string,
) => FileVersion | undefined | Promise<FileVersion | undefined>;

/** The representation chosen for a request, and how it was found, for the log. */
export interface Representation {
  /** The version to answer with: the file's own, or an encoded one. */
  version: FileVersion;
  /** Empty for the file's own bytes; else e.g. `; gzip, compressed on the fly`. */
  note: string;
}

/** Options for {@linkcode Representations}. */
export interface RepresentationsOptions {
  /** Finds precompressed siblings. */
  sibling: SiblingLookup;
  /** Most bytes of encoded representations kept at once. */
  maxBytes: number;
  /** Options every encoded version is built with (`Cache-Control`, extra fields). */
  versionOptions: FileVersionOptions;
}

/** The suffix of a precompressed sibling per coding. */
const SIBLING_SUFFIX = { br: ".br", gzip: ".gz" } as const;

/** An encoded representation kept, and what it counts against the budget. */
interface Kept {
  version: Promise<FileVersion | undefined>;
  /** Set once `version` has settled, so later requests use it without waiting a turn. */
  settled?: { version: FileVersion | undefined };
  bytes: number;
}

/** Most distinct `Accept-Encoding` values whose ranking is remembered. */
const MAX_RANKINGS = 1000;

/**
 * The representations of file versions this server has made or found: for
 * each request, the one its `Accept-Encoding` asks for (a precompressed
 * sibling, a gzip made once per version within a byte budget, or the file's
 * own bytes), each a version with its own strong `ETag`.
 *
 * @example A text file gzipped once, then chosen again without waiting
 * ```ts
 * import { assertEquals, assertNotEquals } from "jsr:@std/assert@1.0.19";
 * import { Representations } from "./content_coding.ts";
 * import { createFileVersion } from "./file_version.ts";
 * const body = new TextEncoder().encode("a".repeat(1000));
 * const stat = { size: body.length, mtimeMs: 0, ctimeMs: null, dev: null, ino: null };
 * const versionOptions = { negotiateEncoding: true };
 * const file = await createFileVersion(body, "a.txt", 0, stat, versionOptions);
 * const representations = new Representations({
 *   sibling: () => undefined,
 *   maxBytes: 2 ** 20,
 *   versionOptions,
 * });
 * const gzipped = await representations.select(file, "gzip");
 * assertEquals(gzipped.version.ok.headers.get("content-encoding"), "gzip");
 * assertNotEquals(gzipped.version.etag, file.etag);
 * assertEquals((await representations.select(file, "identity")).version, file);
 * ```
 */
export class Representations {
  readonly #options: RepresentationsOptions;
  /** In insertion order, so the first entries are the ones kept longest ago. */
  readonly #kept = new Map<string, Kept>();
  #bytes = 0;
  /** Per `Accept-Encoding` value, its ranking: browsers send a handful of values. */
  readonly #rankings = new Map<string, Coding[]>();

  /**
   * Creates an empty set of kept representations.
   *
   * @param options Where siblings are found, the byte budget and version options.
   */
  constructor(options: RepresentationsOptions) {
    this.#options = options;
  }

  /**
   * The representation of `version` to send for `acceptEncoding`: the first
   * acceptable coding that this file has, identity when none is (also when
   * the client refuses identity: RFC 9110 §12.5.3 lets a server send it
   * rather than 406). Only compressible types are ever encoded. Once the
   * representations are made and the siblings looked for, the answer comes
   * at once, not as a promise.
   *
   * @param version The file's own version.
   * @param acceptEncoding The request's `Accept-Encoding`, `null` when absent.
   * @returns The representation.
   */
  select(
    version: FileVersion,
    acceptEncoding: string | null,
  ): Representation | Promise<Representation> {
    if (acceptEncoding === null || !version.negotiated) return { version, note: "" };
    let codings = this.#rankings.get(acceptEncoding);
    if (codings === undefined) {
      codings = rankCodings(acceptEncoding);
      if (this.#rankings.size >= MAX_RANKINGS) this.#rankings.clear();
      this.#rankings.set(acceptEncoding, codings);
    }
    return this.#fromCoding(version, codings, 0);
  }

  /** The representation for `codings[index]`, or the next coding's when the file has none. */
  #fromCoding(
    version: FileVersion,
    codings: Coding[],
    index: number,
  ): Representation | Promise<Representation> {
    const coding = codings[index];
    if (coding === undefined || coding === "identity") return { version, note: "" };
    const sibling = this.#options.sibling(version, SIBLING_SUFFIX[coding]);
    if (sibling instanceof Promise) {
      return sibling.then((found) => this.#withSibling(version, codings, index, found));
    }
    return this.#withSibling(version, codings, index, sibling);
  }

  #withSibling(
    version: FileVersion,
    codings: Coding[],
    index: number,
    sibling: FileVersion | undefined,
  ): Representation | Promise<Representation> {
    const coding = codings[index];
    let kept: Kept;
    let note: string;
    // A sibling older than its file was made from an earlier version of it.
    if (sibling !== undefined && sibling.stat.mtimeMs >= version.stat.mtimeMs) {
      kept = this.#encodedSibling(version, sibling, coding);
      note = `; ${coding}, precompressed sibling`;
    } else if (coding === "gzip" && version.body !== null) {
      kept = this.#gzipped(version);
      note = "; gzip, compressed on the fly";
    } else {
      return this.#fromCoding(version, codings, index + 1);
    }
    const use = (encoded: FileVersion | undefined) =>
      encoded === undefined
        ? this.#fromCoding(version, codings, index + 1)
        : { version: encoded, note };
    return kept.settled ? use(kept.settled.version) : kept.version.then(use);
  }

  /** The sibling's bytes as a representation of `version`: its type, the sibling's tag. */
  #encodedSibling(
    version: FileVersion,
    sibling: FileVersion,
    coding: Coding,
  ): Kept {
    const key = `${coding} sibling ${sibling.etag} ${sibling.lastModified} ${version.contentType}`;
    return this.#keep(key, sibling.body?.length ?? 0, async () => {
      const options = {
        ...this.#options.versionOptions,
        contentType: version.contentType,
        contentEncoding: coding,
      };
      if (sibling.body === null) {
        return createStreamedVersion(sibling.file!, sibling.etag, sibling.stat, options);
      }
      return await createFileVersion(
        sibling.body,
        "",
        sibling.stat.mtimeMs,
        sibling.stat,
        options,
      );
    });
  }

  /** `version`'s bytes gzipped, when that makes them smaller. */
  #gzipped(version: FileVersion): Kept {
    const key = `gzip ${version.etag} ${version.lastModified} ${version.contentType}`;
    // Counted at the original's size until the real one is known: an upper bound.
    return this.#keep(key, version.size, async () => {
      const packed = await gzip(version.body!);
      if (packed.length >= version.size) return undefined;
      return await createFileVersion(packed, "", version.lastModified * 1000, version.stat, {
        ...this.#options.versionOptions,
        contentType: version.contentType,
        contentEncoding: "gzip",
      });
    });
  }

  /** The version kept under `key`, or `make`'s, kept within the budget. */
  #keep(key: string, bytes: number, make: () => Promise<FileVersion | undefined>): Kept {
    const kept = this.#kept.get(key);
    if (kept !== undefined) return kept;
    const entry: Kept = { version: make(), bytes };
    entry.version.then((version) => entry.settled = { version }, () => {
      // A failed build is not kept: the next request tries again.
      if (this.#kept.get(key) === entry) {
        this.#kept.delete(key);
        this.#bytes -= bytes;
      }
    });
    if (bytes > this.#options.maxBytes) return entry;
    for (const [oldestKey, oldest] of this.#kept) {
      if (this.#bytes + bytes <= this.#options.maxBytes) break;
      this.#kept.delete(oldestKey);
      this.#bytes -= oldest.bytes;
    }
    this.#kept.set(key, entry);
    this.#bytes += bytes;
    return entry;
  }
}
