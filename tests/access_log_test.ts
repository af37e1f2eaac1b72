/**
 * The access log's pure parts (escaping, JSON lines, the drop notice) as
 * tables, and the buffered writer over a real file: batching, ordering, the
 * bound with its exact drop count, and a failed output.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { AccessLog, dropNotice, escapeControls, formatJsonLine } from "../lib/access_log.ts";

/** Every C0 control, DEL and every C1 control. */
const CONTROLS = [
  ...Array.from({ length: 0x20 }, (_, code) => code),
  ...Array.from({ length: 0x21 }, (_, offset) => 0x7f + offset),
].map((code) => String.fromCharCode(code));

Deno.test("escapeControls writes every C0 and C1 control and DEL as \\xHH, nothing else", () => {
  for (const control of CONTROLS) {
    const hex = control.charCodeAt(0).toString(16).padStart(2, "0");
    assertEquals(escapeControls(`a${control}b`), `a\\x${hex}b`);
  }
  const printable = "GET /é?q=日本 200 \u00a0 ~ \\x85 \u2028";
  assertEquals(escapeControls(printable), printable);
  assertEquals(escapeControls("\r\nGET / 200 forged"), "\\x0d\\x0aGET / 200 forged");
});

Deno.test("formatJsonLine: request lines get their fields; no control survives raw", () => {
  const time = new Date("2026-12-02T07:00:00.000Z");
  const cases: [string, Record<string, unknown>][] = [
    [
      'GET / 304 If-None-Match matched "4c6ab7506ece…"',
      { method: "GET", path: "/", status: 304, reason: 'If-None-Match matched "4c6ab7506ece…"' },
    ],
    [
      "GET / 200: new visitor (no session cookie); created User1",
      {
        method: "GET",
        path: "/",
        status: 200,
        reason: "new visitor (no session cookie); created User1",
      },
    ],
    ["GET /nope 404", { method: "GET", path: "/nope", status: 404, reason: "" }],
    [
      "400 Bad Request: invalid Host [client 127.0.0.1:5000]",
      { status: 400, message: "Bad Request: invalid Host [client 127.0.0.1:5000]" },
    ],
    ["watch: modify /index.html", { message: "watch: modify /index.html" }],
  ];
  for (const [line, fields] of cases) {
    assertEquals(JSON.parse(formatJsonLine(line, time)), { time: time.toISOString(), ...fields });
  }
  for (const control of CONTROLS) {
    const json = formatJsonLine(`POST /logout 403: from Origin x${control}y`, time);
    // deno-lint-ignore no-control-regex -- finding controls is the point
    assertEquals(/[\x00-\x1f\x7f-\x9f]/.test(json), false, JSON.stringify(json));
    assertEquals(JSON.parse(json).reason, `from Origin x${control}y`);
  }
});

Deno.test("dropNotice groups thousands", () => {
  assertEquals(dropNotice(1), "… 1 log line dropped (output too slow)");
  assertEquals(dropNotice(1234567), "… 1,234,567 log lines dropped (output too slow)");
});

/** A real file as the log's output, with its writes counted and, while `held`, held back. */
class HeldFile {
  readonly path = Deno.makeTempFileSync({ prefix: "access_log_test_" });
  file = Deno.openSync(this.path, { write: true });
  writes = 0;
  #release = Promise.withResolvers<void>();
  held = false;

  write = async (bytes: Uint8Array): Promise<number> => {
    this.writes++;
    if (this.held) await this.#release.promise;
    return await this.file.write(bytes);
  };
  writeSync = (bytes: Uint8Array): number => this.file.writeSync(bytes);

  release(): void {
    this.held = false;
    this.#release.resolve();
  }

  async text(): Promise<string> {
    return await Deno.readTextFile(this.path);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.file.close();
    await Deno.remove(this.path);
  }
}

Deno.test("AccessLog: lines arrive whole and in order, in few writes", async () => {
  await using output = new HeldFile();
  const log = new AccessLog({ output, batchChars: 4096 });
  const lines = Array.from({ length: 2000 }, (_, i) => `GET /${i} 200 line ${i}`);
  for (const line of lines) log.log(line);
  assertEquals(await log.close(), true);
  assertEquals(await output.text(), lines.join("\n") + "\n");
  // One write when the first batch filled, one for everything queued meanwhile.
  assert(output.writes <= 2, `${output.writes} writes`);
});

Deno.test("AccessLog: a line is written within the flush interval without anything else", async () => {
  await using output = new HeldFile();
  const log = new AccessLog({ output, flushIntervalMs: 10 });
  log.log("GET / 200 alone");
  await log.flush();
  assertEquals(await output.text(), "GET / 200 alone\n");
  await log.close();
});

Deno.test("AccessLog: a stuck output holds a bounded queue and the gap says how many were dropped", async () => {
  await using output = new HeldFile();
  const log = new AccessLog({ output, batchChars: 1000, maxPendingChars: 10_000 });
  output.held = true;
  const total = 5000;
  for (let i = 0; i < total; i++) log.log(`GET /${i} 200 ${"x".repeat(90)}`);
  assert(log.dropped > 0 && log.dropped < total, `${log.dropped} dropped`);
  const droppedWhileStuck = log.dropped;
  output.release();
  await log.flush();
  log.log("GET /after 200 once the output caught up");
  assertEquals(await log.close(), true);

  const written = (await output.text()).split("\n").slice(0, -1);
  const notice = written.findIndex((line) => line.startsWith("…"));
  assertEquals(written[notice], dropNotice(droppedWhileStuck));
  assertEquals(written[notice + 1], "GET /after 200 once the output caught up");
  const requestLines = written.filter((line) =>
    line.startsWith("GET /") && line !== written.at(-1)
  );
  assertEquals(requestLines.length + droppedWhileStuck, total);
  // What got through is the first lines, in order, before the gap.
  requestLines.forEach((line, i) => assertMatch(line, new RegExp(`^GET /${i} 200`)));
});

Deno.test("AccessLog: an output that fails stops being written, counts what it lost, never throws", async () => {
  await using output = new HeldFile();
  output.file.close();
  const log = new AccessLog({ output });
  const errors: string[] = [];
  const consoleError = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    log.log("GET / 200 one");
    log.log("GET / 200 two");
    assertEquals(await log.close(), false);
    log.log("GET / 200 three");
  } finally {
    console.error = consoleError;
  }
  assertEquals(log.dropped, 3);
  assertEquals(errors.length, 1);
  assertMatch(errors[0], /^access log: cannot write/);
  output.file = Deno.openSync(output.path);
});
