/**
 * The caching file server's front door: everything outside `lib/caching/`
 * imports from this module.
 *
 * - {@linkcode createCachingHandler}: a `(Request) => Response` that serves a
 *   folder with strong `ETag`s, `Last-Modified`, 304s and ranges.
 * - {@linkcode ChangeMonitor}: watches the root, so unchanged files cost no
 *   disk access.
 * - {@linkcode startServeLoop}: `Deno.serve` that keeps serving when accept
 *   fails, and a shutdown within a bound.
 *
 * The other modules in this folder are internal: their exports serve their
 * siblings and the unit tests, and may change without notice.
 *
 * @example Serve a folder, revalidate a file
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { createCachingHandler } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/index.html`, "<p>hi</p>");
 * const handler = createCachingHandler({ root, log: () => {} });
 * const first = await handler(new Request("http://localhost/"));
 * await first.body?.cancel();
 * const etag = first.headers.get("etag")!;
 * const again = await handler(
 *   new Request("http://localhost/", { headers: { "if-none-match": etag } }),
 * );
 * assertEquals([first.status, again.status], [200, 304]);
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @module
 */
export { type CachingHandlerOptions, createCachingHandler } from "./handler.ts";
export { type ChangeListener, ChangeMonitor } from "./change_monitor.ts";
export {
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  type ServeLoop,
  type ServeLoopOptions,
  type ShutdownResult,
  startServeLoop,
} from "./serve_loop.ts";
