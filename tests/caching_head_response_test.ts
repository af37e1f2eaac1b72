/**
 * `withoutBody`: the response to a HEAD request, which must carry no body
 * (HTTP/2 clients reject DATA frames on it) but the GET's Content-Length.
 */
import { assertEquals, assertStrictEquals } from "@std/assert";
import { withoutBody } from "../lib/caching/head_response.ts";

Deno.test("withoutBody keeps status, fields and an explicit Content-Length, and drops the body", async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull: () => {
      throw new Error("the body must not be read when Content-Length is known");
    },
    cancel: () => {
      cancelled = true;
    },
  });
  const get = new Response(body, {
    status: 200,
    headers: { "content-length": "1048576", etag: '"v1"', "content-type": "text/html" },
  });
  const head = await withoutBody(get);
  assertEquals(head.body, null);
  assertEquals(head.status, 200);
  assertEquals(head.headers.get("content-length"), "1048576");
  assertEquals(head.headers.get("etag"), '"v1"');
  assertEquals(head.headers.get("content-type"), "text/html");
  assertEquals(cancelled, true);
});

Deno.test("withoutBody counts a body without Content-Length, and returns a body-less response as is", async () => {
  const notFound = await withoutBody(new Response("not found: /x\n", { status: 404 }));
  assertEquals([notFound.status, notFound.body], [404, null]);
  assertEquals(notFound.headers.get("content-length"), "14");
  assertEquals(notFound.headers.get("content-type"), "text/plain;charset=UTF-8");

  const notModified = new Response(null, { status: 304, headers: { etag: '"v1"' } });
  assertStrictEquals(await withoutBody(notModified), notModified);
});
