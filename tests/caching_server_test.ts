/**
 * The caching server over real sockets: `serveCaching` on port 0, talked to
 * with `fetch`, or with raw bytes over `Deno.connect` where fetch would hide
 * the wire (body bytes of a 304, HEAD, paths fetch would normalise).
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
import { type ServeCachingOptions } from "../caching_server.ts";
import { FileCache } from "../lib/caching/file_cache.ts";
import { isUnchanged } from "../lib/caching/file_version.ts";
import { formatHttpDate, parseHttpDate } from "../lib/http_date.ts";
import { exchange, parseResponses } from "./support/raw_http.ts";
import { sha256Tag } from "./support/sha256_tag.ts";
import { type CachingTestServer, withCachingServer } from "./support/caching_server.ts";

const PAGE = "<!doctype html><title>test</title><p>Hello, caching!</p>\n";

/** Serves `files` as {@linkcode withCachingServer} does, the options last. */
function withServer(
  files: Record<string, string>,
  test: (server: CachingTestServer) => Promise<void>,
  options: Partial<ServeCachingOptions> = {},
): Promise<void> {
  return withCachingServer(files, options, test);
}

/** Fetches and reads the whole body, so no response is left unconsumed. */
async function get(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

interface RawResponse {
  status: number;
  headers: Headers;
  /** The body its Content-Length frames; any byte after it fails the request. */
  body: Uint8Array;
}

/** Sends `request` on a new connection and parses the one response it must get. */
async function rawRequest(port: number, request: string, head = false): Promise<RawResponse> {
  const { bytes } = await exchange(port, new TextEncoder().encode(request), { halfClose: false });
  const { responses, error } = parseResponses(bytes, { head });
  const sent = new TextDecoder().decode(bytes);
  assertEquals([error, responses.length], [null, 1], `not one well-formed response: ${sent}`);
  const [{ status, headers, body }] = responses;
  return { status, headers: new Headers(headers), body };
}

function rawGet(port: number, target: string, fields: Record<string, string> = {}, method = "GET") {
  const lines = Object.entries(fields).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  return rawRequest(
    port,
    `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines}Connection: close\r\n\r\n`,
    method === "HEAD",
  );
}

Deno.test("GET / answers 200 with strong ETag, Last-Modified, Date and Cache-Control", async () => {
  await withServer({ "index.html": PAGE }, async ({ origin, root, log, edit }) => {
    // A file written this very second gets the second before as its
    // Last-Modified (never later than Date); an older one gets its mtime.
    await edit(() => ageFile(join(root, "index.html")));
    const { status, headers, body } = await get(`${origin}/`);
    assertEquals(status, 200);
    assertEquals(body, PAGE);
    assertEquals(headers.get("etag"), await sha256Tag(PAGE));
    const mtime = (await Deno.stat(join(root, "index.html"))).mtime!;
    assertEquals(headers.get("last-modified"), formatHttpDate(mtime));
    assertEquals(headers.get("cache-control"), "no-cache");
    assertEquals(headers.get("content-type"), "text/html; charset=UTF-8");
    assertEquals(headers.get("content-length"), String(PAGE.length));
    assertEquals(headers.get("accept-ranges"), "bytes");
    assertMatch(headers.get("date") ?? "", /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    assertEquals(log, [
      "watch: modify /index.html: cached files will be checked again",
      "GET / 200 no validators in request (file read and hashed)",
    ]);
  });
});

Deno.test("every 200 and 304 from memory is whole: the responses built per version are never used up", async () => {
  await withServer({ "index.html": PAGE }, async ({ origin }) => {
    const etag = (await get(`${origin}/`)).headers.get("etag")!;
    for (let i = 0; i < 3; i++) {
      const full = await get(`${origin}/`);
      assertEquals([full.status, full.body, full.headers.get("etag")], [200, PAGE, etag]);
      const revalidated = await get(`${origin}/`, { headers: { "if-none-match": etag } });
      assertEquals([revalidated.status, revalidated.headers.get("etag")], [304, etag]);
    }
  });
});

Deno.test("Content-Type follows the file extension", async () => {
  const files = { "a.css": "p{}", "b.json": "{}", "c.svg": "<svg/>", "d.unknownext": "?" };
  await withServer(files, async ({ origin }) => {
    const cases: [string, string][] = [
      ["/a.css", "text/css; charset=UTF-8"],
      ["/b.json", "application/json; charset=UTF-8"],
      ["/c.svg", "image/svg+xml"],
      ["/d.unknownext", "application/octet-stream"],
    ];
    for (const [path, type] of cases) {
      assertEquals((await get(origin + path)).headers.get("content-type"), type, path);
    }
  });
});

Deno.test("revalidation: 304 on the wire carries validators and not one body byte", async () => {
  await withServer({ "index.html": PAGE }, async ({ port, log }) => {
    const first = await rawGet(port, "/");
    const etag = first.headers.get("etag")!;
    const lastModified = first.headers.get("last-modified")!;

    const revalidated = await rawGet(port, "/", {
      "If-None-Match": etag,
      "If-Modified-Since": lastModified,
    });
    assertEquals(revalidated.status, 304);
    assertEquals(revalidated.body.length, 0);
    assertEquals(revalidated.headers.get("etag"), etag);
    assertEquals(revalidated.headers.get("last-modified"), lastModified);
    assertEquals(revalidated.headers.get("cache-control"), "no-cache");
    assert(revalidated.headers.has("date"));
    // The 200 carried no Vary, so the 304 needs none either (RFC 9110 §15.4.5).
    assertFalse(first.headers.has("vary"));
    assertFalse(revalidated.headers.has("vary"));
    assertFalse(revalidated.headers.has("content-length"));
    assertStringIncludes(log[1], `GET / 304 If-None-Match matched "`);
    assertStringIncludes(log[1], "no file event since last checked: no disk access");
  });
});

Deno.test("with watch: false, every request checks its file with stat", async () => {
  await withServer({ "index.html": PAGE }, async ({ origin, log, root }) => {
    await ageFile(join(root, "index.html")); // else it is too fresh for stat to vouch for
    const etag = (await get(`${origin}/`)).headers.get("etag")!;
    assertEquals((await get(`${origin}/`, { headers: { "if-none-match": etag } })).status, 304);
    assertStringIncludes(log[1], "unchanged on disk: stat only");
  }, { watch: false });
});

Deno.test("If-Modified-Since alone revalidates to the second", async () => {
  await withServer({ "index.html": PAGE }, async ({ origin }) => {
    const { headers } = await get(`${origin}/`);
    const lastModified = parseHttpDate(headers.get("last-modified")!)!;
    const since = (seconds: number) => ({
      headers: { "if-modified-since": formatHttpDate(seconds * 1000) },
    });
    assertEquals((await get(`${origin}/`, since(lastModified))).status, 304);
    assertEquals((await get(`${origin}/`, since(lastModified - 1))).status, 200);
    const invalid = { headers: { "if-modified-since": "not a date" } };
    assertEquals((await get(`${origin}/`, invalid)).status, 200);
  });
});

Deno.test("If-Match and If-Unmodified-Since failures give 412", async () => {
  await withServer({ "index.html": PAGE }, async ({ origin }) => {
    const etag = (await get(`${origin}/`)).headers.get("etag")!;
    assertEquals((await get(`${origin}/`, { headers: { "if-match": etag } })).status, 200);
    assertEquals((await get(`${origin}/`, { headers: { "if-match": '"old"' } })).status, 412);
    const epoch = { "if-unmodified-since": "Thu, 01 Jan 1970 00:00:00 GMT" };
    assertEquals((await get(`${origin}/`, { headers: epoch })).status, 412);
  });
});

Deno.test("an edited file gets a new ETag: 200 → 304 → edit → 200 → 304", async () => {
  await withServer({ "index.html": PAGE }, async ({ origin, root, log, edit }) => {
    const oldTag = (await get(`${origin}/`)).headers.get("etag")!;
    assertEquals((await get(`${origin}/`, { headers: { "if-none-match": oldTag } })).status, 304);

    const edited = PAGE.replace("Hello", "Hello again");
    await edit(() => Deno.writeTextFile(join(root, "index.html"), edited));
    assert(log.some((line) => line.startsWith("watch: ") && line.includes("/index.html")), "watch");
    const afterEdit = await get(`${origin}/`, { headers: { "if-none-match": oldTag } });
    assertEquals(afterEdit.status, 200);
    assertEquals(afterEdit.body, edited);
    const newTag = afterEdit.headers.get("etag")!;
    assertEquals(newTag, await sha256Tag(edited));
    assertStringIncludes(log.at(-1)!, "GET / 200 ETag changed");
    assertStringIncludes(log.at(-1)!, "file read and hashed");

    assertEquals((await get(`${origin}/`, { headers: { "if-none-match": newTag } })).status, 304);
  });
});

for (const watch of [true, false]) {
  Deno.test(`an edit keeping size and mtime second is still noticed (watch: ${watch})`, async (t) => {
    await withServer({ "page.txt": "version A" }, async ({ origin, root, edit }) => {
      const path = join(root, "page.txt");
      const second = Math.floor(Date.now() / 1000) - 60;
      await edit(() => Deno.utime(path, second, second + 0.25));
      const tagA = (await get(`${origin}/page.txt`)).headers.get("etag");

      await t.step("same size, same second, different milliseconds", async () => {
        await edit(async () => {
          await Deno.writeTextFile(path, "version B");
          await Deno.utime(path, second, second + 0.75);
        });
        const { body, headers } = await get(`${origin}/page.txt`);
        assertEquals(body, "version B");
        assertNotEquals(headers.get("etag"), tagA);
        assertEquals(headers.get("etag"), await sha256Tag("version B"));
      });

      await t.step("same size and mtime, file replaced by a rename (as editors save)", async () => {
        const temporary = join(root, "page.txt.tmp");
        await edit(async () => {
          await Deno.writeTextFile(temporary, "version C");
          await Deno.utime(temporary, second, second + 0.75);
          await Deno.rename(temporary, path);
        });
        const { body, headers } = await get(`${origin}/page.txt`);
        assertEquals(body, "version C");
        assertEquals(headers.get("etag"), await sha256Tag("version C"));
      });
    }, { watch });
  });
}

Deno.test("watching: a deleted file is 404 once the server is told, and back when recreated", async () => {
  await withServer({ "gone.txt": "here" }, async ({ origin, root, edit }) => {
    assertEquals((await get(`${origin}/gone.txt`)).status, 200);
    await edit(() => Deno.remove(join(root, "gone.txt")));
    assertEquals((await get(`${origin}/gone.txt`)).status, 404);
    await edit(() => Deno.writeTextFile(join(root, "gone.txt"), "back"));
    assertEquals((await get(`${origin}/gone.txt`)).body, "back");
  });
});

Deno.test("concurrent requests for a changed file share one read", async () => {
  const root = await Deno.makeTempDir({ prefix: "caching_cache_test_" });
  try {
    const path = join(root, "a.txt");
    await Deno.writeTextFile(path, "shared");
    await ageFile(path);
    const cache = new FileCache(await Deno.realPath(root));
    const info = await Deno.stat(path);
    const versions = await Promise.all(Array.from({ length: 8 }, () => cache.load(path, info)));
    assert(versions.every((version) => version === versions[0]), "all got the same read");
    assertEquals(cache.lookup(path, await Deno.stat(path)), versions[0]);
    await Deno.writeTextFile(path, "changed");
    assertEquals(cache.lookup(path, await Deno.stat(path)), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Moves a file's mtime a minute back, past the window in which `stat` cannot vouch for it. */
async function ageFile(path: string): Promise<void> {
  const minuteAgo = Date.now() / 1000 - 60;
  await Deno.utime(path, minuteAgo, minuteAgo);
}

Deno.test("a racily clean file is read again once a second has passed, not on every request", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "caching_cache_test_" }));
  try {
    const path = join(root, "a.txt");
    await Deno.writeTextFile(path, "version A");
    const cache = new FileCache(root);
    const first = await cache.load(path, await Deno.stat(path));
    // A second write of the same size with the mtime restored: only ctime can
    // tell, and Deno reports it in whole seconds.
    const { mtime } = await Deno.stat(path);
    await Deno.writeTextFile(path, "version B");
    await Deno.utime(path, mtime!, mtime!);
    const info = await Deno.stat(path);
    const now = Date.now();
    if (isUnchanged(first.stat, info)) {
      assertEquals(cache.lookup(path, info, now), first, "re-read at most once a second");
    }
    assertEquals(cache.lookup(path, info, now + 1000), undefined, "a second later, read again");
    const second = await cache.load(path, info);
    assertEquals(new TextDecoder().decode(second.body!), "version B");
    assertNotEquals(second.etag, first.etag);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a body is never paired with another version's ETag while the file changes", async () => {
  await withServer({ "data.txt": "initial" }, async ({ origin, root }) => {
    const path = join(root, "data.txt");
    const writer = (async () => {
      for (let i = 0; i < 40; i++) {
        await Deno.writeTextFile(path, `version ${i} `.repeat(i + 1));
      }
    })();
    const readers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 20; i++) {
        const response = await fetch(`${origin}/data.txt`);
        const body = await response.bytes();
        assertEquals(response.headers.get("etag"), await sha256Tag(body));
        assertEquals(response.headers.get("content-length"), String(body.length));
      }
    });
    await Promise.all([writer, ...readers]);
  });
});

Deno.test("Last-Modified is never later than Date, for a file just written or with a future mtime", async () => {
  // The first responses of a fresh server are the ones whose Date most often
  // lags the clock (a third of them, measured), so each file gets one.
  for (const future of [false, true]) {
    await withServer({ "file.txt": "just written" }, async ({ origin, root }) => {
      if (future) {
        const inAnHour = Date.now() / 1000 + 3600;
        await Deno.utime(join(root, "file.txt"), inAnHour, inAnHour);
      }
      const { headers } = await get(`${origin}/file.txt`);
      const lastModified = parseHttpDate(headers.get("last-modified")!)!;
      const date = parseHttpDate(headers.get("date")!)!;
      assert(lastModified <= date, `Last-Modified ${lastModified} after Date ${date}`);
    });
  }
});

Deno.test("HEAD sends the GET header fields, Content-Length included, and no body", async () => {
  await withServer({ "index.html": PAGE }, async ({ port }) => {
    const head = await rawGet(port, "/", {}, "HEAD");
    assertEquals(head.status, 200);
    assertEquals(head.body.length, 0);
    assertEquals(head.headers.get("content-length"), String(PAGE.length));
    const etag = head.headers.get("etag")!;
    assertEquals(etag, await sha256Tag(PAGE));
    const revalidated = await rawGet(port, "/", { "If-None-Match": etag }, "HEAD");
    assertEquals(revalidated.status, 304);
    assertEquals(revalidated.body.length, 0);
  });
});

Deno.test("methods other than GET and HEAD get 405 with Allow", async () => {
  await withServer({ "index.html": PAGE }, async ({ origin, log }) => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const { status, headers } = await get(`${origin}/`, { method });
      assertEquals(status, 405, method);
      assertEquals(headers.get("allow"), "GET, HEAD");
    }
    assertEquals(log[0], "POST / 405 method POST not allowed");
  });
});

Deno.test("Accept-Encoding: gzip gets the identity bytes and the strong ETag, no Vary", async () => {
  // Deno.serve would gzip this compressible page for a gzip-accepting client if
  // automatic compression were on, weakening the ETag to W/"…". The program with
  // DENO_SERVE_AUTOMATIC_COMPRESSION=1 is covered in caching_cli_test.ts (the
  // variable is process-wide, so it is not set here).
  const page = "<p>compressible text</p>\n".repeat(200);
  await withServer({ "index.html": page }, async ({ port }) => {
    const response = await rawGet(port, "/", { "Accept-Encoding": "gzip, deflate, br" });
    assertEquals(response.status, 200);
    assertFalse(response.headers.has("content-encoding"));
    assertFalse(response.headers.has("vary"));
    assertEquals(response.headers.get("etag"), await sha256Tag(page));
    assertEquals(new TextDecoder().decode(response.body), page);
  });
});

Deno.test("Range requests: 206, suffix, 416, If-Range, several ranges", async () => {
  const digits = "0123456789";
  await withServer({ "digits.txt": digits }, async ({ origin, port }) => {
    const url = `${origin}/digits.txt`;
    const etag = (await get(url)).headers.get("etag")!;
    const range = (value: string, extra: Record<string, string> = {}) =>
      get(url, { headers: { range: value, ...extra } });

    const first = await range("bytes=0-3");
    assertEquals([first.status, first.body], [206, "0123"]);
    assertEquals(first.headers.get("content-range"), "bytes 0-3/10");
    assertEquals(first.headers.get("content-length"), "4");
    assertEquals(first.headers.get("etag"), etag);

    const suffix = await range("bytes=-3");
    assertEquals([suffix.status, suffix.body], [206, "789"]);
    assertEquals(suffix.headers.get("content-range"), "bytes 7-9/10");

    const beyond = await rawGet(port, "/digits.txt", { Range: "bytes=10-" });
    assertEquals(beyond.status, 416);
    assertEquals(beyond.headers.get("content-range"), "bytes */10");

    const current = await range("bytes=2-4", { "if-range": etag });
    assertEquals([current.status, current.body], [206, "234"]);
    const outdated = await range("bytes=2-4", { "if-range": '"outdated"' });
    assertEquals([outdated.status, outdated.body], [200, digits]);

    const several = await range("bytes=0-1,5-6");
    assertEquals([several.status, several.body], [200, digits]);

    // Unsatisfiable members are dropped, not fatal (RFC 9110 §14.1.2).
    const withBeyond = await range("bytes=0-4,200-");
    assertEquals([withBeyond.status, withBeyond.body], [206, "01234"]);
    assertEquals(withBeyond.headers.get("content-range"), "bytes 0-4/10");
    const beyondFirst = await range("bytes=200-,6-");
    assertEquals([beyondFirst.status, beyondFirst.body], [206, "6789"]);
    const twoLeft = await range("bytes=0-1,5-6,200-");
    assertEquals([twoLeft.status, twoLeft.body], [200, digits]);
  });
});

Deno.test("missing files, bare directories and dotfiles give 404; directories redirect", async () => {
  const files = { "index.html": PAGE, "docs/index.html": "docs", "empty/readme.txt": "x" };
  await withServer(files, async ({ origin, port }) => {
    assertEquals((await get(`${origin}/missing.html`)).status, 404);
    assertEquals((await get(`${origin}/index.html/x`)).status, 404);
    assertEquals((await get(`${origin}/empty/`)).status, 404);
    assertEquals((await get(`${origin}/docs/`)).body, "docs");
    const redirect = await rawGet(port, "/docs?x=1");
    assertEquals(redirect.status, 301);
    assertEquals(redirect.headers.get("location"), "docs/?x=1");
  });
});

Deno.test("traversal attempts never return a file outside the root", async () => {
  await withServer({ "index.html": PAGE, "sub/page.txt": "inside" }, async ({ port, root }) => {
    const secret = "TOP SECRET outside the root";
    await Deno.writeTextFile(join(root, "..", "secret.txt"), secret);
    await Deno.symlink(join(root, "..", "secret.txt"), join(root, "link.txt"));
    await Deno.symlink(join(root, ".."), join(root, "parent"));
    await Deno.symlink(join(root, "sub", "page.txt"), join(root, "inner-link.txt"));

    const cases: [string, number][] = [
      ["/../secret.txt", 404], // dot segments are removed by the URL parser: /secret.txt
      ["/sub/../../secret.txt", 404],
      ["/%2e%2e/secret.txt", 404],
      ["/%2E%2E/%2e%2E/secret.txt", 404],
      ["/..%2fsecret.txt", 400], // encoded slash
      ["/sub%2f..%2f..%2fsecret.txt", 400],
      ["/..%5csecret.txt", 400], // encoded backslash
      ["/..\\secret.txt", 404], // a raw backslash is a "/" to the URL parser
      ["/secret.txt%00.html", 400], // NUL
      ["/%ff", 400], // not UTF-8
      ["/link.txt", 404], // symlink to a file outside
      ["/parent/secret.txt", 404], // symlink to a directory outside
      ["/parent/", 404],
      ["/inner-link.txt", 200], // a symlink that stays inside is fine
    ];
    for (const [target, status] of cases) {
      const response = await rawGet(port, target);
      assertEquals(response.status, status, target);
      assertFalse(new TextDecoder().decode(response.body).includes("SECRET"), target);
    }
  });
});

Deno.test("without index.html in the root, / serves the fallback demo page", async () => {
  const demoPage = new URL("../index.html", import.meta.url);
  const demo = await Deno.readFile(demoPage);
  await withServer({ "other.txt": "x" }, async ({ origin, log }) => {
    const first = await fetch(`${origin}/`);
    assertEquals(await first.bytes(), demo);
    const etag = first.headers.get("etag")!;
    assertEquals(etag, await sha256Tag(demo));
    assertEquals(first.headers.get("content-type"), "text/html; charset=UTF-8");
    assertStringIncludes(log[0], "demo page");
    assertEquals((await get(`${origin}/`, { headers: { "if-none-match": etag } })).status, 304);
    assertEquals((await get(`${origin}/sub/`)).status, 404);
  }, { fallbackIndex: demoPage });
});

Deno.test("the root's own index.html wins over the fallback page", async () => {
  await withServer({ "index.html": PAGE }, async ({ origin }) => {
    assertEquals((await get(`${origin}/`)).body, PAGE);
  }, { fallbackIndex: new URL("../index.html", import.meta.url) });
});

Deno.test("--cache-control value reaches 200 and 304 alike", async () => {
  await withServer({ "index.html": PAGE }, async ({ origin }) => {
    const first = await get(`${origin}/`);
    assertEquals(first.headers.get("cache-control"), "max-age=60");
    const etag = first.headers.get("etag")!;
    const second = await get(`${origin}/`, { headers: { "if-none-match": etag } });
    assertEquals(second.status, 304);
    assertEquals(second.headers.get("cache-control"), "max-age=60");
  }, { cacheControl: "max-age=60" });
});

Deno.test("a file over the size limit is refused with 403, smaller ones are served", async () => {
  await withServer({ "small.txt": "x".repeat(100), "big.txt": "x".repeat(101) }, async (s) => {
    assertEquals((await get(`${s.origin}/small.txt`)).status, 200);
    const big = await get(`${s.origin}/big.txt`);
    assertEquals(big.status, 403);
    assertStringIncludes(
      s.log.at(-1)!,
      "GET /big.txt 403 file of 101 bytes exceeds the 100-byte limit",
    );
  }, { maxFileBytes: 100 });
});

Deno.test("the file cache stays within its byte budget and still serves every file", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir());
  try {
    const cache = new FileCache(root, { maxBytes: 250 });
    for (const name of ["a", "b", "c"]) {
      await Deno.writeTextFile(join(root, name), name.repeat(100));
      await ageFile(join(root, name));
    }
    for (const name of ["a", "b", "c", "a"]) {
      const version = await cache.load(join(root, name), await Deno.stat(join(root, name)));
      assertEquals(new TextDecoder().decode(version.body!), name.repeat(100));
      assert(cache.size <= 250, `cache holds ${cache.size} bytes`);
    }
    assertEquals(cache.size, 200, "two of the three files fit");
    const stillCached = cache.lookup(join(root, "c"), await Deno.stat(join(root, "c")));
    assert(stillCached !== undefined, "the most recently read file stays cached");
    assertEquals(cache.lookup(join(root, "b"), await Deno.stat(join(root, "b"))), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the cookie server's session store (.data/) is never served", async () => {
  await withServer({ "index.html": PAGE, ".data/sessions.kv": "secret session ids" }, async (s) => {
    const { status, body } = await get(`${s.origin}/.data/sessions.kv`);
    assertEquals(status, 404);
    assertFalse(body.includes("secret"));
  });
});

/** Resolves once the clock has just entered a new second, so what follows shares one ctime second. */
async function startOfNextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - Date.now() % 1000 + 5));
}

for (const watch of [true, false]) {
  Deno.test(`a rewrite keeping size, mtime, inode and ctime second gets a new ETag (watch: ${watch})`, async () => {
    await withServer({ "page.txt": "version A" }, async ({ origin, root, edit }) => {
      const path = join(root, "page.txt");
      const url = `${origin}/page.txt`;
      // Retried in the rare case that the rewrite crosses into the next ctime second.
      for (let attempt = 0;; attempt++) {
        await startOfNextSecond();
        // An old mtime, so that mtime alone would vouch for the version read.
        await edit(async () => {
          await Deno.writeTextFile(path, "version A");
          await ageFile(path);
        });
        const before = await Deno.stat(path);
        const tagA = (await get(url)).headers.get("etag")!;
        assertEquals(tagA, await sha256Tag("version A"));
        await edit(async () => {
          await Deno.writeTextFile(path, "version B");
          await Deno.utime(path, before.atime!, before.mtime!); // as cp -p, rsync -t, tar -x do
        });
        const after = await Deno.stat(path);
        if (after.ctime!.getTime() !== before.ctime!.getTime() && attempt < 3) continue;
        assertEquals([after.size, after.ino, after.mtime], [before.size, before.ino, before.mtime]);
        const tagB = await sha256Tag("version B");
        // Watching, the file event makes the next request read the file again. With
        // stat alone, the version read within its ctime second is read again after
        // at most a second.
        const deadline = Date.now() + (watch ? 0 : 2000);
        let current = await get(url);
        while (current.headers.get("etag") !== tagB && Date.now() < deadline) {
          assertEquals([current.body, current.headers.get("etag")], ["version A", tagA]);
          current = await get(url);
        }
        assertEquals([current.body, current.headers.get("etag")], ["version B", tagB]);
        assertEquals((await get(url, { headers: { "if-none-match": tagA } })).status, 200);
        return;
      }
    }, { watch });
  });
}

Deno.test("a file with a future mtime is read once, not on every request", async () => {
  await withServer({ "future.bin": "x".repeat(100_000) }, async ({ origin, root, log }) => {
    const inAnHour = Date.now() / 1000 + 3600;
    await Deno.utime(join(root, "future.bin"), inAnHour, inAnHour);
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      await Promise.all(Array.from({ length: 4 }, () => get(`${origin}/future.bin`)));
    }
    const reads = log.filter((line) => line.includes("file read and hashed")).length;
    // At most one read per second per path; the requests took `elapsed` ms.
    const elapsed = Date.now() - started;
    assert(reads <= 1 + Math.floor(elapsed / 1000), `${reads} reads in ${elapsed} ms`);
  }, { watch: false });
});

Deno.test("links to hidden files and folders are not served", async () => {
  await withServer(
    { "index.html": PAGE, ".env": "SECRET=1", ".git/config": "SECRET" },
    async (s) => {
      await Deno.symlink(join(s.root, ".env"), join(s.root, "envlink"));
      await Deno.symlink(join(s.root, ".git"), join(s.root, "gitdir"));
      await Deno.mkdir(join(s.root, "sub"));
      await Deno.symlink("../.env", join(s.root, "sub", "relative-envlink"));
      for (const path of ["/envlink", "/gitdir/config", "/sub/relative-envlink"]) {
        const { status, body } = await get(s.origin + path);
        assertEquals(status, 404, path);
        assertFalse(body.includes("SECRET"), path);
      }
      assertStringIncludes(s.log.at(-1)!, "hidden file");
    },
  );
});

Deno.test("a directory redirect is relative: //evil.example never sends the browser elsewhere", async () => {
  const files = { "evil.example/index.html": "x", "a/b/index.html": "y", "c:d/index.html": "z" };
  await withServer(files, async ({ port }) => {
    const cases: [string, string][] = [
      ["//evil.example", "evil.example/"],
      ["///evil.example?q=1", "evil.example/?q=1"],
      ["/a/b", "b/"],
      ["/c:d", "./c:d/"],
    ];
    for (const [target, location] of cases) {
      const response = await rawGet(port, target);
      assertEquals([response.status, response.headers.get("location")], [301, location], target);
      const resolved = new URL(location, `http://127.0.0.1${target}`);
      assertEquals(resolved.host, "127.0.0.1", target);
    }
  });
});

Deno.test("symbolic-link swap race: a file outside the root is never served", async (t) => {
  const python = await hasRenameat2();
  for (const watch of [false, true]) {
    await t.step(`watch: ${watch}`, async () => {
      await withServer({ "dir/f.txt": "inside" }, async ({ origin, root }) => {
        const outside = join(root, "..", "outside");
        await Deno.mkdir(outside);
        await Deno.writeTextFile(join(outside, "f.txt"), "OUTSIDE SECRET");
        await Deno.symlink(outside, join(root, "link"));
        const swapper = swapInALoop(python, join(root, "dir"), join(root, "link"), 1.5);
        const statuses = new Map<number, number>();
        let leaked = 0;
        while (!swapper.done) {
          const { status, body } = await get(`${origin}/dir/f.txt`);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (body.includes("OUTSIDE")) leaked++;
        }
        await swapper.finished;
        console.log(`swap race (watch: ${watch}): ${leaked} leaked, statuses`, statuses);
        assertEquals(leaked, 0);
        assert((statuses.get(200) ?? 0) > 0, "the inside file was served while unswapped");
      });
    });
  }
});

/** Whether python3 with renameat2 (RENAME_EXCHANGE) is at hand. */
async function hasRenameat2(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("python3", {
      args: ["-c", "import ctypes; ctypes.CDLL(None).renameat2"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/**
 * Exchanges two names for `seconds`, as fast as possible: atomically with
 * renameat2(RENAME_EXCHANGE) when python3 has it, else with three renames.
 */
function swapInALoop(python: boolean, a: string, b: string, seconds: number) {
  const state = { done: false, finished: Promise.resolve() };
  if (python) {
    const script = `import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, end = sys.argv[1].encode(), sys.argv[2].encode(), time.time() + float(sys.argv[3])
while time.time() < end:
    libc.renameat2(-100, a, -100, b, 2)
`;
    const child = new Deno.Command("python3", { args: ["-c", script, a, b, String(seconds)] })
      .spawn();
    state.finished = child.status.then(() => void (state.done = true));
    return state;
  }
  state.finished = (async () => {
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      await Deno.rename(a, `${a}.swap`);
      await Deno.rename(b, a);
      await Deno.rename(`${a}.swap`, b);
    }
    state.done = true;
  })();
  return state;
}

Deno.test("without index.html in the root, /index.html serves the demo page as / does", async () => {
  const demoPage = new URL("../index.html", import.meta.url);
  const demo = await Deno.readFile(demoPage);
  await withServer({ "other.txt": "x" }, async ({ origin }) => {
    const response = await fetch(`${origin}/index.html`);
    assertEquals([response.status, await response.bytes()], [200, demo]);
    assertEquals((await get(`${origin}/sub/index.html`)).status, 404);
  }, { fallbackIndex: demoPage });
});

Deno.test("TypeScript and other source files are served as text", async () => {
  const files = { "a.ts": "", "b.tsx": "", "c.mts": "", "d.cts": "", "e.jsx": "", "f.md": "" };
  await withServer(files, async ({ origin }) => {
    const cases: [string, string][] = [
      ["/a.ts", "text/typescript; charset=UTF-8"],
      ["/b.tsx", "text/tsx; charset=UTF-8"],
      ["/c.mts", "text/typescript; charset=UTF-8"],
      ["/d.cts", "text/typescript; charset=UTF-8"],
      ["/e.jsx", "text/jsx; charset=UTF-8"],
      ["/f.md", "text/markdown; charset=UTF-8"],
    ];
    for (const [path, type] of cases) {
      assertEquals((await get(origin + path)).headers.get("content-type"), type, path);
    }
  });
});

Deno.test("Deno runs a TypeScript module fetched from the server", async () => {
  const module = "const answer: number = 42;\nconsole.log(`answer ${answer}`);\n";
  await withServer({ "mod.ts": module }, async ({ port }) => {
    const host = `127.0.0.1:${port}`;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", `--allow-import=${host}`, `http://${host}/mod.ts`],
      env: { DENO_DIR: await Deno.makeTempDir({ prefix: "caching_deno_dir_" }) },
    }).output();
    const decoder = new TextDecoder();
    assertEquals(code, 0, decoder.decode(stderr));
    assertEquals(decoder.decode(stdout), "answer 42\n");
  });
});

Deno.test("a file over the size limit: the body says why", async () => {
  await withServer({ "big.txt": "x".repeat(101) }, async ({ origin }) => {
    const { status, body } = await get(`${origin}/big.txt`);
    assertEquals(status, 403);
    assertStringIncludes(body, "file of 101 bytes exceeds the 100-byte limit");
    assertStringIncludes(body, "--max-file-size");
  }, { maxFileBytes: 100 });
});

Deno.test("the watch log names only files the server could serve", async () => {
  await withServer({ "index.html": PAGE }, async ({ root, log, edit }) => {
    await Deno.mkdir(join(root, ".data"));
    await Deno.mkdir(join(root, ".git"));
    await edit(async () => {
      await Deno.writeTextFile(join(root, ".data", "sessions.kv-wal"), "wal");
      await Deno.writeTextFile(join(root, ".git", "index.lock"), "lock");
      await Deno.writeTextFile(join(root, ".index.html.swp"), "swap");
      await Deno.writeTextFile(join(root, "index.html"), PAGE + "edited");
    });
    const watchLines = log.filter((line) => line.startsWith("watch:"));
    assert(watchLines.some((line) => line.includes("/index.html")), watchLines.join("\n"));
    for (const line of watchLines) {
      assertFalse(/\/\.(data|git|index)/.test(line), line);
    }
  });
});

Deno.test("a large range is sent whole, with its Content-Length, from the cached bytes", async () => {
  const digits = "0123456789".repeat(20_000);
  await withServer({ "big.txt": digits }, async ({ port }) => {
    const response = await rawGet(port, "/big.txt", { Range: "bytes=5-" });
    assertEquals(response.status, 206);
    assertEquals(
      response.headers.get("content-range"),
      `bytes 5-${digits.length - 1}/${digits.length}`,
    );
    assertEquals(response.headers.get("content-length"), String(digits.length - 5));
    assertEquals(new TextDecoder().decode(response.body), digits.slice(5));
  });
});

Deno.test("a file saved by renaming a new one over it, as editors do, is never a 404", async () => {
  await withServer({ "page.txt": "version 0" }, async ({ origin, root }) => {
    const path = join(root, "page.txt");
    let saving = true;
    const editor = (async () => {
      for (let i = 1; saving; i++) {
        await Deno.writeTextFile(`${path}.tmp`, `version ${i}`);
        await Deno.rename(`${path}.tmp`, path);
      }
    })();
    const statuses = new Map<number, number>();
    try {
      for (let i = 0; i < 300; i++) {
        const response = await fetch(`${origin}/page.txt`);
        const body = await response.bytes();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 200) {
          assertEquals(response.headers.get("etag"), await sha256Tag(body));
        }
      }
    } finally {
      saving = false;
      await editor;
    }
    assertEquals([...statuses.keys()], [200], `statuses ${[...statuses]}`);
  }, { watch: false });
});
