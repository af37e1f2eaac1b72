/**
 * The caching server over TLS: HTTP/2 (negotiated with ALPN) and HTTP/1.1,
 * with the same validators, 304s, ranges and 412s as over plain HTTP. Fetches
 * go through a `Deno.createHttpClient` that trusts the test certificate in
 * `tests/fixtures/http1/`; a client limited to HTTP/2 fails outright against
 * a server that does not offer it, so its answers prove HTTP/2 carried them.
 * curl (when installed) checks the same from outside Deno, and the program's
 * `--cert`/`--key` flags are tested as a user runs them.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { serveCaching } from "../caching_server.ts";
import { ServerProcess } from "./support/server_process.ts";

const FIXTURES = new URL("./fixtures/http1/", import.meta.url);
const CERT_FILE = new URL("cert.pem", FIXTURES).pathname;
const KEY_FILE = new URL("key.pem", FIXTURES).pathname;
const TLS = { cert: await Deno.readTextFile(CERT_FILE), key: await Deno.readTextFile(KEY_FILE) };
const PAGE = "<!doctype html><title>h2</title><p>" + "0123456789".repeat(50) + "</p>\n";

/** Which protocols the test client may speak; the server offers both. */
type ClientProtocols = { http1: boolean; http2: boolean };

/**
 * Serves a root holding `index.html` over TLS on port 0, runs `test` with a
 * client that trusts the test certificate and speaks only `protocols`, then
 * closes the client, shuts the server down and removes the root.
 */
async function withTlsServer(
  protocols: ClientProtocols,
  test: (server: TlsTestServer) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "caching_https_test_" });
  await Deno.writeTextFile(join(root, "index.html"), PAGE);
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = serveCaching({
    root,
    port: 0,
    tls: TLS,
    log: () => {},
    onListen: listening.resolve,
  });
  const client = Deno.createHttpClient({ caCerts: [TLS.cert], ...protocols });
  try {
    const { port } = await listening.promise;
    const get = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`https://localhost:${port}${path}`, { ...init, client });
      return { status: response.status, headers: response.headers, body: await response.text() };
    };
    await test({ port, get });
  } finally {
    client.close();
    await server.shutdown();
    await Deno.remove(root, { recursive: true });
  }
}

interface TlsTestServer {
  port: number;
  /** Fetches `https://localhost:PORT` + `path` with the test client and reads the whole body. */
  get(
    path: string,
    init?: RequestInit,
  ): Promise<{ status: number; headers: Headers; body: string }>;
}

const H2_ONLY = { http1: false, http2: true };

Deno.test("HTTP/2: 200 with a strong ETag and Last-Modified, then 304 for If-None-Match", async () => {
  await withTlsServer(H2_ONLY, async ({ get }) => {
    const full = await get("/");
    assertEquals(full.status, 200);
    assertEquals(full.body, PAGE);
    const etag = full.headers.get("etag")!;
    assertMatch(etag, /^"[0-9a-f]{64}"$/);
    assert(full.headers.has("last-modified"));
    assertEquals(full.headers.get("content-length"), String(PAGE.length));

    const revalidated = await get("/", { headers: { "if-none-match": etag } });
    assertEquals(revalidated.status, 304);
    assertEquals(revalidated.body, "");
    assertEquals(revalidated.headers.get("etag"), etag);
    assertEquals(revalidated.headers.get("last-modified"), full.headers.get("last-modified"));
  });
});

Deno.test("HTTP/2: Range gives 206 with Content-Range; If-Range with the old ETag gives 200", async () => {
  await withTlsServer(H2_ONLY, async ({ get }) => {
    const etag = (await get("/")).headers.get("etag")!;
    const partial = await get("/", { headers: { range: "bytes=10-19" } });
    assertEquals(partial.status, 206);
    assertEquals(partial.body, PAGE.slice(10, 20));
    assertEquals(partial.headers.get("content-range"), `bytes 10-19/${PAGE.length}`);
    assertEquals(partial.headers.get("etag"), etag);

    const stale = await get("/", { headers: { range: "bytes=10-19", "if-range": '"old"' } });
    assertEquals([stale.status, stale.body], [200, PAGE]);
  });
});

Deno.test("HTTP/2: If-Match with another ETag gives 412", async () => {
  await withTlsServer(H2_ONLY, async ({ get }) => {
    const etag = (await get("/")).headers.get("etag")!;
    assertEquals((await get("/", { headers: { "if-match": etag } })).status, 200);
    assertEquals((await get("/", { headers: { "if-match": '"old"' } })).status, 412);
  });
});

Deno.test("HTTPS still answers clients that offer only HTTP/1.1", async () => {
  await withTlsServer({ http1: true, http2: false }, async ({ get }) => {
    const full = await get("/");
    assertEquals([full.status, full.body], [200, PAGE]);
    const etag = full.headers.get("etag")!;
    assertEquals((await get("/", { headers: { "if-none-match": etag } })).status, 304);
  });
});

const CURL = findExecutable("curl");

Deno.test({
  name: "curl --http2: 200, 404, 304, 206, 412, and HEAD with no DATA; --http1.1 still works",
  ignore: CURL === undefined,
  async fn() {
    await withTlsServer(H2_ONLY, async ({ port, get }) => {
      const etag = (await get("/")).headers.get("etag")!;
      /** `curl -k` for `path` and what it saw: "<HTTP version> <status>". */
      const curl = (path: string, ...args: string[]) =>
        output(CURL!, [
          ...["-sS", "-k", "-o", "/dev/null", "-w", "%{http_version} %{http_code}"],
          ...args,
          `https://127.0.0.1:${port}${path}`,
        ]);
      assertEquals(await curl("/", "--http2"), "2 200");
      assertEquals(await curl("/missing", "--http2"), "2 404");
      assertEquals(await curl("/", "--http2", "-H", `If-None-Match: ${etag}`), "2 304");
      assertEquals(await curl("/", "--http2", "-r", "0-9"), "2 206");
      assertEquals(await curl("/", "--http2", "-H", 'If-Match: "old"'), "2 412");
      // A HEAD response with DATA frames is malformed: curl fails with PROTOCOL_ERROR.
      assertEquals(await curl("/", "--http2", "--head"), "2 200");
      assertEquals(await curl("/missing", "--http2", "--head"), "2 404");
      assertEquals(await curl("/", "--http2", "--head", "-H", 'If-Match: "old"'), "2 412");
      // And the HEAD carries the GET's fields, Content-Length included (RFC 9110 §9.3.2).
      const head = await get("/", { method: "HEAD" });
      assertEquals(head.headers.get("content-length"), String(PAGE.length));
      assertEquals(head.headers.get("etag"), etag);
      assertEquals(await curl("/", "--http1.1"), "1.1 200");
    });
  },
});

const SERVER = new URL("../caching_server.ts", import.meta.url);
const PERMISSIONS = ["--allow-net", "--allow-read"];

Deno.test("the program with --cert and --key announces https:// and serves HTTP/2", async () => {
  const root = await Deno.makeTempDir({ prefix: "caching_https_cli_test_" });
  await Deno.writeTextFile(join(root, "index.html"), PAGE);
  // In a hidden folder under the root the key is never served, so it is accepted there.
  const keyFile = join(root, ".tls", "key.pem");
  await Deno.mkdir(join(root, ".tls"));
  await Deno.copyFile(KEY_FILE, keyFile);
  const server = new ServerProcess([
    ...PERMISSIONS,
    SERVER.href,
    ...["--port", "0", "--root", root, "--cert", CERT_FILE, "--key", keyFile],
  ]);
  const client = Deno.createHttpClient({ caCerts: [TLS.cert], ...H2_ONLY });
  try {
    const [banner] = await server.waitForLine(/^Serving .* at https:\/\/127\.0\.0\.1:\d+\//);
    const port = /:(\d+)\//.exec(banner)![1];
    const response = await fetch(`https://localhost:${port}/`, { client });
    assertEquals([response.status, await response.text()], [200, PAGE]);
  } finally {
    client.close();
    server.kill("SIGTERM");
    await server.finish();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("--cert and --key: missing partner, unreadable file, bad PEM or a served key exit 2", async () => {
  const root = await Deno.makeTempDir({ prefix: "caching_https_cli_test_" });
  const otherKeyFile = join(root, ".other-key.pem");
  await Deno.writeTextFile(otherKeyFile, await newPrivateKeyPem());
  await Deno.mkdir(join(root, "keys"));
  const servedKeyFile = join(root, "keys", "key.pem");
  await Deno.copyFile(KEY_FILE, servedKeyFile);
  const cases: [string[], string][] = [
    [["--cert", CERT_FILE], "--cert and --key go together"],
    [["--key", KEY_FILE], "--cert and --key go together"],
    [["--cert", "/does/not/exist.pem", "--key", KEY_FILE], "--cert /does/not/exist.pem: "],
    [["--cert", KEY_FILE, "--key", KEY_FILE], "--cert/--key: No certificates found"],
    [["--cert", CERT_FILE, "--key", CERT_FILE], "--cert/--key: No keys found"],
    [["--cert", CERT_FILE, "--key", otherKeyFile], "--cert/--key: keys may not be consistent"],
    [
      ["--cert", CERT_FILE, "--key", servedKeyFile],
      `--key ${servedKeyFile}: it is inside the served root, so anyone could download it as /keys/key.pem`,
    ],
  ];
  try {
    for (const [args, message] of cases) {
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...PERMISSIONS, SERVER.href, "--port", "0", "--root", root, ...args],
        stdin: "null",
        // Were a case accepted, the server would run until killed: fail, do not hang.
        signal: AbortSignal.timeout(20_000),
      }).output();
      const text = new TextDecoder().decode(stderr);
      assertEquals(code, 2, `${args.join(" ")}: ${text}`);
      assertStringIncludes(text, message);
      assertStringIncludes(text, "(see --help)");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("serveCaching with an unusable certificate throws, and stops watching the root", async () => {
  // A watcher left open would keep the process alive after the error (the
  // test sanitizers do not track file watchers), so a separate process must exit.
  const program = `
    import { serveCaching } from ${JSON.stringify(SERVER.href)};
    try {
      serveCaching({ root: ".", port: 0, tls: { cert: "garbage", key: "garbage" } });
    } catch (error) {
      console.log(error.name);
    }`;
  const { code, signal, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", program],
    stdin: "null",
    signal: AbortSignal.timeout(20_000),
  }).output();
  assertEquals([code, signal], [0, null], "the process should exit once the error is caught");
  assertEquals(new TextDecoder().decode(stdout), "InvalidData\n");
});

/** A fresh P-256 private key in PEM: one that does not match the test certificate. */
async function newPrivateKeyPem(): Promise<string> {
  const { privateKey } = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign"],
  );
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey));
  const base64 = btoa(String.fromCharCode(...der)).replace(/.{64}/g, "$&\n");
  return `-----BEGIN PRIVATE KEY-----\n${base64}\n-----END PRIVATE KEY-----\n`;
}

/** The path of `name` on `PATH`, if it is there. */
function findExecutable(name: string): string | undefined {
  for (const directory of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(join(directory, name)).isFile) return join(directory, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Runs a program and returns its stdout; a non-zero exit fails the test with its stderr. */
async function output(program: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(program, { args, stdin: "null" })
    .output();
  const decoder = new TextDecoder();
  assertEquals(code, 0, `${program} ${args.join(" ")}: ${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}
