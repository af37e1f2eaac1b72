/**
 * Compression with correct validators (`--compress`): Accept-Encoding with
 * q-values chooses among a file's bytes, its precompressed siblings and gzip
 * made on the fly; each representation has its own strong ETag, Vary is on
 * 200, 206 and 304 alike, If-None-Match and Range apply to the representation
 * chosen. Raw requests, since fetch would decompress and hide the wire.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { rankCodings } from "../lib/caching/content_coding.ts";
import { withCachingServer } from "./support/caching_server.ts";
import { exchange, type ParsedResponse, parseResponses } from "./support/raw_http.ts";
import { sha256Tag } from "./support/sha256_tag.ts";

const SCRIPT = Array.from({ length: 300 }, (_, i) => `console.log("line ${i}");`).join("\n");
const PAGE = `<!doctype html><title>t</title>${"<p>compressible text</p>\n".repeat(200)}`;

Deno.test("rankCodings: q-values, *, identity and x-gzip as RFC 9110 §12.5.3 says", () => {
  const cases: [string | null, string[]][] = [
    [null, ["identity"]],
    ["", ["identity"]],
    ["gzip", ["gzip", "identity"]],
    ["gzip, deflate, br, zstd", ["br", "gzip", "identity"]],
    ["br;q=0.5, gzip;q=0.8", ["gzip", "br", "identity"]],
    ["gzip;q=0.5, identity", ["identity", "gzip"]],
    ["GZIP;Q=1", ["gzip", "identity"]],
    ["x-gzip", ["gzip", "identity"]],
    ["*", ["br", "gzip", "identity"]],
    ["gzip;q=0, *", ["br", "identity"]],
    ["*;q=0", []],
    ["*;q=0, identity;q=0.1", ["identity"]],
    ["br;q=0, gzip;q=0, identity;q=0", []],
    ["identity;q=0, gzip", ["gzip"]],
    ["gzip;q=1.5", ["identity"]],
    ["gzip;q=0.001", ["gzip", "identity"]],
    ["gzip;level=9;q=0.5, br;q=0.4", ["gzip", "br", "identity"]],
    ["gzip;level=9, br;q=0.4", ["gzip", "br", "identity"]],
    [" , gzip ,", ["gzip", "identity"]],
  ];
  for (const [field, expected] of cases) assertEquals(rankCodings(field), expected, String(field));
});

/** GET `path` over a raw connection with `fields`; the one response parsed. */
async function rawGet(port: number, path: string, fields = ""): Promise<ParsedResponse> {
  const request = `GET ${path} HTTP/1.1\r\nHost: x\r\n${fields}Connection: close\r\n\r\n`;
  const { bytes } = await exchange(port, new TextEncoder().encode(request), { halfClose: false });
  const { responses, error } = parseResponses(bytes);
  assertEquals(error, null);
  assertEquals(responses.length, 1);
  return responses[0];
}

function field(response: ParsedResponse, name: string): string | undefined {
  return response.headers.find(([key]) => key === name)?.[1];
}

async function gunzip(bytes: Uint8Array): Promise<string> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

Deno.test("--compress: gzip on the fly with its own ETag; Vary on 200, 206 and 304; If-None-Match and Range on the chosen representation", async () => {
  await withCachingServer({ "index.html": PAGE }, { compress: true }, async ({ port, log }) => {
    const plain = await rawGet(port, "/");
    assertEquals([plain.status, field(plain, "content-encoding")], [200, undefined]);
    assertEquals(field(plain, "etag"), await sha256Tag(PAGE));
    assertEquals(field(plain, "vary"), "accept-encoding");

    const gzipped = await rawGet(port, "/", "Accept-Encoding: gzip, deflate, br\r\n");
    assertEquals([gzipped.status, field(gzipped, "content-encoding")], [200, "gzip"]);
    assertEquals(field(gzipped, "vary"), "accept-encoding");
    assertEquals(field(gzipped, "content-length"), String(gzipped.body.length));
    assert(gzipped.body.length < PAGE.length / 5, `${gzipped.body.length} bytes`);
    const tag = field(gzipped, "etag")!;
    assertEquals(tag, await sha256Tag(gzipped.body as Uint8Array<ArrayBuffer>));
    assertEquals(await gunzip(gzipped.body), PAGE);
    assertStringIncludes(log.at(-1)!, "gzip, compressed on the fly");

    // The same bytes again: the representation was kept, its tag unchanged.
    const again = await rawGet(port, "/", "Accept-Encoding: gzip\r\n");
    assertEquals([field(again, "etag"), again.body], [tag, gzipped.body]);

    const revalidated = await rawGet(
      port,
      "/",
      `Accept-Encoding: gzip\r\nIf-None-Match: ${tag}\r\n`,
    );
    assertEquals([revalidated.status, field(revalidated, "etag")], [304, tag]);
    assertEquals(field(revalidated, "vary"), "accept-encoding");
    // The gzip tag names gzip bytes: a client without gzip gets the file's own, a 200.
    const otherRepresentation = await rawGet(port, "/", `If-None-Match: ${tag}\r\n`);
    assertEquals(otherRepresentation.status, 200);
    assertEquals(field(otherRepresentation, "etag"), await sha256Tag(PAGE));

    const part = await rawGet(port, "/", "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n");
    assertEquals([part.status, field(part, "content-encoding")], [206, "gzip"]);
    assertEquals(field(part, "content-range"), `bytes 0-9/${gzipped.body.length}`);
    assertEquals([field(part, "vary"), field(part, "etag")], ["accept-encoding", tag]);
    assertEquals(part.body, gzipped.body.subarray(0, 10));
  });
});

Deno.test("--compress: precompressed siblings (.br, .gz) by q-value, each with its own ETag; a stale one is ignored", async () => {
  await withCachingServer(
    { "app.js": SCRIPT },
    { compress: true },
    async ({ port, root, log, edit }) => {
      const br = new TextEncoder().encode("pretend brotli bytes");
      const gz = new Uint8Array(
        await new Response(
          new Blob([SCRIPT]).stream().pipeThrough(new CompressionStream("gzip")),
        ).arrayBuffer(),
      );
      await Deno.writeFile(join(root, "app.js.br"), br);
      await Deno.writeFile(join(root, "app.js.gz"), gz);

      const brotli = await rawGet(port, "/app.js", "Accept-Encoding: gzip, br\r\n");
      assertEquals([field(brotli, "content-encoding"), brotli.body], ["br", br]);
      assertEquals(field(brotli, "etag"), await sha256Tag(br));
      assertEquals(field(brotli, "content-type"), "text/javascript; charset=UTF-8");
      assertEquals(field(brotli, "vary"), "accept-encoding");

      const gzipped = await rawGet(port, "/app.js", "Accept-Encoding: br;q=0.5, gzip\r\n");
      assertEquals([field(gzipped, "content-encoding"), gzipped.body], ["gzip", gz]);
      assertEquals(field(gzipped, "etag"), await sha256Tag(gz));

      const refused = await rawGet(port, "/app.js", "Accept-Encoding: br;q=0, gzip;q=0\r\n");
      assertEquals(field(refused, "content-encoding"), undefined);
      assertEquals(field(refused, "etag"), await sha256Tag(SCRIPT));

      // Siblings older than the file were made from an earlier version of it.
      const past = new Date(Date.now() - 3600_000);
      await edit(async () => {
        await Deno.utime(join(root, "app.js.br"), past, past);
        await Deno.utime(join(root, "app.js.gz"), past, past);
      });
      const fresh = await rawGet(port, "/app.js", "Accept-Encoding: gzip, br\r\n");
      assertEquals(field(fresh, "content-encoding"), "gzip");
      assertEquals(await gunzip(fresh.body), SCRIPT);
      assertStringIncludes(log.at(-1)!, "gzip, compressed on the fly");
    },
  );
});

Deno.test("--compress: files of other types, and every file without --compress, are sent as they are, without Vary", async () => {
  const files = { "index.html": PAGE, "image.png": PAGE };
  await withCachingServer(files, { compress: true }, async ({ port }) => {
    const image = await rawGet(port, "/image.png", "Accept-Encoding: gzip\r\n");
    assertEquals([field(image, "content-encoding"), field(image, "vary")], [undefined, undefined]);
  });
  await withCachingServer(files, {}, async ({ port }) => {
    const page = await rawGet(port, "/", "Accept-Encoding: gzip\r\n");
    assertEquals([field(page, "content-encoding"), field(page, "vary")], [undefined, undefined]);
    assertEquals(field(page, "etag"), await sha256Tag(PAGE));
  });
});

Deno.test("--compress: curl --compressed gets the gzip representation and the file's bytes", async () => {
  await withCachingServer({ "index.html": PAGE }, { compress: true }, async ({ origin }) => {
    const { stdout, success } = await new Deno.Command("curl", {
      args: ["-s", "--compressed", "-D", "-", `${origin}/`],
    }).output();
    assert(success);
    const [head, body] = new TextDecoder().decode(stdout).split("\r\n\r\n");
    assertStringIncludes(head.toLowerCase(), "content-encoding: gzip");
    assertStringIncludes(head.toLowerCase(), "vary: accept-encoding");
    assertEquals(body, PAGE);
  });
});
