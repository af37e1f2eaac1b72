/**
 * Test support: the caching server with a small file-cache budget, as a
 * program that reports its own resident memory.
 *
 * Usage: `deno run -A caching_budget_server.ts ROOT BUDGET_BYTES` (reading
 * `/proc/self/status` needs `--allow-all`). Prints
 * `listening at http://127.0.0.1:PORT/, resident N`, logs no requests, and on
 * SIGTERM prints `peak resident N` (the most it was ever resident) and stops.
 */
import { serveCaching } from "../../caching_server.ts";

const [root, budget] = Deno.args;
const server = serveCaching({
  root,
  port: 0,
  maxCacheBytes: Number(budget),
  log: () => {},
  onListen: ({ port }) =>
    console.log(`listening at http://127.0.0.1:${port}/, resident ${statusBytes("VmRSS")}`),
});
Deno.addSignalListener("SIGTERM", () => {
  console.log(`peak resident ${statusBytes("VmHWM")}`);
  server.shutdown();
});
await server.finished;

function statusBytes(field: string): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  if (match === null) throw new Error(`no ${field} in /proc/self/status`);
  return Number(match[1]) * 1024;
}
