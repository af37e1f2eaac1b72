/**
 * Test support: the caching server on port 0, serving a fresh folder of
 * files, for the tests that talk to it over real sockets.
 *
 * @module
 */
import { join } from "jsr:@std/path@1.1.6/join";
import { serveCaching, type ServeCachingOptions } from "../../caching_server.ts";

/** What a test gets from {@linkcode withCachingServer}. */
export interface CachingTestServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  port: number;
  /** The directory served. */
  root: string;
  /** Access-log lines written so far. */
  log: string[];
  /**
   * Runs `change` on the files, then, when the server watches the root, waits
   * for its report of the change: a change is guaranteed to be seen by the
   * requests that start after the server was told of it.
   */
  edit(change: () => Promise<void>): Promise<void>;
}

/**
 * Writes `files` (parent folders created) into a fresh root directory, inside
 * a fresh parent so that tests can put files "outside the root", serves it on
 * port 0 with `options`, runs `test`, then shuts the server down and removes
 * the directories.
 */
export async function withCachingServer(
  files: Record<string, string>,
  options: Partial<ServeCachingOptions>,
  test: (server: CachingTestServer) => Promise<void>,
): Promise<void> {
  const parent = await Deno.makeTempDir({ prefix: "caching_test_" });
  const root = join(parent, "site");
  await Deno.mkdir(root);
  for (const [name, content] of Object.entries(files)) {
    await Deno.mkdir(join(root, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, name), content);
  }
  const log: string[] = [];
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = serveCaching({
    root,
    port: 0,
    log: (line) => log.push(line),
    onListen: listening.resolve,
    ...options,
  });
  const edit = async (change: () => Promise<void>) => {
    const seen = server.nextChange();
    await change();
    await seen;
  };
  try {
    const { port } = await listening.promise;
    await test({ origin: `http://127.0.0.1:${port}`, port, root, log, edit });
  } finally {
    await server.shutdown();
    await Deno.remove(parent, { recursive: true });
  }
}
