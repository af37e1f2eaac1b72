/**
 * The peer a Node.js user would write: `node:http` serving one file with a
 * strong ETag (SHA-256 of its bytes, as the caching server's), answering
 * `If-None-Match` with 304, and logging one line per request to stdout with
 * `process.stdout.write` (what morgan does). No npm packages. The file is read
 * and hashed once at start, the strongest this peer can be; the caching
 * server also answers from memory while nothing changes on disk.
 *
 * Usage: `node bench/servers/node_http.mjs FILE PORT log|quiet` (or with
 * `deno run -A`); prints `listening PORT`.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import process from "node:process";

const [file, port, logMode] = process.argv.slice(2);
const body = readFileSync(file);
const etag = `"${createHash("sha256").update(body).digest("hex")}"`;
const validators = {
  "etag": etag,
  "last-modified": statSync(file).mtime.toUTCString(),
  "cache-control": "no-cache",
};
const logging = logMode === "log";

createServer((request, response) => {
  if (request.headers["if-none-match"] === etag) {
    response.writeHead(304, validators).end();
  } else {
    response.writeHead(200, {
      ...validators,
      "content-type": "text/html; charset=UTF-8",
      "content-length": body.length,
    }).end(body);
  }
  if (logging) {
    process.stdout.write(`${request.method} ${request.url} ${response.statusCode}\n`);
  }
}).listen(Number(port), "127.0.0.1", () => console.log(`listening ${port}`));
