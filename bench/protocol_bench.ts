/**
 * `deno task bench:micro`: the pure functions on the servers' hot paths, each
 * group measured against a baseline in the same run (`deno bench` prints the
 * ratios), so the figures compare across machines.
 */
import { getCookies, setCookie } from "jsr:@std/http@1.1.3/cookie";
import { evaluatePreconditions } from "../lib/caching/preconditions.ts";
import { Http1Request } from "../lib/http1/message.ts";
import { parseRequestHead } from "../lib/http1/parser.ts";
import { OutputBuffer, serializeResponse, serializeResponseInto } from "../lib/http1/response.ts";
import { findCookie } from "../lib/sessions/cookie_header.ts";
import { newSecret, SessionIdSigner } from "../lib/sessions/session_id.ts";

const encoder = new TextEncoder();

const ETAG = '"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"';
const validators = { etag: ETAG, lastModified: 1_700_000_000 };
const revalidation = new Headers({
  "if-none-match": ETAG,
  "if-modified-since": "Tue, 14 Nov 2023 22:13:20 GMT",
});

Deno.bench("Headers.get (baseline)", { group: "preconditions", baseline: true }, () => {
  revalidation.get("if-none-match");
});
Deno.bench("evaluatePreconditions: If-None-Match matches → 304", { group: "preconditions" }, () => {
  evaluatePreconditions("GET", revalidation, validators);
});
Deno.bench("evaluatePreconditions: no validators → 200", { group: "preconditions" }, () => {
  evaluatePreconditions("GET", new Headers(), validators);
});

/** What Chromium sends for a navigation, cookie included. */
const BROWSER_REQUEST = encoder.encode(
  "GET / HTTP/1.1\r\nHost: localhost:8080\r\nConnection: keep-alive\r\n" +
    'sec-ch-ua: "Chromium";v="156", "Not)A;Brand";v="24"\r\nsec-ch-ua-mobile: ?0\r\n' +
    'sec-ch-ua-platform: "Linux"\r\nUpgrade-Insecure-Requests: 1\r\n' +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
    "Chrome/156.0.0.0 Safari/537.36\r\n" +
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp," +
    "image/apng,*/*;q=0.8\r\nSec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\n" +
    "Sec-Fetch-User: ?1\r\nSec-Fetch-Dest: document\r\nAccept-Encoding: gzip, deflate, br\r\n" +
    "Accept-Language: en-US,en;q=0.9\r\n" +
    `Cookie: session_id=${"A".repeat(64)}; theme=dark\r\n\r\n`,
);
/** A large but legal head: 90 fields, 12 KiB. */
const LARGE_REQUEST = encoder.encode(
  "GET /search?q=" + "x".repeat(2000) + " HTTP/1.1\r\nHost: example.com\r\n" +
    Array.from({ length: 90 }, (_, i) => `X-Field-${i}: ${"v".repeat(100)}\r\n`).join("") +
    "\r\n",
);

Deno.bench("TextDecoder latin1 of the head (baseline)", { group: "parse", baseline: true }, () => {
  latin1.decode(BROWSER_REQUEST);
});
Deno.bench("parseRequestHead: typical browser request", { group: "parse" }, () => {
  parseRequestHead(BROWSER_REQUEST);
});
Deno.bench("parseRequestHead: 90 fields, 12 KiB", { group: "parse" }, () => {
  parseRequestHead(LARGE_REQUEST);
});
const latin1 = new TextDecoder("latin1");

// What the connection hands the handler: an Http1Request over the parsed head,
// against the Web Request a Web-typed server would have to build from it.
const parsedBrowser = parseRequestHead(BROWSER_REQUEST);
if (!parsedBrowser.done) throw new Error("BROWSER_REQUEST must parse");
const browserHead = parsedBrowser.head;
const connection = {
  remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 50000 },
  secure: false,
  fallbackAuthority: "127.0.0.1:8080",
};
Deno.bench("new Request from the parsed fields (baseline)", {
  group: "request",
  baseline: true,
}, () => {
  new Request("http://localhost:8080/", { method: "GET", headers: browserHead.fields })
    .headers.get("cookie");
});
Deno.bench("new Http1Request + header(cookie) (the server's way)", { group: "request" }, () => {
  new Http1Request(browserHead, null, connection).header("cookie");
});

const signer = await SessionIdSigner.fromSecret(newSecret());
const SESSION_ID = await signer.issue(Date.now());
const cookieHeaders = new Headers({ cookie: `theme=dark; session_id=${SESSION_ID}; lang=en` });
Deno.bench("Headers.get (baseline)", { group: "cookies", baseline: true }, () => {
  cookieHeaders.get("cookie");
});
Deno.bench("getCookies: three cookies", { group: "cookies" }, () => {
  getCookies(cookieHeaders);
});
const cookieLine = cookieHeaders.get("cookie");
Deno.bench("findCookie: session_id of three (the server's way)", { group: "cookies" }, () => {
  findCookie(cookieLine, "session_id");
});
/** What a client can send within the header limit: 16 KiB of empty pairs, the cookie last. */
const SEMICOLONS = ";".repeat(16 * 1024) + "session_id=abc";
Deno.bench('findCookie: after 16 KiB of ";" (linear, not quadratic)', { group: "cookies" }, () => {
  findCookie(SEMICOLONS, "session_id");
});
Deno.bench("setCookie: session_id with attributes", { group: "cookies" }, () => {
  setCookie(new Headers(), {
    name: "session_id",
    value: SESSION_ID,
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    maxAge: 604800,
  });
});
// The app builds the attributes once at start-up and then only splices in the id.
const attributes = "HttpOnly; Max-Age=604800; SameSite=Lax; Path=/";
Deno.bench("Set-Cookie from prebuilt attributes (the server's way)", { group: "cookies" }, () => {
  `session_id=${SESSION_ID}; ${attributes}`.length;
});
Deno.bench("issue a session id: 208 random bits and their MAC", { group: "cookies" }, async () => {
  await signer.issue(Date.now());
});
Deno.bench("check a session id's MAC", { group: "cookies" }, async () => {
  await signer.issuedAt(SESSION_ID);
});

const page = "x".repeat(2048);
const pageFields: [string, string][] = [["content-type", "text/html; charset=utf-8"]];
Deno.bench("new Response(page) and its bytes (baseline)", {
  group: "respond",
  baseline: true,
}, async () => {
  await new Response(page, { headers: pageFields }).bytes();
});
Deno.bench("serializeResponse: 2 KB page, fresh buffer", { group: "respond" }, () => {
  serializeResponse({ status: 200, headers: pageFields, body: page });
});
const out = new OutputBuffer();
Deno.bench("serializeResponseInto: 2 KB page, reused buffer (the server's way)", {
  group: "respond",
}, () => {
  serializeResponseInto(out, { status: 200, headers: pageFields, body: page });
  out.clear();
});
