import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { describeListenError, parseServerFlags, UsageError } from "../lib/cli.ts";

Deno.test("parseServerFlags: common flags, the caller's own, and defaults", () => {
  const flags = parseServerFlags(
    ["--port", "9000", "--hostname=0.0.0.0", "--root", "site", "--verbose"],
    8000,
    { string: ["root", "store"], boolean: ["verbose"] },
  );
  assertEquals(flags, {
    port: 9000,
    portSource: "--port",
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
    [["--port"], "--port needs a value"],
    [["--root"], "--root needs a value"],
    [["--port", "65536"], '--port "65536": not a port number'],
    [["--port=-1"], "not a port number"],
    [["--port", "80x"], "not a port number"],
    [["a", "b"], "unexpected argument: b"],
    [["a", "--root", "b"], "a: --root was given too"],
    [["--", "x", "y"], "unexpected argument: y"],
  ];
  for (const [args, message] of cases) {
    assertThrows(
      () => parseServerFlags(args, 8000, { string: ["root"], positional: "root" }),
      UsageError,
      message,
    );
  }
});

Deno.test("parseServerFlags: a positional argument stands for the named flag, else is refused", () => {
  assertEquals(
    parseServerFlags(["public"], 8000, { string: ["root"], positional: "root" }).strings,
    {
      root: "public",
    },
  );
  assertThrows(() => parseServerFlags(["public"], 8000), UsageError, "unexpected argument: public");
  assertThrows(() => parseServerFlags(["--", "x"], 8000), UsageError, "unexpected argument: x");
  assertEquals(
    parseServerFlags(["--", "-public"], 8000, { string: ["root"], positional: "root" }).strings,
    { root: "-public" },
  );
});

Deno.test("describeListenError: one line for each ordinary mistake, nothing for the rest", () => {
  const target = { hostname: "10.99.99.99", port: 80, portSource: "default" as const };
  const cases: [Error, string | undefined][] = [
    [new Deno.errors.AddrInUse("in use"), "port 80 is already in use on 10.99.99.99"],
    [new Deno.errors.AddrNotAvailable("x"), "--hostname 10.99.99.99: not an address of this"],
    [new Error("failed to lookup address information: x"), "--hostname 10.99.99.99: no such"],
    [new Deno.errors.NotCapable("Requires net access"), "run again with --allow-net"],
    [new Deno.errors.PermissionDenied("Permission denied"), "ports below 1024"],
    [new TypeError("a bug"), undefined],
  ];
  for (const [error, start] of cases) {
    const said = describeListenError(error, target);
    if (start === undefined) assertEquals(said, undefined);
    else assertStringIncludes(said ?? "", start);
  }
});

Deno.test("describeListenError: an IPv6 host is bracketed before its port", () => {
  const target = { hostname: "::1", port: 8080, portSource: "--port" as const };
  assertEquals(
    describeListenError(new Deno.errors.NotCapable("Requires net access"), target),
    "no permission to listen on [::1]:8080: run again with --allow-net",
  );
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
      `port ${port} is already in use on 127.0.0.1: stop what uses it, or choose another port with --port`,
      module,
    );
  }
});
