/**
 * Directory listings: the page as a pure function of the entries, and what
 * `readListing` takes from a real directory (hidden names and links out of
 * the root left out). The listing over real sockets is in
 * `caching_server_listing_test.ts`.
 */
import {
  assert,
  assertEquals,
  assertFalse,
  assertNotEquals,
  assertStringIncludes,
} from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { type ListedEntry, readListing, renderListing } from "../lib/caching/directory_listing.ts";

const JAN_2 = Date.UTC(2026, 0, 2, 3, 4, 5);

function file(name: string, size = 1, mtimeMs: number | null = JAN_2): ListedEntry {
  return { name, isDirectory: false, size, mtimeMs };
}

function directory(name: string): ListedEntry {
  return { name, isDirectory: true, size: 4096, mtimeMs: JAN_2 };
}

/** The rows of a page: each link's href and text, in order. */
function links(page: string): [string, string][] {
  return [...page.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((match) => [match[1], match[2]]);
}

Deno.test("renderListing: directories first, then files, each by name; parent link below the root", () => {
  const entries = [
    file("b.txt"),
    directory("zeta"),
    file("B.txt"),
    directory("alpha"),
    file("a.txt"),
  ];
  assertEquals(links(renderListing("/docs/", entries, false)), [
    ["../", "../"],
    ["alpha/", "alpha/"],
    ["zeta/", "zeta/"],
    ["B.txt", "B.txt"],
    ["a.txt", "a.txt"],
    ["b.txt", "b.txt"],
  ]);
  assertEquals(links(renderListing("/", [file("a.txt")], false)), [["a.txt", "a.txt"]]);
});

Deno.test("renderListing: names are escaped as text and percent-encoded as links", () => {
  const page = renderListing("/<dir>/", [
    file(`<img src=x onerror=alert(1)>.html`),
    file(`"quoted" & 'single'.txt`),
    file("a b#c?d%e.txt"),
    file("javascript:alert(1)"),
  ], false);
  assertFalse(page.includes("<img"), "markup in a name must not become markup");
  assertStringIncludes(page, "<title>Index of /&lt;dir&gt;/</title>");
  assertEquals(links(page).slice(1), [
    ["%22quoted%22%20%26%20&#39;single&#39;.txt", "&quot;quoted&quot; &amp; &#39;single&#39;.txt"],
    ["%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E.html", "&lt;img src=x onerror=alert(1)&gt;.html"],
    ["a%20b%23c%3Fd%25e.txt", "a b#c?d%e.txt"],
    // A colon is encoded: the link stays relative, never a javascript: URL.
    ["javascript%3Aalert(1)", "javascript:alert(1)"],
  ]);
});

Deno.test("renderListing: sizes in bytes for files only, times in UTC to the second", () => {
  const page = renderListing(
    "/",
    [file("a.bin", 123456), directory("d"), file("t", 0, null)],
    false,
  );
  assertStringIncludes(
    page,
    '<a href="a.bin">a.bin</a></td><td>123456</td><td>2026-01-02 03:04:05 UTC</td>',
  );
  assertStringIncludes(page, '<a href="d/">d/</a></td><td></td><td>2026-01-02 03:04:05 UTC</td>');
  assertStringIncludes(page, '<a href="t">t</a></td><td>0</td><td></td>');
});

Deno.test("renderListing: the same entries give the same bytes; any change gives others", () => {
  const entries = [file("a.txt", 5), directory("d")];
  const page = renderListing("/", entries, false);
  assertEquals(
    renderListing("/", [...entries].reverse(), false),
    page,
    "order on disk does not matter",
  );
  assertNotEquals(renderListing("/", [file("a.txt", 6), directory("d")], false), page);
  assertNotEquals(
    renderListing("/", [file("a.txt", 5, JAN_2 + 1000), directory("d")], false),
    page,
  );
  assertNotEquals(renderListing("/", [file("a.txt", 5)], false), page);
  assertStringIncludes(
    renderListing("/", entries, true),
    "Only the first 10000 entries read are listed.",
  );
  assertFalse(page.includes("Only the first"));
});

Deno.test("readListing: hidden names, links out of the root and dangling links are left out", async () => {
  const parent = await Deno.realPath(await Deno.makeTempDir({ prefix: "listing_test_" }));
  const root = join(parent, "site");
  try {
    await Deno.mkdir(join(root, "sub", ".git"), { recursive: true });
    await Deno.writeTextFile(join(root, "sub", "page.html"), "<p>12</p>");
    await Deno.writeTextFile(join(root, "sub", ".env"), "SECRET=1");
    await Deno.writeTextFile(join(parent, "outside.txt"), "not for you");
    await Deno.symlink(join(parent, "outside.txt"), join(root, "sub", "escape.txt"));
    await Deno.symlink(join(root, "sub", "page.html"), join(root, "sub", "alias.html"));
    await Deno.symlink(join(root, "missing"), join(root, "sub", "dangling"));
    await Deno.mkdir(join(root, "sub", "inner"));

    const { entries, truncated, newestMs } = await readListing(join(root, "sub"), root);
    const byName = (a: ListedEntry, b: ListedEntry) => a.name < b.name ? -1 : 1;
    assertEquals(
      entries.sort(byName).map((
        { name, isDirectory, size },
      ) => [name, isDirectory, isDirectory ? 0 : size]),
      [["alias.html", false, 9], ["inner", true, 0], ["page.html", false, 9]],
    );
    assertFalse(truncated);
    const directoryMtime = (await Deno.stat(join(root, "sub"))).mtime!.getTime();
    assert(newestMs >= directoryMtime, "a removed entry changes only the directory's mtime");
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("readListing: at most `limit` entries are read, and it says so", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "listing_test_" }));
  try {
    for (let i = 0; i < 5; i++) await Deno.writeTextFile(join(root, `f${i}`), "");
    await Deno.writeTextFile(join(root, ".hidden"), "");
    const limited = await readListing(root, root, 3);
    assertEquals([limited.entries.length, limited.truncated], [3, true]);
    const exact = await readListing(root, root, 5);
    assertEquals([exact.entries.length, exact.truncated], [5, false], "hidden names do not count");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
