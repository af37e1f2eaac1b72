/**
 * Large-file downloads against the caching server: resident memory while N
 * clients download one file at once, and the latency of the first request
 * (one hashing pass, shared by all of them) against a later one.
 *
 * The server runs as `deno task cache` runs it, in its own process; its
 * resident memory is sampled from `/proc/PID/status` (VmRSS) every 50 ms.
 * The clients are `curl` processes writing to /dev/null, so the measuring
 * process holds no body either.
 *
 * Usage: `deno run -A bench/large_file.ts FILE [--clients 10]`: FILE is made
 * beforehand, outside the repository (e.g. `head -c 2G /dev/urandom >
 * /tmp/big/big.bin; touch -d '1 hour ago' /tmp/big/big.bin`, the mtime in the
 * past so that its version is not "racily clean" and hashed again).
 *
 * @module
 */
import { parseArgs } from "jsr:@std/cli@1.0.32/parse-args";
import { basename } from "jsr:@std/path@1.1.6/basename";
import { dirname } from "jsr:@std/path@1.1.6/dirname";

const flags = parseArgs(Deno.args, { string: ["clients"], default: { clients: "10" } });
const file = String(flags._[0] ?? "");
if (file === "") throw new Error("usage: deno run -A bench/large_file.ts FILE [--clients N]");
const clients = Number(flags.clients);
const size = (await Deno.stat(file)).size;
const url = (port: string) => `http://127.0.0.1:${port}/${basename(file)}`;

const server = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-net",
    "--allow-read",
    new URL("../caching_server.ts", import.meta.url).pathname,
    "--port",
    "0",
    "--quiet",
    dirname(file),
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
let output = "";
while (!/127\.0\.0\.1:(\d+)\//.test(output)) {
  const { value, done } = await lines.read();
  if (done) throw new Error(`the server exited:\n${output}`);
  output += value;
}
const port = output.match(/127\.0\.0\.1:(\d+)\//)![1];
lines.releaseLock();
server.stdout.pipeTo(new WritableStream()).catch(() => {});

let peakKiB = 0;
const residentKiB = () => {
  const status = Deno.readTextFileSync(`/proc/${server.pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
};
const startKiB = residentKiB();
const sampler = setInterval(() => peakKiB = Math.max(peakKiB, residentKiB()), 50);

/** One curl download: seconds to the first byte, and in all. */
async function download(): Promise<{ firstByte: number; total: number; bytes: number }> {
  const format = "%{time_starttransfer} %{time_total} %{size_download}";
  const { stdout } = await new Deno.Command("curl", {
    args: ["-s", "-o", "/dev/null", "-w", format, url(port)],
  }).output();
  const [firstByte, total, bytes] = new TextDecoder().decode(stdout).split(" ").map(Number);
  return { firstByte, total, bytes };
}

try {
  const first = await Promise.all(Array.from({ length: clients }, download));
  const later = await download();
  const mib = (kib: number) => (kib / 1024).toFixed(0);
  const gib = (size / 2 ** 30).toFixed(2);
  console.log(`file: ${gib} GiB; ${clients} clients at once, then one more`);
  for (const [i, result] of first.entries()) {
    const complete = result.bytes === size ? "complete" : `INCOMPLETE (${result.bytes} bytes)`;
    console.log(
      `  client ${i + 1}: first byte ${result.firstByte.toFixed(2)} s, ` +
        `done ${result.total.toFixed(2)} s, ${complete}`,
    );
  }
  console.log(
    `  later request: first byte ${later.firstByte.toFixed(3)} s, done ${later.total.toFixed(2)} s`,
  );
  console.log(`resident memory: ${mib(startKiB)} MiB at start, peak ${mib(peakKiB)} MiB`);
} finally {
  clearInterval(sampler);
  server.kill("SIGTERM");
  await server.status;
}
