/**
 * The ordinary mistakes a newcomer makes on the command line, each run as a
 * real `deno run` process with `--no-prompt` (so Deno never asks, as when
 * there is no terminal): one line on stderr that says what is wrong and what
 * to do, no stack trace, and the exit code (2 for a bad command line, 1 for a
 * server that cannot start as asked).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { join } from "jsr:@std/path@1.1.6/join";
import { ServerProcess } from "./support/server_process.ts";

const CACHING = new URL("../caching_server.ts", import.meta.url).href;
const COOKIE = new URL("../cookie_server.ts", import.meta.url).href;
/** What `deno task cache` and `deno task cookie` grant (deno.json). */
const CACHE_TASK = ["--allow-net", "--allow-read", "--allow-env=PORT"];
const COOKIE_TASK = [
  "--unstable-kv",
  "--allow-net",
  "--allow-read",
  "--allow-write=.data",
  "--allow-env=PORT",
];
const README = new URL("../README.md", import.meta.url).pathname;

interface Mistake {
  /** What the user typed, after `deno run --no-prompt`. */
  args: string[];
  /** The exit code. */
  code: number;
  /** What the one error line must say. */
  says: string[];
  env?: Record<string, string>;
}

/** Runs `deno run --no-prompt ARGS` in `cwd` with stdin closed, as from a script. */
async function run(mistake: Mistake, cwd: string) {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...mistake.args],
    cwd,
    env: mistake.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

/** One `error:` line, the last one, saying everything `says` lists; no trace. */
function assertOneClearLine(mistake: Mistake, code: number, stderr: string): void {
  const what = `deno run ${mistake.args.join(" ")}\n${stderr}`;
  assertEquals(code, mistake.code, what);
  const lines = stderr.trimEnd().split("\n");
  const errors = lines.filter((line) => line.startsWith("error: "));
  assertEquals(errors.length, 1, what);
  assertEquals(errors[0], lines[lines.length - 1], what);
  for (const part of mistake.says) assertStringIncludes(errors[0], part, what);
  assert(!/Uncaught|^\s+at /m.test(stderr), `a stack trace: ${what}`);
}

async function assertAllClear(mistakes: Mistake[]): Promise<void> {
  const cwd = await Deno.makeTempDir({ prefix: "cli_mistakes_test_" });
  try {
    const results = await Promise.all(mistakes.map((mistake) => run(mistake, cwd)));
    results.forEach(({ code, stderr }, i) => assertOneClearLine(mistakes[i], code, stderr));
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

Deno.test("cookie server: missing or invalid TLS files, a store outside --allow-write", async () => {
  const outside = await Deno.makeTempDir({ prefix: "cli_mistakes_store_" });
  try {
    await assertAllClear([
      {
        args: [...COOKIE_TASK, COOKIE, "--cert", "nope.pem", "--key", "nope.pem"],
        code: 2,
        says: ["--cert nope.pem: no such file (see --help)"],
      },
      {
        args: [...COOKIE_TASK, COOKIE, "--port", "0", "--cert", README, "--key", README],
        code: 2,
        says: ["No certificates found", "expected a PEM certificate chain"],
      },
      {
        args: [...COOKIE_TASK, COOKIE, "--port", "0", "--store", join(outside, "s.kv")],
        code: 1,
        says: [`--store ${join(outside, "s.kv")}`, "--allow-write", "under .data/"],
      },
      {
        args: ["--allow-net", COOKIE, "--store", ".data/sessions.kv"],
        code: 2,
        says: ["--store .data/sessions.kv needs Deno KV: run with --unstable-kv", "see --help"],
      },
    ]);
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("both servers: hosts that are not this machine, and no --allow-net", async () => {
  const mistakes: Mistake[] = [];
  for (const [server, permissions] of [[CACHING, CACHE_TASK], [COOKIE, COOKIE_TASK]] as const) {
    mistakes.push(
      {
        args: [...permissions, server, "--port", "0", "--hostname", "nosuchhost.invalid"],
        code: 1,
        says: ["--hostname nosuchhost.invalid: no such host"],
      },
      {
        args: [...permissions, server, "--port", "0", "--hostname", "10.99.99.99"],
        code: 1,
        says: ["--hostname 10.99.99.99: not an address of this machine"],
      },
    );
  }
  mistakes.push(
    { args: [COOKIE, "--port", "0"], code: 1, says: ["--allow-net"] },
    { args: ["--allow-read", CACHING, "--port", "0"], code: 1, says: ["--allow-net"] },
  );
  await assertAllClear(mistakes);
});

Deno.test("caching server without --allow-read says read permission is missing", async () => {
  await assertAllClear([
    { args: ["--allow-net", CACHING], code: 1, says: ["no permission to read", "--allow-read"] },
  ]);
});

Deno.test("usage errors: one line and see --help; $PORT and a taken port are named", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String(taken.addr.port);
  const mistakes: Mistake[] = [];
  for (const [server, permissions] of [[CACHING, CACHE_TASK], [COOKIE, COOKIE_TASK]] as const) {
    mistakes.push(
      { args: [...permissions, server, "--bogus"], code: 2, says: ["unknown flag: --bogus"] },
      { args: [...permissions, server, "--port", "http"], code: 2, says: ['--port "http"'] },
      {
        args: [...permissions, server],
        env: { PORT: "eighty" },
        code: 2,
        says: ['$PORT "eighty": not a port number'],
      },
      {
        args: [...permissions, server, "--port", port],
        code: 1,
        says: [`port ${port} is already in use`, "--port"],
      },
      {
        args: [...permissions, server],
        env: { PORT: port },
        code: 1,
        says: [`port ${port} (from $PORT) is already in use`],
      },
    );
  }
  mistakes.push({
    args: [...CACHE_TASK, CACHING, "a", "b"],
    code: 2,
    says: ["unexpected argument: b"],
  });
  for (const { code, says } of mistakes) if (code === 2) says.push("(see --help)");
  await assertAllClear(mistakes);
});

Deno.test("cookie server: --unstable-kv without --store says where the KV file is", async () => {
  const server = new ServerProcess(["--no-prompt", ...COOKIE_TASK, COOKIE, "--port", "0"]);
  try {
    const { input: line } = await server.waitForLine(/sessions: /);
    assertStringIncludes(line, "(sessions: Deno KV at Deno's default location)");
  } finally {
    server.kill("SIGTERM");
    const { code, stderr } = await server.finish();
    assertEquals(code, 0, stderr);
    assertStringIncludes(
      stderr,
      "warning: sessions are in Deno's default KV file: <Origin storage>",
    );
    assertStringIncludes(stderr, "choose the file with --store FILE");
    assertEquals(server.output[server.output.length - 1], "Stopped.");
  }
});

Deno.test("caching server: a positional directory is served, and prints Stopped. last", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "cli_positional_test_" });
  await Deno.mkdir(join(cwd, "public"));
  await Deno.writeTextFile(join(cwd, "public", "hello.txt"), "from public/");
  const server = new ServerProcess([...CACHE_TASK, CACHING, "public", "--port", "0"], { cwd });
  try {
    const response = await fetch(`http://127.0.0.1:${await server.port()}/hello.txt`);
    assertEquals(await response.text(), "from public/");
    assertMatch(server.output[0], /^Serving public at /);
  } finally {
    server.kill("SIGTERM");
    const { code, stderr } = await server.finish();
    await Deno.remove(cwd, { recursive: true });
    assertEquals(code, 0, stderr);
    assertEquals(server.output[server.output.length - 1], "Stopped.");
  }
  await assertAllClear([{
    args: [...CACHE_TASK, CACHING, "public", "--root", "site"],
    code: 2,
    says: ["public: --root was given too"],
  }]);
});
