/**
 * The cookie server's sessions, front door: everything outside
 * `lib/sessions/` imports from this module.
 *
 * - {@linkcode createCookieApp}: the app that tells a new visitor from a
 *   returning one by the `session_id` cookie (and
 *   {@linkcode createWebCookieApp}, the same app for `Deno.serve`).
 * - {@linkcode openSessionStore}: the store `--store` names;
 *   {@linkcode MemorySessionStore} and {@linkcode KvSessionStore} directly.
 *
 * The other modules in this folder are internal: their exports serve their
 * siblings and the unit tests, and may change without notice.
 *
 * @example A first visit, then the same visitor back with its cookie
 * ```ts
 * import { assertEquals, assertMatch } from "jsr:@std/assert@1.0.19";
 * import { type CookieAppRequest, createCookieApp, MemorySessionStore } from "./mod.ts";
 * const store = new MemorySessionStore();
 * const app = createCookieApp({ store, log: () => {} });
 * const visit = (cookie: string | null): CookieAppRequest => ({
 *   method: "GET",
 *   pathname: "/",
 *   path: "/",
 *   secure: false,
 *   remoteAddr: { hostname: "127.0.0.1" },
 *   header: (name) => (name === "cookie" ? cookie : name === "host" ? "localhost" : null),
 * });
 * const first = await app(visit(null));
 * assertMatch(first.body, /Welcome, new visitor!/);
 * const setCookie = first.headers.find(([name]) => name === "set-cookie")![1];
 * const second = await app(visit(setCookie.split(";")[0]));
 * assertMatch(second.body, /Welcome back, User1!/);
 * store.close();
 * ```
 *
 * @module
 */
export {
  type CookieAppOptions,
  type CookieAppRequest,
  type CookieAppResponse,
  createCookieApp,
  createWebCookieApp,
} from "./app.ts";
export { type OpenedStore, openSessionStore } from "./open_store.ts";
export { MemorySessionStore, type MemorySessionStoreOptions } from "./memory_store.ts";
export { KvSessionStore, type KvSessionStoreOptions } from "./kv_store.ts";
export { type NotCreated, type Session, SESSION_TTL_MS, type SessionStore } from "./session.ts";
