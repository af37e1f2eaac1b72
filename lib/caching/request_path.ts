/**
 * Turning a URL path into file-name segments that cannot leave the root.
 *
 * The WHATWG URL parser behind `new URL(request.url)` has already removed
 * `.` and `..` segments (also in their `%2e` spellings) and turned `\` into
 * `/`. What it leaves alone is the percent-encoding *inside* segments, and
 * decoding can produce characters a file system reads differently from a
 * browser: an encoded `/` or `\` would split a segment in two, and NUL ends a
 * C string early. Those are refused outright rather than guessed at.
 *
 * This is the first of two walls: the file cache also checks, with the real
 * path of every file it reads, that symbolic links do not lead out of the root.
 *
 * @module
 */

/** The outcome of {@linkcode decodeRequestPath}. */
export type DecodedPath =
  /** Safe segments to join onto the root; `[]` is the root itself. */
  | { ok: true; segments: string[]; endsWithSlash: boolean }
  /** Refuse the request with `status`; `reason` is for the access log. */
  | { ok: false; status: 400 | 404; reason: string };

/**
 * Decodes a URL pathname (`new URL(request.url).pathname`) into file-name
 * segments, refusing anything that could name a file outside the root.
 *
 * - malformed percent-encoding, and decoded `/`, `\` or NUL → 400;
 * - a decoded `.` or `..` segment → 400 (the URL parser normally removes
 *   these; refusing them keeps this function safe on its own);
 * - a segment starting with `.` (`.git`, `.env`) → 404: hidden files are
 *   never part of the site;
 * - empty segments (`//`) are skipped.
 *
 * @param pathname The percent-encoded path, starting with `/`.
 * @returns Decoded segments, or the status to refuse the request with.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { decodeRequestPath } from "./request_path.ts";
 * assertEquals(decodeRequestPath("/docs/caf%C3%A9.html"), {
 *   ok: true,
 *   segments: ["docs", "café.html"],
 *   endsWithSlash: false,
 * });
 * assertEquals(decodeRequestPath("/a%2F..%2F..%2Fetc/passwd"), {
 *   ok: false,
 *   status: 400,
 *   reason: 'encoded slash in path segment "a/../../etc"',
 * });
 * ```
 */
export function decodeRequestPath(pathname: string): DecodedPath {
  const segments: string[] = [];
  for (const encoded of pathname.split("/")) {
    if (encoded === "") continue;
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return refuse(400, `malformed percent-encoding in ${JSON.stringify(encoded)}`);
    }
    if (segment.includes("/")) {
      return refuse(400, `encoded slash in path segment ${quote(segment)}`);
    }
    if (segment.includes("\\")) return refuse(400, `backslash in path segment ${quote(segment)}`);
    if (segment.includes("\0")) return refuse(400, `NUL byte in path segment ${quote(segment)}`);
    if (segment === "." || segment === "..") return refuse(400, `dot segment ${quote(segment)}`);
    if (segment.startsWith(".")) return refuse(404, `hidden file ${quote(segment)} is not served`);
    segments.push(segment);
  }
  return { ok: true, segments, endsWithSlash: pathname.endsWith("/") };
}

/**
 * The `Location` that sends a directory URL without its final `/` to the URL
 * with it: the last segment plus `/`, relative, as Go's `net/http` does. A
 * relative reference of one segment stays on this host and this directory
 * whatever the path is; echoing the path would turn `//evil.example` into a
 * protocol-relative `//evil.example/`, a redirect to another host. A segment
 * with a colon gets `./` so that it is not read as a scheme.
 *
 * @param pathname The percent-encoded path, not ending in `/`.
 * @param search The query with its `?`, or `""`.
 * @returns A relative reference.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { directoryRedirect } from "./request_path.ts";
 * assertEquals(directoryRedirect("/docs", "?x=1"), "docs/?x=1");
 * assertEquals(directoryRedirect("//evil.example", ""), "evil.example/");
 * assertEquals(directoryRedirect("/a/javascript:x", ""), "./javascript:x/");
 * ```
 */
export function directoryRedirect(pathname: string, search: string): string {
  const segment = pathname.slice(pathname.lastIndexOf("/") + 1);
  return `${segment.includes(":") ? "./" : ""}${segment}/${search}`;
}

function refuse(status: 400 | 404, reason: string): DecodedPath {
  return { ok: false, status, reason };
}

function quote(segment: string): string {
  return JSON.stringify(segment);
}
