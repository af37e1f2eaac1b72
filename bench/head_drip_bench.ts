/**
 * `deno task bench:micro`: CPU per request head dripped one byte per read, at
 * three sizes. The server's way (one {@linkcode HeadParser} resumed after each
 * read) grows linearly with the head's size; re-parsing from the first byte
 * after each read, as the server once did, grows with its square.
 */
import { HeadParser, parseRequestHead } from "../lib/http1/parser.ts";

/** A valid head of about `bytes` bytes: 200-byte fields after the request line. */
function headOf(bytes: number): Uint8Array {
  const field = `X-Fill: ${"v".repeat(190)}\r\n`;
  const count = Math.floor((bytes - 40) / field.length);
  return new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: a\r\n${field.repeat(count)}\r\n`);
}

function dripIncrementally(head: Uint8Array): void {
  const parser = new HeadParser();
  for (let i = 1; i <= head.length; i++) parser.parse(head.subarray(0, i));
}

function dripReparsing(head: Uint8Array): void {
  for (let i = 1; i <= head.length; i++) parseRequestHead(head.subarray(0, i));
}

for (const kib of [4, 8, 16]) {
  const head = headOf(kib * 1024);
  Deno.bench(`dripped ${kib} KiB head, scanned once (the server's way)`, {
    group: "dripped head",
    baseline: kib === 4,
  }, () => dripIncrementally(head));
}
for (const kib of [4, 8, 16]) {
  const head = headOf(kib * 1024);
  Deno.bench(`dripped ${kib} KiB head, re-parsed from its first byte per read`, {
    group: "dripped head",
  }, () => dripReparsing(head));
}
