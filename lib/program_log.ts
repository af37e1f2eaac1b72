/**
 * The programs' side of the access log: the `--log-format` and `--quiet`
 * flags, shutting down on a signal with the log in order, and ending the log
 * at shutdown.
 *
 * @module
 */
import { AccessLog, LOG_FORMATS, type LogFormat } from "./access_log.ts";
import { shutDownOnSignals, UsageError } from "./cli.ts";

/**
 * Reads the `--log-format` flag: absent means `"text"`.
 *
 * @param value The flag's value, `undefined` when not given.
 * @returns The format.
 * @throws {UsageError} For anything but `text` or `json`.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "jsr:@std/assert@1.0.19";
 * import { parseLogFormat } from "./program_log.ts";
 * assertEquals(parseLogFormat(undefined), "text");
 * assertEquals(parseLogFormat("json"), "json");
 * assertThrows(() => parseLogFormat("xml"));
 * ```
 */
export function parseLogFormat(value: string | undefined): LogFormat {
  if (value === undefined) return "text";
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new UsageError(`--log-format ${JSON.stringify(value)}: expected text or json`);
}

/**
 * Ends a program's log: writes what waits (at most `timeoutMs` for a stuck
 * output) and reports lines that never reached it on stderr, and why (too
 * slow, or closed, as when `| head` has gone). If the output is stuck, exits
 * the process at once (status 0: the server itself shut down cleanly), since
 * the write in progress would otherwise keep it alive.
 *
 * @param log The program's log.
 * @param timeoutMs How long a slow output may take.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { AccessLog } from "./access_log.ts";
 * import { closeProgramLog } from "./program_log.ts";
 * const path = await Deno.makeTempFile();
 * using file = await Deno.open(path, { write: true });
 * const log = new AccessLog({ output: file });
 * log.log("Stopped.");
 * await closeProgramLog(log);
 * assertEquals(await Deno.readTextFile(path), "Stopped.\n");
 * await Deno.remove(path);
 * ```
 */
export async function closeProgramLog(log: AccessLog, timeoutMs = 5000): Promise<void> {
  const complete = await log.close(timeoutMs);
  if (log.dropped > 0) {
    const why = log.failed ? "output closed" : "output too slow";
    console.error(`access log: ${log.dropped.toLocaleString("en-US")} log lines dropped (${why})`);
  }
  if (!complete && !log.failed) {
    console.error(`access log: output still blocked after ${timeoutMs} ms; exiting without it`);
    Deno.exit(0);
  }
}

/** A running program's output and shutdown; see {@linkcode startProgramOutput}. */
export interface ProgramOutput {
  /** The one buffered log everything the program prints goes through, in order. */
  output: AccessLog;
  /** Where request lines go: {@linkcode ProgramOutput.output}, or nowhere with `--quiet`. */
  requestLog: (line: string) => void;
  /** Aborted at the first SIGINT or SIGTERM: the server's graceful shutdown. */
  signal: AbortSignal;
  /** Removes the signal listeners, once the server has stopped. */
  stopListeningForSignals(): void;
}

/**
 * Opens a program's log as `--log-format` and `--quiet` say, and makes SIGINT
 * and SIGTERM abort {@linkcode ProgramOutput.signal}. Call it before the
 * server announces its port, so that no signal arrives unhandled.
 *
 * @param flags The program's parsed `--log-format` and `--quiet`.
 * @returns The log, the shutdown signal, and how to stop listening for signals.
 * @throws {UsageError} For a `--log-format` other than `text` or `json`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { endProgramOutput, startProgramOutput } from "./program_log.ts";
 * const program = startProgramOutput({ strings: {}, booleans: { quiet: true } });
 * program.requestLog("GET / 200");
 * assertEquals(program.signal.aborted, false);
 * await endProgramOutput(program, "Stopped.");
 * ```
 */
export function startProgramOutput(flags: {
  strings: Record<string, string | undefined>;
  booleans: Record<string, boolean>;
}): ProgramOutput {
  const output = new AccessLog({ format: parseLogFormat(flags.strings["log-format"]) });
  const shutdown = new AbortController();
  const stopListeningForSignals = shutDownOnSignals(() => shutdown.abort(), output.log);
  return {
    output,
    requestLog: flags.booleans.quiet ? () => {} : output.log,
    signal: shutdown.signal,
    stopListeningForSignals,
  };
}

/**
 * Ends a program that {@linkcode startProgramOutput} started, once its server
 * has stopped: no more signal listeners, `lastLine` logged, the log closed
 * (see {@linkcode closeProgramLog}).
 *
 * @param program What {@linkcode startProgramOutput} returned.
 * @param lastLine The program's last line, e.g. `Stopped.`.
 *
 * @example
 * ```ts
 * import { assert } from "jsr:@std/assert@1.0.19";
 * import { endProgramOutput, startProgramOutput } from "./program_log.ts";
 * const program = startProgramOutput({ strings: { "log-format": "json" }, booleans: {} });
 * await endProgramOutput(program, "Stopped.");
 * assert(!program.signal.aborted);
 * ```
 */
export async function endProgramOutput(program: ProgramOutput, lastLine: string): Promise<void> {
  program.stopListeningForSignals();
  program.output.log(lastLine);
  await closeProgramLog(program.output);
}
