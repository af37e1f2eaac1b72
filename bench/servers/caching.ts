/**
 * The caching server under test: `serveCaching` as `caching_server.ts` runs
 * it, with the access log silenced (the baseline logs nothing either).
 *
 * Usage: `deno run -A bench/servers/caching.ts ROOT`; prints `listening PORT`.
 */
import { serveCaching } from "../../caching_server.ts";

serveCaching({
  root: Deno.args[0],
  port: 0,
  log: () => {},
  onListen: ({ port }) => console.log(`listening ${port}`),
});
