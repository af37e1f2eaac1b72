/**
 * The access log of both programs, run as users run them (subprocesses,
 * stdout a pipe): no raw control character from a client ever reaches it,
 * every line logged before a graceful shutdown is written, a pipe nobody
 * reads neither stalls requests nor grows memory, and `--quiet` and
 * `--log-format json` do what `--help` says.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { exchange } from "./support/raw_http.ts";
import { ServerProcess } from "./support/server_process.ts";

const CACHING = new URL("../caching_server.ts", import.meta.url).pathname;
const COOKIE = new URL("../cookie_server.ts", import.meta.url).pathname;
const CACHING_PERMISSIONS = ["--allow-net", "--allow-read", "--allow-env=PORT"];
const COOKIE_PERMISSIONS = ["--allow-net"];
/** A raw control character anywhere in the output, newlines between lines aside. */
// deno-lint-ignore no-control-regex -- finding controls is the point
const RAW_CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** Bytes as sent: one byte per character (U+0085 becomes the byte 0x85). */
function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

async function withSite<T>(run: (root: string) => Promise<T>): Promise<T> {
  const root = await Deno.makeTempDir({ prefix: "access_log_program_test_" });
  try {
    await Deno.writeTextFile(join(root, "index.html"), "<p>hello</p>\n");
    return await run(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Stops `server` gracefully and returns every line it printed. */
async function stop(server: ServerProcess): Promise<{ lines: string[]; stderr: string }> {
  server.kill("SIGINT");
  const { code, stderr } = await server.finish();
  assertEquals(code, 0, stderr);
  return { lines: server.output, stderr };
}

/** Sends raw requests, each on its own connection, and returns the status codes. */
async function sendRaw(port: number, requests: string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const request of requests) {
    const { bytes } = await exchange(port, latin1(request), { halfClose: false });
    statuses.push(Number(new TextDecoder().decode(bytes.subarray(9, 12))));
  }
  return statuses;
}

function assertNoRawControls(lines: string[]): void {
  for (const line of lines) {
    assert(!RAW_CONTROL.test(line), `raw control in ${JSON.stringify(line)}`);
  }
}

for (const format of ["text", "json"]) {
  Deno.test(`caching server (${format}): U+0085 and ESC from a client never reach the log raw`, async () => {
    await withSite(async (root) => {
      const server = new ServerProcess([
        ...CACHING_PERMISSIONS,
        CACHING,
        "--port=0",
        `--root=${root}`,
        ...(format === "json" ? ["--log-format=json"] : []),
      ]);
      const port = await server.port();
      const close = "Connection: close\r\n\r\n";
      const statuses = await sendRaw(port, [
        `GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=\x85\x1b-\r\n${close}`,
        `GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=\x85-\r\n${close}`,
        `GET / HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: \x85 forged\r\n${close}`,
        `GET /.a%C2%85b%1B[2J HTTP/1.1\r\nHost: x\r\n${close}`,
        `GET /a\x1b[2J\x85 HTTP/1.1\r\nHost: x\r\n${close}`,
      ]);
      assertEquals(statuses.slice(1, 4), [416, 200, 404]);
      const { lines } = await stop(server);
      assertNoRawControls(lines);
      const text = lines.join("\n");
      const escaped = format === "json" ? "\\u0085" : "\\x85";
      assertStringIncludes(text, `invalid range ${format === "json" ? '\\"' : '"'}${escaped}-`);
      assertStringIncludes(text, `${escaped} forged`);
      assertStringIncludes(text, `.a${escaped}b`);
    });
  });

  Deno.test(`cookie server (${format}): U+0085 and ESC from a client never reach the log raw`, async () => {
    const server = new ServerProcess([
      ...COOKIE_PERMISSIONS,
      COOKIE,
      "--port=0",
      "--store=memory",
      ...(format === "json" ? ["--log-format=json"] : []),
    ]);
    const port = await server.port();
    const statuses = await sendRaw(port, [
      "POST /logout HTTP/1.1\r\nHost: x\r\nOrigin: http://e\x85vil\r\nContent-Length: 0\r\n" +
      "Connection: close\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\x85\r\n\r\n",
      "GET /a\x85\x1b[2J HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nOrigin: \x1b[2J\r\n\r\n",
    ]);
    assertEquals(statuses, [403, 400, 400, 400]);
    const { lines } = await stop(server);
    assertNoRawControls(lines);
    const text = lines.join("\n");
    const escaped = format === "json" ? "\\u0085" : "\\x85";
    assertStringIncludes(text, `Origin http://e${escaped}vil`);
    assertStringIncludes(text, `x${escaped}`);
  });
}

/** `count` GET requests for `path` over `clients` keep-alive connections; each one's latency. */
async function load(origin: string, path: string, count: number, clients = 4): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < count) {
      next++;
      const start = performance.now();
      const response = await fetch(`${origin}${path}`, { signal: AbortSignal.timeout(5000) });
      await response.body?.cancel();
      latencies.push(performance.now() - start);
    }
  }));
  return latencies;
}

Deno.test("every line logged before a graceful shutdown reaches the output, in both programs", async () => {
  const requests = 500;
  await withSite(async (root) => {
    const programs = [
      new ServerProcess([...CACHING_PERMISSIONS, CACHING, "--port=0", `--root=${root}`]),
      new ServerProcess([...COOKIE_PERMISSIONS, COOKIE, "--port=0", "--store=memory"]),
    ];
    for (const server of programs) {
      const origin = `http://127.0.0.1:${await server.port()}`;
      server.drainOutput();
      await load(origin, "/", requests);
      const { lines } = await stop(server);
      assertEquals(lines.filter((line) => /^GET \/ 200\b/.test(line)).length, requests);
      assertMatch(lines.at(-1)!, /^Shutting down|^Stopped\./);
    }
  });
});

/** The resident set size of process `pid`, in bytes, as `ps` reports it. */
async function residentBytes(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", `${pid}`] })
    .output();
  return Number(new TextDecoder().decode(stdout).trim()) * 1024;
}

Deno.test({
  name: "stdout a pipe nobody reads: requests answered at once, memory bounded, drops counted",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withSite(async (root) => {
      const server = new ServerProcess([
        ...CACHING_PERMISSIONS,
        CACHING,
        "--port=0",
        `--root=${root}`,
      ]);
      const origin = `http://127.0.0.1:${await server.port()}`;
      // Nothing reads the pipe from here on. Each request logs a line of about
      // 16 KB: 80 MB in all, far past the pipe's 64 KiB and the log's bound.
      const path = `/${"x".repeat(16 * 1024)}`;
      const requests = 5000;
      await load(origin, "/", 200); // warm up before measuring memory
      const before = await residentBytes(server.pid);
      const latencies = await load(origin, path, requests);
      const grown = (await residentBytes(server.pid)) - before;

      latencies.sort((a, b) => a - b);
      assert(latencies.at(-1)! < 2000, `slowest request took ${latencies.at(-1)} ms`);
      assert(grown < 40 * 1024 * 1024, `resident memory grew by ${grown} bytes`);

      server.drainOutput();
      const { lines, stderr } = await stop(server);
      const logged = lines.filter((line) => line.startsWith(`GET ${path} 404`)).length;
      const dropped = lines.map((line) => line.match(/^… ([\d,]+) log lines? dropped/)?.[1])
        .filter((count) => count !== undefined)
        .reduce((sum, count) => sum + Number(count.replaceAll(",", "")), 0);
      assert(dropped > 0, "some lines must have been dropped");
      assertEquals(logged + dropped, requests);
      assertStringIncludes(stderr, `${dropped.toLocaleString("en-US")} log lines dropped`);
    });
  },
});

Deno.test("stdout closed by its reader (| head): requests still answered, a clean exit that says why", async () => {
  await withSite(async (root) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...CACHING_PERMISSIONS, CACHING, "--port=0", `--root=${root}`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let banner = "";
    while (!/127\.0\.0\.1:(\d+)\//.test(banner)) banner += (await reader.read()).value ?? "";
    await reader.cancel(); // what `| head -1` does once it has its line
    const origin = `http://127.0.0.1:${banner.match(/127\.0\.0\.1:(\d+)\//)![1]}`;
    const latencies = await load(origin, "/", 200);
    assert(Math.max(...latencies) < 2000, `slowest request took ${Math.max(...latencies)} ms`);
    const started = Date.now();
    child.kill("SIGINT");
    const { code } = await child.status;
    assertEquals(code, 0);
    assert(Date.now() - started < 3000, `exit took ${Date.now() - started} ms`);
    const errors = await stderr;
    assertMatch(errors, /access log: cannot write \(BrokenPipe/);
    assertMatch(errors, /log lines dropped \(output closed\)/);
    assertEquals(errors.includes("still blocked"), false, errors);
  });
});

Deno.test("--quiet logs no request; --log-format json logs one JSON object per line", async () => {
  const quiet = new ServerProcess([...COOKIE_PERMISSIONS, COOKIE, "--port=0", "--quiet"]);
  const json = new ServerProcess([...COOKIE_PERMISSIONS, COOKIE, "--port=0", "--log-format=json"]);
  for (const server of [quiet, json]) {
    const origin = `http://127.0.0.1:${await server.port()}`;
    server.drainOutput();
    await load(origin, "/", 3, 1);
  }
  const quietLines = (await stop(quiet)).lines;
  assertEquals(quietLines.filter((line) => line.includes("GET /")), []);
  assertMatch(quietLines[0], /^Cookie server listening on /);
  const records = (await stop(json)).lines.map((line) => JSON.parse(line));
  const requests = records.filter((record) => record.method === "GET");
  assertEquals(requests.length, 3);
  assertEquals(requests[0].path, "/");
  assertEquals(requests[0].status, 200);
  assertMatch(requests[0].reason, /^new visitor/);
  assertMatch(requests[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assertMatch(records.at(-1).message, /^Stopped\./);
});

Deno.test("--help lists --quiet and --log-format; a bad format exits 2", async () => {
  const programs: [string, string[]][] = [
    [CACHING, CACHING_PERMISSIONS],
    [COOKIE, COOKIE_PERMISSIONS],
  ];
  for (const [program, permissions] of programs) {
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), { args: ["run", ...permissions, program, ...args] })
        .output();
    const help = new TextDecoder().decode((await run(["--help"])).stdout);
    assertStringIncludes(help, "--quiet");
    assertStringIncludes(help, "--log-format");
    const bad = await run(["--log-format", "xml"]);
    assertEquals(bad.code, 2);
    assertStringIncludes(
      new TextDecoder().decode(bad.stderr),
      '--log-format "xml": expected text or json',
    );
  }
});
