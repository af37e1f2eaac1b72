import { assertEquals, assertThrows } from "@std/assert";
import { RequestError } from "../lib/http1/errors.ts";
import {
  checkTransferEncoding,
  expectsContinue,
  isKeepAlive,
  parseContentLength,
} from "../lib/http1/fields.ts";

Deno.test("fields: parseContentLength", () => {
  assertEquals(parseContentLength(["0"]), 0);
  assertEquals(parseContentLength(["007"]), 7);
  assertEquals(parseContentLength(["999999999999999"]), 999999999999999);
  for (const bad of [[""], ["1,2"], ["1e3"], [" 1"], ["1000000000000000"], ["1", "1"]]) {
    assertThrows(() => parseContentLength(bad), RequestError);
  }
});

Deno.test("fields: checkTransferEncoding", () => {
  checkTransferEncoding(["chunked"]);
  checkTransferEncoding(["CHUNKED"]);
  checkTransferEncoding([" , chunked ,"]);
  assertThrows(() => checkTransferEncoding(["chunked", "chunked"]), RequestError);
});

Deno.test("fields: isKeepAlive and expectsContinue", () => {
  assertEquals(isKeepAlive(1, ["keep-alive"]), true);
  assertEquals(isKeepAlive(1, ["foo", "Close"]), false);
  assertEquals(isKeepAlive(0, ["close, keep-alive"]), false);
  assertEquals(isKeepAlive(0, ["Keep-Alive"]), true);
  assertEquals(expectsContinue(1, ["foo, 100-continue"]), true);
  assertEquals(expectsContinue(1, ["200-ok"]), false);
});
