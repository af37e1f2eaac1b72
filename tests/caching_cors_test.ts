/**
 * CORS for the caching server: the pure answer to OPTIONS (preflight or not),
 * and, over real sockets, the fields on every response with `cors: true`.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { answerOptions, CORS_RESPONSE_FIELDS } from "../lib/caching/cors.ts";
import { withCachingServer } from "./support/caching_server.ts";

const EXPOSED = "ETag, Last-Modified, Content-Range, Accept-Ranges";

Deno.test("answerOptions: a preflight gets 204 with the methods, fields and max age", () => {
  const answer = answerOptions(
    new Headers({
      origin: "https://app.example",
      "access-control-request-method": "GET",
      "access-control-request-headers": "if-none-match,range",
    }),
  );
  assertEquals(answer.status, 204);
  assertEquals(Object.fromEntries(answer.headers), {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": EXPOSED,
    "access-control-allow-methods": "GET, HEAD",
    "access-control-allow-headers":
      "If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range, Range",
    "access-control-max-age": "86400",
  });
  assertEquals(
    answer.reason,
    "CORS preflight from https://app.example for GET with if-none-match,range: allowed",
  );
});

Deno.test("answerOptions: the log predicts what the browser will refuse; the answer stays the same", () => {
  const cases: [Record<string, string>, string][] = [
    [
      { origin: "https://a.example", "access-control-request-method": "PUT" },
      "CORS preflight from https://a.example for PUT: refused (PUT is not an allowed method)",
    ],
    [
      {
        origin: "https://a.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "If-None-Match, X-Requested-With, authorization",
      },
      "CORS preflight from https://a.example for GET with If-None-Match, X-Requested-With, " +
      "authorization: refused (fields not allowed: x-requested-with, authorization)",
    ],
    [
      { "access-control-request-method": "HEAD" },
      "CORS preflight from (no Origin) for HEAD: allowed",
    ],
  ];
  const allowed = answerOptions(
    new Headers({ origin: "https://a.example", "access-control-request-method": "GET" }),
  );
  for (const [fields, reason] of cases) {
    const answer = answerOptions(new Headers(fields));
    assertEquals(answer.reason, reason);
    assertEquals([answer.status, answer.headers], [204, allowed.headers]);
  }
});

Deno.test("answerOptions: OPTIONS that is not a preflight gets 204 with Allow", () => {
  const answer = answerOptions(new Headers({ origin: "https://a.example" }));
  assertEquals(answer.status, 204);
  assertEquals(Object.fromEntries(answer.headers), {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": EXPOSED,
    allow: "GET, HEAD, OPTIONS",
  });
  assertEquals(
    answer.reason,
    "OPTIONS without Access-Control-Request-Method: not a preflight, Allow sent",
  );
});

Deno.test("CORS_RESPONSE_FIELDS: any origin, validators and range fields readable", () => {
  assertEquals(Object.fromEntries(CORS_RESPONSE_FIELDS), {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": EXPOSED,
  });
});

async function request(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

const FROM_APP = { origin: "https://app.example" };

Deno.test("--cors: 200, 206, 304, 412, 416 and 404 all carry Allow-Origin * and Expose-Headers, and no Vary", async () => {
  await withCachingServer({ "data.txt": "0123456789" }, { cors: true }, async ({ origin }) => {
    const full = await request(`${origin}/data.txt`, { headers: FROM_APP });
    const etag = full.headers.get("etag")!;
    const cases: [Record<string, string>, number, string][] = [
      [{}, 200, "/data.txt"],
      [{ range: "bytes=2-5" }, 206, "/data.txt"],
      [{ "if-none-match": etag }, 304, "/data.txt"],
      [{ "if-match": '"other"' }, 412, "/data.txt"],
      [{ range: "bytes=50-" }, 416, "/data.txt"],
      [{}, 404, "/missing.txt"],
    ];
    for (const [fields, status, path] of cases) {
      const { status: got, headers } = await request(origin + path, {
        headers: { ...FROM_APP, ...fields },
      });
      const what = `${status} ${JSON.stringify(fields)}`;
      assertEquals(got, status, what);
      assertEquals(headers.get("access-control-allow-origin"), "*", what);
      assertEquals(headers.get("access-control-expose-headers"), EXPOSED, what);
      // Nothing depends on Origin, so nothing varies with it.
      assertEquals(headers.get("vary"), null, what);
    }
  });
});

Deno.test("--cors: a request without Origin gets the same fields (a shared cache may store it for anyone)", async () => {
  await withCachingServer({ "data.txt": "0123456789" }, { cors: true }, async ({ origin }) => {
    const { headers } = await request(`${origin}/data.txt`);
    assertEquals(headers.get("access-control-allow-origin"), "*");
    assertEquals(headers.get("access-control-expose-headers"), EXPOSED);
  });
});

Deno.test("--cors: a preflight gets 204 and no body; OPTIONS otherwise gets Allow; other methods 405 with OPTIONS in Allow", async () => {
  await withCachingServer({ "data.txt": "0123456789" }, { cors: true }, async ({ origin, log }) => {
    const preflight = await request(`${origin}/data.txt`, {
      method: "OPTIONS",
      headers: {
        ...FROM_APP,
        "access-control-request-method": "GET",
        "access-control-request-headers": "if-none-match",
      },
    });
    assertEquals([preflight.status, preflight.body], [204, ""]);
    assertEquals(preflight.headers.get("access-control-allow-origin"), "*");
    assertEquals(preflight.headers.get("access-control-allow-methods"), "GET, HEAD");
    assertStringIncludes(preflight.headers.get("access-control-allow-headers")!, "If-None-Match");
    assertEquals(preflight.headers.get("access-control-max-age"), "86400");
    assertEquals(
      log.at(-1),
      "OPTIONS /data.txt 204 CORS preflight from https://app.example for GET with if-none-match: allowed",
    );

    const options = await request(`${origin}/data.txt`, { method: "OPTIONS" });
    assertEquals([options.status, options.headers.get("allow")], [204, "GET, HEAD, OPTIONS"]);

    const post = await request(`${origin}/data.txt`, { method: "POST", headers: FROM_APP });
    assertEquals([post.status, post.headers.get("allow")], [405, "GET, HEAD, OPTIONS"]);
    assertEquals(post.headers.get("access-control-allow-origin"), "*");
  });
});

Deno.test("without --cors: no CORS fields, and OPTIONS is 405 like any other method", async () => {
  await withCachingServer({ "data.txt": "0123456789" }, {}, async ({ origin }) => {
    const { headers } = await request(`${origin}/data.txt`, { headers: FROM_APP });
    assertEquals(headers.get("access-control-allow-origin"), null);
    const preflight = await request(`${origin}/data.txt`, {
      method: "OPTIONS",
      headers: { ...FROM_APP, "access-control-request-method": "GET" },
    });
    assertEquals([preflight.status, preflight.headers.get("allow")], [405, "GET, HEAD"]);
  });
});
