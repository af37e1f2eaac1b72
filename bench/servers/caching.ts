/**
 * The caching server under test: `serveCaching` as `caching_server.ts` runs
 * it, with the access log silenced (the baseline logs nothing either).
 *
 * Usage: `deno run -A bench/servers/caching.ts ROOT [compress]`; prints
 * `listening PORT`. With `compress`, as `--compress` runs it.
 */
import { serveCaching } from "../../caching_server.ts";

serveCaching({
  root: Deno.args[0],
  port: 0,
  log: () => {},
  compress: Deno.args[1] === "compress",
  onListen: ({ port }) => console.log(`listening ${port}`),
});
