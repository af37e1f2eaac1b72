import { assertEquals } from "@std/assert";
import { setCookie } from "jsr:@std/http@1.1.3/cookie";
import { checkSameOrigin, type OriginFacts, serverOrigin } from "../lib/sessions/cross_origin.ts";
import { SESSION_COOKIE, sessionCookieAttributes } from "../lib/sessions/session_cookie.ts";

const OWN = {
  host: "localhost:8080",
  secure: false,
  origin: null,
  secFetchSite: null,
  referer: null,
};

Deno.test("checkSameOrigin: Origin, then Sec-Fetch-Site, then Referer, as Go 1.25 decides", () => {
  const cases: [Partial<OriginFacts>, boolean][] = [
    [{}, true], // curl: no browser fields at all
    [{ origin: "http://localhost:8080" }, true],
    [{ origin: "http://LOCALHOST:8080" }, true],
    [{ origin: "http://evil.example" }, false],
    [{ origin: "null" }, false],
    [{ origin: "https://localhost:8080" }, false], // another scheme is another origin
    [{ origin: "http://localhost:8080", secure: true }, false],
    [{ origin: "https://localhost:8080", secure: true }, true],
    [{ host: "localhost", origin: "http://localhost:80" }, true],
    [{ host: "LocalHost:8080", origin: "http://localhost:8080" }, true],
    [{ host: null, origin: "http://localhost:8080" }, false], // nothing to compare with
    [{ host: "evil.example@localhost:8080", origin: "http://localhost:8080" }, false],
    [{ secFetchSite: "same-origin" }, true],
    [{ secFetchSite: "none" }, true],
    [{ secFetchSite: "same-site" }, false],
    [{ secFetchSite: "cross-site" }, false],
    [{ secFetchSite: "cross-site", origin: "http://localhost:8080" }, false],
    [{ secFetchSite: "same-origin", origin: "http://evil.example" }, false],
    [{ secFetchSite: "same-origin", referer: "http://evil.example/" }, true],
    [{ referer: "http://localhost:8080/" }, true],
    [{ referer: "http://evil.example/form" }, false],
    [{ referer: "http://localhost:8080.evil.example/" }, false],
    [{ referer: "not a url" }, false],
  ];
  for (const [facts, allowed] of cases) {
    const verdict = checkSameOrigin({ ...OWN, ...facts });
    assertEquals(verdict.allowed, allowed, `${JSON.stringify(facts)}: ${verdict.reason}`);
  }
});

Deno.test("serverOrigin: scheme of the listener and Host, serialized as Origin is", () => {
  assertEquals(serverOrigin("127.0.0.1:8080", false), "http://127.0.0.1:8080");
  assertEquals(serverOrigin("[::1]:8080", false), "http://[::1]:8080");
  assertEquals(serverOrigin("example.test:443", true), "https://example.test");
  for (const bad of ["", "a/b", "a?b", "a#b", "u@a", "a\\b", "a b"]) {
    assertEquals(serverOrigin(bad, false), null, bad);
  }
});

Deno.test("sessionCookieAttributes: what @std/http's setCookie writes, without slicing its text", () => {
  for (const secure of [false, true]) {
    for (const maxAge of [0, 604800]) {
      const headers = new Headers();
      setCookie(headers, {
        name: SESSION_COOKIE,
        value: "v",
        path: "/",
        httpOnly: true,
        sameSite: "Lax",
        maxAge,
        secure,
      });
      assertEquals(
        `${SESSION_COOKIE}=v; ${sessionCookieAttributes({ secure, maxAgeSeconds: maxAge })}`,
        headers.get("set-cookie"),
      );
    }
  }
});
