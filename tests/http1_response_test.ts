import { assertEquals, assertThrows } from "@std/assert";
import { serializeResponse, textResponse } from "../lib/http1/response.ts";

const DATE = "Thu, 01 Jan 1970 00:00:00 GMT";
const text = (b: Uint8Array) => String.fromCharCode(...b);
const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("response: status line, Date, headers, Content-Length, body in one buffer", () => {
  const out = serializeResponse(
    { status: 200, headers: new Headers({ "content-type": "text/plain" }), body: bytes("hi") },
    { date: DATE },
  );
  assertEquals(
    text(out),
    `HTTP/1.1 200 OK\r\ndate: ${DATE}\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nhi`,
  );
});

Deno.test("response: Connection close / keep-alive", () => {
  const parts = { status: 404, headers: new Headers(), body: null };
  assertEquals(
    text(serializeResponse(parts, { date: DATE, close: true })),
    `HTTP/1.1 404 Not Found\r\ndate: ${DATE}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
  );
  assertEquals(
    text(serializeResponse(parts, { date: DATE, http10KeepAlive: true })).includes(
      "connection: keep-alive\r\n",
    ),
    true,
  );
});

Deno.test("response: each Set-Cookie on its own line", () => {
  const headers = new Headers();
  headers.append("set-cookie", "a=1; Path=/");
  headers.append("set-cookie", "b=2, c; HttpOnly");
  const out = text(serializeResponse({ status: 200, headers, body: null }, { date: DATE }));
  assertEquals(out.match(/^set-cookie: .*$/gm), [
    "set-cookie: a=1; Path=/",
    "set-cookie: b=2, c; HttpOnly",
  ]);
});

Deno.test("response: server-owned fields from the handler are dropped", () => {
  const headers = new Headers({
    "transfer-encoding": "chunked",
    "content-length": "999",
    "connection": "upgrade",
    "date": "yesterday",
    "x-ok": "1",
  });
  const out = text(serializeResponse({ status: 200, headers, body: bytes("abc") }, { date: DATE }));
  assertEquals(
    out,
    `HTTP/1.1 200 OK\r\ndate: ${DATE}\r\nx-ok: 1\r\ncontent-length: 3\r\n\r\nabc`,
  );
});

Deno.test("response: HEAD keeps Content-Length, sends no body", () => {
  const body = bytes("hello");
  const out = text(serializeResponse({ status: 200, headers: new Headers(), body }, {
    date: DATE,
    head: true,
  }));
  assertEquals(out, `HTTP/1.1 200 OK\r\ndate: ${DATE}\r\ncontent-length: 5\r\n\r\n`);
  // A HEAD handler may declare the size without producing the body.
  const declared = text(serializeResponse(
    { status: 200, headers: new Headers({ "content-length": "1234" }), body: null },
    { date: DATE, head: true },
  ));
  assertEquals(declared.includes("content-length: 1234\r\n"), true);
});

Deno.test("response: 204 and 304 carry no body; 204 no Content-Length", () => {
  const body = bytes("ignored");
  const noContent = text(serializeResponse({ status: 204, headers: new Headers(), body }, {
    date: DATE,
  }));
  assertEquals(noContent, `HTTP/1.1 204 No Content\r\ndate: ${DATE}\r\n\r\n`);
  const notModified = text(serializeResponse(
    { status: 304, headers: new Headers({ etag: '"x"' }), body: null },
    { date: DATE },
  ));
  assertEquals(notModified, `HTTP/1.1 304 Not Modified\r\ndate: ${DATE}\r\netag: "x"\r\n\r\n`);
});

Deno.test("response: latin1 header values are written byte for byte", () => {
  const out = serializeResponse(
    { status: 200, headers: new Headers({ "x-name": "caf\xe9" }), body: null },
    { date: DATE },
  );
  const i = text(out).indexOf("caf");
  assertEquals(out[i + 3], 0xe9);
});

Deno.test("response: unknown status gets an empty reason phrase; invalid status throws", () => {
  const out = text(serializeResponse({ status: 599, headers: new Headers(), body: null }, {
    date: DATE,
  }));
  assertEquals(out.startsWith("HTTP/1.1 599 \r\n"), true);
  assertThrows(() => serializeResponse({ status: 99, headers: new Headers(), body: null }));
});

Deno.test("response: textResponse", () => {
  const response = textResponse(400, "400 Bad Request: why");
  assertEquals(response.body, "400 Bad Request: why\n");
});

Deno.test("response: a string body is sent as UTF-8, Content-Length in bytes", () => {
  const out = serializeResponse({ status: 200, body: "héllo ✓" }, { date: DATE });
  const decoded = new TextDecoder().decode(out);
  assertEquals(decoded.split("\r\n\r\n")[1], "héllo ✓");
  assertEquals(decoded.includes("content-length: 10\r\n"), true); // é: 2 bytes, ✓: 3
});

Deno.test("response: name-value pairs keep their order and case, and may repeat", () => {
  const out = text(serializeResponse({
    status: 200,
    headers: [["X-First", "1"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], [
      "Content-Length",
      "7",
    ]],
    body: "abc",
  }, { date: DATE }));
  assertEquals(
    out,
    `HTTP/1.1 200 OK\r\ndate: ${DATE}\r\nX-First: 1\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n` +
      "content-length: 3\r\n\r\nabc",
  );
});

Deno.test("response: a field that could break the head is refused, not written", () => {
  const cases: [string, string][] = [
    ["x-injected", "a\r\nset-cookie: stolen=1"],
    ["x-lf", "a\nb"],
    ["x-nul", "a\0b"],
    ["bad name", "1"],
    ["x:colon", "1"],
    ["", "1"],
    ["x-wide", "snowman ☃"],
  ];
  for (const field of cases) {
    assertThrows(
      () => serializeResponse({ status: 200, headers: [field], body: "x" }),
      TypeError,
      undefined,
      JSON.stringify(field),
    );
  }
});

Deno.test("response: a body that is neither string nor bytes is refused", () => {
  const stream = new Response("x").body;
  assertThrows(
    // @ts-expect-error: a Web Response's stream, as a JavaScript caller could pass
    () => serializeResponse({ status: 200, body: stream }),
    TypeError,
    "ReadableStream",
  );
  stream!.cancel();
});
