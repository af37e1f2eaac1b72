/**
 * The programs' side of the access log: the `--log-format` flag, and ending
 * the log at shutdown.
 *
 * @module
 */
import { AccessLog, LOG_FORMATS, type LogFormat } from "./access_log.ts";
import { UsageError } from "./cli.ts";

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
