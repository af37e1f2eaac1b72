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
  /** The exact bytes sent as the body. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** Strong `ETag`: quoted hex SHA-256 of `body`. */
  readonly etag: string;
  /** `Last-Modified` in whole seconds since the epoch (never later than when it was read). */
  readonly lastModified: number;
  /** `Last-Modified` as an IMF-fixdate, precomputed for the hot path. */
  readonly lastModifiedHeader: string;
  /** `Content-Type`, from the file extension. */
  readonly contentType: string;
  /** What `stat` said when the bytes were read; a different answer means a new version. */
  readonly stat: FileSignature;
}

/**
 * The parts of `stat` that change when a file is edited. `mtimeMs` keeps the
 * milliseconds, so two edits within one second still differ. `ino` changes
 * when an editor saves by renaming a new file over the old one, and `ctimeMs`
 * when an edit restores the old mtime (`cp -p`, `touch -r`); Deno reports
 * ctime in whole seconds, so that last case is only caught a second later.
 */
export interface FileSignature {
  /** Size in bytes. */
  readonly size: number;
  /** Modification time in milliseconds. */
  readonly mtimeMs: number;
  /** Status-change time in milliseconds (`null` where the platform has none). */
  readonly ctimeMs: number | null;
  /** Inode number (`null` where the platform has none). */
  readonly ino: number | null;
}

/**
 * Extracts the {@linkcode FileSignature} from a `stat` result.
 *
 * @example
 * ```ts
 * import { signatureOf } from "./file_version.ts";
 * const signature = signatureOf(await Deno.stat(import.meta.dirname ?? "."));
 * console.log(signature.size, signature.mtimeMs);
 * ```
 */
export function signatureOf(info: Deno.FileInfo): FileSignature {
  return {
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    ctimeMs: info.ctime?.getTime() ?? null,
    ino: info.ino,
  };
}

/**
 * Whether `stat` still describes the version that was read: the cheap test
 * that lets a request skip reading and hashing the file.
 *
 * @example
 * ```ts
 * import { isUnchanged, signatureOf } from "./file_version.ts";
 * const info = await Deno.stat(import.meta.dirname ?? ".");
 * isUnchanged(signatureOf(info), info); // true
 * ```
 */
export function isUnchanged(signature: FileSignature, info: Deno.FileInfo): boolean {
  return signature.size === info.size &&
    signature.mtimeMs === (info.mtime?.getTime() ?? 0) &&
    signature.ctimeMs === (info.ctime?.getTime() ?? null) &&
    signature.ino === info.ino;
}

/**
 * How far behind the clock the `Date` field of `Deno.serve` can be. It comes
 * from a cache renewed about once a second: measured on Deno 2.9.6, the first
 * response of a fresh server had a `Date` a second behind the clock 97 times
 * in 300, and a response after an idle pause 7 times in 30.
 */
const DATE_LAG_MS = 1000;

/**
 * Builds a {@linkcode FileVersion} from bytes: hashes them for the `ETag` and
 * clamps the modification time so `Last-Modified` is never later than the
 * `Date` of any response carrying it (RFC 9110 §8.8.2.1: a modification time
 * in the future is replaced by the time the message originates). The clamp is
 * a second before `nowMs` (see {@linkcode DATE_LAG_MS}), so a file written
 * this very second gets the previous second as its `Last-Modified`.
 *
 * @param body The bytes to serve.
 * @param fileName Used only for its extension, to choose `Content-Type`.
 * @param modifiedMs When the bytes were last modified.
 * @param stat The signature to compare later requests' `stat` against.
 * @param nowMs The current time.
 * @returns The version, ready to serve.
 *
 * @example
 * ```ts
 * import { createFileVersion } from "./file_version.ts";
 * const body = new TextEncoder().encode("<h1>hi</h1>");
 * const stat = { size: body.length, mtimeMs: 0, ctimeMs: null, ino: null };
 * const version = await createFileVersion(body, "hi.html", 0, stat);
 * version.contentType; // "text/html; charset=UTF-8"
 * version.lastModifiedHeader; // "Thu, 01 Jan 1970 00:00:00 GMT"
 * ```
 */
export async function createFileVersion(
  body: Uint8Array<ArrayBuffer>,
  fileName: string,
  modifiedMs: number,
  stat: FileSignature,
  nowMs: number = Date.now(),
): Promise<FileVersion> {
  const lastModified = Math.floor(Math.min(modifiedMs, nowMs - DATE_LAG_MS) / 1000);
  return {
    body,
    etag: await strongEntityTagFor(body),
    lastModified,
    lastModifiedHeader: formatHttpDate(lastModified * 1000),
    contentType: contentType(extname(fileName)) ?? "application/octet-stream",
    stat,
  };
}
