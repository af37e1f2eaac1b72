/**
 * Reading a file only if the file actually opened lies inside the root and is
 * not hidden, whatever symbolic links along its path do meanwhile.
 *
 * Checking a path and then reading it are separate steps, and a link swapped
 * in between (a directory inside the root exchanged with a link to one
 * outside) makes the read return another file than the one checked. So the
 * file is opened once, by its checked real path, and everything after that
 * goes through the open descriptor; what remains is to prove that the
 * descriptor is the file checked.
 *
 * Deno has no `openat` and no `O_NOFOLLOW`, and resolves a relative path
 * against the working directory by name, so nothing can open "this name in
 * that directory" without walking the path again. Where the program may read
 * `/proc/self/fd` (Deno asks for `--allow-all` there), the kernel's own name
 * for the descriptor is compared with the checked path: exact. Otherwise the
 * descriptor's device and inode are compared, {@linkcode VERIFY_ROUNDS} times
 * over, with an `lstat` of the real path, each time followed by a check that
 * the real path still has no link in it. After a swap during the open, an
 * `lstat` agrees with the wrong file only while a link is in the path, and the
 * next check passes only while none is: an attacker exchanging names must
 * land between each pair of these calls in turn, at best once in four tries
 * per round, so once in 4^16 reads.
 *
 * @module
 */
import {
  close,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  read,
  type Stats,
} from "node:fs";
import { SEPARATOR } from "jsr:@std/path@1.1.6/constants";
import { placeUnderRoot } from "./place_under_root.ts";

/** Rounds of re-checking when the descriptor's own name cannot be read. */
const VERIFY_ROUNDS = 16;

/**
 * Why a path was not read: the status to answer with and the reason to log.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { UnservableFileError } from "./verified_read.ts";
 * const error = new UnservableFileError(404, "hidden file");
 * assertEquals([error.status, error.message], [404, "hidden file"]);
 * ```
 */
export class UnservableFileError extends Error {
  /** Always `"UnservableFileError"`. */
  override name = "UnservableFileError";
  /** The status to refuse the request with. */
  readonly status: 403 | 404;

  /**
   * Creates the error for one refused file.
   *
   * @param status The status to refuse the request with.
   * @param reason For the access log, and the body where the status needs a reason.
   */
  constructor(status: 403 | 404, reason: string) {
    super(reason);
    this.status = status;
  }
}

/** A file read through one descriptor: where it really is, its `fstat`, its bytes. */
export interface VerifiedRead {
  /** The file's real path, inside the root and with no hidden segment. */
  realPath: string;
  /** `fstat` of the descriptor the bytes were read from, taken before reading. */
  info: FileStat;
  /** Every byte of the file. */
  body: Uint8Array<ArrayBuffer>;
}

/** The fields of `fstat` a file version keeps. */
export interface FileStat {
  /** Size in bytes. */
  size: number;
  /** Modification time in milliseconds. */
  mtimeMs: number;
  /** Status-change time in milliseconds. */
  ctimeMs: number;
  /** Device number. */
  dev: number;
  /** Inode number. */
  ino: number;
}

/**
 * Opens `path`, checks that the file opened is a regular file whose real path
 * lies inside `realRoot` with no segment starting with `.`, and reads it
 * through the same descriptor.
 *
 * @param path The file to read (may contain symbolic links).
 * @param realRoot The root, as returned by `Deno.realPath`.
 * @param maxBytes Largest file read; a larger one is refused with 403.
 * @returns The real path, `fstat` and bytes of the file opened.
 * @throws {UnservableFileError} when the file is outside the root, hidden,
 *   not a regular file, or too large; `Deno.errors.NotFound` and other
 *   file-system errors pass through.
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "jsr:@std/assert@1.0.19";
 * import { readInsideRoot, UnservableFileError } from "./verified_read.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * await Deno.writeTextFile(`${root}/.env`, "SECRET=1");
 * await Deno.symlink(`${root}/.env`, `${root}/envlink`);
 * const { body } = await readInsideRoot(`${root}/a.txt`, root, 1024);
 * assertEquals(new TextDecoder().decode(body), "hello");
 * await assertRejects(() => readInsideRoot(`${root}/envlink`, root, 1024), UnservableFileError);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readInsideRoot(
  path: string,
  realRoot: string,
  maxBytes: number,
): Promise<VerifiedRead> {
  const { fd, realPath, info } = openInsideRoot(path, realRoot);
  try {
    if (info.size > maxBytes) throw new UnservableFileError(403, tooLarge(info.size, maxBytes));
    const body = await readToEnd(fd, info.size, maxBytes);
    return { realPath, info, body };
  } finally {
    await closeDescriptor(fd);
  }
}

/** A descriptor proved to be a regular file inside the root, with its real path and `fstat`. */
export interface OpenedFile {
  /** The open descriptor; the caller closes it (see {@linkcode closeDescriptor}). */
  fd: number;
  /** The file's real path, inside the root and with no hidden segment. */
  realPath: string;
  /** `fstat` of the descriptor, taken when it was opened. */
  info: FileStat;
}

/**
 * Opens `path` and proves that the descriptor is a regular file whose real
 * path lies inside `realRoot` with no segment starting with `.`: the
 * link-safe open that every read of the server goes through, whether it
 * reads the file whole or streams it.
 *
 * @param path The file to open (may contain symbolic links).
 * @param realRoot The root, as returned by `Deno.realPath`.
 * @returns The descriptor, the real path and `fstat`; the caller closes it.
 * @throws {UnservableFileError} when the file is outside the root, hidden or
 *   not a regular file; `Deno.errors.NotFound` and other errors pass through.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { closeDescriptor, openInsideRoot } from "./verified_read.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * const opened = openInsideRoot(`${root}/a.txt`, root);
 * assertEquals([opened.realPath, opened.info.size], [`${root}/a.txt`, 5]);
 * await closeDescriptor(opened.fd);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function openInsideRoot(path: string, realRoot: string): OpenedFile {
  for (let attempt = 1;; attempt++) {
    const realPath = Deno.realPathSync(path);
    refuseUnlessServable(realPath, realRoot);
    // Non-blocking, so that a FIFO swapped in for a file cannot hang the open.
    const fd = openSync(realPath, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stats = fstatSync(fd);
      verifyOpened(fd, realPath, stats);
      if (!stats.isFile()) throw new UnservableFileError(404, "not a regular file");
      return { fd, realPath, info: fileStatOf(stats) };
    } catch (error) {
      closeSync(fd);
      if (!(error instanceof ChangedWhileOpenedError) || attempt === OPEN_ATTEMPTS) throw error;
    }
  }
}

/**
 * Open attempts made when the file changes while it is opened: an editor
 * that saves by renaming a new file over the old one makes the checks
 * disagree once, and the next attempt opens the new file.
 */
const OPEN_ATTEMPTS = 3;

/**
 * The {@linkcode FileStat} of an open descriptor now: what a stream compares
 * with the version it sends, to notice a write to the file meanwhile.
 *
 * @param fd An open descriptor.
 * @returns Its size, times, device and inode.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { closeDescriptor, openInsideRoot, statDescriptor } from "./verified_read.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * const opened = openInsideRoot(`${root}/a.txt`, root);
 * assertEquals(statDescriptor(opened.fd), opened.info);
 * await closeDescriptor(opened.fd);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function statDescriptor(fd: number): FileStat {
  return fileStatOf(fstatSync(fd));
}

function fileStatOf(stats: Stats): FileStat {
  return {
    size: stats.size,
    mtimeMs: stats.mtime.getTime(),
    ctimeMs: stats.ctime.getTime(),
    dev: stats.dev,
    ino: stats.ino,
  };
}

/**
 * Closes a descriptor off the main thread; never rejects (a close that fails
 * leaves nothing to do).
 *
 * @param fd The descriptor.
 * @returns When it is closed.
 *
 * @example
 * ```ts
 * import { assertThrows } from "jsr:@std/assert@1.0.19";
 * import { fstatSync } from "node:fs";
 * import { closeDescriptor, openInsideRoot } from "./verified_read.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * const { fd } = openInsideRoot(`${root}/a.txt`, root);
 * await closeDescriptor(fd);
 * assertThrows(() => fstatSync(fd)); // no longer open
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function closeDescriptor(fd: number): Promise<void> {
  return new Promise((done) => close(fd, () => done()));
}

/** Set once `/proc/self/fd` proved unreadable (no `--allow-all`, or not Linux). */
let descriptorNamesUnavailable = false;

/** Throws unless the file open as `fd` is the one at `realPath` (see the module comment). */
function verifyOpened(fd: number, realPath: string, opened: Stats): void {
  if (!descriptorNamesUnavailable) {
    let name: string | undefined;
    try {
      name = Deno.readLinkSync(`/proc/self/fd/${fd}`);
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      descriptorNamesUnavailable = true;
    }
    if (name !== undefined) {
      if (name !== realPath) throw changedWhileOpened(realPath);
      return;
    }
  }
  for (let round = 0; round < VERIFY_ROUNDS; round++) {
    const named = lstatSync(realPath);
    if (named.isSymbolicLink() || named.dev !== opened.dev || named.ino !== opened.ino) {
      throw changedWhileOpened(realPath);
    }
    if (Deno.realPathSync(realPath) !== realPath) throw changedWhileOpened(realPath);
  }
}

/** The descriptor is not the file at the checked path (any more). */
class ChangedWhileOpenedError extends UnservableFileError {}

function changedWhileOpened(realPath: string): UnservableFileError {
  return new ChangedWhileOpenedError(404, `${realPath} changed while it was opened`);
}

function isUnavailable(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.NotFound ||
    error instanceof Deno.errors.PermissionDenied;
}

/**
 * Why a file is refused for its size, for the log and the response body.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { tooLarge } from "./verified_read.ts";
 * assertEquals(tooLarge(101, 100), "file of 101 bytes exceeds the 100-byte limit");
 * ```
 */
export function tooLarge(size: number, maxBytes: number): string {
  return `file of ${size} bytes exceeds the ${maxBytes}-byte limit`;
}

/**
 * Throws unless `realPath` is `realRoot` or below it, with no segment below
 * the root starting with `.`: hidden files stay hidden when a link leads to them.
 *
 * @example
 * ```ts
 * import { assertThrows } from "jsr:@std/assert@1.0.19";
 * import { refuseUnlessServable } from "./verified_read.ts";
 * refuseUnlessServable("/srv/site/a/b.txt", "/srv/site"); // fine
 * assertThrows(() => refuseUnlessServable("/srv/site/.git/config", "/srv/site"));
 * assertThrows(() => refuseUnlessServable("/srv/site2/b.txt", "/srv/site"));
 * ```
 */
export function refuseUnlessServable(realPath: string, realRoot: string): void {
  const place = placeUnderRoot(realPath, realRoot);
  // The root itself is a directory, never a file to read: refused like the outside.
  if (place === "outside" || place === "root") {
    throw new UnservableFileError(404, `symbolic link leads outside the root, to ${realPath}`);
  }
  if (place === "hidden") {
    const below = realPath.slice(realRoot.length + (realRoot.endsWith(SEPARATOR) ? 0 : 1));
    throw new UnservableFileError(404, `symbolic link leads to a hidden file, ${below}`);
  }
}

/** Bytes probed past the size `fstat` gave, to notice a file that grew meanwhile. */
const GROWTH_PROBE_BYTES = 64 * 1024;

/**
 * Reads a file through its descriptor to the end, which may lie before or
 * after the size `fstat` gave: the file may have shrunk or grown meanwhile.
 *
 * @param fd An open descriptor.
 * @param expectedSize The size `fstat` gave.
 * @param maxBytes The most bytes to hold.
 * @returns Every byte up to the end of the file.
 * @throws {UnservableFileError} (403) when the file grew past `maxBytes`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { closeDescriptor, openInsideRoot, readToEnd } from "./verified_read.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * const { fd } = openInsideRoot(`${root}/a.txt`, root);
 * assertEquals((await readToEnd(fd, 2, 1024)).length, 5); // it grew since fstat
 * await closeDescriptor(fd);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readToEnd(
  fd: number,
  expectedSize: number,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  let body = new Uint8Array(expectedSize);
  const filled = await readInto(fd, body, 0);
  if (filled < body.length) return body.slice(0, filled);
  const probe = new Uint8Array(GROWTH_PROBE_BYTES);
  for (;;) {
    const bytesRead = await readAt(fd, probe, 0, probe.length, body.length);
    if (bytesRead === 0) return body;
    const size = body.length + bytesRead;
    if (size > maxBytes) throw new UnservableFileError(403, tooLarge(size, maxBytes));
    const grown = new Uint8Array(size);
    grown.set(body);
    grown.set(probe.subarray(0, bytesRead), body.length);
    body = grown;
  }
}

/** Fills `buffer` from file position `position` on; fewer bytes only at the end of the file. */
async function readInto(fd: number, buffer: Uint8Array, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const bytesRead = await readAt(fd, buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/**
 * `read(2)` at a file position, off the main thread.
 *
 * @param fd An open descriptor.
 * @param buffer Where the bytes go.
 * @param offset Where in `buffer` they start.
 * @param length The most bytes to read.
 * @param position The file position to read from.
 * @returns How many bytes were read: 0 at the end of the file.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { closeDescriptor, openInsideRoot, readAt } from "./verified_read.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * const { fd } = openInsideRoot(`${root}/a.txt`, root);
 * const buffer = new Uint8Array(3);
 * assertEquals(await readAt(fd, buffer, 0, 3, 2), 3);
 * assertEquals(new TextDecoder().decode(buffer), "llo");
 * await closeDescriptor(fd);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function readAt(
  fd: number,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((done, fail) => {
    read(fd, buffer, offset, length, position, (error, bytesRead) => {
      if (error) fail(error);
      else done(bytesRead);
    });
  });
}
