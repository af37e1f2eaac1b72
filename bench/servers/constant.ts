/**
 * The caching side's ceiling: `Deno.serve` answering every request with the
 * same bytes from memory, with no stat, no hashing and no header logic.
 *
 * With `same-fields`, the response also carries the header fields the caching
 * server must send (ETag, Last-Modified, Cache-Control, Accept-Ranges), as
 * constants: the ceiling for a server that sends what the RFC asks.
 *
 * Usage: `deno run -A bench/servers/constant.ts FILE [same-fields]`; prints `listening PORT`.
 */
const body = await Deno.readFile(Deno.args[0]);
const headers = new Headers({ "content-type": "text/html; charset=UTF-8" });
if (Deno.args[1] === "same-fields") {
  headers.set("etag", `"${"0".repeat(64)}"`);
  headers.set("last-modified", new Date().toUTCString());
  headers.set("cache-control", "no-cache");
  headers.set("accept-ranges", "bytes");
}

Deno.serve({
  port: 0,
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(`listening ${port}`),
}, () => new Response(body, { headers }));
