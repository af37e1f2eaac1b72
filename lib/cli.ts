/**
 * What both servers do the same way as command-line programs: parse the flags
 * they have in common (`--port`, `--hostname`, `--help`) and reject anything
 * unknown, fall back to the `PORT` environment variable, and shut down
 * gracefully on SIGINT/SIGTERM.
 *
 * @module
 */
import { parseArgs } from "jsr:@std/cli@1.0.32/parse-args";

/** Thrown for a bad command line; the entry points print it and exit with code 2. */
export class UsageError extends Error {
  /** Always `"UsageError"`. */
  override name = "UsageError";
}

/** What the caller declares about its own flags besides the common ones. */
export interface FlagSpec {
  /** Flags that take a value, e.g. `["root", "cache-control"]`. */
  string?: string[];
  /** Flags that take no value; `false` unless given. */
  boolean?: string[];
  /** Flags that are on unless turned off with `--no-NAME`, e.g. `["watch"]`. */
  negatable?: string[];
}

/** The parsed command line. */
export interface ParsedFlags {
  /** TCP port to listen on; `0` lets the OS pick. */
  port: number;
  /** Interface to bind; loopback unless the user opts in to more (e.g. `0.0.0.0`). */
  hostname: string;
  /** `--help` was given. */
  help: boolean;
  /** Values of the caller's own string flags, absent when not given. */
  strings: Record<string, string | undefined>;
  /** Values of the caller's own boolean flags. */
  booleans: Record<string, boolean>;
}

/**
 * Parses `args` strictly: unknown flags, stray positional arguments, missing
 * values and invalid ports throw a {@linkcode UsageError}. The port comes from
 * `--port`, else from the `PORT` environment variable when the process may
 * read it, else from `defaultPort`.
 *
 * @example Parse a caching-server command line
 * ```ts
 * import { parseServerFlags } from "./cli.ts";
 * const flags = parseServerFlags(["--port", "9000", "--root", "site"], 8000, {
 *   string: ["root"],
 * });
 * console.log(flags.port, flags.strings.root); // 9000 "site"
 * ```
 */
export function parseServerFlags(
  args: string[],
  defaultPort: number,
  spec: FlagSpec = {},
): ParsedFlags {
  const stringFlags = ["port", "hostname", ...(spec.string ?? [])];
  const negatable = spec.negatable ?? [];
  const booleanFlags = ["help", ...(spec.boolean ?? []), ...negatable];
  const parsed = parseArgs(args, {
    string: stringFlags,
    boolean: booleanFlags,
    negatable,
    default: Object.fromEntries(negatable.map((name) => [name, true])),
    alias: { h: "help" },
    unknown: (arg: string) => {
      throw new UsageError(
        arg.startsWith("-") ? `unknown flag: ${arg}` : `unexpected argument: ${arg}`,
      );
    },
  });
  for (const name of stringFlags) {
    // parseArgs turns a trailing `--root` with no value into "".
    if (parsed[name] === "") throw new UsageError(`--${name} needs a value`);
  }

  const strings: Record<string, string | undefined> = {};
  for (const name of spec.string ?? []) strings[name] = parsed[name];
  const booleans: Record<string, boolean> = {};
  for (const name of [...(spec.boolean ?? []), ...negatable]) {
    booleans[name] = Boolean(parsed[name]);
  }

  return {
    port: parsePort(parsed.port ?? readPortFromEnv(), defaultPort),
    hostname: parsed.hostname ?? "127.0.0.1",
    help: Boolean(parsed.help),
    strings,
    booleans,
  };
}

function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`invalid port: ${JSON.stringify(value)} (expected 0-65535)`);
  }
  return Number(value);
}

/** Reads `PORT` only when already permitted, so running without `--allow-env` never prompts. */
function readPortFromEnv(): string | undefined {
  const status = Deno.permissions.querySync({ name: "env", variable: "PORT" });
  return status.state === "granted" ? Deno.env.get("PORT") : undefined;
}

/**
 * Runs a server's `main` the way command-line tools are expected to fail: a
 * {@linkcode UsageError} prints the message and the usage and exits with
 * code 2; a port that is already taken prints a one-line hint and exits with
 * code 1. Anything else is a bug and propagates with its stack trace.
 *
 * @example
 * ```ts
 * import { runMain } from "./cli.ts";
 * await runMain("usage: demo [--port N]", () => Promise.resolve());
 * ```
 */
export async function runMain(usage: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\n${usage}`);
      Deno.exit(2);
    }
    if (error instanceof Deno.errors.AddrInUse) {
      console.error(`error: ${error.message}; choose another port with --port`);
      Deno.exit(1);
    }
    throw error;
  }
}

/**
 * Makes SIGINT (Ctrl-C) or SIGTERM start a graceful shutdown; a second signal
 * exits at once, for when a slow client holds the shutdown up. Returns a
 * function that removes the listeners, so the process can exit when done.
 *
 * @example
 * ```ts ignore
 * import { shutDownOnSignals } from "./cli.ts";
 * const server = Deno.serve(() => new Response("hi"));
 * const unsubscribe = shutDownOnSignals(() => server.shutdown());
 * await server.finished;
 * unsubscribe();
 * ```
 */
export function shutDownOnSignals(shutdown: () => void): () => void {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  let received = false;
  const onSignal = () => {
    if (received) Deno.exit(130);
    received = true;
    console.log("Shutting down: finishing in-flight responses (signal again to force)…");
    shutdown();
  };
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  return () => {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  };
}
