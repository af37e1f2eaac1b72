/**
 * Directory listings over real sockets (`listDirs: true`, `--list-dirs`): the
 * page, its strong ETag and the 304 on reload, what is never listed, and that
 * nothing changes without the option.
 */
import {
  assert,
  assertEquals,
  assertFalse,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { sha256Tag } from "./support/sha256_tag.ts";
import { withCachingServer } from "./support/caching_server.ts";

async function get(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { redirect: "manual", ...init });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

const FILES = {
  "docs/guide.txt": "twelve bytes",
  "docs/img/logo.svg": "<svg/>",
  "docs/.env": "SECRET=1",
  "docs/.git/config": "[core]",
};

Deno.test("--list-dirs: a directory without index.html is listed, with a strong ETag of the page", async () => {
  await withCachingServer(FILES, { listDirs: true }, async ({ origin, log }) => {
    const { status, headers, body } = await get(`${origin}/docs/`);
    assertEquals(status, 200);
    assertEquals(headers.get("content-type"), "text/html; charset=UTF-8");
    assertEquals(headers.get("etag"), await sha256Tag(body));
    assertMatch(headers.get("last-modified") ?? "", /GMT$/);
    assertStringIncludes(body, "<title>Index of /docs/</title>");
    assertStringIncludes(body, '<a href="img/">img/</a>');
    assertStringIncludes(body, '<a href="guide.txt">guide.txt</a></td><td>12</td>');
    assertStringIncludes(body, '<a href="../">../</a>');
    assertFalse(body.includes(".env"), "hidden files are never listed");
    assertFalse(body.includes(".git"), "hidden directories are never listed");
    assertStringIncludes(log.at(-1)!, "GET /docs/ 200 ");
    assertStringIncludes(log.at(-1)!, "directory listing");
  });
});

Deno.test("--list-dirs: reload of an unchanged directory is 304; a new file makes a new ETag", async () => {
  await withCachingServer(FILES, { listDirs: true }, async ({ origin, root, edit }) => {
    const first = await get(`${origin}/docs/`);
    const etag = first.headers.get("etag")!;
    const reload = await get(`${origin}/docs/`, { headers: { "if-none-match": etag } });
    assertEquals([reload.status, reload.body, reload.headers.get("etag")], [304, "", etag]);

    await edit(() => Deno.writeTextFile(join(root, "docs", "new.txt"), "new"));
    const changed = await get(`${origin}/docs/`, { headers: { "if-none-match": etag } });
    assertEquals(changed.status, 200);
    assertStringIncludes(changed.body, '<a href="new.txt">new.txt</a>');
    const newTag = changed.headers.get("etag")!;
    assertNotEquals(newTag, etag);
    assertEquals(newTag, await sha256Tag(changed.body));
    const again = await get(`${origin}/docs/`, { headers: { "if-none-match": newTag } });
    assertEquals(again.status, 304);
  });
});

Deno.test("--list-dirs without watching: a touched file changes the listing's ETag too", async () => {
  await withCachingServer(FILES, { listDirs: true, watch: false }, async ({ origin, root }) => {
    const etag = (await get(`${origin}/docs/`)).headers.get("etag")!;
    assertEquals(
      (await get(`${origin}/docs/`, { headers: { "if-none-match": etag } })).status,
      304,
    );
    await Deno.writeTextFile(join(root, "docs", "guide.txt"), "now thirteen!");
    const changed = await get(`${origin}/docs/`, { headers: { "if-none-match": etag } });
    assertEquals(changed.status, 200);
    assertStringIncludes(changed.body, '<a href="guide.txt">guide.txt</a></td><td>13</td>');
  });
});

Deno.test("--list-dirs: names are escaped in the page on the wire", async () => {
  const files = { "files/<img src=x onerror=alert(1)>.txt": "x", 'files/a&b "c".txt': "y" };
  await withCachingServer(files, { listDirs: true }, async ({ origin }) => {
    const { status, body } = await get(`${origin}/files/`);
    assertEquals(status, 200);
    assertFalse(body.includes("<img"), "a name must never become markup");
    assertStringIncludes(body, "&lt;img src=x onerror=alert(1)&gt;.txt");
    assertStringIncludes(body, 'href="%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E.txt"');
    assertStringIncludes(body, "a&amp;b &quot;c&quot;.txt");
    // The link leads to the file.
    assertEquals((await get(`${origin}/files/a%26b%20%22c%22.txt`)).body, "y");
  });
});

Deno.test("--list-dirs: index.html wins, /dir redirects, hidden directories stay 404, HEAD has no body", async () => {
  const files = { ...FILES, "site/index.html": "<p>home</p>" };
  await withCachingServer(files, { listDirs: true }, async ({ origin }) => {
    assertEquals((await get(`${origin}/site/`)).body, "<p>home</p>");
    const redirect = await get(`${origin}/docs`);
    assertEquals([redirect.status, redirect.headers.get("location")], [301, "docs/"]);
    assertEquals((await get(`${origin}/docs/.git/`)).status, 404);
    const root = await get(`${origin}/`);
    assertEquals(root.status, 200);
    assertStringIncludes(root.body, '<a href="docs/">docs/</a>');
    const full = await get(`${origin}/docs/`);
    const head = await get(`${origin}/docs/`, { method: "HEAD" });
    assertEquals([head.status, head.body], [200, ""]);
    assertEquals(head.headers.get("etag"), full.headers.get("etag"));
    assertEquals(
      head.headers.get("content-length"),
      String(new TextEncoder().encode(full.body).length),
    );
  });
});

Deno.test("without --list-dirs: a directory without index.html is still 404", async () => {
  await withCachingServer(FILES, {}, async ({ origin }) => {
    const { status, body } = await get(`${origin}/docs/`);
    assertEquals(status, 404);
    assert(!body.includes("guide.txt"));
  });
});
