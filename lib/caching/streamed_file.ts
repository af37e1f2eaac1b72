/**
 * Files too large to hold in memory. Their strong `ETag` is computed by
 * reading the file once through its verified descriptor and hashing as the
 * bytes go by (SHA-256 with `node:crypto`'s incremental hash: the same digest
 * `sha256sum` prints), and every response streams its bytes from disk through
 * a descriptor of its own, a chunk at a time, so memory per response stays a
 * chunk or two whatever the file's size. A range is read from its first byte
 * on: no byte before it is touched.
 *
 * A file can be written while it is hashed or sent. The hash is kept only if
 * `fstat` is the same after the last byte as before the first; a response
 * checks `fstat` after each chunk it reads, before sending it, and stops when
 * the file is no longer the version whose `ETag` the response carries: the
 * client gets a short body it can tell from a whole one, never a mix of two
 * versions under one tag. (Linux updates a file's mtime before it copies the
 * written bytes in, so a chunk read before an unchanged `fstat` is the old
 * version's.)
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { FileSignature } from "./file_version.ts";
import { closeDescriptor, type FileStat, readAt, statDescriptor } from "./verified_read.ts";

export type { FileSignature, FileStat };

/** Bytes read per step of a hashing pass: one buffer, reused. */
const HASH_CHUNK_BYTES = 2 ** 20;

/** Hashing passes tried on a file that keeps changing before giving up on it. */
const HASH_ATTEMPTS = 3;

/** Bytes read and sent per step of a streamed response. */
const STREAM_CHUNK_BYTES = 256 * 1024;

/**
 * The file kept changing while it was hashed: no version of it could be
 * read whole. Answered with 503 and `Retry-After`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { FileKeepsChangingError } from "./streamed_file.ts";
 * assertEquals(new FileKeepsChangingError("/srv/a.bin").name, "FileKeepsChangingError");
 * ```
 */
export class FileKeepsChangingError extends Error {
  /** Always `"FileKeepsChangingError"`. */
  override name = "FileKeepsChangingError";

  /**
   * Creates the error for one file.
   *
   * @param realPath The file that changed during every hashing pass.
   */
  constructor(realPath: string) {
    super(`${realPath} changed during each of ${HASH_ATTEMPTS} hashing passes`);
  }
}

/**
 * Whether two `stat`s describe the same content of one file: same size,
 * modification and status-change times, device and inode.
 *
 * @param a What `stat` said when a version was read.
 * @param b What it says now.
 * @returns `true` when nothing `stat` shows has changed.
 *
 * @example
 * ```ts
 * import { assert, assertFalse } from "jsr:@std/assert@1.0.19";
 * import { sameFileState } from "./streamed_file.ts";
 * const before = { size: 5, mtimeMs: 1000, ctimeMs: 1000, dev: 1, ino: 7 };
 * assert(sameFileState(before, { ...before }));
 * assertFalse(sameFileState(before, { ...before, mtimeMs: 1001 }));
 * ```
 */
export function sameFileState(a: FileSignature, b: FileSignature): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs &&
    a.dev === b.dev && a.ino === b.ino;
}

/**
 * Hashes every byte of an open file in one pass, and returns the strong
 * `ETag` with the `fstat` it belongs to. A pass during which `fstat` changed
 * is thrown away and the file hashed again.
 *
 * @param fd A descriptor proved to be the file (see `openInsideRoot`).
 * @param realPath The file's real path, for the error.
 * @returns The quoted hex SHA-256 of the bytes, and the `fstat` taken before them.
 * @throws {FileKeepsChangingError} when every pass saw the file change.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { closeDescriptor, openInsideRoot } from "./verified_read.ts";
 * import { hashOpenFile } from "./streamed_file.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "");
 * const { fd, realPath } = openInsideRoot(`${root}/a.txt`, root);
 * const { etag } = await hashOpenFile(fd, realPath);
 * assertEquals(etag, '"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"');
 * await closeDescriptor(fd);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function hashOpenFile(
  fd: number,
  realPath: string,
): Promise<{ etag: string; info: FileStat }> {
  const buffer = new Uint8Array(HASH_CHUNK_BYTES);
  for (let attempt = 0; attempt < HASH_ATTEMPTS; attempt++) {
    const before = statDescriptor(fd);
    const hash = createHash("sha256");
    let position = 0;
    for (;;) {
      const bytesRead = await readAt(fd, buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    if (position === before.size && sameFileState(before, statDescriptor(fd))) {
      return { etag: `"${hash.digest("hex")}"`, info: before };
    }
  }
  throw new FileKeepsChangingError(realPath);
}

/** What {@linkcode streamOpenFile} sends, and what it must still be. */
export interface StreamedPart {
  /** First byte sent. */
  start: number;
  /** Last byte sent (inclusive). */
  end: number;
  /** The `fstat` of the version whose bytes these must be. */
  expected: FileSignature;
  /** Told why, when the file changed and the stream stopped short. */
  onAbort: (reason: string) => void;
}

/**
 * A stream of bytes `start`..`end` of an open file, read a chunk per pull
 * (no read ahead of the client), each chunk sent only if `fstat` still shows
 * the expected version after it was read. When the file changed, shrank or
 * could not be read, `onAbort` is told why and the stream ends short, so the
 * client sees fewer bytes than `Content-Length` said and the connection
 * closed. The stream owns the descriptor and closes it when it ends or is
 * cancelled.
 *
 * @param fd A descriptor proved to be the file; the stream closes it.
 * @param part The bytes to send and the version they must belong to.
 * @returns The body of the response.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { openInsideRoot } from "./verified_read.ts";
 * import { streamOpenFile } from "./streamed_file.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "hello, world");
 * const { fd, info } = openInsideRoot(`${root}/a.txt`, root);
 * const body = streamOpenFile(fd, { start: 7, end: 11, expected: info, onAbort: () => {} });
 * assertEquals(await new Response(body).text(), "world");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function streamOpenFile(fd: number, part: StreamedPart): ReadableStream<Uint8Array> {
  const stop = part.end + 1;
  let position = part.start;
  let closing: Promise<void> | undefined;
  const release = () => closing ??= closeDescriptor(fd);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = new Uint8Array(Math.min(STREAM_CHUNK_BYTES, stop - position));
      const problem = await readChunk(fd, chunk, position, part.expected);
      if (problem !== undefined) {
        part.onAbort(`${problem} after ${position - part.start} of ${stop - part.start} bytes`);
        await release();
        controller.close();
        return;
      }
      controller.enqueue(chunk);
      position += chunk.length;
      if (position === stop) {
        await release();
        controller.close();
      }
    },
    cancel: release,
  }, { highWaterMark: 0 });
}

/** Fills `chunk` from `position`, then checks the file is still `expected`; says what went wrong. */
async function readChunk(
  fd: number,
  chunk: Uint8Array,
  position: number,
  expected: FileSignature,
): Promise<string | undefined> {
  try {
    let filled = 0;
    while (filled < chunk.length) {
      const bytesRead = await readAt(fd, chunk, filled, chunk.length - filled, position + filled);
      if (bytesRead === 0) return "file shrank while it was sent";
      filled += bytesRead;
    }
    if (!sameFileState(expected, statDescriptor(fd))) return "file changed while it was sent";
    return undefined;
  } catch (error) {
    return `read failed: ${error}`;
  }
}
