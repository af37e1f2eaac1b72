/**
 * Answering HEAD with no body at all, whatever the protocol.
 *
 * Over HTTP/1.1, `Deno.serve` drops the body of a response to HEAD and keeps
 * its header fields. Over HTTP/2 it sends the body anyway, in DATA frames,
 * and a HEAD response with DATA frames is malformed (RFC 9113 §8.1.1): curl
 * and other nghttp2 clients reset the stream with PROTOCOL_ERROR. So a
 * response to HEAD must carry no body, and its own `Content-Length`: the
 * size the GET would have sent (RFC 9110 §9.3.2).
 *
 * @module
 */

/**
 * The response to send for a HEAD request: `response`'s status and header
 * fields, with no body. `Content-Length` is kept when the response has one
 * (its body is then cancelled unread); otherwise the body is read to count
 * its bytes, which suits the in-memory bodies that lack it.
 *
 * @param response The response a GET for the same target would get.
 * @returns The same response when it has no body, else a body-less copy.
 *
 * @example A HEAD response keeps the GET's length and loses its body
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { withoutBody } from "./head_response.ts";
 *
 * const head = await withoutBody(new Response("hello", { headers: { etag: '"a"' } }));
 * assertEquals(head.body, null);
 * assertEquals(head.headers.get("content-length"), "5");
 * assertEquals(head.headers.get("etag"), '"a"');
 * ```
 */
export function withoutBody(response: Response): Response | Promise<Response> {
  if (response.body === null) return response;
  if (response.headers.has("content-length")) {
    response.body.cancel().catch(() => {}); // nothing was read, so nothing can fail
    return bodiless(response, response.headers);
  }
  return response.arrayBuffer().then((bytes) => {
    const headers = new Headers(response.headers);
    headers.set("content-length", String(bytes.byteLength));
    return bodiless(response, headers);
  });
}

function bodiless(response: Response, headers: Headers): Response {
  return new Response(null, { status: response.status, statusText: response.statusText, headers });
}
