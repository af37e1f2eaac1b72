/**
 * The cookie server's application: tells a new visitor from a returning one
 * by the `session_id` cookie. It knows nothing of sockets: it reads the few
 * request facts it needs ({@linkcode CookieAppRequest}) and answers with a
 * status, fields and a page ({@linkcode CookieAppResponse}). The hand-written
 * HTTP/1.1 server's `Http1Request` and `Http1Response` have exactly that
 * shape; {@linkcode createWebCookieApp} puts the same app behind `Deno.serve`.
 *
 * @module
 */
import { type Cookie, setCookie } from "jsr:@std/http@1.1.3/cookie";
import { findCookie } from "./cookie_header.ts";
import { renderPage, type VisitOutcome } from "./page.ts";
import { isWellFormedSessionId, SESSION_TTL_MS, type SessionStore } from "./session.ts";

/** The cookie that carries the session id. */
export const SESSION_COOKIE = "session_id";

/**
 * What the app reads from a request.
 *
 * @example
 * ```ts
 * import type { CookieAppRequest } from "./app.ts";
 * const request: CookieAppRequest = {
 *   method: "GET",
 *   pathname: "/",
 *   origin: "http://localhost:8080",
 *   header: (name) => (name === "cookie" ? "session_id=abc" : null),
 * };
 * console.log(request.header("cookie")); // "session_id=abc"
 * ```
 */
export interface CookieAppRequest {
  /** Method token, e.g. `"GET"`. */
  readonly method: string;
  /** The path without the query, e.g. `"/logout"`. */
  readonly pathname: string;
  /** The request URL's origin, e.g. `"http://localhost:8080"`; `https:` means TLS. */
  readonly origin: string;
  /** A request header's value (name in lower case), or `null`. */
  header(name: string): string | null;
}

/**
 * What the app answers.
 *
 * @example
 * ```ts
 * import type { CookieAppResponse } from "./app.ts";
 * const notFound: CookieAppResponse = { status: 404, headers: [], body: "Not Found\n" };
 * console.log(notFound.status); // 404
 * ```
 */
export interface CookieAppResponse {
  /** Status code. */
  status: number;
  /** Header fields in order; `Set-Cookie` may repeat. */
  headers: [string, string][];
  /** The body text (UTF-8 on the wire). */
  body: string;
}

/** Options for {@linkcode createCookieApp}. */
export interface CookieAppOptions {
  /** Where sessions live. */
  store: SessionStore;
  /** Cookie and session lifetime; should match the store's time-to-live. Default {@linkcode SESSION_TTL_MS}. */
  ttlMs?: number;
  /** Receives one line per request saying what the server decided; default `console.log`. */
  log?: (line: string) => void;
  /** The clock; tests may pass their own. Default `Date.now`. */
  now?: () => number;
}

/** Headers on every page: it is personal (never cached) and needs no script. */
const PAGE_HEADERS: readonly [string, string][] = [
  ["content-type", "text/html; charset=utf-8"],
  ["cache-control", "no-store"],
  ["content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"],
  ["x-content-type-options", "nosniff"],
  // Not "no-referrer": under it, browsers send `Origin: null` on the logout POST,
  // and logout() refuses that as cross-site.
  ["referrer-policy", "same-origin"],
];

/** `text/plain` for the short answers (404, 405, 403, 303). */
const TEXT_PLAIN: [string, string] = ["content-type", "text/plain; charset=utf-8"];

/**
 * Builds the app. Routes: `GET`/`HEAD /` shows the page (creating or
 * continuing a session); `POST /logout` ends the session and redirects with
 * 303; other methods on those paths get 405 with `Allow`; anything else 404.
 *
 * @example Behind the hand-written HTTP/1.1 server
 * ```ts ignore
 * import { createCookieApp } from "./app.ts";
 * import { MemorySessionStore } from "./memory_store.ts";
 * import { serveHttp1 } from "../http1/server.ts";
 * serveHttp1({ port: 8080 }, createCookieApp({ store: new MemorySessionStore() }));
 * ```
 */
export function createCookieApp(
  options: CookieAppOptions,
): (request: CookieAppRequest) => Promise<CookieAppResponse> {
  const { store } = options;
  const log = options.log ?? console.log;
  const now = options.now ?? Date.now;
  const maxAgeSeconds = Math.floor((options.ttlMs ?? SESSION_TTL_MS) / 1000);

  /**
   * A `session_id` Set-Cookie value with the attributes every one of them
   * carries, written by @std/http's setCookie. Called only while building the
   * app: per request, only the id changes.
   */
  function sessionCookie(value: string, secure: boolean, maxAge: number): string {
    const cookie: Cookie = {
      name: SESSION_COOKIE,
      value,
      path: "/",
      httpOnly: true,
      sameSite: "Lax",
      maxAge,
      secure,
    };
    const headers = new Headers();
    setCookie(headers, cookie);
    return headers.get("set-cookie")!;
  }
  /** What follows `session_id=<id>; `, e.g. `HttpOnly; Max-Age=604800; SameSite=Lax; Path=/`. */
  const attributes = (secure: boolean) => {
    const cookie = sessionCookie("", secure, maxAgeSeconds);
    return cookie.slice(cookie.indexOf(";") + 2);
  };
  const attributesOverHttp = attributes(false);
  const attributesOverHttps = attributes(true);
  const clearedOverHttp = sessionCookie("", false, 0);
  const clearedOverHttps = sessionCookie("", true, 0);

  async function showPage(request: CookieAppRequest): Promise<CookieAppResponse> {
    const sent = findCookie(request.header("cookie"), SESSION_COOKIE);
    const time = now();
    // Only an id of the shape this server issues is worth a lookup.
    const known = sent !== undefined && isWellFormedSessionId(sent)
      ? await store.recordVisit(sent, time)
      : undefined;
    const outcome: VisitOutcome = known !== undefined ? { kind: "returning", session: known } : {
      kind: "new",
      cause: sent === undefined ? "no-cookie" : "unknown-id",
      session: await store.create(time),
    };
    log(describe(request, outcome));

    // The id is base64url (isWellFormedSessionId), so it needs no escaping.
    const attributes = isSecure(request) ? attributesOverHttps : attributesOverHttp;
    const cookie = `${SESSION_COOKIE}=${outcome.session.id}; ${attributes}`;
    const body = renderPage(outcome, {
      storeDescription: store.description,
      cookieAttributes: attributes,
      origin: request.origin,
    });
    return { status: 200, headers: [...PAGE_HEADERS, ["set-cookie", cookie]], body };
  }

  async function logout(request: CookieAppRequest): Promise<CookieAppResponse> {
    // SameSite=Lax already keeps the cookie off cross-site POSTs; checking Origin
    // as well refuses a forged logout even from browsers that ignore SameSite.
    const origin = request.header("origin");
    if (origin !== null && origin !== request.origin) {
      log(`POST /logout 403: cross-site request from Origin ${origin}`);
      return { status: 403, headers: [TEXT_PLAIN], body: "Cross-site logout refused.\n" };
    }
    const sent = findCookie(request.header("cookie"), SESSION_COOKIE);
    const ending = sent !== undefined && isWellFormedSessionId(sent);
    if (ending) await store.delete(sent);
    log(`POST /logout 303: ${ending ? "session deleted" : "no session to end"}`);
    return {
      status: 303,
      headers: [
        ["location", "/"],
        TEXT_PLAIN,
        ["set-cookie", isSecure(request) ? clearedOverHttps : clearedOverHttp],
      ],
      body: "Logged out. See /.\n",
    };
  }

  return async function handle(request: CookieAppRequest): Promise<CookieAppResponse> {
    const { method, pathname } = request;
    if (pathname === "/") {
      if (method === "GET" || method === "HEAD") return await showPage(request);
      return methodNotAllowed(method, pathname, "GET, HEAD", log);
    }
    if (pathname === "/logout") {
      if (method === "POST") return await logout(request);
      return methodNotAllowed(method, pathname, "POST", log);
    }
    log(`${method} ${pathname} 404`);
    return { status: 404, headers: [TEXT_PLAIN], body: "Not Found\n" };
  };
}

/**
 * The same app as a Web handler, for `Deno.serve`: the cookie server's
 * "twin" in the benchmarks, and the app on its own in tests.
 *
 * @example
 * ```ts ignore
 * import { createWebCookieApp } from "./app.ts";
 * import { MemorySessionStore } from "./memory_store.ts";
 * Deno.serve(createWebCookieApp({ store: new MemorySessionStore() }));
 * ```
 */
export function createWebCookieApp(
  options: CookieAppOptions,
): (request: Request) => Promise<Response> {
  const app = createCookieApp(options);
  return async (request) => {
    const url = new URL(request.url);
    const answer = await app({
      method: request.method,
      pathname: url.pathname,
      origin: url.origin,
      header: (name) => request.headers.get(name),
    });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
}

/** `Secure` only over TLS: a browser on plain HTTP would refuse to store a Secure cookie. */
function isSecure(request: CookieAppRequest): boolean {
  return request.origin.startsWith("https:");
}

function describe(request: CookieAppRequest, outcome: VisitOutcome): string {
  const { session } = outcome;
  const line = `${request.method} / 200`;
  if (outcome.kind === "returning") {
    return `${line}: ${session.name} is back (visit ${session.visits})`;
  }
  const why = outcome.cause === "no-cookie" ? "no session cookie" : "unknown session id ignored";
  return `${line}: new visitor (${why}); created ${session.name}`;
}

function methodNotAllowed(
  method: string,
  pathname: string,
  allow: string,
  log: (line: string) => void,
): CookieAppResponse {
  log(`${method} ${pathname} 405: allowed ${allow}`);
  return { status: 405, headers: [["allow", allow], TEXT_PLAIN], body: "Method Not Allowed\n" };
}
