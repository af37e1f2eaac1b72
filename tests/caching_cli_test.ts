/**
 * caching_server.ts as a program: flags and exit codes, the access log on
 * stdout, graceful shutdown on SIGTERM, and running straight from a URL.
 * Each test starts a real `deno run` process with the permissions of
 * `deno task cache`.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { fromFileUrl } from "jsr:@std/path@1.1.6/from-file-url";
import { join } from "jsr:@std/path@1.1.6/join";
import { serveCaching } from "../caching_server.ts";
import { ServerProcess } from "./support/server_process.ts";

const SERVER = new URL("../caching_server.ts", import.meta.url);
const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-env=PORT"];

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, SERVER.href, ...args],
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("--help prints usage and exits 0", async () => {
  const { code, stdout } = await run(["--help"]);
  assertEquals(code, 0);
  assertStringIncludes(stdout, "Usage:");
  assertStringIncludes(stdout, "--cache-control");
});

Deno.test("bad command lines exit 2 with one line that says why and points at --help", async () => {
  const cases: [string[], string][] = [
    [["--bogus"], "unknown flag: --bogus"],
    [["extra", "more"], "unexpected argument: more"],
    [["--port", "http"], '--port "http": not a port number'],
    [["--root"], "--root needs a value"],
    [["--root", "/does/not/exist"], "/does/not/exist: no such directory"],
    [["--root", "README.md"], "README.md: not a directory"],
    [["--cache-control", "no-cache\nX-Injected: 1"], "not a valid field value"],
    [["--shutdown-timeout", "soon"], '--shutdown-timeout "soon": expected seconds'],
    [["--shutdown-timeout=-1"], "expected seconds"],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await run(args);
    assertEquals(code, 2, args.join(" "));
    assertEquals(stderr.trimEnd().split("\n").length, 1, stderr);
    assertStringIncludes(stderr, message);
    assertStringIncludes(stderr, "(see --help)");
  }
});

Deno.test("the program: 200 → 304 → edit → 200 → 304, logged, then a graceful SIGTERM", async () => {
  const root = await Deno.makeTempDir({ prefix: "caching_cli_test_" });
  // Compression switched on for Deno.serve by environment: the server must still not compress.
  const server = new ServerProcess(
    [...PERMISSIONS, SERVER.href, "--port", "0", "--root", root],
    { env: { DENO_SERVE_AUTOMATIC_COMPRESSION: "1" } },
  );
  try {
    await Deno.writeTextFile(join(root, "index.html"), "<p>first</p>".repeat(100));
    const origin = `http://127.0.0.1:${await server.port()}`;
    const gzip = { "accept-encoding": "gzip" };

    const first = await fetch(`${origin}/`, { headers: gzip });
    await first.body?.cancel();
    assertEquals(first.status, 200);
    assertEquals(first.headers.get("content-encoding"), null);
    assertEquals(first.headers.get("vary"), null);
    const firstTag = first.headers.get("etag")!;
    assertMatch(firstTag, /^"[0-9a-f]{64}"$/);

    const second = await fetch(`${origin}/`, { headers: { ...gzip, "if-none-match": firstTag } });
    await second.body?.cancel();
    assertEquals(second.status, 304);

    await Deno.writeTextFile(join(root, "index.html"), "<p>second</p>".repeat(100));
    // The server watches its root: once it reports the change, requests see it.
    await server.waitForLine(/^watch: .*\/index\.html/);
    const third = await fetch(`${origin}/`, { headers: { ...gzip, "if-none-match": firstTag } });
    assertEquals(await third.text(), "<p>second</p>".repeat(100));
    assertEquals(third.status, 200);
    const secondTag = third.headers.get("etag")!;

    const fourth = await fetch(`${origin}/`, { headers: { ...gzip, "if-none-match": secondTag } });
    await fourth.body?.cancel();
    assertEquals(fourth.status, 304);

    await server.waitForLine(/^GET \/ 304 If-None-Match matched/); // the fourth request's
    const requests = server.output.filter((line) => line.startsWith("GET "));
    assertMatch(requests[1], /^GET \/ 304 If-None-Match matched/);
    assertMatch(requests[2], /^GET \/ 200 ETag changed/);
    assertMatch(requests[3], /^GET \/ 304 If-None-Match matched/);
  } finally {
    server.kill("SIGTERM");
    const { code, stderr } = await server.finish();
    await Deno.remove(root, { recursive: true });
    assertEquals(code, 0, stderr);
    assert(
      server.output.some((line) => line.startsWith("Shutting down")),
      server.output.join("\n"),
    );
  }
});

Deno.test("run from a URL: serves the current directory, with the demo page at /", async () => {
  // Serve this checkout over HTTP (with the caching server itself) and run
  // caching_server.ts from there, in an empty directory without index.html.
  const checkout = new URL("..", import.meta.url);
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const host = serveCaching({
    root: fromFileUrl(checkout),
    port: 0,
    log: () => {},
    onListen: listening.resolve,
  });
  const cwd = await Deno.makeTempDir({ prefix: "caching_cli_url_test_" });
  let server: ServerProcess | undefined;
  try {
    await Deno.writeTextFile(join(cwd, "notes.txt"), "served from the working directory");
    const { port: hostPort } = await listening.promise;
    const moduleUrl = `http://127.0.0.1:${hostPort}/caching_server.ts`;
    server = new ServerProcess(
      [
        "--allow-net",
        "--allow-read",
        `--allow-import=127.0.0.1:${hostPort}`,
        moduleUrl,
        "--port",
        "0",
      ],
      { cwd },
    );
    const origin = `http://127.0.0.1:${await server.port()}`;

    const demo = await fetch(`${origin}/`);
    assertEquals(demo.status, 200);
    assertEquals(await demo.text(), await Deno.readTextFile(new URL("index.html", checkout)));
    // The demo page's Last-Modified is the one its URL was served with.
    const original = await fetch(`http://127.0.0.1:${hostPort}/index.html`, { method: "HEAD" });
    await original.body?.cancel();
    assertEquals(demo.headers.get("last-modified"), original.headers.get("last-modified"));
    const notes = await fetch(`${origin}/notes.txt`);
    assertEquals(await notes.text(), "served from the working directory");
  } finally {
    server?.kill("SIGTERM");
    const result = await server?.finish();
    await host.shutdown();
    await Deno.remove(cwd, { recursive: true });
    assertEquals(result?.code, 0, result?.stderr);
  }
});

Deno.test("--max-file-size sets the largest file served; a bad size is a usage error", async () => {
  const root = await Deno.makeTempDir({ prefix: "caching_cli_test_" });
  await Deno.writeTextFile(join(root, "fits.txt"), "x".repeat(2048));
  await Deno.writeTextFile(join(root, "big.txt"), "x".repeat(2049));
  const server = new ServerProcess([
    ...PERMISSIONS,
    SERVER.href,
    "--port",
    "0",
    "--root",
    root,
    "--max-file-size",
    "2K",
  ]);
  try {
    const origin = `http://127.0.0.1:${await server.port()}`;
    server.drainOutput();
    assertEquals((await (await fetch(`${origin}/fits.txt`)).text()).length, 2048);
    const big = await fetch(`${origin}/big.txt`);
    assertEquals(big.status, 403);
    assertStringIncludes(await big.text(), "file of 2049 bytes exceeds the 2048-byte limit");
  } finally {
    server.kill("SIGTERM");
    await server.finish();
    await Deno.remove(root, { recursive: true });
  }
  const { code, stderr } = await run(["--max-file-size", "lots"]);
  assertEquals(code, 2);
  assertStringIncludes(stderr, "--max-file-size lots");
});

Deno.test("--stream-above sets the size past which files are streamed from disk", async () => {
  const root = await Deno.makeTempDir({ prefix: "caching_cli_test_" });
  await Deno.writeTextFile(join(root, "big.txt"), "x".repeat(4096));
  const server = new ServerProcess([
    ...PERMISSIONS,
    SERVER.href,
    "--port",
    "0",
    "--root",
    root,
    "--stream-above",
    "1K",
  ]);
  try {
    const origin = `http://127.0.0.1:${await server.port()}`;
    assertEquals((await (await fetch(`${origin}/big.txt`)).text()).length, 4096);
    await server.waitForLine(/GET \/big\.txt 200 .*hashed in one streaming pass/);
    server.drainOutput();
  } finally {
    server.kill("SIGTERM");
    await server.finish();
    await Deno.remove(root, { recursive: true });
  }
  const { code, stderr } = await run(["--stream-above", "lots"]);
  assertEquals(code, 2);
  assertStringIncludes(stderr, "--stream-above lots");
});
