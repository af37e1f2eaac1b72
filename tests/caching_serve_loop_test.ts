/**
 * The caching server's life at the edges, as a program: out of file
 * descriptors it keeps running and serves again once they free up; on
 * SIGINT it lets downloads in flight finish, within a stated bound.
 */
import { assert, assertEquals, assertGreater, assertLess, assertMatch } from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { nextAcceptDelay } from "../lib/caching/serve_loop.ts";
import { exchange, parseResponses } from "./support/raw_http.ts";
import { ServerProcess } from "./support/server_process.ts";
import { concat } from "jsr:@std/bytes@1.0.6/concat";

const SERVER = new URL("../caching_server.ts", import.meta.url);
const PERMISSIONS = ["--allow-net", "--allow-read"];

Deno.test("nextAcceptDelay: 10 ms, doubling while failures follow each other, at most 1 s", () => {
  const cases: [previous: number | undefined, since: number, expected: number][] = [
    [undefined, Infinity, 10],
    [10, 10, 20],
    [20, 25, 40],
    [640, 700, 1000],
    [1000, 1000, 1000],
    [1000, 2000, 1000], // within twice the longest pause: still the same shortage
    [1000, 2001, 10], // a new shortage starts over
    [80, 60_000, 10],
  ];
  for (const [previous, since, expected] of cases) {
    assertEquals(nextAcceptDelay(previous, since), expected, `${previous} after ${since} ms`);
  }
});

/** Serves a fresh root holding `files` with caching_server.ts as a program, then cleans up. */
async function withProgram(
  files: Record<string, Uint8Array | string>,
  options: { args?: string[]; descriptorLimit?: number },
  test: (server: ServerProcess, port: number) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "caching_serve_loop_test_" });
  for (const [name, content] of Object.entries(files)) {
    if (typeof content === "string") await Deno.writeTextFile(join(root, name), content);
    else await Deno.writeFile(join(root, name), content);
  }
  const server = new ServerProcess(
    [...PERMISSIONS, SERVER.href, "--port", "0", "--root", root, ...(options.args ?? [])],
    { descriptorLimit: options.descriptorLimit },
  );
  try {
    await test(server, await server.port());
  } finally {
    try {
      server.kill("SIGKILL");
    } catch { /* it has exited already */ }
    await server.finish();
    await Deno.remove(root, { recursive: true });
  }
}

/** Opens `count` connections that never send a byte; those refused are skipped. */
async function openIdleConnections(port: number, count: number): Promise<Deno.Conn[]> {
  const connections: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    try {
      connections.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    } catch (error) {
      // Refused or reset while the server was not listening.
      const refused = error instanceof Deno.errors.ConnectionRefused ||
        error instanceof Deno.errors.ConnectionReset;
      if (!refused) throw error;
    }
  }
  return connections;
}

/** `true` once the connection has been closed by the server (EOF or reset). */
async function closedByServer(connection: Deno.Conn): Promise<boolean> {
  try {
    return await connection.read(new Uint8Array(1)) === null;
  } catch (error) {
    return error instanceof Deno.errors.ConnectionReset;
  }
}

/**
 * Whether the server is listening now, judged by its log: every failed
 * accept or listen is followed, after its back-off, by "listening again".
 */
function listening(output: string[]): boolean {
  const failures = output.filter((line) => /^(accept|listening on \S+) failed/.test(line)).length;
  return failures === output.filter((line) => line.startsWith("listening again on")).length;
}

/**
 * Runs `connect` once the server listens, judged by its log; when refused
 * in a back-off whose line was not read yet, waits for its end and retries.
 */
async function whenListening<T>(server: ServerProcess, connect: () => Promise<T>): Promise<T> {
  while (true) {
    while (!listening(server.output)) await server.waitForLine(/^listening again on/);
    try {
      return await connect();
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionRefused)) throw error;
      await server.waitForLine(/^listening again on/);
    }
  }
}

Deno.test("out of file descriptors: it logs, closes idle connections, backs off and serves again", async () => {
  const page = "<p>still here</p>";
  await withProgram({ "index.html": page }, { descriptorLimit: 128 }, async (server, port) => {
    // More idle connections than the limit allows: an accept fails.
    const idle = await openIdleConnections(port, 160);
    await server.waitForLine(/^accept failed on 127\.0\.0\.1:\d+: Too many open files/);
    // The failed listener's idle connections are closed, freeing descriptors.
    assert(await closedByServer(idle[0]), "the first idle connection is still open");
    for (const connection of idle) connection.close();

    // Once the last back-off has passed, a normal request is served.
    const request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    const { bytes } = await whenListening(
      server,
      () => exchange(port, new TextEncoder().encode(request), { halfClose: false }),
    );
    const [response] = parseResponses(bytes).responses;
    assertEquals(response.status, 200);
    assertEquals(new TextDecoder().decode(response.body), page);
    server.kill("SIGTERM");
    assertEquals((await server.finish()).code, 0);
  });
});

/** How a slow download reads: `chunkBytes` at a time, pausing `pauseMs` after each read. */
interface Pace {
  chunkBytes: number;
  pauseMs: number;
}

/** Sends a GET for `path` and reads the whole response at `pace`, which may change meanwhile. */
async function slowDownload(
  port: number,
  path: string,
  pace: Pace,
  onFirstBytes: () => void,
): Promise<Uint8Array> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
    await connection.write(new TextEncoder().encode(request));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(pace.chunkBytes);
    while (true) {
      const read = await connection.read(buffer).catch(() => null);
      if (read === null) break;
      if (chunks.length === 0) onFirstBytes();
      chunks.push(buffer.slice(0, read));
      if (pace.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pace.pauseMs));
    }
    return concat(chunks);
  } finally {
    connection.close();
  }
}

/** A file that is not all one byte, so a body cut or shifted anywhere differs. */
function fileOf(bytes: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (i * 7 + (i >> 12)) & 0xff);
}

Deno.test("SIGINT during a slow download: the download finishes, then the process exits 0", async () => {
  const file = fileOf(4 * 2 ** 20);
  await withProgram({ "big.bin": file }, {}, async (server, port) => {
    // About 2.5 MB/s: the body takes over a second and a half to read.
    const pace = { chunkBytes: 64 * 1024, pauseMs: 25 };
    const download = slowDownload(port, "/big.bin", pace, () => server.kill("SIGINT"));
    const [response] = parseResponses(await download).responses;
    assertEquals(response.status, 200);
    assertEquals(response.body.length, file.length);
    assertEquals(response.body, file);
    const { code } = await server.finish();
    assertEquals(code, 0);
    assertMatch(server.output.join("\n"), /waiting up to 30 s for responses in flight/);
  });
});

Deno.test("a download still running when the shutdown bound runs out is cut, and the log says so", async () => {
  const file = fileOf(8 * 2 ** 20);
  const args = ["--shutdown-timeout", "0.5"];
  await withProgram({ "big.bin": file }, { args }, async (server, port) => {
    let signalled = 0;
    // About 0.3 MB/s: far from done half a second after the signal.
    const pace = { chunkBytes: 16 * 1024, pauseMs: 50 };
    const download = slowDownload(port, "/big.bin", pace, () => {
      signalled = performance.now();
      server.kill("SIGINT");
    });
    const { code } = await server.finish();
    const exitedAfterMs = performance.now() - signalled;
    pace.pauseMs = 0; // what the kernel still holds arrives; the rest never will
    const received = await download;
    assertEquals(code, 0);
    assertLess(received.length, file.length); // headers included
    assertGreater(exitedAfterMs, 500);
    assertLess(exitedAfterMs, 5_000);
    const output = server.output.join("\n");
    assertMatch(output, /stopped waiting after 0\.5 s for responses still being sent/);
    assertMatch(output, /Stopped: the responses still being sent are cut off/);
  });
});
