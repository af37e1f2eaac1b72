/**
 * The cookie server's teaching page: the greeting, the request and answer
 * that carried the cookie, and an account of what the server did with it.
 *
 * @module
 */
import type { Session } from "./session.ts";
import { escapeHtml } from "../html.ts";

/** How the server came to its greeting; each case is explained on the page. */
export type VisitOutcome =
  /** A first visit: an id was issued, and nothing stored. */
  | { kind: "new"; cause: "no-cookie" | "unknown-id"; id: string }
  /** A stored session; `storedNow` on the visit that stored it (the second). */
  | { kind: "returning"; session: Session; storedNow: boolean }
  /** A return visit with a valid id that could not be stored. */
  | { kind: "unstored"; reason: "rate-limited" | "store-full"; id: string; firstSeen: number };

/** What the request carried, as the page shows it. */
export interface ReceivedRequest {
  /** Method and target as received, e.g. `GET /`. */
  line: string;
  /** The `session_id` the `Cookie` field carried, if any. */
  sessionId: string | undefined;
  /** How many other cookies the `Cookie` field carried (not shown: they are other apps'). */
  otherCookies: number;
}

/** Facts shown beside the greeting. */
export interface PageContext {
  /** Where sessions are kept (the store's description). */
  storeDescription: string;
  /** The `Set-Cookie` value answered, e.g. `session_id=…; HttpOnly; Max-Age=604800; …`. */
  setCookie: string;
  /** The request, for the conversation box. */
  request: ReceivedRequest;
  /** This GET followed the logout's 303: explain what the logout did. */
  afterLogout: boolean;
  /** New sessions a client may have stored per minute, for the rate-limited case. */
  newSessionsPerMinute: number;
  /** The page's own origin, e.g. `http://localhost:8080`, for the curl example. */
  origin: string;
}

/** The context, and the answered `Set-Cookie` as HTML, made once per page. */
type Rendering = PageContext & { setCookieHtml: string };

/**
 * Code as HTML that wraps only at spaces: browsers also break lines after a
 * hyphen, which split `Set-` from `Cookie:` and `Max-` from `Age`. Each word
 * with a hyphen goes in a `nowrap` span; the text (and what a reader copies)
 * is unchanged.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { codeHtml } from "./page.ts";
 * assertEquals(
 *   codeHtml("Set-Cookie: a=<b>"),
 *   '<code><span class="word">Set-Cookie:</span> a=&lt;b&gt;</code>',
 * );
 * ```
 */
export function codeHtml(text: string): string {
  const words = escapeHtml(text).split(" ");
  for (let i = 0; i < words.length; i++) {
    if (words[i].includes("-")) words[i] = `<span class="word">${words[i]}</span>`;
  }
  return `<code>${words.join(" ")}</code>`;
}

// The snippets that never change, made once.
const POST_LOGOUT = codeHtml("POST /logout");
const CLEARED_COOKIE = codeHtml("Set-Cookie: session_id=; Max-Age=0");
const SEE_OTHER = codeHtml("303 See Other");
const LOCATION = codeHtml("Location: /?logged-out");
const GET = codeHtml("GET");

/**
 * Only a prefix of the id is ever shown: the cookie is HttpOnly so that page
 * scripts cannot read it, and printing it whole into the page would undo that.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { shortId } from "./page.ts";
 * assertEquals(shortId("abcdefghijklmnop"), "abcdef…");
 * ```
 */
export function shortId(id: string): string {
  return `${id.slice(0, 6)}…`;
}

/** `Set-Cookie: session_id=<short id>; …` as code, from `session_id=<id>; <attributes>`. */
function setCookieHtml(setCookie: string): string {
  const idEnd = setCookie.indexOf(";");
  const id = setCookie.slice(setCookie.indexOf("=") + 1, idEnd);
  let attributes = ATTRIBUTES_HTML.get(setCookie.slice(idEnd));
  if (attributes === undefined) {
    // Two values in practice (over HTTP and HTTPS); bounded all the same.
    if (ATTRIBUTES_HTML.size >= 8) ATTRIBUTES_HTML.clear();
    attributes = codeHtml(setCookie.slice(idEnd)).slice("<code>".length, -"</code>".length);
    ATTRIBUTES_HTML.set(setCookie.slice(idEnd), attributes);
  }
  return `<code><span class="word">Set-Cookie:</span> ${cookiePairHtml(id)}${attributes}</code>`;
}

/** The `Set-Cookie` attributes as HTML, by their text: the same few on every page. */
const ATTRIBUTES_HTML = new Map<string, string>();

/** `session_id=<short id>`, kept whole if the id holds a hyphen. */
function cookiePairHtml(id: string): string {
  const pair = `session_id=${escapeHtml(shortId(id))}`;
  return pair.includes("-") ? `<span class="word">${pair}</span>` : pair;
}

/**
 * The greeting line the visitor sees first.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { greeting } from "./page.ts";
 * const session = { id: "x", name: "User1", visits: 2, firstSeen: 0, lastSeen: 0 };
 * assertEquals(greeting({ kind: "returning", session, storedNow: false }), "Welcome back, User1!");
 * ```
 */
export function greeting(outcome: VisitOutcome): string {
  switch (outcome.kind) {
    case "new":
      return "Welcome, new visitor!";
    case "returning":
      return `Welcome back, ${outcome.session.name}!`;
    case "unstored":
      return "Welcome back!";
  }
}

function visitsLine(outcome: VisitOutcome): string {
  switch (outcome.kind) {
    case "new":
      return "This is visit number <strong>1</strong>. Nothing is stored on the server yet.";
    case "returning":
      return `This is visit number <strong>${outcome.session.visits}</strong> in this session.`;
    case "unstored":
      return "This is a return visit, but it is not counted: your session could not be stored.";
  }
}

function explainNew(outcome: VisitOutcome & { kind: "new" }, context: Rendering): string {
  const sent = outcome.cause === "no-cookie"
    ? `<li>Your browser sent <strong>no <code>session_id</code> cookie</strong>.</li>`
    : `<li>Your browser sent a <code>session_id</code> that this server will not take back:
it expired, was logged out, or was never issued here. The server never adopts an id it did not
issue (that would allow <em>session fixation</em>).</li>`;
  return `${sent}
<li>The server <strong>stored nothing</strong>. It answered with ${context.setCookieHtml}: a new id made of random bytes, the time, and a <em>MAC</em> (a signature with a key only the
server has), so that it will recognise the id as its own without having written it down.</li>
<li>Reload the page: your browser sends the cookie back, and only then is your session stored.
Why wait? Many first requests never come back (bots, link previews, a client flooding the server);
storing a session for each would fill the store. express-session calls this
<code>saveUninitialized: false</code>.</li>`;
}

function explainReturning(
  outcome: VisitOutcome & { kind: "returning" },
  context: Rendering,
): string {
  const { session } = outcome;
  const store = escapeHtml(context.storeDescription);
  const name = `<strong>${escapeHtml(session.name)}</strong>`;
  const sent = `<li>Your browser sent ${`<code>Cookie: ${
    cookiePairHtml(session.id)
  }</code>`}.</li>`;
  const found = outcome.storedNow
    ? `<li>The id is one this server issued at ${new Date(session.firstSeen).toUTCString()}: its
MAC checks out. This is your second visit, so the server <strong>stored your session now</strong>,
for ${name} in ${store}, counting your first visit too.</li>`
    : `<li>The server looked it up in ${store} and found ${name}, first seen
${new Date(session.firstSeen).toUTCString()}.</li>`;
  return `${sent}
${found}
<li>It counted this visit and renewed the cookie's lifetime with ${context.setCookieHtml}.</li>`;
}

function explainUnstored(outcome: VisitOutcome & { kind: "unstored" }, context: Rendering) {
  const why = outcome.reason === "rate-limited"
    ? `more than ${context.newSessionsPerMinute} new sessions a minute came from your address, the
limit that keeps one client from filling the store`
    : `the session store is full. Sessions already stored are kept; new ones are not stored until
old ones expire`;
  return `<li>Your browser sent <code>Cookie: ${cookiePairHtml(outcome.id)}</code>, an id this
server issued at ${new Date(outcome.firstSeen).toUTCString()} (its MAC checks out).</li>
<li><strong>Your session was not stored</strong>: ${why}.</li>
<li>Your id stays valid: the server answered ${context.setCookieHtml}, and a
later visit can still be stored.</li>`;
}

function explain(outcome: VisitOutcome, context: Rendering): string {
  switch (outcome.kind) {
    case "new":
      return explainNew(outcome, context);
    case "returning":
      return explainReturning(outcome, context);
    case "unstored":
      return explainUnstored(outcome, context);
  }
}

/** The card that says what the logout just did, shown on the page its 303 led to. */
function logoutCard(context: PageContext): string {
  return `<div class="card" id="logged-out">
<h2>You logged out</h2>
<ol>
<li>The <em>Log out</em> button sent ${POST_LOGOUT} with your session cookie.</li>
<li>The server <strong>deleted your session</strong> from ${escapeHtml(context.storeDescription)}
and answered ${SEE_OTHER} with ${LOCATION} and
${CLEARED_COOKIE}: <code>Max-Age=0</code> tells the browser
the cookie has <strong>expired</strong>, so it deleted it.</li>
<li>The <strong>303 brought your browser back here</strong> with a ${GET}: without the
cookie, so you are a new visitor.</li>
</ol>
</div>`;
}

/** The request line and `Cookie` received, and the `Set-Cookie` answered. */
function conversationCard(context: Rendering): string {
  const { request } = context;
  const cookie = request.sessionId === undefined
    ? "<code>(no session_id cookie)</code>"
    : `<code>Cookie: ${cookiePairHtml(request.sessionId)}</code>`;
  const others = request.otherCookies === 0
    ? ""
    : ` <span class="note">(and ${request.otherCookies} other cookie${
      request.otherCookies === 1 ? "" : "s"
    }, not shown)</span>`;
  return `<div class="card" id="conversation">
<h2>This request and its answer</h2>
<p>Your browser sent:</p>
<p class="wire" id="request-line">${codeHtml(request.line)}</p>
<p class="wire" id="request-cookie">${cookie}${others}</p>
<p>The server answered <code>200 OK</code> with:</p>
<p class="wire" id="response-set-cookie">${context.setCookieHtml}</p>
<p class="note">Ids are shortened to their first characters: the cookie is <em>HttpOnly</em>,
and printing it whole into the page would hand it to any script on it.</p>
</div>`;
}

const STYLE =
  `body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.8rem; }
code { background: #eef1f6; padding: 0 .25rem; border-radius: 3px; }
.word { white-space: nowrap; }
.wire { margin: .25rem 0 .25rem 1rem; }
.note { color: #5a6478; font-size: .9rem; }
.card { border: 1px solid #d5dbe5; border-radius: 8px; padding: .5rem 1.25rem; margin: 1rem 0; }
button { font: inherit; padding: .4rem 1rem; }`;

/**
 * Renders the whole page. It needs no script and no external resource.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "jsr:@std/assert@1.0.19";
 * import { renderPage } from "./page.ts";
 * const html = renderPage({ kind: "new", cause: "no-cookie", id: "abcdef123" }, {
 *   storeDescription: "memory",
 *   setCookie: "session_id=abcdef123; HttpOnly; Max-Age=604800; SameSite=Lax; Path=/",
 *   request: { line: "GET /", sessionId: undefined, otherCookies: 0 },
 *   afterLogout: false,
 *   newSessionsPerMinute: 30,
 *   origin: "http://localhost:8080",
 * });
 * assertStringIncludes(html, "Welcome, new visitor!");
 * assertStringIncludes(html, "stored nothing");
 * ```
 */
export function renderPage(outcome: VisitOutcome, page: PageContext): string {
  const context: Rendering = { ...page, setCookieHtml: setCookieHtml(page.setCookie) };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cookie sessions, by hand</title>
<style>
${STYLE}
</style>
</head>
<body>
<h1 id="greeting">${escapeHtml(greeting(outcome))}</h1>
<p id="visits">${visitsLine(outcome)}</p>
${context.afterLogout ? logoutCard(context) : ""}
<div class="card" id="what-happened">
<h2>What just happened</h2>
<ol>
${explain(outcome, context)}
</ol>
</div>
${conversationCard(context)}
<form method="post" action="/logout">
<button type="submit" id="logout">Log out</button>
(${POST_LOGOUT}: the server deletes the session and answers
${CLEARED_COOKIE}.)
</form>
<div class="card">
<h2>Try it</h2>
<ul>
<li>Open DevTools → Application → Cookies: <code>session_id</code> is <em>HttpOnly</em>
(no script can read it, so <code>document.cookie</code> is empty) and <em>SameSite=Lax</em>
(other sites' forms and scripts cannot send it along).</li>
<li>Delete the cookie, or edit its value, and reload: you are a new visitor again.</li>
<li>From a terminal: ${codeHtml(`curl -v -c jar -b jar ${context.origin}/`)}, twice.</li>
</ul>
</div>
</body>
</html>
`;
}
