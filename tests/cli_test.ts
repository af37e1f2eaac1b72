import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { parseServerFlags, UsageError } from "../lib/cli.ts";

Deno.test("parseServerFlags: common flags, the caller's own, and defaults", () => {
  const flags = parseServerFlags(
    ["--port", "9000", "--hostname=0.0.0.0", "--root", "site", "--verbose"],
    8000,
    { string: ["root", "store"], boolean: ["verbose"] },
  );
  assertEquals(flags, {
    port: 9000,
    hostname: "0.0.0.0",
    help: false,
    strings: { root: "site", store: undefined },
    booleans: { verbose: true },
  });
  const defaults = parseServerFlags([], 8080);
  assertEquals([defaults.port, defaults.hostname], [8080, "127.0.0.1"]);
  assertEquals(parseServerFlags(["-h"], 8080).help, true);
  assertEquals(parseServerFlags(["--port", "0"], 8080).port, 0);
  const negatable = { negatable: ["watch"] };
  assertEquals(parseServerFlags([], 8000, negatable).booleans.watch, true);
  assertEquals(parseServerFlags(["--no-watch"], 8000, negatable).booleans.watch, false);
});

Deno.test("parseServerFlags: bad command lines throw a UsageError that says why", () => {
  const cases: [string[], string][] = [
    [["--bogus"], "unknown flag: --bogus"],
    [["stray"], "unexpected argument: stray"],
    [["--port"], "--port needs a value"],
    [["--root"], "--root needs a value"],
    [["--port", "65536"], "invalid port"],
    [["--port=-1"], "invalid port"],
    [["--port", "80x"], "invalid port"],
  ];
  for (const [args, message] of cases) {
    assertThrows(() => parseServerFlags(args, 8000, { string: ["root"] }), UsageError, message);
  }
});

Deno.test("both servers exit with code 1 and a hint when the port is taken", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String(taken.addr.port);
  for (const module of ["caching_server.ts", "cookie_server.ts"]) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        new URL(`../${module}`, import.meta.url).pathname,
        "--port",
        port,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(code, 1, module);
    assertStringIncludes(
      new TextDecoder().decode(stderr),
      "choose another port with --port",
      module,
    );
  }
});
