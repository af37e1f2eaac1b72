import { assert, assertEquals } from "@std/assert";
import {
  createFileVersion,
  type FileSignature,
  isUnchanged,
  signatureOf,
} from "../lib/caching/file_version.ts";

/** A stat result with only the fields the signature reads filled in meaningfully. */
function fileInfo(fields: { size: number; mtimeMs: number; ctimeMs: number; ino: number }) {
  const info: Deno.FileInfo = {
    isFile: true,
    isDirectory: false,
    isSymlink: false,
    size: fields.size,
    mtime: new Date(fields.mtimeMs),
    atime: null,
    birthtime: null,
    ctime: new Date(fields.ctimeMs),
    dev: 1,
    ino: fields.ino,
    mode: 0o644,
    nlink: 1,
    uid: 0,
    gid: 0,
    rdev: 0,
    blksize: 4096,
    blocks: 1,
    isBlockDevice: false,
    isCharDevice: false,
    isFifo: false,
    isSocket: false,
  };
  return info;
}

Deno.test("isUnchanged: any of size, mtime (with milliseconds), ctime or inode marks a new version", () => {
  const read = { size: 100, mtimeMs: 1_700_000_000_250, ctimeMs: 1_700_000_000_000, ino: 42 };
  const signature: FileSignature = signatureOf(fileInfo(read));
  const cases: [string, Partial<typeof read>, boolean][] = [
    ["identical stat", {}, true],
    ["size changed", { size: 101 }, false],
    ["mtime changed within the same second", { mtimeMs: read.mtimeMs + 500 }, false],
    ["mtime restored but ctime moved (cp -p)", { ctimeMs: read.ctimeMs + 1000 }, false],
    ["renamed over: new inode", { ino: 43 }, false],
  ];
  for (const [name, change, unchanged] of cases) {
    assertEquals(isUnchanged(signature, fileInfo({ ...read, ...change })), unchanged, name);
  }
});

Deno.test("createFileVersion clamps mtime to a second before now (RFC 9110 §8.8.2.1)", async () => {
  const body = new TextEncoder().encode("x");
  const stat = { size: 1, mtimeMs: 0, ctimeMs: null, dev: null, ino: null };
  const now = Date.UTC(2026, 0, 1, 12, 0, 0, 700);
  const cases: [string, number, string][] = [
    ["past mtime kept, to the second", now - 60_500, "Thu, 01 Jan 2026 11:59:00 GMT"],
    ["mtime a second ago kept", now - 1000, "Thu, 01 Jan 2026 11:59:59 GMT"],
    ["mtime this second clamped", now - 300, "Thu, 01 Jan 2026 11:59:59 GMT"],
    ["future mtime clamped", now + 3_600_000, "Thu, 01 Jan 2026 11:59:59 GMT"],
  ];
  for (const [name, modifiedMs, expected] of cases) {
    const version = await createFileVersion(body, "x.txt", modifiedMs, stat, { nowMs: now });
    assertEquals(version.lastModifiedHeader, expected, name);
    // Deno.serve's Date can be a whole second behind the clock.
    assert(version.lastModified * 1000 <= now - 1000, name);
  }
});
