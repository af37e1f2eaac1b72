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
import { checkSameOrigin, serverOrigin } from "./cross_origin.ts";
import { renderPage, type VisitOutcome } from "./page.ts";
import { isWellFormedSessionId, SESSION_TTL_MS, type SessionStore } from "./session.ts";
import { SESSION_COOKIE, sessionCookieAttributes } from "./session_cookie.ts";

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
 *   secure: false,
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
  /** Whether the connection is TLS: the scheme of the origin the server is reached at. */
  readonly secure: boolean;
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
  const log = options.log ?? printLogLine;
  const now = options.now ?? Date.now;
  const maxAgeSeconds = Math.floor((options.ttlMs ?? SESSION_TTL_MS) / 1000);

  // Built once: per request, only the id changes.
  const attributesOverHttp = sessionCookieAttributes({ secure: false, maxAgeSeconds });
  const attributesOverHttps = sessionCookieAttributes({ secure: true, maxAgeSeconds });
  const clearedOverHttp = `${SESSION_COOKIE}=; ${
    sessionCookieAttributes({ secure: false, maxAgeSeconds: 0 })
  }`;
  const clearedOverHttps = `${SESSION_COOKIE}=; ${
    sessionCookieAttributes({ secure: true, maxAgeSeconds: 0 })
  }`;

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
    const cookieAttributes = request.secure ? attributesOverHttps : attributesOverHttp;
    const cookie = `${SESSION_COOKIE}=${outcome.session.id}; ${cookieAttributes}`;
    const body = renderPage(outcome, {
      storeDescription: store.description,
      cookieAttributes,
      origin: pageOrigin(request),
    });
    return { status: 200, headers: [...PAGE_HEADERS, ["set-cookie", cookie]], body };
  }

  async function logout(request: CookieAppRequest): Promise<CookieAppResponse> {
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
      log(`POST /logout 403: cross-site request refused (${verdict.reason})`);
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
        ["set-cookie", request.secure ? clearedOverHttps : clearedOverHttp],
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
      secure: url.protocol === "https:",
      header: (name) => request.headers.get(name),
    });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
}

/** The origin the visitor reached the page at, for the page's curl example. */
function pageOrigin(request: CookieAppRequest): string {
  return serverOrigin(request.header("host"), request.secure) ??
    `${request.secure ? "https" : "http"}://localhost`;
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
