/**
 * The caching server's memory is bounded by its file-cache budget, whatever
 * URLs clients send: many spellings of one path (`/f`, `//f`, `///f`, …) name
 * one file and one cache entry, and nothing outside the cache keeps a version.
 */
import { assert, assertEquals } from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { FileResolver } from "../lib/caching/file_resolver.ts";
import { ChangeMonitor } from "../lib/caching/change_monitor.ts";
import { ServerProcess } from "./support/server_process.ts";

const MIB = 2 ** 20;
const FILE_BYTES = 4 * MIB;
const FILES = 5;
const SPELLINGS = 20;
const BUDGET = 8 * MIB;
/**
 * What the process may hold beyond the budget: the file being read and the
 * copy its 200 response takes while the version is built (two files), and
 * bytes dropped from the cache that the garbage collector has not freed yet
 * (V8 collects once enough has accumulated: about 90 MiB here, however many
 * requests are sent).
 */
const OVERHEAD = 2 * FILE_BYTES + 100 * MIB;

async function writeFiles(root: string): Promise<string[]> {
  const names = Array.from({ length: FILES }, (_, i) => `f${i}.bin`);
  for (const [i, name] of names.entries()) {
    await Deno.writeFile(join(root, name), new Uint8Array(FILE_BYTES).fill(i + 1));
  }
  return names;
}

/** `/f`, `//f`, `///f`, …: every one a different key to a memo keyed by the URL as sent. */
function spellings(name: string): string[] {
  return Array.from({ length: SPELLINGS }, (_, i) => `${"/".repeat(i + 1)}${name}`);
}

Deno.test("many spellings of several large files: the cache keeps to its budget", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "caching_memory_" }));
  const changes = ChangeMonitor.watch(root, () => {})!;
  try {
    const names = await writeFiles(root);
    const resolver = new FileResolver({
      root,
      maxFileBytes: FILE_BYTES,
      maxCacheBytes: BUDGET,
      changes,
    });
    for (let i = 0; i < SPELLINGS; i++) {
      for (const name of names) {
        const rawPath = spellings(name)[i];
        const found = await resolver.resolve(`http://localhost${rawPath}`, rawPath);
        assertEquals(found.kind === "version" && found.version.body?.[0], names.indexOf(name) + 1);
        assert(resolver.cachedBytes <= BUDGET, `${resolver.cachedBytes} bytes cached`);
      }
    }
  } finally {
    await changes.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("many spellings of several large files: resident memory stays within budget and overhead", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "caching_memory_" }));
  const server = new ServerProcess([
    "--allow-all",
    new URL("./support/caching_budget_server.ts", import.meta.url).pathname,
    root,
    String(BUDGET),
  ]);
  try {
    const names = await writeFiles(root);
    const [, port, start] = await server.waitForLine(/:(\d+)\/, resident (\d+)$/);
    const origin = `http://127.0.0.1:${port}`;
    for (let i = 0; i < SPELLINGS; i++) {
      for (const name of names) {
        const response = await fetch(origin + spellings(name)[i]);
        assertEquals((await response.bytes()).length, FILE_BYTES);
      }
    }
    server.kill("SIGTERM");
    const [, peak] = await server.waitForLine(/^peak resident (\d+)$/);
    const growth = Number(peak) - Number(start);
    console.log(
      `resident: ${mib(Number(start))} MiB at start, peak ${mib(Number(peak))} MiB after ` +
        `${FILES * SPELLINGS} requests (budget ${mib(BUDGET)} MiB)`,
    );
    assert(growth <= BUDGET + OVERHEAD, `grew by ${mib(growth)} MiB`);
  } finally {
    try {
      server.kill("SIGTERM");
    } catch { /* already stopped */ }
    await server.finish();
    await Deno.remove(root, { recursive: true });
  }
});

function mib(bytes: number): number {
  return Math.round(bytes / MIB);
}
