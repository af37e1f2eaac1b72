/**
 * `deno task bench`: both servers under load from `wrk`, each next to its
 * ceiling, in one run.
 *
 * Every scenario runs against the server under test and against its baseline
 * back to back, in the same round, and the ratio of the two is taken per
 * round: machine noise that slows both alike cancels out. Rounds are
 * interleaved (every scenario once, then again), and the table shows medians.
 *
 * Baselines: for the caching server, `Deno.serve` answering with the same
 * bytes from memory (and, in three rows that split the gap, with the same
 * header fields too, then with the least handler that evaluates
 * preconditions); for the cookie server, the same session app and store
 * behind `Deno.serve` (its "twin").
 *
 * Those servers run with their access log silenced. The "as run" rows
 * measure the programs as `deno task cache` / `deno task cookie` start them,
 * logging to a file (appended, like `>> access.log`) or to a pipe (read by
 * this process, like a terminal), against the same server silenced. The
 * peer rows put the caching server against `node:http` serving the same
 * file with an ETag, and nginx (when installed), with logs on both sides and
 * off on both sides.
 *
 * With two or more CPUs, servers are pinned to CPU 0 and wrk to the others,
 * so the load generator does not steal the server's core. While a scenario
 * runs, every server but its two is paused (SIGSTOP), so none of them steals
 * it either.
 *
 * Usage: `deno task bench [--rounds N] [--seconds N] [--only TEXT]`
 *
 * @module
 */
import { parseArgs } from "jsr:@std/cli@1.0.32/parse-args";
import {
  commandExists,
  freePort,
  launch,
  launchNginx,
  launchNodeHttp,
  type LogTarget,
  pinned,
  type RunningServer,
} from "./launch.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

const flags = parseArgs(Deno.args, {
  string: ["rounds", "seconds", "only"],
  default: { rounds: "3", seconds: "3" },
});
const ROUNDS = Number(flags.rounds);
const SECONDS = Number(flags.seconds);
/** Size of the served page: about what the demo page is. */
const PAGE_BYTES = 2048;

const HERE = new URL(".", import.meta.url);
const cpuCount = navigator.hardwareConcurrency;
const canPin = cpuCount >= 2 && await commandExists("taskset");
const SERVER_CPUS = canPin ? "0" : undefined;
const LOAD_CPUS = canPin ? `1-${cpuCount - 1}` : undefined;
/**
 * "Within reach of nginx" for the 304 with logs on both sides: at least half
 * its rate. nginx answers from C on its file cache, with no JavaScript and no
 * runtime calls per field; a server on the same core at half that rate or
 * better is one a user picks for other reasons than speed.
 */
const NGINX_REACH = 0.5;

/** Starts one of bench/servers/*.ts, which prints `listening PORT` and nothing else on stdout. */
async function startServer(script: string, args: string[]): Promise<RunningServer> {
  const command = pinned([
    Deno.execPath(),
    "run",
    "--unstable-kv",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    new URL(script, HERE).pathname,
    ...args,
  ], SERVER_CPUS);
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!/listening (\d+)\n/.test(output)) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`${script} ${args.join(" ")} exited before listening:\n${output}`);
    output += value;
  }
  await lines.cancel();
  const port = output.match(/listening (\d+)\n/)![1];
  return { origin: `http://127.0.0.1:${port}`, child };
}

/**
 * Starts a program exactly as `deno task NAME` does (the command in
 * deno.json, run from `work`, so the cookie server's `.data/` is there), with
 * `extraArgs`, `--store store` instead of the task's own when given, and a
 * port chosen here; its stdout (the access log) goes to a file or a pipe.
 */
async function startProgram(
  task: string,
  target: LogTarget,
  work: string,
  extraArgs: string[],
  store?: string,
): Promise<RunningServer> {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("../deno.json", HERE))).tasks;
  const words: string[] = tasks[task].split(" ");
  const command = words.map((word, i) =>
    i === 0 && word === "deno"
      ? Deno.execPath()
      : word.endsWith(".ts")
      ? new URL(`../${word}`, HERE).pathname
      : store !== undefined && words[i - 1] === "--store"
      ? store
      : word
  );
  const port = freePort();
  await Deno.mkdir(`${work}/.data`, { recursive: true });
  const file = `${work}/${task}-${target}-${store ?? "task"}.log`;
  return await launch(
    pinned([
      "sh",
      "-c",
      `cd "$0" && exec "$@"`,
      work,
      ...command,
      ...extraArgs,
      "--port",
      `${port}`,
    ], SERVER_CPUS),
    port,
    target === "file" ? { target, file } : { target },
  );
}

/** Moves every thread of this process to `cpus`, away from the servers' CPU. */
async function pinThisProcess(cpus: string): Promise<void> {
  await new Deno.Command("taskset", {
    args: ["-a", "-p", "-c", cpus, `${Deno.pid}`],
    stdout: "null",
  }).output();
}

/** One row of the table: a load against the server under test and against its baseline. */
interface Scenario {
  name: string;
  connections: number;
  server: RunningServer;
  baseline: RunningServer;
  /** The path requested. Default `/`. */
  path?: string;
  /** Request header fields, per server (a session cookie belongs to one server). */
  headers?: (server: RunningServer) => Record<string, string>;
  pipelineDepth?: number;
  /** The ratio this scenario must reach (median of per-round ratios). */
  minRatio?: number;
  /** Most this scenario's p99 may be, as a multiple of the baseline's. */
  maxP99Ratio?: number;
}

interface Measurement {
  server: WrkResult;
  baseline: WrkResult;
}

/**
 * Lets only `running` use the CPU: every other server is paused (SIGSTOP)
 * until its own turn. An idle server is not idle for the CPU: after a load of
 * new sessions its heap is large, and V8 collects it in the background, on
 * the core the server under test runs on (p99 of the caching rows went from
 * 3 ms to 10 ms while the cookie servers sat unpaused).
 */
function runOnly(running: RunningServer[], servers: RunningServer[]): void {
  for (const server of servers) server.child.kill(running.includes(server) ? "SIGCONT" : "SIGSTOP");
}

async function measure(scenario: Scenario, seconds: number): Promise<Measurement> {
  const load = (target: RunningServer) =>
    runWrk({
      url: `${target.origin}${scenario.path ?? "/"}`,
      connections: scenario.connections,
      durationSeconds: seconds,
      headers: scenario.headers?.(target),
      pipelineDepth: scenario.pipelineDepth,
      cpus: LOAD_CPUS,
    });
  return { server: await load(scenario.server), baseline: await load(scenario.baseline) };
}

async function main(): Promise<void> {
  if (!await commandExists("wrk")) {
    console.error(
      "wrk is not installed. On Debian/Ubuntu: sudo apt-get install wrk; on macOS: brew install wrk",
    );
    Deno.exit(1);
  }
  // This process reads the piped logs: keep it off the server's CPU, like wrk.
  if (canPin) await pinThisProcess(LOAD_CPUS!);
  const work = await Deno.makeTempDir({ prefix: "bench_" });
  // nginx's worker runs as "nobody" when started by root: let it read the site.
  await Deno.chmod(work, 0o755);
  const servers: RunningServer[] = [];
  try {
    const root = `${work}/site`;
    await Deno.mkdir(root, { mode: 0o755 });
    await Deno.writeTextFile(`${root}/index.html`, demoPage(PAGE_BYTES));
    const scenarios = await startScenarios(work, root, servers);
    const selected = scenarios.filter((s) =>
      flags.only === undefined || label(s).includes(flags.only)
    );

    console.log(
      `${selected.length} scenarios × ${ROUNDS} rounds × 2 servers × ${SECONDS} s; ` +
        (canPin ? `servers on CPU ${SERVER_CPUS}, wrk on CPUs ${LOAD_CPUS}` : "no CPU pinning"),
    );
    // Warm-up: let each server's JIT settle before anything is recorded.
    const used = new Set(selected.flatMap((s) => [s.server, s.baseline]));
    for (const server of servers.filter((server) => used.has(server))) {
      runOnly([server], servers);
      await runWrk({
        url: `${server.origin}/`,
        connections: 32,
        durationSeconds: 1,
        cpus: LOAD_CPUS,
      });
      await emptyLog(server);
    }

    const results = new Map<Scenario, Measurement[]>(selected.map((s) => [s, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of selected) {
        runOnly([scenario.server, scenario.baseline], servers);
        results.get(scenario)!.push(await measure(scenario, SECONDS));
        await emptyLog(scenario.server);
        await emptyLog(scenario.baseline);
      }
      console.error(`round ${round}/${ROUNDS} done`);
    }
    console.log(report(results));
  } finally {
    for (const server of servers) {
      server.child.kill("SIGCONT"); // a paused process would not act on SIGTERM
      server.child.kill("SIGTERM");
      await server.child.status;
    }
    await Deno.remove(work, { recursive: true });
  }
}

/**
 * Starts every server (adding each to `servers`, so the caller stops them
 * whatever happens) and returns the scenarios over them.
 */
async function startScenarios(
  work: string,
  root: string,
  servers: RunningServer[],
): Promise<Scenario[]> {
  const started = async (server: Promise<RunningServer>) => {
    servers.push(await server);
    return servers.at(-1)!;
  };
  const start = (script: string, args: string[]) => started(startServer(script, args));
  const file = `${root}/index.html`;
  const silenced: SilencedServers = {
    caching: await start("servers/caching.ts", [root]),
    constant: await start("servers/constant.ts", [file]),
    constantSameFields: await start("servers/constant.ts", [file, "same-fields"]),
    constantConditional: await start("servers/constant.ts", [file, "conditional"]),
    handMemory: await start("servers/cookie.ts", ["hand", "memory"]),
    twinMemory: await start("servers/cookie.ts", ["twin", "memory"]),
    handKv: await start("servers/cookie.ts", ["hand", `${work}/hand.kv`]),
    twinKv: await start("servers/cookie.ts", ["twin", `${work}/twin.kv`]),
  };
  const program = (task: string, target: LogTarget, store?: string) =>
    started(startProgram(task, target, work, task === "cache" ? ["--root", root] : [], store));
  const asRun: ProgramServers = {
    cachingToFile: await program("cache", "file"),
    cachingToPipe: await program("cache", "pipe"),
    cookieToFile: await program("cookie", "file", "memory"),
    cookieToPipe: await program("cookie", "pipe", "memory"),
    cookieKvToFile: await program("cookie", "file"),
  };
  const peers: PeerServers = {
    nodeLogging: await started(launchNodeHttp(file, `${work}/node.log`, SERVER_CPUS)),
    nodeQuiet: await started(launchNodeHttp(file, undefined, SERVER_CPUS)),
  };
  if (await commandExists("nginx")) {
    const nginx = (accessLog: boolean) =>
      started(launchNginx({ dir: `${work}/nginx-${accessLog}`, root, accessLog }, SERVER_CPUS));
    peers.nginxLogging = await nginx(true);
    peers.nginxQuiet = await nginx(false);
  } else {
    console.error("nginx is not installed (apt-get install nginx-light): its rows are left out");
  }

  const compressed = await start("servers/caching.ts", [root, "compress"]);
  const largeFromMemory = await start("servers/constant.ts", [await writeLargeFile(root)]);
  const headers = await requestHeaders([...servers]);
  return [
    ...baseScenarios(silenced, headers),
    compressionScenario(compressed, silenced.caching),
    largeFileScenario(silenced.caching, largeFromMemory),
    ...asRunScenarios(silenced, asRun, headers),
    ...peerScenarios(silenced.caching, asRun.cachingToFile, peers, headers),
  ];
}

/**
 * `--compress` answering a browser's `Accept-Encoding` with the page gzipped
 * (made once, then kept), against the same server sending the page as it is:
 * what choosing and sending the gzip representation costs per request.
 */
function compressionScenario(compressed: RunningServer, plain: RunningServer): Scenario {
  return {
    name: "caching --compress: 200 gzip vs identity",
    connections: 32,
    server: compressed,
    baseline: plain,
    headers: () => ({ "accept-encoding": "gzip, deflate, br, zstd" }),
  };
}

/** Size of the large file: above the 16 MiB streaming threshold. */
const LARGE_FILE_BYTES = 64 * 2 ** 20;

/**
 * Writes `large.bin` into the site, its mtime an hour back so that its
 * version is not "racily clean" and hashed again a second later.
 */
async function writeLargeFile(root: string): Promise<string> {
  const path = `${root}/large.bin`;
  const chunk = new Uint8Array(2 ** 20);
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  for (let written = 0; written < LARGE_FILE_BYTES; written += chunk.length) {
    crypto.getRandomValues(chunk.subarray(0, 65536));
    await file.write(chunk);
  }
  const hourAgo = new Date(Date.now() - 3600_000);
  await Deno.utime(path, hourAgo, hourAgo);
  return path;
}

/**
 * A 64 MiB download: the caching server streaming it from disk (256 KiB
 * per read, `fstat` after each) against `Deno.serve` sending the same bytes
 * from memory.
 */
function largeFileScenario(caching: RunningServer, fromMemory: RunningServer): Scenario {
  return {
    name: "caching: 200, 64 MiB file streamed from disk",
    connections: 4,
    server: caching,
    baseline: fromMemory,
    path: "/large.bin",
  };
}

/** Per server: the fields that make a request a revalidation (304) or a returning visit. */
interface RequestHeaders {
  revalidating: (server: RunningServer) => Record<string, string>;
  returning: (server: RunningServer) => Record<string, string>;
}

/** Asks each server once for its ETag or session cookie, whichever it sends. */
async function requestHeaders(servers: RunningServer[]): Promise<RequestHeaders> {
  const etags = new Map<RunningServer, string>();
  const cookies = new Map<RunningServer, string>();
  for (const server of servers) {
    const response = await fetch(`${server.origin}/`);
    await response.body?.cancel();
    const etag = response.headers.get("etag");
    const setCookie = response.headers.get("set-cookie");
    if (etag !== null) etags.set(server, etag);
    if (setCookie !== null) cookies.set(server, setCookie.slice(0, setCookie.indexOf(";")));
  }
  const get = (map: Map<RunningServer, string>, server: RunningServer, what: string) => {
    const value = map.get(server);
    if (value === undefined) throw new Error(`${server.origin}/ sent no ${what}`);
    return value;
  };
  // A baseline that sends no ETag (the constant servers) gets the same
  // If-None-Match as the server it is compared with: it ignores the field,
  // but reads a request of the same size.
  const anyTag = etags.values().next().value;
  return {
    revalidating: (server) => ({
      "if-none-match": etags.get(server) ?? anyTag ?? get(etags, server, "ETag"),
    }),
    returning: (server) => ({ cookie: get(cookies, server, "session cookie") }),
  };
}

/** The servers under test with their access log silenced, and their baselines. */
interface SilencedServers {
  caching: RunningServer;
  constant: RunningServer;
  constantSameFields: RunningServer;
  constantConditional: RunningServer;
  handMemory: RunningServer;
  twinMemory: RunningServer;
  handKv: RunningServer;
  twinKv: RunningServer;
}

/** The rows measured since the beginning: each server silenced against its ceiling. */
function baseScenarios(s: SilencedServers, headers: RequestHeaders): Scenario[] {
  const { revalidating, returning } = headers;
  const scenarios: Scenario[] = [];
  for (const connections of [1, 32, 256]) {
    const tight = connections === 32;
    const crowded = connections === 256;
    scenarios.push(
      {
        name: "caching: 200, 2 KB file",
        connections,
        server: s.caching,
        baseline: s.constant,
        minRatio: tight ? 0.85 : undefined,
        maxP99Ratio: crowded ? 1.5 : undefined,
      },
      {
        name: "caching: 304 (If-None-Match)",
        connections,
        server: s.caching,
        baseline: s.constant,
        headers: revalidating,
        minRatio: tight ? 0.9 : undefined,
        maxP99Ratio: crowded ? 1.5 : undefined,
      },
      {
        name: "cookie, memory: new visitor",
        connections,
        server: s.handMemory,
        baseline: s.twinMemory,
      },
      {
        name: "cookie, memory: returning visitor",
        connections,
        server: s.handMemory,
        baseline: s.twinMemory,
        headers: returning,
        minRatio: tight ? 1.0 : undefined,
        maxP99Ratio: crowded ? 2 : undefined,
      },
      { name: "cookie, KV: new visitor", connections, server: s.handKv, baseline: s.twinKv },
      {
        name: "cookie, KV: returning visitor",
        connections,
        server: s.handKv,
        baseline: s.twinKv,
        headers: returning,
      },
    );
  }
  return [...scenarios, ...gapScenarios(s, returning)];
}

/**
 * Not targets: they split the caching gap into what the response fields the
 * RFC requires cost (same-fields against the baseline), what the least
 * conditional handler adds (conditional against same-fields), and what is
 * this server's own (the caching server against conditional).
 */
function gapScenarios(s: SilencedServers, returning: RequestHeaders["returning"]): Scenario[] {
  return [{
    name: "caching: 200, baseline with the same fields",
    connections: 32,
    server: s.constantSameFields,
    baseline: s.constant,
  }, {
    name: "caching: 200, least conditional handler vs same fields",
    connections: 32,
    server: s.constantConditional,
    baseline: s.constantSameFields,
  }, {
    name: "caching: 200 vs the least conditional handler",
    connections: 32,
    server: s.caching,
    baseline: s.constantConditional,
  }, {
    name: "cookie, memory: returning, pipelined ×16",
    connections: 32,
    server: s.handMemory,
    baseline: s.twinMemory,
    headers: returning,
    pipelineDepth: 16,
  }];
}

/** The programs as `deno task cache` / `deno task cookie` start them, access log on. */
interface ProgramServers {
  cachingToFile: RunningServer;
  cachingToPipe: RunningServer;
  cookieToFile: RunningServer;
  cookieToPipe: RunningServer;
  /** `deno task cookie` exactly: Deno KV at .data/sessions.kv. */
  cookieKvToFile: RunningServer;
}

/** The access log's cost: each program as users run it against itself silenced. */
function asRunScenarios(
  s: SilencedServers,
  p: ProgramServers,
  headers: RequestHeaders,
): Scenario[] {
  const { revalidating, returning } = headers;
  const connections = 32;
  const rows: Scenario[] = [];
  for (
    const [target, caching, cookie] of [
      ["file", p.cachingToFile, p.cookieToFile],
      ["pipe", p.cachingToPipe, p.cookieToPipe],
    ] as const
  ) {
    rows.push({
      name: `caching as run, log → ${target}, vs silenced: 200`,
      connections,
      server: caching,
      baseline: s.caching,
      minRatio: 0.9,
    }, {
      name: `caching as run, log → ${target}, vs silenced: 304`,
      connections,
      server: caching,
      baseline: s.caching,
      headers: revalidating,
      minRatio: 0.9,
    }, {
      name: `cookie as run (memory), log → ${target}, vs silenced: returning visitor`,
      connections,
      server: cookie,
      baseline: s.handMemory,
      headers: returning,
      minRatio: 0.9,
    });
  }
  rows.push({
    name: "cookie as run (deno task cookie: KV), log → file, vs silenced: returning visitor",
    connections,
    server: p.cookieKvToFile,
    baseline: s.handKv,
    headers: returning,
  });
  return rows;
}

/** The peers a user would pick instead of the caching server. */
interface PeerServers {
  nodeLogging: RunningServer;
  nodeQuiet: RunningServer;
  nginxLogging?: RunningServer;
  nginxQuiet?: RunningServer;
}

/**
 * The caching server against its peers serving the same file, log on on both
 * sides (the caching server as run, its log to a file; the peers' logs to a
 * file too) and log off on both sides. A ratio above 1 means the caching
 * server is ahead.
 */
function peerScenarios(
  silenced: RunningServer,
  logging: RunningServer,
  peers: PeerServers,
  { revalidating }: RequestHeaders,
): Scenario[] {
  const pairs: [string, RunningServer, RunningServer | undefined, number | undefined][] = [
    ["node:http, both logging to a file", logging, peers.nodeLogging, 1.0],
    ["node:http, no log on either side", silenced, peers.nodeQuiet, undefined],
    ["nginx, both logging to a file", logging, peers.nginxLogging, NGINX_REACH],
    ["nginx, no log on either side", silenced, peers.nginxQuiet, undefined],
  ];
  return pairs.flatMap(([peer, server, baseline, min304]) =>
    baseline === undefined ? [] : [{
      name: `caching vs ${peer}: 200`,
      connections: 32,
      server,
      baseline,
    }, {
      name: `caching vs ${peer}: 304`,
      connections: 32,
      server,
      baseline,
      headers: revalidating,
      minRatio: min304,
    }]
  );
}

/** Empties the file a server's log goes to (it appends), so a long run does not fill the disk. */
async function emptyLog(server: RunningServer): Promise<void> {
  if (server.logFile !== undefined) await Deno.truncate(server.logFile).catch(() => {});
}

function label(scenario: Scenario): string {
  return `${scenario.name}, ${scenario.connections} conn`;
}

/** A Markdown table of medians, then the targets and whether they hold. */
function report(results: Map<Scenario, Measurement[]>): string {
  const rows = [
    "| scenario | conns | req/s | p50 ms | p99 ms | baseline req/s | baseline p99 ms | ratio | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const verdicts: string[] = [];
  for (const [scenario, runs] of results) {
    const ratio = median(
      runs.map((r) => r.server.requestsPerSecond / r.baseline.requestsPerSecond),
    );
    const p99 = median(runs.map((r) => r.server.p99Ms));
    const baselineP99 = median(runs.map((r) => r.baseline.p99Ms));
    const errors = runs.reduce((sum, r) => sum + r.server.errors + r.baseline.errors, 0);
    rows.push(
      `| ${scenario.name} | ${scenario.connections} | ` +
        `${fixed(median(runs.map((r) => r.server.requestsPerSecond)), 0)} | ` +
        `${fixed(median(runs.map((r) => r.server.p50Ms)), 2)} | ${fixed(p99, 2)} | ` +
        `${fixed(median(runs.map((r) => r.baseline.requestsPerSecond)), 0)} | ` +
        `${fixed(baselineP99, 2)} | **${fixed(ratio, 2)}** | ${errors} |`,
    );
    if (scenario.minRatio !== undefined) {
      verdicts.push(
        `${ratio >= scenario.minRatio ? "✓" : "✗"} ${label(scenario)}: ratio ${fixed(ratio, 2)} ` +
          `(target ≥ ${scenario.minRatio.toFixed(2)})`,
      );
    }
    if (scenario.maxP99Ratio !== undefined) {
      const p99Ratio = p99 / baselineP99;
      verdicts.push(
        `${p99Ratio <= scenario.maxP99Ratio ? "✓" : "✗"} ${label(scenario)}: p99 ` +
          `${fixed(p99Ratio, 2)}× the baseline's (target ≤ ${scenario.maxP99Ratio}×)`,
      );
    }
  }
  return `${rows.join("\n")}\n\nTargets:\n${verdicts.join("\n")}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

/** An HTML page of exactly `bytes` bytes. */
function demoPage(bytes: number): string {
  const head = "<!doctype html><title>bench</title><p>";
  return head + "x".repeat(bytes - head.length - 1) + "\n";
}

if (import.meta.main) await main();
