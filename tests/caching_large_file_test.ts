/**
 * Files above the streaming threshold (lowered here to 1 MiB, so an 80 MiB
 * file is quick to make): never held in memory, hashed in one streaming pass
 * per version that concurrent requests share, sent from disk a chunk at a
 * time, ranges read from their offset, and a response stopped short rather
 * than mixing two versions when the file is written while it is sent.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { serveCaching, type ServeCachingOptions } from "../caching_server.ts";
import { ChangeMonitor } from "../lib/caching/change_monitor.ts";
import { createCachingHandler } from "../lib/caching/handler.ts";
import { sha256Tag } from "./support/sha256_tag.ts";
import { concat } from "jsr:@std/bytes@1.0.6/concat";

const MIB = 2 ** 20;
const FILE_BYTES = 80 * MIB;
const STREAM_ABOVE = MIB;

/** `size` bytes of noise: any byte sent from the wrong offset shows. */
function noise(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, offset + 65536));
  }
  return bytes;
}

/** What `sha256sum FILE` prints for the file, quoted as an ETag. */
async function sha256sum(path: string): Promise<string> {
  const { stdout } = await new Deno.Command("sha256sum", { args: [path] }).output();
  return `"${new TextDecoder().decode(stdout).split(" ")[0]}"`;
}

/**
 * Makes `stat` able to vouch for the file, so that its version is not
 * "racily clean" and read again a second later (this test counts hashing
 * passes): its mtime an hour back, and the clock past its ctime second
 * (Deno reports ctime in whole seconds).
 */
async function untilNotRacy(path: string): Promise<void> {
  const hourAgo = new Date(Date.now() - 3600_000);
  await Deno.utime(path, hourAgo, hourAgo);
  const { ctime } = await Deno.stat(path);
  const wait = ctime!.getTime() + 1000 - Date.now();
  if (wait > 0) await new Promise((done) => setTimeout(done, wait));
}

async function withLargeFile(
  test: (
    origin: string,
    path: string,
    content: Uint8Array<ArrayBuffer>,
    log: string[],
  ) => Promise<void>,
  options: Partial<ServeCachingOptions> = {},
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "caching_large_file_" });
  const path = join(root, "video.bin");
  const content = noise(FILE_BYTES);
  await Deno.writeFile(path, content);
  const log: string[] = [];
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = serveCaching({
    root,
    port: 0,
    streamAboveBytes: STREAM_ABOVE,
    log: (line) => log.push(line),
    onListen: listening.resolve,
    ...options,
  });
  try {
    const { port } = await listening.promise;
    await test(`http://127.0.0.1:${port}`, path, content, log);
  } finally {
    await server.shutdown();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("a large file: one hashing pass shared by concurrent requests, ETag = sha256sum, streamed whole", async () => {
  await withLargeFile(async (origin, path, content, log) => {
    await untilNotRacy(path);
    const responses = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const response = await fetch(`${origin}/video.bin`);
        return { response, body: await response.bytes() };
      }),
    );
    const expected = await sha256sum(path);
    for (const { response, body } of responses) {
      assertEquals(response.status, 200);
      assertEquals(response.headers.get("etag"), expected);
      assertEquals(response.headers.get("content-length"), String(FILE_BYTES));
      assertEquals(body.length, FILE_BYTES);
      assertEquals(await sha256Tag(body), expected);
    }
    assertEquals(content.length, FILE_BYTES);
    const hashed = log.filter((line) => line.includes("file hashed in one streaming pass"));
    const waited = log.filter((line) => line.includes("waited for the hashing pass in flight"));
    assertEquals([hashed.length, waited.length], [1, 2], log.join("\n"));

    // Later requests find the version hashed: no second pass.
    const again = await fetch(`${origin}/video.bin`);
    assertEquals(await sha256Tag(await again.bytes()), expected);
    assertStringIncludes(log.at(-1)!, "no file event since last checked");
    const revalidated = await fetch(`${origin}/video.bin`, {
      headers: { "if-none-match": expected },
    });
    assertEquals([revalidated.status, await revalidated.text()], [304, ""]);
    const head = await fetch(`${origin}/video.bin`, { method: "HEAD" });
    assertEquals([head.status, head.headers.get("content-length")], [200, String(FILE_BYTES)]);
    await head.body?.cancel();
    assertEquals(log.filter((line) => line.includes("hashed in one streaming pass")).length, 1);
  });
});

Deno.test("a large file: ranges are read from their offset, and checked against its length", async () => {
  await withLargeFile(async (origin, _path, content) => {
    const cases: [string, number, number][] = [
      ["bytes=50000000-50000099", 50_000_000, 50_000_099],
      ["bytes=-10", FILE_BYTES - 10, FILE_BYTES - 1],
      [`bytes=${FILE_BYTES - 3 * MIB}-`, FILE_BYTES - 3 * MIB, FILE_BYTES - 1],
      ["bytes=0-0", 0, 0],
    ];
    for (const [range, start, end] of cases) {
      const response = await fetch(`${origin}/video.bin`, { headers: { range } });
      assertEquals(response.status, 206, range);
      assertEquals(response.headers.get("content-range"), `bytes ${start}-${end}/${FILE_BYTES}`);
      assertEquals(response.headers.get("content-length"), String(end + 1 - start));
      assertEquals(await response.bytes(), content.subarray(start, end + 1), range);
    }
    const beyond = await fetch(`${origin}/video.bin`, {
      headers: { range: `bytes=${FILE_BYTES}-` },
    });
    assertEquals(beyond.status, 416);
    assertEquals(beyond.headers.get("content-range"), `bytes */${FILE_BYTES}`);
    await beyond.body?.cancel();
    const etag = (await fetch(`${origin}/video.bin`, { method: "HEAD" })).headers.get("etag")!;
    const ifRange = await fetch(`${origin}/video.bin`, {
      headers: { range: "bytes=10-19", "if-range": etag },
    });
    assertEquals([ifRange.status, await ifRange.bytes()], [206, content.subarray(10, 20)]);
  });
});

/** Reads from `conn` until `bytes` holds the end of the head and at least `bodyBytes` after it. */
async function readAtLeast(
  conn: Deno.Conn,
  received: Uint8Array[],
  total: number,
): Promise<number> {
  let count = received.reduce((sum, chunk) => sum + chunk.length, 0);
  while (count < total) {
    const buffer = new Uint8Array(65536);
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) break;
    received.push(buffer.subarray(0, n));
    count += n;
  }
  return count;
}

Deno.test("a large file written while it is sent: the response stops short, no byte of the new version under the old ETag", async () => {
  await withLargeFile(async (origin, path, content, log) => {
    const port = Number(new URL(origin).port);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const received: Uint8Array[] = [];
    try {
      await conn.write(
        new TextEncoder().encode("GET /video.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      );
      // Take 2 MiB, then stop reading: the server stalls on full socket buffers.
      await readAtLeast(conn, received, 2 * MIB);
      const replacement = noise(FILE_BYTES);
      await Deno.writeFile(path, replacement);
      await readAtLeast(conn, received, Number.POSITIVE_INFINITY);

      const wire: Uint8Array = concat(received);
      const headEnd = wire.findIndex((_, i) =>
        wire[i] === 13 && wire[i + 1] === 10 && wire[i + 2] === 13 && wire[i + 3] === 10
      );
      const head = new TextDecoder().decode(wire.subarray(0, headEnd));
      assertStringIncludes(head.toLowerCase(), `etag: ${await sha256Tag(content)}`);
      const body = wire.subarray(headEnd + 4);
      assert(body.length < FILE_BYTES, `${body.length} bytes: the response was not cut short`);
      assert(body.length >= 2 * MIB - headEnd - 4);
      assertEquals(body, content.subarray(0, body.length), "bytes of the new version were sent");
      assert(
        log.some((line) => /aborted: file (changed|shrank) while it was sent/.test(line)),
        log.join("\n"),
      );

      const next = await fetch(`${origin}/video.bin`);
      const nextBody = await next.bytes();
      assertEquals(next.headers.get("etag"), await sha256Tag(replacement));
      assertEquals(await sha256Tag(nextBody), await sha256Tag(replacement));
    } finally {
      conn.close();
    }
  });
});

Deno.test("a large file changed after its version was found is found again, not sent under the old ETag", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "caching_large_file_" }));
  const elsewhere = await Deno.makeTempDir({ prefix: "caching_large_file_unwatched_" });
  // Watches another folder: no event for the edit arrives, so the memo still
  // names the old version when the request comes.
  const changes = ChangeMonitor.watch(elsewhere, () => {})!;
  const log: string[] = [];
  try {
    const path = join(root, "a.bin");
    await Deno.writeFile(path, noise(4096));
    const handler = createCachingHandler({
      root,
      streamAboveBytes: 1024,
      changes,
      log: (line) => log.push(line),
    });
    const first = await handler(new Request("http://localhost/a.bin"));
    await first.body?.cancel();
    const replacement = noise(4096);
    await Deno.writeFile(path, replacement);
    const second = await handler(new Request("http://localhost/a.bin"));
    assertEquals(second.headers.get("etag"), await sha256Tag(replacement));
    assertEquals(await second.bytes(), replacement);
    assertStringIncludes(log.at(-1)!, "file hashed in one streaming pass");
  } finally {
    await changes.close();
    await Deno.remove(root, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("a large file that changes during every hashing pass gets 503 and Retry-After, then its new version", async () => {
  await withLargeFile(async (origin, path) => {
    let touching = true;
    const toucher = (async () => {
      for (let i = 1; touching; i++) await Deno.utime(path, i, i);
    })();
    let response: Response;
    try {
      response = await fetch(`${origin}/video.bin`);
    } finally {
      touching = false;
      await toucher;
    }
    assertEquals(response.status, 503);
    assertEquals(response.headers.get("retry-after"), "1");
    await response.body?.cancel();
    const after = await fetch(`${origin}/video.bin`);
    assertEquals(after.headers.get("etag"), await sha256sum(path));
    await after.body?.cancel();
  }, { watch: false });
});
