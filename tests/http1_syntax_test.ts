import { assert } from "@std/assert";
import { isValidAuthority } from "../lib/http1/syntax.ts";

Deno.test("syntax: isValidAuthority", () => {
  for (const ok of ["a", "a.b-c_d~e", "127.0.0.1:80", "[::1]", "[2001:db8::1]:443", "a:", "x%41"]) {
    assert(isValidAuthority(ok), ok);
  }
  for (
    const bad of ["", ":80", "a b", "a:b", "a:123456", "[::1", "[zz]", "a@b", "a/b", "a?b", "\xe9"]
  ) {
    assert(!isValidAuthority(bad), bad);
  }
});
