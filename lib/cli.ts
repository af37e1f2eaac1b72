/**
 * What both servers do the same way as command-line programs: parse the flags
 * they have in common (`--port`, `--hostname`, `--help`) and reject anything
 * unknown, fall back to the `PORT` environment variable, turn the ordinary
 * mistakes (a taken port, an unknown host, a missing permission) into one line
 * that says what to do, and shut down gracefully on SIGINT/SIGTERM.
 *
 * @module
 */
import { parseArgs } from "jsr:@std/cli@1.0.32/parse-args";
import { formatHostPort } from "./net_address.ts";

/**
 * Thrown for a bad command line; {@linkcode runMain} prints it on one line and exits with code 2.
 *
 * @example An unknown flag
 * ```ts
 * import { assertThrows } from "jsr:@std/assert@1.0.19";
 * import { parseServerFlags, UsageError } from "./cli.ts";
 * assertThrows(() => parseServerFlags(["--prot", "80"], 8000), UsageError, "--prot");
 * ```
 */
export class UsageError extends Error {
  /** Always `"UsageError"`. */
  override name = "UsageError";
}

/**
 * Thrown when the command line is valid but the server cannot start as asked
 * (a taken port, a missing file or permission). The message says what is
 * wrong and what to do; {@linkcode runMain} prints it on one line and exits
 * with code 1.
 *
 * @example A port that is already taken
 * ```ts
 * import { assertThrows } from "jsr:@std/assert@1.0.19";
 * import { listenOrExplain, StartupError } from "./cli.ts";
 * using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const target = { hostname: "127.0.0.1", port: taken.addr.port, portSource: "--port" as const };
 * assertThrows(() => listenOrExplain(target, () => Deno.listen(target)), StartupError, "in use");
 * ```
 */
export class StartupError extends Error {
  /** Always `"StartupError"`. */
  override name = "StartupError";
}

/** What the caller declares about its own flags besides the common ones. */
export interface FlagSpec {
  /** Flags that take a value, e.g. `["root", "cache-control"]`. */
  string?: string[];
  /** Flags that take no value; `false` unless given. */
  boolean?: string[];
  /** Flags that are on unless turned off with `--no-NAME`, e.g. `["watch"]`. */
  negatable?: string[];
  /**
   * One of `string` that a single positional argument may stand for, e.g.
   * `"root"` so that `serve public` means `serve --root public`.
   */
  positional?: string;
}

/** Where the port came from, so an error about it can name it as the user wrote it. */
export type PortSource = "--port" | "$PORT" | "default";

/** The parsed command line. */
export interface ParsedFlags {
  /** TCP port to listen on; `0` lets the OS pick. */
  port: number;
  /** Where {@linkcode ParsedFlags.port} came from. */
  portSource: PortSource;
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
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { parseServerFlags } from "./cli.ts";
 * const flags = parseServerFlags(["--port", "9000", "public"], 8000, {
 *   string: ["root"],
 *   positional: "root",
 * });
 * assertEquals([flags.port, flags.portSource, flags.strings.root], [9000, "--port", "public"]);
 * ```
 */
export function parseServerFlags(
  args: string[],
  defaultPort: number,
  spec: FlagSpec = {},
): ParsedFlags {
  const stringFlags = ["port", "hostname", ...(spec.string ?? [])];
  const negatable = spec.negatable ?? [];
  const positionals: string[] = [];
  const addPositional = (arg: string) => {
    if (spec.positional === undefined || positionals.length > 0) {
      throw new UsageError(`unexpected argument: ${arg}`);
    }
    positionals.push(arg);
  };
  const parsed = parseArgs(args, {
    string: stringFlags,
    boolean: ["help", ...(spec.boolean ?? []), ...negatable],
    negatable,
    default: Object.fromEntries(negatable.map((name) => [name, true])),
    alias: { h: "help" },
    unknown: (arg: string) => {
      if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown flag: ${arg}`);
      addPositional(arg);
      return false;
    },
  });
  // Arguments after "--" skip the unknown callback; they are positional all the same.
  for (const arg of parsed._) addPositional(String(arg));
  for (const name of stringFlags) {
    // parseArgs turns a trailing `--root` with no value into "".
    if (parsed[name] === "") throw new UsageError(`--${name} needs a value`);
  }

  const strings: Record<string, string | undefined> = {};
  for (const name of spec.string ?? []) strings[name] = parsed[name];
  if (spec.positional !== undefined && positionals.length > 0) {
    if (strings[spec.positional] !== undefined) {
      throw new UsageError(`${positionals[0]}: --${spec.positional} was given too`);
    }
    strings[spec.positional] = positionals[0];
  }
  const booleans: Record<string, boolean> = {};
  for (const name of [...(spec.boolean ?? []), ...negatable]) {
    booleans[name] = Boolean(parsed[name]);
  }

  const [port, portSource] = choosePort(parsed.port, defaultPort);
  return {
    port,
    portSource,
    hostname: parsed.hostname ?? "127.0.0.1",
    help: Boolean(parsed.help),
    strings,
    booleans,
  };
}

function choosePort(flag: string | undefined, fallback: number): [number, PortSource] {
  if (flag !== undefined) return [parsePort(flag, "--port"), "--port"];
  const fromEnv = readPortFromEnv();
  if (fromEnv !== undefined) return [parsePort(fromEnv, "$PORT"), "$PORT"];
  return [fallback, "default"];
}

function parsePort(value: string, source: "--port" | "$PORT"): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`${source} ${JSON.stringify(value)}: not a port number (0-65535)`);
  }
  return Number(value);
}

/** Reads `PORT` only when already permitted, so running without `--allow-env` never prompts. */
function readPortFromEnv(): string | undefined {
  const status = Deno.permissions.querySync({ name: "env", variable: "PORT" });
  return status.state === "granted" ? Deno.env.get("PORT") : undefined;
}

/** Where a server tried to listen, as {@linkcode describeListenError} needs it. */
export interface ListenTarget {
  /** `--hostname`'s value. */
  hostname: string;
  /** The port. */
  port: number;
  /** Where the port came from. */
  portSource: PortSource;
}

/**
 * Says in one line what went wrong when binding the listening socket failed
 * for an ordinary reason, and what to do; `undefined` for anything else.
 *
 * @param error What `Deno.listen`, `Deno.listenTls` or `Deno.serve` threw.
 * @param target The address the server tried to listen on.
 * @returns The message, or `undefined` when the error is not an ordinary mistake.
 *
 * @example A port that is already taken
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { describeListenError } from "./cli.ts";
 * const error = new Deno.errors.AddrInUse("Address already in use (os error 98)");
 * assertEquals(
 *   describeListenError(error, { hostname: "127.0.0.1", port: 8080, portSource: "$PORT" }),
 *   "port 8080 (from $PORT) is already in use on 127.0.0.1: stop what uses it, " +
 *     "or choose another port with --port",
 * );
 * ```
 */
export function describeListenError(error: unknown, target: ListenTarget): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { hostname, port, portSource } = target;
  const portName = portSource === "$PORT" ? `port ${port} (from $PORT)` : `port ${port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return `${portName} is already in use on ${hostname}: stop what uses it, ` +
      "or choose another port with --port";
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `--hostname ${hostname}: not an address of this machine; use 127.0.0.1 ` +
      "(this machine only), 0.0.0.0 (every interface) or one of its own addresses";
  }
  if (/failed to lookup address|Name or service not known/i.test(error.message)) {
    return `--hostname ${hostname}: no such host; use 127.0.0.1 (this machine only), ` +
      "0.0.0.0 (every interface) or a name that resolves to an address of this machine";
  }
  if (error instanceof Deno.errors.NotCapable) {
    return `no permission to listen on ${formatHostPort(target)}: run again with --allow-net`;
  }
  if (error instanceof Deno.errors.PermissionDenied && port < 1024) {
    return `${portName}: ports below 1024 need administrator rights here; ` +
      "choose another port with --port";
  }
  return undefined;
}

/**
 * Runs `listen` and turns an ordinary failure to bind (see
 * {@linkcode describeListenError}) into a {@linkcode StartupError}.
 *
 * @example
 * ```ts
 * import { assertThrows } from "jsr:@std/assert@1.0.19";
 * import { listenOrExplain, StartupError } from "./cli.ts";
 * using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const target = { hostname: "127.0.0.1", port: taken.addr.port, portSource: "--port" as const };
 * assertThrows(() => listenOrExplain(target, () => Deno.listen(target)), StartupError, "in use");
 * ```
 */
export function listenOrExplain<T>(target: ListenTarget, listen: () => T): T {
  try {
    return listen();
  } catch (error) {
    const explanation = describeListenError(error, target);
    if (explanation === undefined) throw error;
    throw new StartupError(explanation, { cause: error });
  }
}

/**
 * Runs a server's `main` the way command-line tools are expected to fail: one
 * line on stderr, no stack trace. A {@linkcode UsageError} exits with code 2
 * and points at `--help`; a {@linkcode StartupError} or a missing permission
 * (Deno's message names the `--allow-…` flag) exits with code 1. Anything
 * else is a bug and propagates with its stack trace.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { runMain } from "./cli.ts";
 * let ran = false;
 * await runMain(() => {
 *   ran = true;
 *   return Promise.resolve();
 * });
 * assertEquals(ran, true);
 * ```
 */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message} (see --help)`);
      Deno.exit(2);
    }
    if (error instanceof StartupError || error instanceof Deno.errors.NotCapable) {
      console.error(`error: ${error.message}`);
      Deno.exit(1);
    }
    throw error;
  }
}

/**
 * Makes SIGINT (Ctrl-C) or SIGTERM start a graceful shutdown; a second signal
 * exits at once, for when a slow client holds the shutdown up. Returns a
 * function that removes the listeners, so the process can exit when done.
 * `announce` prints the shutdown line (the programs pass their buffered log,
 * so it comes after the access lines logged before it).
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { shutDownOnSignals } from "./cli.ts";
 * let stopping = false;
 * const unsubscribe = shutDownOnSignals(() => stopping = true);
 * unsubscribe();
 * assertEquals(stopping, false);
 * ```
 */
export function shutDownOnSignals(
  shutdown: () => void,
  announce: (line: string) => void = console.log,
): () => void {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  let received = false;
  const onSignal = () => {
    if (received) Deno.exit(130);
    received = true;
    announce("Shutting down: finishing in-flight responses (signal again to force)…");
    shutdown();
  };
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  return () => {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  };
}
