/**
 * The cookie server's teaching page: the greeting, and an account of what the
 * browser sent and what the server did with it.
 *
 * @module
 */
import type { Session } from "./session.ts";

/** How the server came to its greeting; each case is explained on the page. */
export type VisitOutcome =
  | { kind: "new"; cause: "no-cookie" | "unknown-id"; session: Session }
  | { kind: "returning"; session: Session };

/** Facts shown beside the greeting. */
export interface PageContext {
  /** Where sessions are kept (the store's description). */
  storeDescription: string;
  /** The cookie attributes the server sets, e.g. `Path=/; HttpOnly; SameSite=Lax; Max-Age=604800`. */
  cookieAttributes: string;
  /** The page's own origin, e.g. `http://localhost:8080`, for the curl example. */
  origin: string;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and quoted attributes. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/**
 * Only a prefix of the id is ever shown: the cookie is HttpOnly so that page
 * scripts cannot read it, and printing it whole into the page would undo that.
 */
function idPrefix(id: string): string {
  return `${id.slice(0, 6)}…`;
}

/**
 * The greeting line the visitor sees first.
 *
 * @example
 * ```ts
 * import { greeting } from "./page.ts";
 * const session = { id: "x", name: "User1", visits: 2, firstSeen: 0, lastSeen: 0 };
 * console.log(greeting({ kind: "returning", session })); // "Welcome back, User1!"
 * ```
 */
export function greeting(outcome: VisitOutcome): string {
  return outcome.kind === "new"
    ? "Welcome, new visitor!"
    : `Welcome back, ${outcome.session.name}!`;
}

function explain(outcome: VisitOutcome, context: PageContext): string {
  const { session } = outcome;
  const store = escapeHtml(context.storeDescription);
  const setCookie = `<code>Set-Cookie: session_id=${escapeHtml(idPrefix(session.id))}; ${
    escapeHtml(context.cookieAttributes)
  }</code>`;
  switch (outcome.kind === "new" ? outcome.cause : "returning") {
    case "no-cookie":
      return `<li>Your browser sent <strong>no <code>session_id</code> cookie</strong>.</li>
<li>The server created a session for <strong>${escapeHtml(session.name)}</strong> in ${store}
and answered with ${setCookie}.</li>
<li>Reload the page: your browser will send the cookie back, and the server will recognise you.</li>`;
    case "unknown-id":
      return `<li>Your browser sent a <code>session_id</code> that this server has no record of:
it expired, was logged out, or was never issued here.</li>
<li>The server never adopts an id it did not issue (that would allow <em>session fixation</em>),
so it created a new session for <strong>${escapeHtml(session.name)}</strong> in ${store}
and answered with ${setCookie}.</li>`;
    default:
      return `<li>Your browser sent <code>Cookie: session_id=${
        escapeHtml(idPrefix(session.id))
      }</code>.</li>
<li>The server looked it up in ${store} and found <strong>${escapeHtml(session.name)}</strong>,
first seen ${new Date(session.firstSeen).toUTCString()}.</li>
<li>It counted this visit and renewed the cookie's lifetime with ${setCookie}.</li>`;
  }
}

/**
 * Renders the whole page. It needs no script and no external resource.
 *
 * @example
 * ```ts
 * import { renderPage } from "./page.ts";
 * const session = { id: "abcdef123", name: "User1", visits: 1, firstSeen: 0, lastSeen: 0 };
 * const html = renderPage({ kind: "new", cause: "no-cookie", session }, {
 *   storeDescription: "memory",
 *   cookieAttributes: "Path=/; HttpOnly; SameSite=Lax",
 *   origin: "http://localhost:8080",
 * });
 * console.log(html.includes("Welcome, new visitor!")); // true
 * ```
 */
export function renderPage(outcome: VisitOutcome, context: PageContext): string {
  const visits = outcome.session.visits;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cookie sessions, by hand</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.8rem; }
code { background: #eef1f6; padding: 0 .25rem; border-radius: 3px; overflow-wrap: anywhere; }
.card { border: 1px solid #d5dbe5; border-radius: 8px; padding: .5rem 1.25rem; margin: 1rem 0; }
button { font: inherit; padding: .4rem 1rem; }
</style>
</head>
<body>
<h1 id="greeting">${escapeHtml(greeting(outcome))}</h1>
<p id="visits">This is visit number <strong>${visits}</strong> in this session.</p>
<div class="card">
<h2>What just happened</h2>
<ol>
${explain(outcome, context)}
</ol>
</div>
<form method="post" action="/logout">
<button type="submit" id="logout">Log out</button>
(<code>POST /logout</code>: the server deletes the session and answers <code>Set-Cookie: session_id=; Max-Age=0</code>.)
</form>
<div class="card">
<h2>Try it</h2>
<ul>
<li>Open DevTools → Application → Cookies: <code>session_id</code> is <em>HttpOnly</em>
(no script can read it, so <code>document.cookie</code> is empty) and <em>SameSite=Lax</em>
(other sites' forms and scripts cannot send it along).</li>
<li>Delete the cookie, or edit its value, and reload: you are a new visitor again.</li>
<li>From a terminal: <code>curl -v -c jar -b jar ${escapeHtml(context.origin)}/</code>, twice.</li>
</ul>
</div>
</body>
</html>
`;
}
