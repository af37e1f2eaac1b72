import { assert, assertEquals, assertLess, assertMatch } from "@std/assert";
import { NEW_CONNECTION_GRACE_MS } from "../lib/http1/connection.ts";
import {
  CROWDED_CONNECTIONS,
  type Http1Handler,
  type Http1Limits,
  serveHttp1,
} from "../lib/http1/mod.ts";
import { RawClient } from "./support/raw_http.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

const echo: Http1Handler = (req) => {
  const body = req.body ? decoder.decode(req.body) : "-";
  return {
    status: 200,
    headers: [["content-type", "text/plain"]],
    body: `${req.method} ${req.pathname} ${body}`,
  };
};

/** A server on an ephemeral port whose log lines are collected and awaitable. */
function start(handler: Http1Handler = echo, limits?: Partial<Http1Limits>) {
  const logs: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const server = serveHttp1({
    port: 0,
    limits,
    onListen() {},
    log(line) {
      logs.push(line);
      for (const w of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    },
  }, handler);
  const waitForLog = (pattern: RegExp) =>
    new Promise<string>((resolve) => {
      const seen = logs.find((l) => pattern.test(l));
      if (seen) resolve(seen);
      else waiters.push({ pattern, resolve });
    });
  return { server, port: server.addr.port, logs, waitForLog };
}

/** Runs `test` with one raw client connected to a {@linkcode start}ed server, then closes both. */
async function withClient(
  setup: { handler?: Http1Handler; limits?: Partial<Http1Limits> },
  test: (client: RawClient, started: ReturnType<typeof start>) => Promise<void>,
): Promise<void> {
  const started = start(setup.handler, setup.limits);
  const client = await RawClient.open(started.port);
  try {
    await test(client, started);
  } finally {
    client.close();
    await started.server.shutdown();
  }
}

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;

Deno.test("server: keep-alive serves two requests on one connection", async () => {
  await withClient({}, async (client) => {
    await client.write(GET("/one"));
    const first = await client.read();
    assertEquals([first.status, first.body], [200, "GET /one -"]);
    assertEquals(first.headers["connection"], undefined);
    assertEquals(first.headers["content-type"], "text/plain");
    assertMatch(first.headers["date"], /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    await client.write(GET("/two"));
    assertEquals((await client.read()).body, "GET /two -");
  });
});

Deno.test("server: past CROWDED_CONNECTIONS, every keep-alive connection is still served", async () => {
  // Above the threshold each next read is paced by a shared timer tick; every
  // connection must still get every answer, in order.
  const { server, port } = start();
  const clients = await Promise.all(
    Array.from({ length: CROWDED_CONNECTIONS + 20 }, () => RawClient.open(port)),
  );
  try {
    await Promise.all(clients.map(async (client, i) => {
      for (let n = 1; n <= 3; n++) {
        await client.write(GET(`/c${i}/${n}`));
        assertEquals((await client.read()).body, `GET /c${i}/${n} -`);
      }
    }));
  } finally {
    for (const client of clients) {
      try {
        client.close();
      } catch { /* closed by giveUp */ }
    }
    await server.shutdown();
  }
});

Deno.test("server: three pipelined requests in one write are answered in order", async () => {
  // The first handler call is the slowest: order must still hold.
  const handler: Http1Handler = async (req) => {
    const path = req.pathname;
    if (path === "/1") await new Promise((r) => setTimeout(r, 30));
    return { status: 200, body: path };
  };
  await withClient({ handler }, async (client) => {
    await client.write(GET("/1") + GET("/2") + GET("/3", "Connection: close\r\n"));
    assertEquals((await client.read()).body, "/1");
    assertEquals((await client.read()).body, "/2");
    const last = await client.read();
    assertEquals([last.body, last.headers["connection"]], ["/3", "close"]);
    assert(await client.closedByServer());
  });
});

Deno.test("server: many pipelined responses, written in batches, arrive complete and in order", async () => {
  // 3 KiB bodies: several batches of held responses, and a partial one at the end.
  const { server, port } = start((req) => ({
    status: 200,
    body: req.pathname + " " + "x".repeat(3072),
  }));
  const client = await RawClient.open(port);
  try {
    const paths = Array.from({ length: 40 }, (_, i) => `/${i}`);
    await client.write(paths.map((p) => GET(p)).join("") + GET("/last", "Connection: close\r\n"));
    for (const path of [...paths, "/last"]) {
      assertEquals((await client.read()).body, path + " " + "x".repeat(3072));
    }
    assert(await client.closedByServer());
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("server: a held response is written before waiting for the rest of the next request", async () => {
  await withClient({}, async (client) => {
    // The next request is only half there: the first response must not wait for it.
    await client.write(GET("/1") + "GET /2 HTTP/1.1\r\nHo");
    assertEquals((await client.read()).body, "GET /1 -");
    await client.write("st: localhost\r\n\r\n");
    assertEquals((await client.read()).body, "GET /2 -");
  });
});

Deno.test("server: Content-Length body, chunked body, then GET on one connection", async () => {
  await withClient({}, async (client) => {
    await client.write(
      "POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello world" +
        "PUT /chunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
    );
    assertEquals((await client.read()).body, "POST /form hello world");
    assertEquals((await client.read()).body, "PUT /chunked hello world");
    // The body arriving a byte at a time frames identically.
    const request = "POST /slow HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc";
    for (const byte of request) await client.write(byte);
    assertEquals((await client.read()).body, "POST /slow abc");
    await client.write(GET("/after"));
    assertEquals((await client.read()).body, "GET /after -");
  });
});

Deno.test("server: the handler gets origin, path, joined fields and the client address", async () => {
  let seen: { url: string; cookie: string | null; x: string | null; local: boolean } | null = null;
  const { server, port } = start((req) => {
    seen = {
      url: req.origin + req.path,
      cookie: req.header("cookie"),
      x: req.header("x-multi"),
      local: req.remoteAddr.hostname === "127.0.0.1" && !req.secure,
    };
    return {
      status: 200,
      headers: [["set-cookie", "a=1; Path=/"], ["set-cookie", "b=2; HttpOnly"]],
      body: "ok",
    };
  });
  const client = await RawClient.open(port);
  try {
    await client.write(
      "GET /p/../q?x=1 HTTP/1.1\r\nHost: example.test:8080\r\nCookie: a=1\r\n" +
        "Cookie: b=2\r\nX-Multi: 1\r\nX-Multi: 2\r\n\r\n",
    );
    const response = await client.read();
    assertEquals(response.headers["set-cookie"], "a=1; Path=/\nb=2; HttpOnly");
    assertEquals(seen, {
      url: "http://example.test:8080/p/../q?x=1", // the target as sent: no URL normalization
      cookie: "a=1; b=2",
      x: "1, 2",
      local: true,
    });
    await client.write("GET / HTTP/1.0\r\n\r\n");
    await client.read();
    assertEquals(seen!.url, `http://127.0.0.1:${port}/`); // no Host on 1.0: the listener's
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("server: HTTP/1.0 closes by default and stays open with keep-alive", async () => {
  const { server, port } = start();
  const plain = await RawClient.open(port);
  const kept = await RawClient.open(port);
  try {
    await plain.write("GET /a HTTP/1.0\r\n\r\n");
    const response = await plain.read();
    assertEquals([response.status, response.headers["connection"]], [200, "close"]);
    assertEquals(response.head.split("\r\n")[0], "HTTP/1.1 200 OK");
    assert(await plain.closedByServer());

    await kept.write("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assertEquals((await kept.read()).headers["connection"], "keep-alive");
    await kept.write("GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assertEquals((await kept.read()).body, "GET /c -");
  } finally {
    plain.close();
    kept.close();
    await server.shutdown();
  }
});

Deno.test("server: HEAD sends GET's Content-Length and no body", async () => {
  await withClient({ handler: () => ({ status: 200, body: "twelve bytes" }) }, async (client) => {
    await client.write("HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const head = await client.read({ head: true });
    assertEquals([head.status, head.headers["content-length"]], [200, "12"]);
    // If a body had been sent, it would be read here as a bogus status line.
    await client.write(GET("/"));
    assertEquals((await client.read()).body, "twelve bytes");
  });
});

const WIRE_ERRORS: [name: string, raw: string, status: number, log: RegExp][] = [
  ["bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400, /^400 Bad Request: bare LF/],
  [
    "CL + TE",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
    400,
    /^400 Bad Request: Content-Length and Transfer-Encoding both present \(RFC 9112 §6\.3\)/,
  ],
  ["missing Host", "GET / HTTP/1.1\r\n\r\n", 400, /without Host/],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400, /obs-fold/],
  [
    "bad chunk",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    400,
    /chunk-size/,
  ],
  ...["a \r\n", "a\t\r\n", "2;\r\n", "2;x=\r\n", '2;x="ab\r\n'].map((
    sizeLine,
  ): [string, string, number, RegExp] => [
    `chunk-size line ${JSON.stringify(sizeLine)}`,
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${sizeLine}0123456789\r\n`,
    400,
    /^400 Bad Request: .*\(RFC 9112 §7\.1\.1\)/,
  ]),
  ["backslash in path", "GET /a\\b?c HTTP/1.1\r\nHost: a\r\n\r\n", 400, /request-target/],
  ["body too large", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n", 413, /^413 /],
  [
    "chunked too large",
    "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n",
    413,
    /^413 /,
  ],
  [
    "long request line",
    `GET /${"a".repeat(300)} HTTP/1.1\r\nHost: a\r\n\r\n`,
    414,
    /^414 URI Too Long/,
  ],
  ["large header", `GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(600)}\r\n\r\n`, 431, /^431 /],
  ["many headers", `GET / HTTP/1.1\r\nHost: a\r\n${"X: 1\r\n".repeat(20)}\r\n`, 431, /^431 /],
  [
    "unknown method",
    "BREW / HTTP/1.1\r\nHost: a\r\n\r\n",
    501,
    /^501 Not Implemented: method "BREW"/,
  ],
  [
    "gzip coding",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    501,
    /^501 /,
  ],
  ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, /^505 HTTP Version Not Supported/],
];

Deno.test("server: each error status on the wire, then the connection is closed", async () => {
  const limits = {
    maxBodyBytes: 1024,
    maxRequestLineBytes: 256,
    maxHeaderBytes: 512,
    maxHeaderCount: 10,
  };
  const { server, port, logs } = start(echo, limits);
  try {
    for (const [name, raw, status, log] of WIRE_ERRORS) {
      const client = await RawClient.open(port);
      try {
        await client.write(raw);
        const text = await client.readToEnd(); // EOF: the server closed
        const [head, body] = text.split("\r\n\r\n");
        const reason = { 400: "Bad Request", 413: "Content Too Large", 414: "URI Too Long" }[
          status as 400
        ];
        assertMatch(head, new RegExp(`^HTTP/1\\.1 ${status} ${reason ?? ""}`), name);
        assertMatch(head, /\r\nconnection: close(\r\n|$)/, name);
        assertMatch(head, new RegExp(`\\r\\ncontent-length: ${encoder.encode(body).length}`), name);
        assertMatch(body, new RegExp(`^${status} `), name);
        assert(logs.some((line) => log.test(line)), `${name}: ${logs.at(-1)}`);
      } finally {
        client.close();
      }
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("server: a backslash in the query reaches the handler as sent", async () => {
  // The WHATWG URL parser leaves "\\" raw in a query (it is "/" only in the
  // path), so a browser follows such a link as written.
  await withClient({ handler: (req) => ({ status: 200, body: req.path }) }, async (client) => {
    await client.write("GET /search?q=a\\b HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await client.read();
    assertEquals([response.status, response.body], [200, "/search?q=a\\b"]);
  });
});

Deno.test("server: Expect: 100-continue gets 100 before the body, or 413 without it", async () => {
  const { server, port } = start(echo, { maxBodyBytes: 1024 });
  const client = await RawClient.open(port);
  const refused = await RawClient.open(port);
  try {
    await client.write(
      "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    );
    const interim = await client.read();
    assertEquals(interim.head, "HTTP/1.1 100 Continue");
    await client.write("hello");
    assertEquals((await client.read()).body, "POST /up hello");

    await refused.write(
      "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n",
    );
    const text = await refused.readToEnd();
    assertMatch(text, /^HTTP\/1\.1 413 Content Too Large\r\n/);
  } finally {
    client.close();
    refused.close();
    await server.shutdown();
  }
});

Deno.test("server: a slow head gets 408 and close (slowloris)", async () => {
  await withClient(
    { handler: echo, limits: { headTimeoutMs: 200 } },
    async (client, { waitForLog }) => {
      await client.write("GET / HTTP/1.1\r\nHost: a\r\n"); // never finishes the head
      const text = await client.readToEnd();
      assertMatch(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assertMatch(text, /\r\nconnection: close\r\n/);
      assertMatch(await waitForLog(/^408 /), /request head not complete within 200 ms/);
    },
  );
});

Deno.test("server: a slow body gets 408; an idle keep-alive connection closes silently", async () => {
  const { server, port } = start(echo, { bodyTimeoutMs: 200, idleTimeoutMs: 200 });
  const slow = await RawClient.open(port);
  const idle = await RawClient.open(port);
  try {
    await slow.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    assertMatch(await slow.readToEnd(), /^HTTP\/1\.1 408 /);
    await idle.write(GET("/"));
    assertEquals((await idle.read()).status, 200);
    assert(await idle.closedByServer()); // nothing sent, just closed
  } finally {
    slow.close();
    idle.close();
    await server.shutdown();
  }
});

Deno.test("server: past the connection cap, a fast 503 with Connection: close", async () => {
  const { server, port, waitForLog } = start(echo, { maxConnections: 2 });
  const a = await RawClient.open(port);
  const b = await RawClient.open(port);
  const c = await RawClient.open(port);
  try {
    // a and b were accepted first (in the order they connected) and are busy
    // sending a head (an idle keep-alive connection would make room)...
    await a.write("GET /a HTTP/1.1\r\n");
    await b.write("GET /b HTTP/1.1\r\n");
    // ...so c is over the cap.
    const text = await c.readToEnd();
    assertMatch(text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assertMatch(text, /\r\nconnection: close\r\n/);
    await waitForLog(/^503 Service Unavailable: connection limit of 2 reached, none idle/);
    // Freeing a slot lets a new client in.
    a.close();
    await waitForConnectionsBelowCap(port);
  } finally {
    a.close();
    b.close();
    c.close();
    await server.shutdown();
  }
});

Deno.test("server: at the cap, the connection idle longest in keep-alive makes room", async () => {
  const { server, port, waitForLog } = start(echo, { maxConnections: 2 });
  const a = await RawClient.open(port);
  const b = await RawClient.open(port);
  let c: RawClient | undefined;
  try {
    await a.write(GET("/a"));
    assertEquals((await a.read()).status, 200);
    await b.write(GET("/b"));
    assertEquals((await b.read()).status, 200);
    // Both are idle keep-alive connections now, a the longer: c takes its slot.
    c = await RawClient.open(port);
    await c.write(GET("/c"));
    assertEquals((await c.read()).body, "GET /c -");
    assert(await a.closedByServer(), "the idlest connection was closed");
    await waitForLog(/^http1: closed an idle keep-alive connection .* connection limit of 2/);
    await b.write(GET("/b2"));
    assertEquals((await b.read()).body, "GET /b2 -");
  } finally {
    a.close();
    b.close();
    c?.close();
    await server.shutdown();
  }
});

Deno.test("server: past the per-client limit, 503 for that address", async () => {
  const { server, port, waitForLog } = start(echo, { maxConnectionsPerClient: 2 });
  const a = await RawClient.open(port);
  const b = await RawClient.open(port);
  const c = await RawClient.open(port);
  try {
    const text = await c.readToEnd();
    assertMatch(text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assertMatch(text, /client 127\.0\.0\.1 already holds 2 connections/);
    await waitForLog(/^503 Service Unavailable: client 127\.0\.0\.1 already holds 2 connections/);
    // The first two are served, and a closed one frees its address's slot.
    await a.write(GET("/a"));
    assertEquals((await a.read()).status, 200);
    b.close();
    await waitForConnectionsBelowCap(port);
  } finally {
    a.close();
    b.close();
    c.close();
    await server.shutdown();
  }
});

/** Retries until a new connection is served (a closed slot is freed asynchronously). */
async function waitForConnectionsBelowCap(port: number): Promise<void> {
  while (true) {
    const d = await RawClient.open(port);
    try {
      await d.write(GET("/d", "Connection: close\r\n"));
      const r = await d.read().catch(() => null);
      if (r?.status === 200) return;
    } finally {
      d.close();
    }
  }
}

Deno.test("server: a throwing handler gives 500 and a log line; the connection survives", async () => {
  const { server, port, logs } = start((req) => {
    if (req.pathname === "/boom") throw new Error("kaboom");
    return { status: 200, body: "fine" };
  });
  const client = await RawClient.open(port);
  try {
    await client.write(GET("/boom"));
    const response = await client.read();
    assertEquals(response.status, 500);
    assertEquals(response.body, "500 Internal Server Error\n"); // no internals leaked
    assert(logs.some((l) => /^500 Internal Server Error: handler threw: Error: kaboom/.test(l)));
    await client.write(GET("/ok"));
    assertEquals((await client.read()).body, "fine");
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("server: graceful shutdown finishes the in-flight response and closes idle ones", async () => {
  const started = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const { server, port } = start(async (req) => {
    if (req.pathname !== "/slow") return { status: 200, body: "quick" };
    started.resolve();
    await release.promise;
    return { status: 200, body: "finished" };
  });
  const busy = await RawClient.open(port);
  const idle = await RawClient.open(port);
  try {
    // `idle` is a keep-alive connection between requests: it has served one.
    await idle.write(GET("/first"));
    assertEquals((await idle.read()).body, "quick");
    await busy.write(GET("/slow"));
    await started.promise;
    const stopped = server.shutdown();
    assert(await idle.closedByServer());
    release.resolve();
    const response = await busy.read();
    assertEquals([response.body, response.headers["connection"]], ["finished", "close"]);
    assert(await busy.closedByServer());
    await stopped;
    await server.finished;
    // The listener is closed.
    const refused = await Deno.connect({ hostname: "127.0.0.1", port }).then(
      (conn) => (conn.close(), false),
      () => true,
    );
    assert(refused);
  } finally {
    busy.close();
    idle.close();
    await server.shutdown();
  }
});

Deno.test("server: shutdown gives a new connection a grace period for its first request", async () => {
  const { server, port } = start();
  const fresh = await RawClient.open(port);
  const silent = await RawClient.open(port);
  try {
    // Both are accepted (a served request on a third connection proves the
    // accept loop has run past them) but have sent nothing yet.
    await waitForConnectionsBelowCap(port);
    const stopped = server.shutdown();
    // The request arrives after shutdown began: it is served, then closed.
    await fresh.write(GET("/late"));
    const response = await fresh.read();
    assertEquals([response.body, response.headers["connection"]], ["GET /late -", "close"]);
    assert(await fresh.closedByServer());
    // A connection that stays silent is closed when the grace period ends.
    const waited = performance.now();
    assert(await silent.closedByServer());
    assertLess(performance.now() - waited, NEW_CONNECTION_GRACE_MS + 500);
    await stopped;
  } finally {
    fresh.close();
    silent.close();
    await server.shutdown();
  }
});

Deno.test("server: an AbortSignal shuts the server down", async () => {
  const controller = new AbortController();
  const server = serveHttp1({ port: 0, onListen() {}, signal: controller.signal }, echo);
  controller.abort();
  await server.finished;
});

Deno.test("server: garbage from one client does not affect another", async () => {
  const { server, port } = start();
  const good = await RawClient.open(port);
  const bad = await RawClient.open(port);
  try {
    await good.write(GET("/before"));
    assertEquals((await good.read()).status, 200);
    const garbage = new Uint8Array(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0xff;
    await bad.write(garbage);
    assertMatch(await bad.readToEnd(), /^HTTP\/1\.1 400 Bad Request\r\n/);
    await good.write(GET("/after"));
    assertEquals((await good.read()).body, "GET /after -");
    const fresh = await RawClient.open(port);
    try {
      await fresh.write(GET("/fresh"));
      assertEquals((await fresh.read()).status, 200);
    } finally {
      fresh.close();
    }
  } finally {
    good.close();
    bad.close();
    await server.shutdown();
  }
});

Deno.test("server: a client that never reads is cut off by the write timeout", async () => {
  const big = new Uint8Array(16 * 1024 * 1024);
  const { server, port, waitForLog } = start(() => ({ status: 200, body: big }), {
    writeTimeoutMs: 200,
  });
  const client = await RawClient.open(port);
  try {
    await client.write(GET("/big"));
    await waitForLog(/write timed out after 200 ms/); // we never read a byte
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("server: OPTIONS * is answered by the server", async () => {
  const { server, port } = start(() => {
    throw new Error("handler must not be called");
  });
  const client = await RawClient.open(port);
  try {
    await client.write("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await client.read();
    assertEquals([response.status, response.headers["content-length"]], [200, "0"]);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("server: TLS with cert and key; the request URL is https", async () => {
  const cert = await Deno.readTextFile(new URL("./fixtures/http1/cert.pem", import.meta.url));
  const key = await Deno.readTextFile(new URL("./fixtures/http1/key.pem", import.meta.url));
  const server = serveHttp1(
    { port: 0, cert, key, onListen() {} },
    (req) => ({ status: 200, body: `${req.origin}${req.path} secure=${req.secure}` }),
  );
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port: server.addr.port,
    caCerts: [cert],
  });
  const client = new RawClient(conn);
  try {
    await client.write(GET("/tls"));
    assertEquals((await client.read()).body, `https://localhost/tls secure=true`);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("server: TLS handshakes that never start are cut off and their descriptors released", async () => {
  // On Deno 2.9, close() on a Deno.listenTls connection whose handshake has
  // not completed keeps its socket open until the client closes.
  const cert = await Deno.readTextFile(new URL("./fixtures/http1/cert.pem", import.meta.url));
  const key = await Deno.readTextFile(new URL("./fixtures/http1/key.pem", import.meta.url));
  const headTimeoutMs = 300;
  const { server, port, logs } = (() => {
    const logs: string[] = [];
    const server = serveHttp1({
      port: 0,
      cert,
      key,
      limits: { headTimeoutMs },
      onListen() {},
      log: (line) => logs.push(line),
    }, echo);
    return { server, port: server.addr.port, logs };
  })();
  // Listed by ls: Deno grants /proc/self only with --allow-all.
  const openDescriptors = async () => {
    const { stdout } = await new Deno.Command("ls", { args: [`/proc/${Deno.pid}/fd`] }).output();
    return decoder.decode(stdout).trim().split("\n").length;
  };
  const silent = 50;
  const before = await openDescriptors();
  const clients = await Promise.all(
    Array.from({ length: silent }, () => Deno.connect({ hostname: "127.0.0.1", port })),
  );
  try {
    // Each silent client is closed by the server once the head deadline passes
    // (if the server never closes them, they are closed here, and fail).
    const started = performance.now();
    const giveUp = setTimeout(() => clients.forEach((c) => c.close()), headTimeoutMs + 2000);
    const reads = await Promise.allSettled(clients.map((c) => c.read(new Uint8Array(16))));
    clearTimeout(giveUp);
    const closedAfterMs = performance.now() - started;
    assertEquals(reads.filter((r) => r.status === "fulfilled" && r.value === null).length, silent);
    assertLess(closedAfterMs, headTimeoutMs + 1000);
    // Only the clients' own descriptors remain: the server released all of its.
    let leaked = await openDescriptors() - before - silent;
    for (let tries = 0; leaked > 0 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10)); // release is asynchronous
      leaked = await openDescriptors() - before - silent;
    }
    console.log(
      `TLS: ${silent} silent connections closed after ${closedAfterMs.toFixed(0)} ms; ` +
        `server descriptors still open: ${Math.max(0, leaked)}`,
    );
    assert(leaked <= 0, `${leaked} descriptors still open`);
    assert(
      logs.some((line) => /^http1: TLS handshake not complete within 300 ms/.test(line)),
      logs.join("\n"),
    );
    // And the server still speaks TLS.
    const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [cert] });
    const client = new RawClient(conn);
    await client.write(GET("/after"));
    assertEquals((await client.read()).status, 200);
    client.close();
  } finally {
    for (const client of clients) {
      try {
        client.close();
      } catch { /* closed by giveUp */ }
    }
    await server.shutdown();
  }
});
