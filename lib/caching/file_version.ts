/**
 * A file version: one read of a file's bytes together with the validators and
 * header values computed from exactly those bytes. Keeping them in one
 * immutable object is what guarantees that a response never pairs one
 * version's body with another version's `ETag`.
 *
 * @module
 */
import { contentType } from "jsr:@std/media-types@1.1.0/content-type";
import { extname } from "jsr:@std/path@1.1.6/extname";
import { strongEntityTagFor } from "./entity_tag.ts";
import { formatHttpDate } from "../http_date.ts";

/** The bytes of one version of a file, and everything derived from them. */
export interface FileVersion {
  /**
   * The exact bytes sent as the body: a view of the bytes `ok` holds, not a
   * second copy. `null` for a version too large to hold, whose bytes are read
   * from disk per response (see `file`).
   */
  readonly body: Uint8Array<ArrayBuffer> | null;
  /** Where a version without `body` is streamed from; `null` for one held in memory. */
  readonly file: StreamedFileLocation | null;
  /**
   * The real path of the file read, where precompressed siblings (`.br`,
   * `.gz`) are looked for; `null` for a page that is not a file under the
   * root, or a representation that is itself encoded.
   */
  readonly realPath: string | null;
  /** `Content-Encoding` of the body (`gzip`, `br`); `null` for the file's own bytes. */
  readonly contentEncoding: string | null;
  /**
   * Whether `Accept-Encoding` chooses among representations of it (its type
   * is compressible and compression is on): its responses carry
   * `Vary: Accept-Encoding`.
   */
  readonly negotiated: boolean;
  /** Length of the body in bytes. */
  readonly size: number;
  /**
   * The 200 response, built once and cloned per request: only ever cloned,
   * never sent itself, so its body is never used up. Building a response
   * validates every header field and copies the body; a clone shares both.
   * For a streamed version it has the fields and `Content-Length` but no
   * body: each response streams its own.
   */
  readonly ok: Response;
  /** The 304 response (RFC 9110 §15.4.5: the fields a 200 would carry to update a cache), cloned likewise. */
  readonly notModified: Response;
  /** Strong `ETag`: quoted hex SHA-256 of the body. */
  readonly etag: string;
  /** `Last-Modified` in whole seconds since the epoch (never later than when it was read). */
  readonly lastModified: number;
  /** `Last-Modified` as an IMF-fixdate, precomputed for the hot path. */
  readonly lastModifiedHeader: string;
  /** `Content-Type`, from the file extension. */
  readonly contentType: string;
  /** What `stat` said when the bytes were read; a different answer means a new version. */
  readonly stat: FileSignature;
  /**
   * The fields every response about this version carries besides its own
   * (CORS's, when on): built into `ok` and `notModified`, and added to the
   * 412 and 416 answered for it.
   */
  readonly responseFields: Record<string, string>;
}

/** Where a streamed version's bytes are read from, through a verified open per response. */
export interface StreamedFileLocation {
  /** The file's real path, inside the root. */
  readonly realPath: string;
  /** The root, as returned by `Deno.realPath`, that the open is verified against. */
  readonly realRoot: string;
}

/**
 * The parts of `stat` that change when a file is edited. `mtimeMs` keeps the
 * milliseconds, so two edits within one second still differ. `dev` and `ino`
 * name the file itself: they change when an editor saves by renaming a new
 * file over the old one, or when a symbolic link is retargeted. `ctimeMs`
 * changes when an edit restores the old mtime (`cp -p`, `touch -r`); Deno
 * reports ctime in whole seconds, so that case is caught by
 * {@linkcode isRacy} within the second, and by `ctimeMs` after it.
 */
export interface FileSignature {
  /** Size in bytes. */
  readonly size: number;
  /** Modification time in milliseconds. */
  readonly mtimeMs: number;
  /** Status-change time in milliseconds (`null` where the platform has none). */
  readonly ctimeMs: number | null;
  /** Device of the file system holding the file (`null` where the platform has none). */
  readonly dev: number | null;
  /** Inode number (`null` where the platform has none). */
  readonly ino: number | null;
}

/**
 * Extracts the {@linkcode FileSignature} from a `stat` result.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { signatureOf } from "./file_version.ts";
 * const info = await Deno.stat(import.meta.dirname ?? ".");
 * assertEquals(signatureOf(info).size, info.size);
 * ```
 */
export function signatureOf(info: Deno.FileInfo): FileSignature {
  return {
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    ctimeMs: info.ctime?.getTime() ?? null,
    dev: info.dev,
    ino: info.ino,
  };
}

/**
 * Whether `stat` still describes the version that was read: the cheap test
 * that lets a request skip reading and hashing the file.
 *
 * @example
 * ```ts
 * import { assert } from "jsr:@std/assert@1.0.19";
 * import { isUnchanged, signatureOf } from "./file_version.ts";
 * const info = await Deno.stat(import.meta.dirname ?? ".");
 * assert(isUnchanged(signatureOf(info), info));
 * ```
 */
export function isUnchanged(signature: FileSignature, info: Deno.FileInfo): boolean {
  return signature.size === info.size &&
    signature.mtimeMs === (info.mtime?.getTime() ?? 0) &&
    signature.ctimeMs === (info.ctime?.getTime() ?? null) &&
    signature.ino === info.ino &&
    signature.dev === info.dev;
}

/** Deno reports ctime in whole seconds: two changes within one second can share it. */
const CTIME_GRANULARITY_MS = 1000;

/**
 * The coarsest modification-time granularity allowed for: 2 s, FAT's. ext4
 * and APFS are far finer, but a network or removable disk may not be.
 */
const MTIME_GRANULARITY_MS = 2000;

/**
 * Whether a version read at `readAtMs` is "racily clean", as git calls it: a
 * later write could leave every field of `stat` as it was, so `stat` cannot
 * vouch that the bytes are unchanged. That is so while the read falls within
 * the ctime second of the last change (a rewrite in the same second keeps
 * ctime, and `cp -p` restores mtime), or, where there is no ctime, within the
 * mtime granularity of the modification time or before it (a future mtime).
 *
 * With a ctime, a future mtime is harmless: any later write moves ctime to a
 * later second.
 *
 * @param signature What `stat` said before the bytes were read.
 * @param readAtMs When the read began.
 * @returns `true` when `stat` cannot yet tell a rewrite from this version.
 *
 * @example
 * ```ts
 * import { assert, assertFalse } from "jsr:@std/assert@1.0.19";
 * import { isRacy } from "./file_version.ts";
 * const signature = { size: 5, mtimeMs: 0, ctimeMs: 10_000, dev: 1, ino: 7 };
 * assert(isRacy(signature, 10_500)); // read within the ctime second
 * assertFalse(isRacy(signature, 11_000)); // a rewrite now gets a later ctime
 * ```
 */
export function isRacy(signature: FileSignature, readAtMs: number): boolean {
  const { mtimeMs, ctimeMs } = signature;
  if (readAtMs - mtimeMs < MTIME_GRANULARITY_MS && mtimeMs <= readAtMs) return true;
  if (ctimeMs === null) return readAtMs < mtimeMs;
  return readAtMs < ctimeMs + CTIME_GRANULARITY_MS;
}

/**
 * How far behind the clock the `Date` field of `Deno.serve` can be: it comes
 * from a cache renewed about once a second, and the README's "Choices"
 * section gives the measured figures.
 */
const DATE_LAG_MS = 1000;

/**
 * Source files a browser should show as text, and Deno still runs as modules
 * when fetched over HTTP (it reads `text/typescript`, `text/tsx` and
 * `text/jsx` as those languages). The media-types table maps `.ts` to
 * `video/mp2t` (MPEG transport streams) and knows no `.tsx`, `.cts`.
 */
const SOURCE_TYPES: Record<string, string> = {
  ".ts": "text/typescript; charset=UTF-8",
  ".mts": "text/typescript; charset=UTF-8",
  ".cts": "text/typescript; charset=UTF-8",
  ".tsx": "text/tsx; charset=UTF-8",
  ".jsx": "text/jsx; charset=UTF-8",
};

/**
 * `Content-Type` for a file name, from its extension.
 *
 * @param fileName A file name or path.
 * @returns The media type, `application/octet-stream` when unknown.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { contentTypeOf } from "./file_version.ts";
 * assertEquals(contentTypeOf("mod.ts"), "text/typescript; charset=UTF-8");
 * assertEquals(contentTypeOf("page.html"), "text/html; charset=UTF-8");
 * ```
 */
export function contentTypeOf(fileName: string): string {
  const extension = extname(fileName).toLowerCase();
  return SOURCE_TYPES[extension] ?? contentType(extension) ?? "application/octet-stream";
}

/** Options for {@linkcode createFileVersion}. */
export interface FileVersionOptions {
  /** `Cache-Control` of the version's responses. Default `no-cache`. */
  cacheControl?: string;
  /** The current time. Default `Date.now()`. */
  nowMs?: number;
  /** Fields every response of the version carries besides its own (CORS's, when on). */
  responseFields?: [string, string][];
  /** The file's real path under the root, where siblings are looked for. Default `null`. */
  realPath?: string;
  /** `Content-Type` to send, instead of the one the file name's extension gives. */
  contentType?: string;
  /** `Content-Encoding` of the bytes, for a compressed representation. */
  contentEncoding?: string;
  /**
   * Compression is on: a compressible version's representation is chosen by
   * `Accept-Encoding`, and its responses say so with `Vary`. Default `false`.
   */
  negotiateEncoding?: boolean;
}

/**
 * Media types worth compressing: text, and the structured and script formats
 * sent as `application/*` or `image/svg+xml`. Images, audio, video, archives
 * and fonts in WOFF are compressed already.
 */
const COMPRESSIBLE_TYPE =
  /^(text\/|application\/(javascript|json|[\w.+-]*\+json|xml|[\w.+-]*\+xml|wasm|x-javascript|manifest\+json)|image\/svg\+xml)/;

/**
 * Whether responses of this media type may be compressed, so that they vary
 * with `Accept-Encoding`.
 *
 * @param type A `Content-Type` value.
 * @returns `true` for text, JavaScript, JSON, XML, SVG and WebAssembly.
 *
 * @example
 * ```ts
 * import { assert, assertFalse } from "jsr:@std/assert@1.0.19";
 * import { isCompressible } from "./file_version.ts";
 * assert(isCompressible("text/html; charset=UTF-8"));
 * assert(isCompressible("application/javascript; charset=UTF-8"));
 * assertFalse(isCompressible("image/png"));
 * ```
 */
export function isCompressible(type: string): boolean {
  return COMPRESSIBLE_TYPE.test(type);
}

/**
 * Builds a {@linkcode FileVersion} from bytes: hashes them for the `ETag`,
 * clamps the modification time so `Last-Modified` is never later than the
 * `Date` of any response carrying it (RFC 9110 §8.8.2.1: a modification time
 * in the future is replaced by the time the message originates), and builds
 * the 200 and 304 responses. The clamp is a second before now (see
 * {@linkcode DATE_LAG_MS}), so a file written this very second gets the
 * previous second as its `Last-Modified`.
 *
 * The 200 response takes its own copy of `body`; the version keeps a view of
 * that copy, so once the caller drops `body` the bytes are held once.
 *
 * @param body The bytes to serve.
 * @param fileName Used only for its extension, to choose `Content-Type`.
 * @param modifiedMs When the bytes were last modified.
 * @param stat The signature to compare later requests' `stat` against.
 * @param options `Cache-Control`, the current time and extra response fields.
 * @returns The version, ready to serve.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { createFileVersion } from "./file_version.ts";
 * const body = new TextEncoder().encode("<h1>hi</h1>");
 * const stat = { size: body.length, mtimeMs: 0, ctimeMs: null, dev: null, ino: null };
 * const version = await createFileVersion(body, "hi.html", 0, stat);
 * assertEquals(version.contentType, "text/html; charset=UTF-8");
 * assertEquals(version.lastModifiedHeader, "Thu, 01 Jan 1970 00:00:00 GMT");
 * assertEquals(await version.ok.clone().text(), "<h1>hi</h1>");
 * ```
 */
export async function createFileVersion(
  body: Uint8Array<ArrayBuffer>,
  fileName: string,
  modifiedMs: number,
  stat: FileSignature,
  options: FileVersionOptions = {},
): Promise<FileVersion> {
  const etag = await strongEntityTagFor(body);
  const { okHeaders, ...shared } = versionFields(etag, fileName, modifiedMs, options);
  const ok = new Response(body, { status: 200, headers: okHeaders });
  // A clone's bytes are the ones `ok` holds: no copy.
  const held = await ok.clone().bytes();
  return { ...shared, ok, body: held, file: null, size: body.length, stat };
}

/**
 * Builds a {@linkcode FileVersion} for a file too large to hold: from its
 * `ETag` (computed by a hashing pass over the file) and size, with no body.
 * Its `ok` response has the fields and `Content-Length` of the 200; the
 * bytes are streamed from `file` per response.
 *
 * @param file Where the bytes are read from.
 * @param etag The strong `ETag` of the bytes.
 * @param stat The `fstat` the hash belongs to (its size is the body's).
 * @param options `Cache-Control` and the current time.
 * @returns The version, ready to serve.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { createStreamedVersion } from "./file_version.ts";
 * const stat = { size: 2 ** 31, mtimeMs: 0, ctimeMs: 0, dev: 1, ino: 2 };
 * const file = { realPath: "/srv/video.mp4", realRoot: "/srv" };
 * const version = createStreamedVersion(file, '"abc"', stat);
 * assertEquals(version.body, null);
 * assertEquals(version.ok.headers.get("content-length"), String(2 ** 31));
 * assertEquals(version.ok.headers.get("content-type"), "video/mp4");
 * ```
 */
export function createStreamedVersion(
  file: StreamedFileLocation,
  etag: string,
  stat: FileSignature,
  options: FileVersionOptions = {},
): FileVersion {
  const { okHeaders, ...shared } = versionFields(etag, file.realPath, stat.mtimeMs, options);
  const headers = [...okHeaders, ["content-length", String(stat.size)]];
  const ok = new Response(null, { status: 200, headers });
  return { ...shared, ok, body: null, file, size: stat.size, stat };
}

/** What a version's responses share, whether its body is held or streamed. */
function versionFields(
  etag: string,
  fileName: string,
  modifiedMs: number,
  options: FileVersionOptions,
) {
  const { cacheControl = "no-cache", nowMs = Date.now(), responseFields = [] } = options;
  const lastModified = Math.floor(Math.min(modifiedMs, nowMs - DATE_LAG_MS) / 1000);
  const lastModifiedHeader = formatHttpDate(lastModified * 1000);
  const type = options.contentType ?? contentTypeOf(fileName);
  const contentEncoding = options.contentEncoding ?? null;
  // A compressible file's responses depend on Accept-Encoding, the file's
  // own bytes included: caches must key them by it (RFC 9110 §12.5.5).
  const negotiated = (options.negotiateEncoding ?? false) && isCompressible(type);
  const vary: [string, string][] = negotiated ? [["vary", "accept-encoding"]] : [];
  const encoding: [string, string][] = contentEncoding
    ? [["content-encoding", contentEncoding]]
    : [];
  // ETag, Last-Modified and Cache-Control: what 200, 206 and 304 share. `Date`
  // is not among them: Deno.serve adds the current one to every response.
  // The response fields go on all three too, built in once rather than per request.
  const validators: [string, string][] = [
    ["etag", etag],
    ["last-modified", lastModifiedHeader],
    ["cache-control", cacheControl],
    ...vary,
    ...responseFields,
  ];
  return {
    okHeaders: [
      ...validators,
      ["content-type", type],
      ...encoding,
      ["accept-ranges", "bytes"],
    ],
    realPath: options.realPath ?? null,
    contentEncoding,
    negotiated,
    notModified: new Response(null, { status: 304, headers: validators }),
    etag,
    lastModified,
    lastModifiedHeader,
    contentType: type,
    responseFields: Object.fromEntries(responseFields),
  };
}
