import { assertEquals } from "@std/assert";
import { type DecodedPath, decodeRequestPath } from "../lib/caching/request_path.ts";

const ok = (segments: string[], endsWithSlash = false): DecodedPath => ({
  ok: true,
  segments,
  endsWithSlash,
});

Deno.test("decodeRequestPath decodes safe paths into segments", () => {
  const cases: [string, DecodedPath][] = [
    ["/", ok([], true)],
    ["/index.html", ok(["index.html"])],
    ["/docs/", ok(["docs"], true)],
    ["/docs/a%20b.txt", ok(["docs", "a b.txt"])],
    ["/caf%C3%A9.html", ok(["café.html"])],
    ["//a///b", ok(["a", "b"])], // empty segments are skipped
    ["/a..b", ok(["a..b"])], // dots inside a name are fine
  ];
  for (const [input, expected] of cases) assertEquals(decodeRequestPath(input), expected, input);
});

Deno.test("decodeRequestPath refuses what could escape the root or confuse the file system", () => {
  const cases: [string, 400 | 404][] = [
    ["/a%2Fb", 400], // encoded slash
    ["/a%2fb", 400],
    ["/a%2F..%2F..%2Fetc%2Fpasswd", 400],
    ["/..%5C..%5Cetc", 400], // encoded backslash
    ["/a\\b", 400], // a raw backslash, if the caller did not normalise it
    ["/index.html%00.txt", 400], // NUL
    ["/%E0%A4%A", 400], // truncated percent-encoding
    ["/%ff", 400], // not UTF-8
    ["/../etc/passwd", 400], // dot segments, had the URL parser not removed them
    ["/%2e%2e/etc/passwd", 400],
    ["/a/./b", 400],
    ["/.git/config", 404], // hidden files are not served
    ["/docs/.env", 404],
  ];
  for (const [input, status] of cases) {
    const decoded = decodeRequestPath(input);
    assertEquals(decoded.ok ? "ok" : decoded.status, status, input);
  }
});
