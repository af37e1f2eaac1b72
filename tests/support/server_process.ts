/**
 * Test support: the servers as real programs, the way a user runs them.
 */
import { TextLineStream } from "jsr:@std/streams@1.1.2/text-line-stream";

/**
 * A server program running as a child process (`deno run …`), its stdout
 * read line by line, so tests wait for what it prints instead of sleeping.
 */
export class ServerProcess {
  readonly #child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #stderr: Promise<string>;
  /** Every stdout line read so far. */
  readonly output: string[] = [];
  /** Set by {@linkcode ServerProcess.drainOutput}: the background read of the rest of stdout. */
  #draining: Promise<void> | null = null;

  /**
   * Runs `deno run …args`. `descriptorLimit` sets the process's hard and soft
   * limit on open file descriptors (`ulimit -n`, through bash).
   */
  constructor(
    args: string[],
    options: { cwd?: string; env?: Record<string, string>; descriptorLimit?: number } = {},
  ) {
    const command = [Deno.execPath(), "run", ...args];
    if (options.descriptorLimit !== undefined) {
      command.unshift("bash", "-c", 'ulimit -n "$0" && exec "$@"', `${options.descriptorLimit}`);
    }
    this.#child = new Deno.Command(command[0], {
      args: command.slice(1),
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream())
      .pipeThrough<string>(new TextLineStream()).getReader();
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** Reads stdout until a line matches `pattern`. */
  async waitForLine(pattern: RegExp): Promise<RegExpExecArray> {
    while (true) {
      const { value, done } = await this.#lines.read();
      if (done) {
        throw new Error(
          `exited before printing ${pattern}:\n${this.output.join("\n")}\n` +
            await this.#stderr,
        );
      }
      this.output.push(value);
      const match = pattern.exec(value);
      if (match) return match;
    }
  }

  /** The port from the first line naming `http(s)://127.0.0.1:PORT/`: both servers print one. */
  async port(): Promise<number> {
    return Number((await this.waitForLine(/ (?:at|on) https?:\/\/127\.0\.0\.1:(\d+)\//))[1]);
  }

  /**
   * Keeps reading stdout into {@linkcode ServerProcess.output} in the
   * background. A server that logs every request blocks once the pipe is
   * full, so a test sending many requests must keep it drained.
   */
  drainOutput(): void {
    this.#draining ??= (async () => {
      while (true) {
        const { value, done } = await this.#lines.read();
        if (done) return;
        this.output.push(value);
      }
    })();
  }

  /** The child's process id (e.g. to read its memory use from `/proc`). */
  get pid(): number {
    return this.#child.pid;
  }

  kill(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** Waits for exit, reading the rest of stdout and stderr. */
  async finish(): Promise<{ code: number; signal: Deno.Signal | null; stderr: string }> {
    this.drainOutput();
    await this.#draining;
    const [{ code, signal }, stderr] = await Promise.all([this.#child.status, this.#stderr]);
    return { code, signal, stderr };
  }
}
