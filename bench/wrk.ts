/**
 * Driving `wrk`, the HTTP load generator, and reading its report.
 *
 * @module
 */

/** One wrk run's figures. */
export interface WrkResult {
  /** Completed requests per second. */
  requestsPerSecond: number;
  /** Median latency, ms. */
  p50Ms: number;
  /** 99th-percentile latency, ms. */
  p99Ms: number;
  /** Responses outside 2xx/3xx plus socket errors: should be 0. */
  errors: number;
}

/** What to load, and how hard. */
export interface WrkRun {
  url: string;
  connections: number;
  durationSeconds: number;
  headers?: Record<string, string>;
  /** Requests written back to back on each connection before reading (HTTP pipelining). */
  pipelineDepth?: number;
  /** CPUs to pin wrk to with `taskset`, e.g. "1"; absent: no pinning. */
  cpus?: string;
}

/**
 * Runs wrk once (one thread) and parses its `--latency` report.
 *
 * @example
 * ```ts ignore
 * import { runWrk } from "./wrk.ts";
 * const result = await runWrk({ url: "http://127.0.0.1:8000/", connections: 32, durationSeconds: 3 });
 * console.log(result.requestsPerSecond);
 * ```
 */
export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = [
    "-t1",
    `-c${run.connections}`,
    `-d${run.durationSeconds}s`,
    "--latency",
    ...Object.entries(run.headers ?? {}).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
  ];
  let script: string | undefined;
  if (run.pipelineDepth !== undefined) {
    script = await Deno.makeTempFile({ suffix: ".lua" });
    await Deno.writeTextFile(script, pipelineScript(run.pipelineDepth));
    args.push("-s", script);
  }
  args.push(run.url);
  const [command, ...prefix] = run.cpus === undefined
    ? ["wrk"]
    : ["taskset", "-c", run.cpus, "wrk"];
  try {
    const { code, stdout, stderr } = await new Deno.Command(command, {
      args: [...prefix, ...args],
      stdin: "null",
    }).output();
    const report = new TextDecoder().decode(stdout);
    if (code !== 0) throw new Error(`wrk failed: ${new TextDecoder().decode(stderr)}${report}`);
    return parseWrkReport(report);
  } finally {
    if (script !== undefined) await Deno.remove(script);
  }
}

/** wrk's Lua hook for pipelining: one write carries `depth` requests. */
function pipelineScript(depth: number): string {
  return `init = function(args)
  local batch = {}
  for i = 1, ${depth} do batch[i] = wrk.format() end
  pipelined = table.concat(batch)
end
request = function() return pipelined end
`;
}

/**
 * Reads the figures out of wrk's text report.
 *
 * @example
 * ```ts
 * import { parseWrkReport } from "./wrk.ts";
 * const report = "     50%  587.00us\n     99%    6.17ms\nRequests/sec:  41042.41\n";
 * console.log(parseWrkReport(report)); // { requestsPerSecond: 41042.41, p50Ms: 0.587, p99Ms: 6.17, errors: 0 }
 * ```
 */
export function parseWrkReport(report: string): WrkResult {
  const rps = report.match(/Requests\/sec:\s+([\d.]+)/);
  const p50 = report.match(/^\s+50%\s+([\d.]+)(us|ms|s)\s*$/m);
  const p99 = report.match(/^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m);
  if (!rps || !p50 || !p99) throw new Error(`unexpected wrk report:\n${report}`);
  const non2xx = Number(report.match(/Non-2xx or 3xx responses:\s+(\d+)/)?.[1] ?? 0);
  const socket = report.match(
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/,
  );
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSecond: Number(rps[1]),
    p50Ms: toMs(p50[1], p50[2]),
    p99Ms: toMs(p99[1], p99[2]),
    errors: non2xx + socketErrors,
  };
}

function toMs(value: string, unit: string): number {
  const factor = unit === "us" ? 0.001 : unit === "s" ? 1000 : 1;
  return Math.round(Number(value) * factor * 1000) / 1000;
}
