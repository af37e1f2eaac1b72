/**
 * The caching side's ceilings: `Deno.serve` answering every request with the
 * same bytes from memory, with no stat, no hashing and no header logic.
 *
 * - no mode: the bytes and `Content-Type` only, from a handler that takes no
 *   request (Deno then builds no `Request` object): the target baseline.
 * - `same-fields`: also the fields the caching server must send (ETag,
 *   Last-Modified, Cache-Control, Accept-Ranges), from one response built at
 *   start and cloned per request, the cheapest way `Deno.serve` sends them
 *   (building a new `Response` with five fields costs about 4 µs; a clone 0.1 µs).
 * - `conditional`: `same-fields`, plus what any server evaluating RFC 9110
 *   preconditions must read: the URL, the method and the five fields a plain
 *   GET leaves absent. No routing, no stat, no log: the least such a server can do.
 *
 * Usage: `deno run -A bench/servers/constant.ts FILE [same-fields|conditional]`;
 * prints `listening PORT`.
 */
const [file, mode] = Deno.args;
const body = await Deno.readFile(file);
const contentType = new Headers({ "content-type": "text/html; charset=UTF-8" });
const withFields = new Response(body, {
  headers: [
    ["etag", `"${"0".repeat(64)}"`],
    ["last-modified", new Date().toUTCString()],
    ["cache-control", "no-cache"],
    ["content-type", "text/html; charset=UTF-8"],
    ["accept-ranges", "bytes"],
  ],
});
/** The request fields RFC 9110 §13.2.2 steps 1–5 read when all are absent. */
const PRECONDITION_FIELDS = [
  "if-match",
  "if-unmodified-since",
  "if-none-match",
  "if-modified-since",
  "range",
];

/**
 * Reads what a server evaluating preconditions must read, then answers as
 * `same-fields` does. The bench asks for `/` with none of the fields; any
 * other request would need the real server, and gets a 501.
 */
function conditional(request: Request): Response {
  const { url } = request;
  const isBenchRequest = request.method === "GET" && url.slice(url.indexOf("/", 8)) === "/" &&
    PRECONDITION_FIELDS.every((name) => request.headers.get(name) === null);
  return isBenchRequest
    ? withFields.clone()
    : new Response("not a bench request\n", { status: 501 });
}

const handlers: Record<string, Deno.ServeHandler> = {
  "": () => new Response(body, { headers: contentType }),
  "same-fields": () => withFields.clone(),
  "conditional": conditional,
};
const handler = handlers[mode ?? ""];
if (handler === undefined) throw new Error(`unknown mode ${mode}`);

Deno.serve({
  port: 0,
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(`listening ${port}`),
}, handler);
