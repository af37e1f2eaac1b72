import { assertEquals } from "@std/assert";
import { Http1Request } from "../lib/http1/message.ts";
import { parseRequestHead } from "../lib/http1/parser.ts";

const CONNECTION = {
  remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 50000 },
  secure: false,
  fallbackAuthority: "127.0.0.1:8080",
};

function requestOf(head: string, connection = CONNECTION): Http1Request {
  const parsed = parseRequestHead(new TextEncoder().encode(head));
  if (!parsed.done) throw new Error("incomplete head");
  return new Http1Request(parsed.head, null, connection);
}

Deno.test("Http1Request: origin, path and pathname from the target and Host", () => {
  const request = requestOf("GET /a/b?c=1 HTTP/1.1\r\nHost: example.test:8080\r\n\r\n");
  assertEquals(
    [request.method, request.origin, request.path, request.pathname],
    ["GET", "http://example.test:8080", "/a/b?c=1", "/a/b"],
  );
  const absolute = requestOf("GET http://other.test/x HTTP/1.1\r\nHost: ignored.test\r\n\r\n");
  assertEquals([absolute.origin, absolute.path], ["http://other.test", "/x"]); // RFC 9112 §3.2.2
  const http10 = requestOf("GET / HTTP/1.0\r\n\r\n");
  assertEquals(http10.origin, "http://127.0.0.1:8080"); // no Host: the listener's address
  const tls = requestOf("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", { ...CONNECTION, secure: true });
  assertEquals(tls.origin, "https://a.test");
});

Deno.test("Http1Request: header() is case-sensitive on lower-case names and combines repeats", () => {
  const request = requestOf(
    "GET / HTTP/1.1\r\nHost: a\r\nAccept: text/html\r\nAccept: */*\r\n" +
      "Cookie: a=1\r\nCookie: b=2\r\n\r\n",
  );
  assertEquals(request.header("accept"), "text/html, */*"); // RFC 9110 §5.3
  assertEquals(request.header("cookie"), "a=1; b=2"); // RFC 6265 §5.4
  assertEquals(request.header("x-missing"), null);
});
