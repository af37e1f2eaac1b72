/**
 * Test support: the caching server with a small file-cache budget, as a
 * program, so a test can watch its resident memory from outside.
 *
 * Usage: `deno run -A caching_budget_server.ts ROOT BUDGET_BYTES`. Prints
 * `listening at http://127.0.0.1:PORT/`, logs nothing else, stops on SIGTERM.
 */
import { serveCaching } from "../../caching_server.ts";

const [root, budget] = Deno.args;
const server = serveCaching({
  root,
  port: 0,
  maxCacheBytes: Number(budget),
  log: () => {},
  onListen: ({ port }) => console.log(`listening at http://127.0.0.1:${port}/`),
});
Deno.addSignalListener("SIGTERM", () => server.shutdown());
await server.finished;
