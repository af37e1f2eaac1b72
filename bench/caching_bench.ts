/**
 * `deno task bench:micro`: the caching handler called directly (no sockets),
 * against a handler that returns a constant `Response`, the ceiling. With a
 * change monitor (as `caching_server.ts` runs it) a request for an unchanged
 * file does no I/O; without one, every request costs a `stat`.
 */
import { ChangeMonitor, createCachingHandler } from "../lib/caching/mod.ts";

const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "caching_bench_" }));
const page = "<!doctype html><title>bench</title>" + "x".repeat(2000);
await Deno.writeTextFile(`${root}/index.html`, page);
// A minute old, so that stat alone can vouch for it (see FileCache).
const minuteAgo = Date.now() / 1000 - 60;
await Deno.utime(`${root}/index.html`, minuteAgo, minuteAgo);
const changes = ChangeMonitor.watch(root, () => {});
const watching = createCachingHandler({ root, log: () => {}, changes });
const statting = createCachingHandler({ root, log: () => {} });
globalThis.addEventListener("unload", () => {
  changes?.close();
  Deno.removeSync(root, { recursive: true });
});

const first = await watching(new Request("http://localhost/"));
await first.body?.cancel();
const etag = first.headers.get("etag")!;
const plain = new Request("http://localhost/");
const revalidation = new Request("http://localhost/", { headers: { "if-none-match": etag } });
const body = new TextEncoder().encode(page);

Deno.bench("constant Response (baseline)", { group: "handler", baseline: true }, () => {
  new Response(body, { headers: { "content-type": "text/html; charset=UTF-8" } });
});
Deno.bench("watching: 304", { group: "handler" }, async () => {
  await watching(revalidation);
});
Deno.bench("watching: 200", { group: "handler" }, async () => {
  await watching(plain);
});
Deno.bench("stat per request: 304", { group: "handler" }, async () => {
  await statting(revalidation);
});
Deno.bench("stat per request: 200", { group: "handler" }, async () => {
  await statting(plain);
});
