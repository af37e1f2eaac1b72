/**
 * The caching side's ceiling: `Deno.serve` answering every request with the
 * same bytes from memory, with no stat, no hashing and no header logic.
 *
 * Usage: `deno run -A bench/servers/constant.ts FILE`; prints `listening PORT`.
 */
const body = await Deno.readFile(Deno.args[0]);

Deno.serve({
  port: 0,
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(`listening ${port}`),
}, () => new Response(body, { headers: { "content-type": "text/html; charset=UTF-8" } }));
