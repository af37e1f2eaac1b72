/**
 * The README's "Run it straight from a URL" commands for the cookie server, as
 * written there: this checkout served over HTTP by the caching server itself,
 * and `deno run … http://127.0.0.1:PORT/cookie_server.ts` in another folder.
 * (The caching server's own URL run is in caching_cli_test.ts.) What the
 * cookie server stores there must not be served by a caching server run from
 * a URL in the same folder.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { fromFileUrl } from "jsr:@std/path@1.1.6/from-file-url";
import { join } from "jsr:@std/path@1.1.6/join";
import { serveCaching } from "../caching_server.ts";
import { ServerProcess } from "./support/server_process.ts";

/** Serves this checkout over HTTP on port 0, runs `use` with its origin, then stops it. */
async function withCheckoutServed(use: (origin: string) => Promise<void>): Promise<void> {
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const host = serveCaching({
    root: fromFileUrl(new URL("..", import.meta.url)),
    port: 0,
    log: () => {},
    onListen: listening.resolve,
  });
  try {
    await use(`127.0.0.1:${(await listening.promise).port}`);
  } finally {
    await host.shutdown();
  }
}

/** Starts `deno run ARGS --port 0` in `cwd`, runs `use` with its origin, then stops it with SIGTERM. */
async function withProgram(
  args: string[],
  cwd: string,
  use: (origin: string, server: ServerProcess) => Promise<void>,
): Promise<void> {
  const server = new ServerProcess([...args, "--port", "0"], { cwd });
  try {
    await use(`http://127.0.0.1:${await server.port()}`, server);
  } finally {
    server.kill("SIGTERM");
    const { code, stderr } = await server.finish();
    assertEquals(code, 0, stderr);
  }
}

Deno.test("run from a URL: the cookie server, in memory and with .data/sessions.kv", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "run_from_url_test_" });
  try {
    await withCheckoutServed(async (host) => {
      const module = `http://${host}/cookie_server.ts`;
      // deno run --allow-net --allow-import=HOST URL
      await withProgram(["--allow-net", `--allow-import=${host}`, module], cwd, async (origin) => {
        const page = await fetch(`${origin}/`);
        assertStringIncludes(await page.text(), "Welcome, new visitor!");
      });

      // deno run --unstable-kv --allow-net --allow-read --allow-write=.data --allow-import=HOST URL --store .data/sessions.kv
      const kvRun = [
        "--unstable-kv",
        "--allow-net",
        "--allow-read",
        "--allow-write=.data",
        `--allow-import=${host}`,
        module,
        "--store",
        ".data/sessions.kv",
      ];
      await withProgram(kvRun, cwd, async (origin, server) => {
        assertStringIncludes(server.output.join("\n"), "sessions: Deno KV at .data/sessions.kv");
        const first = await fetch(`${origin}/`);
        await first.body?.cancel();
        const cookie = first.headers.get("set-cookie")!.split(";")[0];
        const second = await fetch(`${origin}/`, { headers: { cookie } });
        assertStringIncludes(await second.text(), "Welcome back");
      });
      assertEquals((await Deno.stat(join(cwd, ".data", "sessions.kv"))).isFile, true);

      // The caching server run from a URL in the same folder never serves the store.
      const caching = [
        "--allow-net",
        "--allow-read",
        `--allow-import=${host}`,
        `http://${host}/caching_server.ts`,
      ];
      await withProgram(caching, cwd, async (origin) => {
        const store = await fetch(`${origin}/.data/sessions.kv`);
        await store.body?.cancel();
        assertEquals(store.status, 404);
      });
    });
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
