/**
 * The cookie server's application: a `Request → Response` handler that tells a
 * new visitor from a returning one by the `session_id` cookie. It knows nothing
 * of sockets, so the same handler runs behind the hand-written HTTP/1.1 server
 * and behind `Deno.serve`.
 *
 * @module
 */
import { type Cookie, getCookies, setCookie } from "jsr:@std/http@1.1.3/cookie";
import { renderPage, type VisitOutcome } from "./page.ts";
import { isWellFormedSessionId, SESSION_TTL_MS, type SessionStore } from "./session.ts";

/** The cookie that carries the session id. */
export const SESSION_COOKIE = "session_id";

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

/**
 * Headers on every page: it is personal (never cached) and needs no script.
 * Name-value pairs rather than a `Headers` object: the page's `Response` takes
 * them, plus its Set-Cookie, in one go (cheaper than `new Headers` and then
 * `append`).
 */
const PAGE_HEADERS: readonly [string, string][] = [
  ["content-type", "text/html; charset=utf-8"],
  ["cache-control", "no-store"],
  ["content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"],
  ["x-content-type-options", "nosniff"],
  // Not "no-referrer": under it, browsers send `Origin: null` on the logout POST,
  // and logout() refuses that as cross-site.
  ["referrer-policy", "same-origin"],
];

/**
 * Builds the handler. Routes: `GET`/`HEAD /` shows the page (creating or
 * continuing a session); `POST /logout` ends the session and redirects with 303;
 * other methods on those paths get 405 with `Allow`; anything else 404.
 *
 * @example Serve it with Deno.serve
 * ```ts ignore
 * import { createCookieApp } from "./app.ts";
 * import { MemorySessionStore } from "./memory_store.ts";
 * Deno.serve(createCookieApp({ store: new MemorySessionStore() }));
 * ```
 */
export function createCookieApp(
  options: CookieAppOptions,
): (request: Request) => Promise<Response> {
  const { store } = options;
  const log = options.log ?? console.log;
  const now = options.now ?? Date.now;
  const maxAgeSeconds = Math.floor((options.ttlMs ?? SESSION_TTL_MS) / 1000);

  /** The `session_id` cookie with the attributes every Set-Cookie of it carries. */
  function sessionCookie(value: string, secure: boolean, maxAge: number): Cookie {
    return {
      name: SESSION_COOKIE,
      value,
      path: "/",
      httpOnly: true,
      sameSite: "Lax",
      maxAge,
      secure,
    };
  }

  /**
   * What follows `session_id=<id>; ` in the page's Set-Cookie, e.g.
   * `HttpOnly; Max-Age=604800; SameSite=Lax; Path=/`. It is the same for
   * every visitor, so @std/http's setCookie writes it once per scheme here,
   * not once per request.
   */
  function cookieAttributes(secure: boolean): string {
    const headers = new Headers();
    setCookie(headers, sessionCookie("", secure, maxAgeSeconds));
    const value = headers.get("set-cookie")!;
    return value.slice(value.indexOf(";") + 2);
  }
  const attributesOverHttp = cookieAttributes(false);
  const attributesOverHttps = cookieAttributes(true);

  async function showPage(request: Request, url: URL): Promise<Response> {
    const sent = readSessionCookie(request.headers);
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
    const attributes = isSecure(url) ? attributesOverHttps : attributesOverHttp;
    const cookie = `${SESSION_COOKIE}=${outcome.session.id}; ${attributes}`;
    const html = renderPage(outcome, {
      storeDescription: store.description,
      cookieAttributes: attributes,
      origin: url.origin,
    });
    return new Response(html, { headers: [...PAGE_HEADERS, ["set-cookie", cookie]] });
  }

  async function logout(request: Request, url: URL): Promise<Response> {
    // SameSite=Lax already keeps the cookie off cross-site POSTs; checking Origin
    // as well refuses a forged logout even from browsers that ignore SameSite.
    const origin = request.headers.get("origin");
    if (origin !== null && origin !== url.origin) {
      log(`POST /logout 403: cross-site request from Origin ${origin}`);
      return new Response("Cross-site logout refused.\n", { status: 403 });
    }
    const sent = readSessionCookie(request.headers);
    const ending = sent !== undefined && isWellFormedSessionId(sent);
    if (ending) await store.delete(sent);
    log(`POST /logout 303: ${ending ? "session deleted" : "no session to end"}`);
    const headers = new Headers({ location: "/", "content-type": "text/plain; charset=utf-8" });
    setCookie(headers, sessionCookie("", isSecure(url), 0));
    return new Response("Logged out. See /.\n", { status: 303, headers });
  }

  return async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      if (request.method === "GET" || request.method === "HEAD") {
        return await showPage(request, url);
      }
      return methodNotAllowed(request.method, url, "GET, HEAD", log);
    }
    if (url.pathname === "/logout") {
      if (request.method === "POST") return await logout(request, url);
      return methodNotAllowed(request.method, url, "POST", log);
    }
    log(`${request.method} ${url.pathname} 404`);
    return new Response("Not Found\n", { status: 404 });
  };
}

/** `Secure` only over TLS: a browser on plain HTTP would refuse to store a Secure cookie. */
function isSecure(url: URL): boolean {
  return url.protocol === "https:";
}

/**
 * The `session_id` value the request carries, if any, parsed per RFC 6265 §5.4.
 * An unparsable `Cookie` header (other apps on `localhost` can leave odd cookies
 * behind) counts as none rather than failing the request.
 */
function readSessionCookie(headers: Headers): string | undefined {
  try {
    return getCookies(headers)[SESSION_COOKIE];
  } catch {
    return undefined; // e.g. a cookie pair starting with "="
  }
}

function describe(request: Request, outcome: VisitOutcome): string {
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
  url: URL,
  allow: string,
  log: (line: string) => void,
): Response {
  log(`${method} ${url.pathname} 405: allowed ${allow}`);
  return new Response("Method Not Allowed\n", { status: 405, headers: { allow } });
}
