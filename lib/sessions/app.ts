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
import { printLogLine } from "../access_log.ts";
import { findCookie } from "./cookie_header.ts";
import { checkSameOrigin } from "./cross_origin.ts";
import { renderPage } from "./page.ts";
import { SESSION_TTL_MS, type SessionStore } from "./session.ts";
import { SESSION_COOKIE, sessionCookieAttributes } from "./session_cookie.ts";
import { isWellFormedSessionId } from "./session_id.ts";
import { describeVisit, VisitResolver } from "./visits.ts";

/**
 * What the app reads from a request.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { CookieAppRequest } from "./app.ts";
 * const request: CookieAppRequest = {
 *   method: "GET",
 *   pathname: "/",
 *   path: "/",
 *   secure: false,
 *   remoteAddr: { hostname: "127.0.0.1" },
 *   header: (name) => (name === "cookie" ? "session_id=abc" : null),
 * };
 * assertEquals(request.header("cookie"), "session_id=abc");
 * ```
 */
export interface CookieAppRequest {
  /** Method token, e.g. `"GET"`. */
  readonly method: string;
  /** The path without the query, e.g. `"/logout"`. */
  readonly pathname: string;
  /** Path and query as sent, e.g. `"/?logged-out"`. */
  readonly path: string;
  /** Whether the connection is TLS: the scheme of the origin the server is reached at. */
  readonly secure: boolean;
  /** The client's address: new sessions are rate-limited per address. */
  readonly remoteAddr: { readonly hostname: string };
  /** A request header's value (name in lower case), or `null`. */
  header(name: string): string | null;
}

/**
 * What the app answers.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { CookieAppResponse } from "./app.ts";
 * const notFound: CookieAppResponse = { status: 404, headers: [], body: "Not Found\n" };
 * assertEquals(notFound.status, 404);
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
  /** Receives one line per request saying what the server decided; default `printLogLine`. */
  log?: (line: string) => void;
  /** The clock; tests may pass their own. Default `Date.now`. */
  now?: () => number;
  /**
   * New sessions stored per minute per client address, and the burst allowed.
   * Default 30 (`NEW_SESSIONS_PER_MINUTE` in `creation_rate.ts`).
   */
  newSessionsPerMinute?: number;
}

/** Where the logout's 303 sends the browser: the page, told to explain the logout. */
const LOGGED_OUT_PATH = "/?logged-out";

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
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { createCookieApp } from "./app.ts";
 * import { MemorySessionStore } from "./memory_store.ts";
 * import { serveHttp1 } from "../http1/mod.ts";
 * const store = new MemorySessionStore();
 * const app = createCookieApp({ store, log: () => {} });
 * const server = serveHttp1({ port: 0, onListen() {}, log: () => {} }, app);
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/logout`);
 * await response.body?.cancel();
 * assertEquals([response.status, response.headers.get("allow")], [405, "POST"]);
 * await server.shutdown();
 * store.close();
 * ```
 */
export function createCookieApp(
  options: CookieAppOptions,
): (request: CookieAppRequest) => Promise<CookieAppResponse> {
  const app = new CookieApp(options);
  return (request) => app.handle(request);
}

/** The app's state, built once, and its two pages. */
class CookieApp {
  #store: SessionStore;
  #log: (line: string) => void;
  #now: () => number;
  #visits: VisitResolver;
  /** `Set-Cookie` attributes, over HTTP and HTTPS: per request, only the id changes. */
  #attributes: { http: string; https: string };
  /** The `Set-Cookie` that expires the cookie, over HTTP and HTTPS. */
  #cleared: { http: string; https: string };

  constructor(options: CookieAppOptions) {
    this.#store = options.store;
    this.#log = options.log ?? printLogLine;
    this.#now = options.now ?? Date.now;
    const ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.#visits = new VisitResolver({
      store: options.store,
      ttlMs,
      newSessionsPerMinute: options.newSessionsPerMinute,
    });
    const maxAgeSeconds = Math.floor(ttlMs / 1000);
    const attributesFor = (secure: boolean, maxAge: number) =>
      sessionCookieAttributes({ secure, maxAgeSeconds: maxAge });
    this.#attributes = {
      http: attributesFor(false, maxAgeSeconds),
      https: attributesFor(true, maxAgeSeconds),
    };
    this.#cleared = {
      http: `${SESSION_COOKIE}=; ${attributesFor(false, 0)}`,
      https: `${SESSION_COOKIE}=; ${attributesFor(true, 0)}`,
    };
  }

  async handle(request: CookieAppRequest): Promise<CookieAppResponse> {
    const { method, pathname } = request;
    const log = this.#log;
    if (pathname === "/") {
      if (method === "GET" || method === "HEAD") return await this.#showPage(request);
      return methodNotAllowed(method, pathname, "GET, HEAD", log);
    }
    if (pathname === "/logout") {
      if (method === "POST") return await this.#logout(request);
      return methodNotAllowed(method, pathname, "POST", log);
    }
    log(`${method} ${pathname} 404`);
    return { status: 404, headers: [TEXT_PLAIN], body: "Not Found\n" };
  }

  async #showPage(request: CookieAppRequest): Promise<CookieAppResponse> {
    const cookieField = request.header("cookie");
    const sent = findCookie(cookieField, SESSION_COOKIE);
    const visits = this.#visits;
    const outcome = await visits.resolve(sent, request.remoteAddr.hostname, this.#now());
    this.#log(describeVisit(request.method, outcome, visits.newSessionsPerMinute));

    // Ids are base64url (isWellFormedSessionId), so they need no escaping.
    const id = outcome.kind === "returning" ? outcome.session.id : outcome.id;
    const attributes = request.secure ? this.#attributes.https : this.#attributes.http;
    const cookie = `${SESSION_COOKIE}=${id}; ${attributes}`;
    const body = renderPage(outcome, {
      storeDescription: this.#store.description,
      setCookie: cookie,
      request: {
        line: `${request.method} ${request.path}`,
        sessionId: sent,
        otherCookies: countCookies(cookieField) - (sent === undefined ? 0 : 1),
      },
      afterLogout: sent === undefined && request.path === LOGGED_OUT_PATH,
      newSessionsPerMinute: visits.newSessionsPerMinute,
      origin: pageOrigin(request),
    });
    return { status: 200, headers: [...PAGE_HEADERS, ["set-cookie", cookie]], body };
  }

  async #logout(request: CookieAppRequest): Promise<CookieAppResponse> {
    // SameSite=Lax already keeps the cookie off cross-site POSTs; checking the
    // origin as well refuses a forged logout even from browsers that ignore SameSite.
    const verdict = checkSameOrigin({
      host: request.header("host"),
      secure: request.secure,
      origin: request.header("origin"),
      secFetchSite: request.header("sec-fetch-site"),
      referer: request.header("referer"),
    });
    if (!verdict.allowed) {
      this.#log(`POST /logout 403: cross-site request refused (${verdict.reason})`);
      return { status: 403, headers: [TEXT_PLAIN], body: "Cross-site logout refused.\n" };
    }
    const sent = findCookie(request.header("cookie"), SESSION_COOKIE);
    const ending = sent !== undefined && isWellFormedSessionId(sent);
    if (ending) await this.#store.delete(sent, this.#now());
    this.#log(`POST /logout 303: ${ending ? "session ended" : "no session to end"}`);
    return {
      status: 303,
      headers: [
        ["location", LOGGED_OUT_PATH],
        TEXT_PLAIN,
        ["set-cookie", request.secure ? this.#cleared.https : this.#cleared.http],
      ],
      body: `Logged out. See ${LOGGED_OUT_PATH}.\n`,
    };
  }
}

/**
 * The same app as a Web handler, for `Deno.serve`: the cookie server's
 * "twin" in the benchmarks, and the app on its own in tests.
 *
 * @example
 * ```ts
 * import { assertMatch } from "jsr:@std/assert@1.0.19";
 * import { createWebCookieApp } from "./app.ts";
 * import { MemorySessionStore } from "./memory_store.ts";
 * const store = new MemorySessionStore();
 * const handler = createWebCookieApp({ store, log: () => {} });
 * await using server = Deno.serve({ port: 0, onListen() {} }, handler);
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assertMatch(await response.text(), /Welcome, new visitor!/);
 * store.close();
 * ```
 */
export function createWebCookieApp(
  options: CookieAppOptions,
): (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Promise<Response> {
  const app = createCookieApp(options);
  return async (request, info) => {
    const url = new URL(request.url);
    const answer = await app({
      method: request.method,
      pathname: url.pathname,
      path: url.pathname + url.search,
      remoteAddr: info.remoteAddr,
      secure: url.protocol === "https:",
      header: (name) => request.headers.get(name),
    });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
}

/** The origin the visitor reached the page at, for the page's curl example. */
function pageOrigin(request: CookieAppRequest): string {
  // Shown as text (escaped), so Host needs no parsing: the HTTP layer validated it.
  return `${request.secure ? "https" : "http"}://${request.header("host") ?? "localhost"}`;
}

/** How many cookies a `Cookie` field carries (pairs separated by `;`). */
function countCookies(field: string | null): number {
  if (field === null) return 0;
  let count = 0;
  for (const pair of field.split(";")) if (pair.includes("=")) count++;
  return count;
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
