/**
 * The cookie server end to end: the session app behind the hand-written
 * HTTP/1.1 server, over real sockets, and the program itself as a subprocess.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { serveCookies } from "../cookie_server.ts";
import { KvSessionStore } from "../lib/sessions/kv_store.ts";
import { MemorySessionStore } from "../lib/sessions/memory_store.ts";
import type { SessionStore } from "../lib/sessions/session.ts";
import { exchange } from "./support/raw_http.ts";
import { ServerProcess } from "./support/server_process.ts";

const SERVER_MODULE = new URL("../cookie_server.ts", import.meta.url).pathname;

interface Running {
  port: number;
  logs: string[];
  stop: () => Promise<void>;
}

/** Starts the server in this process on a free port; `stop` also closes the store. */
function start(store: SessionStore = new MemorySessionStore()): Promise<Running> {
  const logs: string[] = [];
  return new Promise((resolve) => {
    const server = serveCookies({
      port: 0,
      store,
      log: (line) => logs.push(line),
      onListen: ({ port }) =>
        resolve({
          port,
          logs,
          stop: async () => {
            await server.shutdown();
            store.close();
          },
        }),
    });
  });
}

/** Sends `request` on a fresh connection; everything the server sent until it closed, as text. */
async function rawReply(port: number, request: string): Promise<string> {
  const { bytes } = await exchange(port, new TextEncoder().encode(request));
  return new TextDecoder().decode(bytes);
}

function sessionIdOf(rawOrHeader: string): string {
  const match = rawOrHeader.match(/session_id=([A-Za-z0-9_-]{64})/);
  if (!match) throw new Error(`no session_id in: ${rawOrHeader.slice(0, 300)}`);
  return match[1];
}

Deno.test("over the hand-written server: new visitor → welcome back → logout → new visitor", async () => {
  const server = await start();
  try {
    const url = `http://127.0.0.1:${server.port}/`;
    const first = await fetch(url);
    assertEquals(first.status, 200);
    assertStringIncludes(await first.text(), "Welcome, new visitor!");
    const setCookie = first.headers.get("set-cookie")!;
    assertMatch(setCookie, /; HttpOnly; Max-Age=\d+; SameSite=Lax; Path=\//);
    const cookie = `session_id=${sessionIdOf(setCookie)}`;

    const back = await fetch(url, { headers: { cookie } });
    const backBody = await back.text();
    assertStringIncludes(backBody, "Welcome back, User1!");
    assertStringIncludes(backBody, "visit number <strong>2</strong>");

    const logout = await fetch(`${url}logout`, {
      method: "POST",
      headers: { cookie },
      redirect: "manual",
    });
    await logout.body?.cancel();
    assertEquals(logout.status, 303);
    assertEquals(logout.headers.get("location"), "/?logged-out");
    assertMatch(logout.headers.get("set-cookie")!, /^session_id=; HttpOnly; Max-Age=0/);

    const after = await fetch(url, { headers: { cookie } });
    assertStringIncludes(await after.text(), "Welcome, new visitor!");
  } finally {
    await server.stop();
  }
});

Deno.test("several Cookie header lines are combined as RFC 6265 asks", async () => {
  const server = await start();
  try {
    const id = sessionIdOf(
      await rawReply(server.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
    );
    const reply = await rawReply(
      server.port,
      "GET / HTTP/1.1\r\nHost: a\r\nCookie: theme=dark\r\n" +
        `Cookie: session_id=${id}\r\nCookie: lang=en\r\nConnection: close\r\n\r\n`,
    );
    assertStringIncludes(reply, "Welcome back, User1!");
  } finally {
    await server.stop();
  }
});

Deno.test("garbage gets a 400 and a closed connection while other clients are served", async () => {
  const server = await start();
  try {
    // A well-behaved client holds a keep-alive connection open across the attack.
    const client = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    try {
      const garbage = await rawReply(server.port, "garbage\r\n\r\n");
      assertMatch(garbage, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assertStringIncludes(garbage.toLowerCase(), "connection: close\r\n");

      await client.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
      const buffer = new Uint8Array(64);
      const n = await client.read(buffer);
      assertMatch(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), /^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      client.close();
    }
    assert(server.logs.some((line) => line.includes("400")), server.logs.join("\n"));
  } finally {
    await server.stop();
  }
});

Deno.test("logout CSRF: judged by Host and the listener's scheme, then Sec-Fetch-Site, then Referer", async () => {
  const server = await start();
  try {
    const own = `http://127.0.0.1:${server.port}`;
    const host = `127.0.0.1:${server.port}`;
    const cases: [string, string, number][] = [
      // The absolute-form target names the forger's origin; Host is the real one.
      [`POST http://evil.example/logout`, `Host: ${host}\r\nOrigin: http://evil.example`, 403],
      [`POST http://evil.example/logout`, `Host: ${host}\r\nOrigin: ${own}`, 303],
      ["POST /logout", `Host: ${host}\r\nOrigin: http://evil.example`, 403],
      ["POST /logout", `Host: ${host}\r\nOrigin: null`, 403],
      ["POST /logout", `Host: ${host}\r\nOrigin: https://127.0.0.1:${server.port}`, 403],
      ["POST /logout", `Host: ${host}\r\nOrigin: ${own}`, 303],
      ["POST /logout", `Host: ${host}\r\nSec-Fetch-Site: cross-site`, 403],
      ["POST /logout", `Host: ${host}\r\nSec-Fetch-Site: same-site`, 403],
      ["POST /logout", `Host: ${host}\r\nSec-Fetch-Site: same-origin`, 303],
      ["POST /logout", `Host: ${host}\r\nReferer: http://evil.example/form`, 403],
      ["POST /logout", `Host: ${host}\r\nReferer: ${own}/`, 303],
      ["POST /logout", `Host: ${host}`, 303], // curl: no browser fields
    ];
    for (const [requestLine, fields, status] of cases) {
      const reply = await rawReply(
        server.port,
        `${requestLine} HTTP/1.1\r\n${fields}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      assertMatch(reply, new RegExp(`^HTTP/1\\.1 ${status} `), `${requestLine} with ${fields}`);
    }
    const refusals = server.logs.filter((line) => line.startsWith("POST /logout 403"));
    assertEquals(refusals.length, 7, refusals.join("\n"));
    assertStringIncludes(refusals[0], `Origin http://evil.example is not ${own}`);
  } finally {
    await server.stop();
  }
});

Deno.test("with the KV store, a session survives a restart", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sessions.kv`;
  try {
    const before = await start(new KvSessionStore(await Deno.openKv(path)));
    const first = await fetch(`http://127.0.0.1:${before.port}/`);
    await first.body?.cancel();
    const cookie = `session_id=${sessionIdOf(first.headers.get("set-cookie")!)}`;
    await before.stop();

    const after = await start(new KvSessionStore(await Deno.openKv(path)));
    try {
      const again = await fetch(`http://127.0.0.1:${after.port}/`, { headers: { cookie } });
      const body = await again.text();
      assertStringIncludes(body, "Welcome back, User1!");
      assertStringIncludes(body, "visit number <strong>2</strong>");
    } finally {
      await after.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-write"];

/** Starts `deno run cookie_server.ts` as a user would, and waits for its port. */
async function spawnServer(args: string[], denoFlags = ["--unstable-kv"]) {
  const server = new ServerProcess([...denoFlags, ...PERMISSIONS, SERVER_MODULE, ...args]);
  const port = await server.port();
  return { server, port, banner: server.output.join("\n") };
}

Deno.test("two server processes on one KV store share sessions", async () => {
  const dir = await Deno.makeTempDir();
  const storeArgs = ["--port", "0", "--store", `${dir}/sessions.kv`];
  try {
    const one = await spawnServer(storeArgs);
    const two = await spawnServer(storeArgs);
    try {
      assertStringIncludes(one.banner, `sessions: Deno KV at ${dir}/sessions.kv`);
      const first = await fetch(`http://127.0.0.1:${one.port}/`);
      await first.body?.cancel();
      const cookie = `session_id=${sessionIdOf(first.headers.get("set-cookie")!)}`;
      const other = await fetch(`http://127.0.0.1:${two.port}/`, { headers: { cookie } });
      assertStringIncludes(await other.text(), "Welcome back, User1!");
    } finally {
      // SIGTERM, as a service manager sends it: a graceful stop, exit code 0.
      one.server.kill("SIGTERM");
      two.server.kill("SIGTERM");
      const [a, b] = await Promise.all([one.server.finish(), two.server.finish()]);
      assertEquals([a.code, b.code], [0, 0], a.stderr + b.stderr);
      assert(one.server.output.includes("Stopped."), one.server.output.join("\n"));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without --unstable-kv the program falls back to memory and says so", async () => {
  const { server, banner } = await spawnServer(["--port", "0"], []);
  server.kill("SIGTERM");
  const { code, stderr } = await server.finish();
  assertEquals(code, 0, stderr);
  assertStringIncludes(stderr, "Deno KV is not enabled");
  assertStringIncludes(banner, "sessions: memory");
});

Deno.test("bad command lines exit with code 2 and say why", async () => {
  const cases: [string[], string][] = [
    [["--bogus"], "unknown flag: --bogus"],
    [["--port", "99999"], '--port "99999": not a port number'],
    [["--cert", "x.pem"], "--cert and --key go together"],
    [["stray"], "unexpected argument: stray"],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", SERVER_MODULE, ...args],
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(code, 2, args.join(" "));
    assertStringIncludes(new TextDecoder().decode(stderr), message);
  }
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["run", SERVER_MODULE, "--help"],
    stdout: "piped",
  }).output();
  assertEquals(help.code, 0);
  // As complete as the caching server's: how to run it, with which permissions, where sessions go.
  const usage = new TextDecoder().decode(help.stdout);
  for (
    const part of [
      "Usage: deno task cookie",
      "deno run --allow-net cookie_server.ts",
      "--store .data/sessions.kv",
      "Permissions: --allow-net",
      "openssl req -x509",
    ]
  ) assertStringIncludes(usage, part);
});

Deno.test("with --cert/--key it serves HTTPS and the cookie is Secure", async () => {
  const fixtures = new URL("./fixtures/http1/", import.meta.url).pathname;
  const { server, port, banner } = await spawnServer(
    [
      "--port",
      "0",
      "--store",
      "memory",
      "--cert",
      `${fixtures}cert.pem`,
      "--key",
      `${fixtures}key.pem`,
    ],
  );
  const client = Deno.createHttpClient({
    caCerts: [await Deno.readTextFile(`${fixtures}cert.pem`)],
  });
  try {
    assertStringIncludes(banner, "listening on https://");
    const response = await fetch(`https://localhost:${port}/`, { client });
    assertStringIncludes(await response.text(), "Welcome, new visitor!");
    assertMatch(response.headers.get("set-cookie")!, /; Secure; HttpOnly; .*SameSite=Lax/);
  } finally {
    client.close();
    server.kill("SIGTERM");
    await server.finish();
  }
});
