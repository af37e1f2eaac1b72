/**
 * Hardening the hand-written HTTP/1.1 server over real loopback sockets:
 * fuzzing with a differential oracle, slowloris, a connection flood, and the
 * regression for a crash the fuzzing found.
 *
 * ## The differential oracle
 *
 * Every fuzz case is sent, byte for byte, to our server and to `Deno.serve`
 * (hyper), both running the same echo handler. Cases invalid by construction
 * must never get a 2xx from us; for the rest, whenever we answer 2xx, hyper
 * must too: we are never more lenient than a mature parser, except where the
 * RFC tells us to be. The deliberate differences (see also the RFC 9112 row
 * table in `tests/support/fuzz.ts`, which this file also runs against both):
 *
 * | input                                    | ours        | hyper (Deno 2.9) | why we differ                                   |
 * | ---------------------------------------- | ----------- | ---------------- | ----------------------------------------------- |
 * | `HTTP/1.2` … `HTTP/1.9`                  | 2xx, as 1.1 | 400              | RFC 9112 §2.3 / RFC 9110 §6.2 (the one case we are more lenient) |
 * | bare LF line terminators                 | 400         | 2xx              | smuggling differential (RFC 9112 §2.2 MAY)      |
 * | HTTP/1.1 without Host; Host `u@a`        | 400         | 2xx              | RFC 9112 §3.2 MUST 400                          |
 * | `Transfer-Encoding: gzip, chunked`       | 501         | 2xx              | RFC 9112 §6.1: we implement no other coding     |
 * | `#` fragment in the request-target       | 400         | 2xx              | not in the RFC 9112 §3.2 grammar                |
 * | unknown or lowercase method              | 501         | 2xx              | RFC 9110 §9.1: methods are case-sensitive       |
 * | request line over 8 KiB                  | 414         | 2xx              | our limit (RFC 9112 §3 asks for at least 8000)  |
 * | `HTTP/2.0` request line                  | 505         | 400              | RFC 9110 §15.6.6                                |
 * | malformed chunk size or chunk CRLF       | 400         | close, no answer | every error gets a status and a reason here     |
 * | incomplete head then EOF                 | close       | 400              | nobody is waiting for an answer                 |
 *
 * Seeds are printed; `FUZZ_SEED` replays a run and `FUZZ_CASES` sizes it.
 *
 * @module
 */
import { assert, assertEquals, assertLess } from "@std/assert";
import { type Http1Handler, type Http1Limits, serveHttp1 } from "../lib/http1/mod.ts";
import {
  bytesOf,
  fuzzCases,
  fuzzSeed,
  generateCase,
  latin1Of,
  Prng,
  show,
} from "./support/fuzz.ts";
import { exchange, firstFinalStatus, parseResponses } from "./support/raw_http.ts";
import { GRAMMAR_TABLE } from "./fixtures/http1/rfc9112_grammar.ts";

/** Echoes method, path and body size: the same answer from both servers. */
const echo: Http1Handler = (req) => ({
  status: 200,
  body: `${req.method} ${req.pathname} ${req.body?.length ?? 0}`,
});

/** The same echo for Deno.serve; a body that cannot be read is reported, not thrown. */
async function webEcho(req: Request): Promise<Response> {
  let body: string;
  try {
    body = String((await req.arrayBuffer()).byteLength);
  } catch {
    body = "unreadable";
  }
  return new Response(`${req.method} ${new URL(req.url).pathname} ${body}`);
}

function startOurs(limits?: Partial<Http1Limits>) {
  const logs: string[] = [];
  const server = serveHttp1({ port: 0, limits, onListen() {}, log: (l) => logs.push(l) }, echo);
  return { server, port: server.addr.port, logs };
}

function startHyper() {
  return Deno.serve(
    {
      port: 0,
      hostname: "127.0.0.1",
      onListen() {},
      onError: () => new Response("handler error", { status: 500 }),
    },
    webEcho,
  );
}

const NORMAL = bytesOf("GET /normal HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");

/** A normal request gets its 200: the server still serves everyone after whatever came before. */
async function assertServesNormally(port: number): Promise<void> {
  const { responses, error } = parseResponses((await exchange(port, NORMAL)).bytes);
  assertEquals(error, null);
  assertEquals(responses.map((r) => r.status), [200]);
}

const is2xx = (status: number | null) => status !== null && status >= 200 && status < 300;

/** Where we are deliberately more lenient than hyper: RFC 9112 §2.3 minor versions. */
function documentedLeniency(bytes: Uint8Array): string | null {
  return /^(?:\r\n)*[!-~]+ [!-~]+ HTTP\/1\.[2-9]\r\n/.test(latin1Of(bytes))
    ? "HTTP/1.x, x ≥ 2, handled as 1.1 (RFC 9112 §2.3)"
    : null;
}

Deno.test("http1 hardening: a head that fills the read buffer gets its 4xx and no crash", async () => {
  // Regression: ~40 KiB of blank lines, an 8 KiB target and an endless field
  // left the reader's buffer full at its maximum; the lingering close then
  // tried to read into it, threw, and the rejection crashed the process.
  const { server, port, logs } = startOurs();
  try {
    const request = "\r\n".repeat(4096) + `GET /${"a".repeat(8178)} HTTP/1.1\r\n` +
      `X-A: ${"b".repeat(30000)}`;
    const { bytes } = await exchange(port, bytesOf(request));
    const { responses, error } = parseResponses(bytes);
    assertEquals(error, null);
    assertEquals(responses.map((r) => r.status), [431]);
    await assertServesNormally(port);
    assertEquals(logs.filter((l) => l.startsWith("http1: connection error")), []);
  } finally {
    await server.shutdown();
  }
});

Deno.test("http1 hardening: RFC 9112 table over the wire, ours exact, hyper never stricter on a 2xx", async () => {
  const ours = startOurs();
  const hyper = startHyper();
  const differences: string[] = [];
  try {
    for (const row of GRAMMAR_TABLE) {
      const bytes = bytesOf(row.request);
      const [o, h] = await Promise.all([
        exchange(ours.port, bytes),
        exchange(hyper.addr.port, bytes),
      ]);
      const po = parseResponses(o.bytes);
      assertEquals(po.error, null, row.name);
      assertEquals(firstFinalStatus(po.responses), row.status, `${row.name} (RFC ${row.rfc})`);
      const hyperStatus = firstFinalStatus(parseResponses(h.bytes).responses);
      if (is2xx(row.status) && !is2xx(hyperStatus)) {
        assert(documentedLeniency(bytes) !== null, `${row.name}: ours 2xx, hyper ${hyperStatus}`);
      }
      if (hyperStatus !== row.status) differences.push(`${row.name}: ${row.status}/${hyperStatus}`);
    }
    await assertServesNormally(ours.port);
  } finally {
    await ours.server.shutdown();
    await hyper.shutdown();
  }
  console.log(`ours/hyper where they differ:\n  ${differences.join("\n  ")}`);
});

Deno.test("http1 hardening: socket fuzz, well-formed answers, no invalid 2xx, hyper agrees", async () => {
  const seed = fuzzSeed("http1 socket fuzz");
  const rng = new Prng(seed);
  const total = fuzzCases(5000);
  const ours = startOurs();
  const hyper = startHyper();
  const classes = new Map<string, number>();
  const lenient = new Map<string, number>();
  const klass = (s: number | null) => (s === null ? "close" : `${Math.floor(s / 100)}xx`);
  try {
    // A few cases at a time: enough concurrency to be quick, little enough for a shared 2-core box.
    const batch = 8;
    for (let i = 0; i < total; i += batch) {
      const cases = Array.from({ length: Math.min(batch, total - i) }, () => generateCase(rng));
      await Promise.all(cases.map(async (c, k) => {
        const where = `case ${i + k} (seed ${seed}, ${c.mutation}): ${show(c.bytes)}`;
        const [o, h] = await Promise.all([
          exchange(ours.port, c.bytes),
          exchange(hyper.addr.port, c.bytes),
        ]);
        assert(!o.timedOut, `our server neither answered nor closed, ${where}`);
        const po = parseResponses(o.bytes);
        assertEquals(po.error, null, `malformed answer ${show(o.bytes)}, ${where}`);
        if (c.invalid !== null) {
          const ok = po.responses.filter((r) => is2xx(r.status));
          assertEquals(ok.length, 0, `invalid (${c.invalid}) got a 2xx, ${where}`);
        }
        const so = firstFinalStatus(po.responses);
        const sh = h.timedOut ? null : firstFinalStatus(parseResponses(h.bytes).responses);
        const key = `${klass(so)}/${klass(sh)}`;
        classes.set(key, (classes.get(key) ?? 0) + 1);
        if (is2xx(so) && !is2xx(sh)) {
          const why = documentedLeniency(c.bytes);
          if (why === null) throw new Error(`ours ${so}, hyper ${sh}: undocumented, ${where}`);
          lenient.set(why, (lenient.get(why) ?? 0) + 1);
        }
      }));
    }
    await assertServesNormally(ours.port);
    assertEquals(ours.logs.filter((l) => l.startsWith("http1: connection error")), []);
  } finally {
    await ours.server.shutdown();
    await hyper.shutdown();
  }
  console.log(`http1 socket fuzz: ${total} cases; status classes ours/hyper:`, classes);
  console.log("documented leniency seen:", lenient);
});

/** Opens a connection that trickles an endless head one byte per `everyMs` until answered. */
async function slowClient(port: number, everyMs: number, maxBytes: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const opened = performance.now();
  const head = bytesOf("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + "z".repeat(maxBytes));
  let answered = false;
  const firstByte = Promise.withResolvers<void>();
  const reading = (async () => {
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(4096);
    while (true) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    answered = true;
    return new Uint8Array(chunks.flatMap((c) => [...c]));
  })();
  const trickling = (async () => {
    // Bounded by the head length; stops as soon as the server has answered.
    for (let i = 0; i < head.length && !answered; i++) {
      const ok = await conn.write(head.subarray(i, i + 1)).then(() => true, () => false);
      if (i === 0) firstByte.resolve();
      if (!ok) break;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  await firstByte.promise;
  return {
    async result() {
      const bytes = await reading;
      await trickling;
      conn.close();
      return { bytes, lifetimeMs: performance.now() - opened };
    },
  };
}

Deno.test("http1 hardening: slowloris, 300 trickling connections, normal requests stay fast", async () => {
  const headTimeoutMs = 2000;
  const slow = 300;
  // Every client here shares 127.0.0.1, so the per-address limit is lifted.
  const { server, port, logs } = startOurs({ headTimeoutMs, maxConnectionsPerClient: 1024 });
  try {
    const clients = await Promise.all(
      Array.from({ length: slow }, () => slowClient(port, 200, 100)),
    );
    // All 300 are connected and have started trickling: measure normal requests now.
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await assertServesNormally(port);
      latencies.push(performance.now() - start);
    }
    const results = await Promise.all(clients.map((c) => c.result()));
    for (const { bytes, lifetimeMs } of results) {
      const { responses, error } = parseResponses(bytes);
      assertEquals(error, null);
      assertEquals(responses.map((r) => r.status), [408]);
      // Closed by the head timeout (measured from accept, so trickling does not extend it).
      assert(lifetimeMs >= headTimeoutMs - 50, `closed after ${lifetimeMs} ms`);
    }
    assertEquals(logs.filter((l) => l.startsWith("408 Request Timeout")).length, slow);
    const lifetimes = results.map((r) => r.lifetimeMs);
    console.log(
      `slowloris: ${slow} connections held; normal request latency ms ` +
        `${latencies.map((l) => l.toFixed(1)).join(", ")}; slow connections closed after ` +
        `${Math.min(...lifetimes).toFixed(0)}–${Math.max(...lifetimes).toFixed(0)} ms`,
    );
    assertLess(Math.max(...latencies), 1000);
  } finally {
    await server.shutdown();
  }
});

Deno.test("http1 hardening: a flood past the cap gets fast 503s, not a hang", async () => {
  const cap = 16;
  const flood = 400;
  const { server, port } = startOurs({ maxConnections: cap, idleTimeoutMs: 60_000 });
  const held: Deno.Conn[] = [];
  try {
    // Fill every slot with a connection busy sending its head (an idle
    // keep-alive one would be closed to make room). Connections are accepted
    // in the order they were established, so these are in before the flood.
    for (let i = 0; i < cap; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      held.push(conn);
      await conn.write(bytesOf("GET /held HTTP/1.1\r\n"));
    }
    // In waves of 100: the listen backlog, not the server, would otherwise add SYN retries.
    const latencies: number[] = [];
    for (let wave = 0; wave < flood / 100; wave++) {
      await Promise.all(Array.from({ length: 100 }, async () => {
        const start = performance.now();
        const { bytes, timedOut } = await exchange(port, NORMAL);
        latencies.push(performance.now() - start);
        assert(!timedOut);
        const { responses, error } = parseResponses(bytes);
        assertEquals(error, null);
        assertEquals(responses.map((r) => r.status), [503]);
        assert(responses[0].headers.some(([n, v]) => n === "connection" && v === "close"));
      }));
    }
    latencies.sort((a, b) => a - b);
    const median = latencies[latencies.length >> 1];
    const max = latencies[latencies.length - 1];
    console.log(
      `flood: ${flood} connections past a cap of ${cap}: all 503; latency median ` +
        `${median.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
    );
    // Generous: a hang would be the linger (1 s) or the head timeout (10 s).
    assertLess(max, 900);
  } finally {
    for (const conn of held) conn.close();
    await server.shutdown();
  }
  // Once the held connections close, everyone is served again.
  const again = startOurs({ maxConnections: cap });
  try {
    await assertServesNormally(again.port);
  } finally {
    await again.server.shutdown();
  }
});

Deno.test("http1 hardening: one address holding 512 connections of each kind locks no one out", async () => {
  // The attacker binds 127.0.0.2 (see tests/support/loopback_attacker.py): to
  // the server it is another client than this test's 127.0.0.1. Default limits.
  const { server, port, logs } = startOurs();
  const attacker = new Deno.Command("python3", {
    args: [new URL("./support/loopback_attacker.py", import.meta.url).pathname, `${port}`, "512"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = attacker.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let attackerOutput = "";
  try {
    while (!attackerOutput.includes("ready\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`the attacker stopped: ${attackerOutput}`);
      attackerOutput += value;
    }
    // The attacker holds its connections and keeps reconnecting: a normal
    // client, on a new connection each time, is served within a second.
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      await assertServesNormally(port);
      latencies.push(performance.now() - start);
    }
    // The attacker's extra connections were refused (each after a second).
    while (!/responses_503=[1-9]/.test(attackerOutput)) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`the attacker stopped: ${attackerOutput}`);
      attackerOutput += value;
    }
    const refused = logs.filter((l) => l.includes("the limit per client address")).length;
    console.log(
      `lockout: normal client latency ms worst ${Math.max(...latencies).toFixed(1)}, ` +
        `median ${latencies.sort((a, b) => a - b)[10].toFixed(1)}; ` +
        `${refused} attacker connections refused with 503 so far`,
    );
    assertLess(Math.max(...latencies), 1000);
  } finally {
    attacker.kill("SIGKILL");
    await attacker.status;
    await lines.cancel();
    await server.shutdown();
  }
});
