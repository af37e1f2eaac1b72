/**
 * Hardening the caching server (on `Deno.serve`): seeded traversal and
 * encoding fuzz on request paths, a file rewritten continuously while 100
 * clients fetch it, and a file deleted and recreated mid-request.
 *
 * The invariant behind the last two: a body is only ever sent with the ETag
 * of exactly those bytes (the SHA-256 of the body), whatever the disk does.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { serveCaching } from "../caching_server.ts";
import { bytesOf, fuzzCases, fuzzSeed, Prng } from "./support/fuzz.ts";
import { exchange, parseResponses } from "./support/raw_http.ts";
import { sha256Tag } from "./support/sha256_tag.ts";

const SECRET = "TOP SECRET outside the root";
const HIDDEN = "HIDDEN dotfile content";
const PUBLIC: Record<string, string> = {
  "index.html": "<!doctype html><title>home</title>",
  "a.txt": "file a",
  "sub/b.txt": "file b in sub",
  "sp ace.txt": "file with a space",
  "caf\u00e9.txt": "file with a non-ASCII name",
};

/** A root with public files, a dotfile and a folder inside, a secret outside; served on port 0. */
async function withCachingServer(test: (port: number, root: string) => Promise<void>) {
  const parent = await Deno.makeTempDir({ prefix: "hardening_caching_" });
  const root = join(parent, "site");
  await Deno.mkdir(join(root, "sub"), { recursive: true });
  await Deno.mkdir(join(root, ".git"));
  for (const [name, content] of Object.entries(PUBLIC)) {
    await Deno.writeTextFile(join(root, name), content);
  }
  await Deno.writeTextFile(join(root, ".env"), HIDDEN);
  await Deno.writeTextFile(join(root, ".git", "config"), HIDDEN);
  await Deno.writeTextFile(join(parent, "secret.txt"), SECRET);
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = serveCaching({ root, port: 0, log() {}, onListen: listening.resolve });
  try {
    await test((await listening.promise).port, root);
  } finally {
    await server.shutdown();
    await Deno.remove(parent, { recursive: true });
  }
}

/** Path pieces that have broken static file servers: dot segments, encodings, odd bytes. */
const PIECES = [
  "..",
  ".",
  "%2e%2e",
  "%2E%2e",
  ".%2e",
  "%2e",
  "..%2f",
  "%2f",
  "%5c",
  "..%5c",
  "%00",
  "%252e%252e",
  "%c0%ae%c0%ae",
  "%ff",
  "%e9",
  "caf%C3%A9.txt",
  "sp%20ace.txt",
  "a%zz",
  "%",
  "",
  ".git",
  ".env",
  "%2egit",
  "config",
  "secret.txt",
  "site",
  "sub",
  "b.txt",
  "a.txt",
  "index.html",
  "a.txt;x",
  "a.txt?x=..",
  "~",
  "\\",
];

Deno.test("caching hardening: path fuzz never leaks a file outside the root or a dotfile", async () => {
  const seed = fuzzSeed("caching path fuzz");
  const rng = new Prng(seed);
  const total = fuzzCases(1500);
  const statuses = new Map<number, number>();
  const publicBodies = new Set(Object.values(PUBLIC));
  await withCachingServer(async (port) => {
    for (let i = 0; i < total; i++) {
      const segments = Array.from({ length: 1 + rng.int(5) }, () => rng.pick(PIECES));
      const target = "/" + segments.join(rng.chance(0.8) ? "/" : "//");
      const request = bytesOf(`GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      const { responses, error } = parseResponses(
        (await exchange(port, request, { halfClose: false })).bytes,
      );
      const where = `case ${i} (seed ${seed}): ${target}`;
      assertEquals(error, null, where);
      if (responses.length === 0) throw new Error(`no response, ${where}`);
      const { status, body } = responses[0];
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      assert([200, 301, 400, 404].includes(status), `${status}, ${where}`);
      const text = new TextDecoder().decode(body);
      assert(!text.includes("SECRET") && !text.includes("HIDDEN"), `leak, ${where}`);
      if (status === 200) assert(publicBodies.has(text), `unexpected 200 body, ${where}`);
    }
  });
  console.log(`caching path fuzz: ${total} paths, statuses`, statuses);
});

Deno.test("caching hardening: 100 clients fetch a file rewritten continuously, ETag always matches", async () => {
  await withCachingServer(async (port, root) => {
    const path = join(root, "hot.txt");
    await Deno.writeTextFile(path, "version 0");
    let writing = true;
    let versions = 0;
    const writer = (async () => {
      // Bounded; sizes vary so that size, mtime and content all change.
      while (writing && versions < 100_000) {
        versions++;
        await Deno.writeTextFile(path, `version ${versions} `.repeat(1 + (versions % 50)));
      }
    })();
    let fetched = 0;
    const distinctTags = new Set<string>();
    try {
      await Promise.all(Array.from({ length: 100 }, async () => {
        for (let i = 0; i < 10; i++) {
          const response = await fetch(`http://127.0.0.1:${port}/hot.txt`);
          const body = await response.bytes();
          assertEquals(response.status, 200);
          const etag = response.headers.get("etag")!;
          assertEquals(etag, await sha256Tag(body), "a body paired with another version's ETag");
          assertEquals(response.headers.get("content-length"), String(body.length));
          distinctTags.add(etag);
          fetched++;
        }
      }));
    } finally {
      writing = false;
      await writer;
    }
    console.log(
      `rewrite race: ${fetched} fetches by 100 clients during ${versions} rewrites, ` +
        `${distinctTags.size} distinct versions served, every ETag matched its body`,
    );
  });
});

Deno.test("caching hardening: a file deleted and recreated mid-request gives 200 or 404, never 5xx", async () => {
  await withCachingServer(async (port, root) => {
    const path = join(root, "flaky.bin");
    // Large enough (1 MiB) that reading and hashing it overlaps with the delete.
    const content = new Uint8Array(2 ** 20).map((_, i) => i % 251);
    let fetched = 0;
    let churning = true;
    let waiter: { until: number; resolve: () => void } | null = null;
    /** Resolves once `n` more fetches have completed (at once when the clients are done). */
    const afterFetches = (n: number) =>
      new Promise<void>((resolve) => {
        if (churning) waiter = { until: fetched + n, resolve };
        else resolve();
      });
    let cycles = 0;
    const churn = (async () => {
      while (churning && cycles < 10_000) {
        cycles++;
        content[0] = cycles % 256; // every version is different
        await Deno.writeFile(path, content);
        await afterFetches(3);
        await Deno.remove(path);
        await afterFetches(2);
      }
    })();
    const statuses = new Map<number, number>();
    const clients = Array.from({ length: 20 }, async () => {
      for (let i = 0; i < 25; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/flaky.bin`);
        const body = await response.bytes();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        assert(response.status === 200 || response.status === 404, `${response.status}`);
        if (response.status === 200) {
          assertEquals(response.headers.get("etag"), await sha256Tag(body));
        }
        fetched++;
        if (waiter !== null && fetched >= waiter.until) waiter.resolve();
      }
    });
    try {
      await Promise.all(clients);
    } finally {
      churning = false;
      (waiter as { resolve: () => void } | null)?.resolve();
      await churn;
    }
    console.log(`delete race: ${cycles} create/delete cycles, statuses`, statuses);
  });
});
