/**
 * Directory listings, opt-in with `--list-dirs`: an HTML page of a
 * directory's names, sizes and modification times, for a directory without
 * an `index.html`.
 *
 * The page is a pure function of what is on disk ({@linkcode renderListing}),
 * with no clock in it, so its bytes, and with them its strong `ETag` (their
 * SHA-256, as for a file), change exactly when an entry is added, removed,
 * resized or touched: a reload of an unchanged directory is a 304.
 * {@linkcode readListing} gathers the entries and leaves out what the server
 * would refuse to serve: hidden names, and symbolic links that lead out of
 * the root.
 *
 * @module
 */
import { join } from "jsr:@std/path@1.1.6/join";
import { SEPARATOR } from "jsr:@std/path@1.1.6/constants";
import { escapeHtml } from "../html.ts";

/** One line of a listing. */
export interface ListedEntry {
  /** The name in the directory, as the file system has it. */
  name: string;
  /** A directory (or a link to one): listed with a trailing `/`, without a size. */
  isDirectory: boolean;
  /** Size in bytes (a link's target's). */
  size: number;
  /** Modification time (a link's target's); `null` where the platform has none. */
  mtimeMs: number | null;
}

/** What {@linkcode readListing} found in a directory. */
export interface DirectoryContents {
  /** The entries to list, in no particular order. */
  entries: ListedEntry[];
  /** More entries were there than the limit; those were not read. */
  truncated: boolean;
  /** The newest modification time among the directory and its listed entries. */
  newestMs: number;
}

/**
 * Most entries listed: bounds the time (one `stat` each) and the memory
 * (about 300 bytes of HTML each) a request for a huge directory can cost.
 */
const MAX_LISTED_ENTRIES = 10_000;

/** `stat` calls in flight at once while reading a directory. */
const STATS_IN_FLIGHT = 32;

/**
 * Reads `directory` (a real path under the real path `root`) for its listing:
 * every entry but hidden ones (a name starting with `.`, never served), ones
 * that vanish or cannot be `stat`ed while it is read, and symbolic links
 * whose target is outside `root` (the server answers those with 404).
 *
 * @param directory The directory, by its real path.
 * @param root The served root, by its real path.
 * @param limit Most entries to read; the rest are left unread.
 * @returns The entries, whether some were left out for the limit, and the newest mtime.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { readListing } from "./directory_listing.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/a.txt`, "hello");
 * await Deno.writeTextFile(`${root}/.env`, "SECRET=1");
 * const { entries } = await readListing(root, root);
 * assertEquals(entries.map((entry) => [entry.name, entry.size]), [["a.txt", 5]]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function readListing(
  directory: string,
  root: string,
  limit = MAX_LISTED_ENTRIES,
): Promise<DirectoryContents> {
  const names: { name: string; isSymlink: boolean }[] = [];
  let truncated = false;
  for await (const { name, isSymlink } of Deno.readDir(directory)) {
    if (name.startsWith(".")) continue;
    if (names.length === limit) {
      truncated = true;
      break;
    }
    names.push({ name, isSymlink });
  }
  const entries: ListedEntry[] = [];
  for (let start = 0; start < names.length; start += STATS_IN_FLIGHT) {
    const batch = names.slice(start, start + STATS_IN_FLIGHT);
    const found = await Promise.all(batch.map((entry) => statEntry(directory, root, entry)));
    for (const entry of found) if (entry !== undefined) entries.push(entry);
  }
  const directoryMtime = (await Deno.stat(directory)).mtime?.getTime() ?? 0;
  const newestMs = entries.reduce(
    (newest, { mtimeMs }) => Math.max(newest, mtimeMs ?? 0),
    directoryMtime,
  );
  return { entries, truncated, newestMs };
}

/** The entry as the server would serve it, or `undefined` when it would not. */
async function statEntry(
  directory: string,
  root: string,
  { name, isSymlink }: { name: string; isSymlink: boolean },
): Promise<ListedEntry | undefined> {
  const path = join(directory, name);
  try {
    if (isSymlink && !(await Deno.realPath(path)).startsWith(root + SEPARATOR)) return undefined;
    const info = await Deno.stat(path);
    return {
      name,
      isDirectory: info.isDirectory,
      size: info.size,
      mtimeMs: info.mtime?.getTime() ?? null,
    };
  } catch {
    return undefined; // removed while listed, a dangling link, or unreadable: not servable either
  }
}

/**
 * The listing page of the directory at URL path `urlPath` (decoded, ending in
 * `/`): directories first, then files, each group by name (by UTF-16 code
 * units, so the same on every machine), with sizes in bytes and modification
 * times in UTC. Names are HTML-escaped in the text and percent-encoded in the
 * links, so any name a file system allows links to itself and nothing else.
 *
 * @param urlPath The directory's URL path, decoded, e.g. `/docs/`.
 * @param entries The entries to list.
 * @param truncated Whether entries were left out (a note says so).
 * @returns The whole HTML page.
 *
 * @example A file whose name is markup is listed as text
 * ```ts
 * import { assertStringIncludes } from "jsr:@std/assert@1.0.19";
 * import { renderListing } from "./directory_listing.ts";
 * const page = renderListing("/", [
 *   { name: "<b>.txt", isDirectory: false, size: 3, mtimeMs: 0 },
 * ], false);
 * assertStringIncludes(page, '<a href="%3Cb%3E.txt">&lt;b&gt;.txt</a>');
 * assertStringIncludes(page, "1970-01-01 00:00:00 UTC");
 * ```
 */
export function renderListing(urlPath: string, entries: ListedEntry[], truncated: boolean): string {
  const rows = [...entries].sort(directoriesFirstThenByName).map(listingRow);
  if (urlPath !== "/") rows.unshift(`<tr><td><a href="../">../</a></td><td></td><td></td></tr>`);
  const title = `Index of ${escapeHtml(urlPath)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; }
td, th { text-align: left; padding: 0.1rem 1.5rem 0.1rem 0; }
td:nth-child(2) { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>${title}</h1>
<table>
<tr><th>Name</th><th>Size (bytes)</th><th>Modified</th></tr>
${rows.join("\n")}
</table>
${truncated ? `<p>Only the first ${MAX_LISTED_ENTRIES} entries read are listed.</p>\n` : ""}</body>
</html>
`;
}

function directoriesFirstThenByName(a: ListedEntry, b: ListedEntry): number {
  if (a.isDirectory !== b.isDirectory) return a.isDirectory ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function listingRow({ name, isDirectory, size, mtimeMs }: ListedEntry): string {
  const slash = isDirectory ? "/" : "";
  const href = escapeHtml(encodeURIComponent(name) + slash);
  const modified = mtimeMs === null ? "" : formatUtc(mtimeMs);
  return `<tr><td><a href="${href}">${escapeHtml(name)}${slash}</a></td>` +
    `<td>${isDirectory ? "" : size}</td><td>${modified}</td></tr>`;
}

/** `2026-12-02 07:00:00 UTC`: to the second, like `Last-Modified`. */
function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
