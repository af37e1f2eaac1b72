/**
 * Knowing that nothing changed without asking the disk.
 *
 * Checking a file's `stat` on every request costs a system call, which on the
 * 304 path is most of the work. Instead, a {@linkcode ChangeMonitor} asks the
 * operating system (inotify on Linux, FSEvents on macOS, via `Deno.watchFs`)
 * to report every change under the root, and counts them. A request can then
 * reuse what an earlier request found for the same path, as long as the
 * count has not moved since.
 *
 * The guarantee: a change is seen by every request that starts after Deno has
 * delivered the event for it (on Linux, well under a millisecond after the
 * write returns). A request in between may still get the previous version,
 * whole and with its own validators, never a mix.
 *
 * @module
 */

/**
 * Counts file-system events under a directory.
 *
 * @example
 * ```ts ignore
 * import { ChangeMonitor } from "./change_monitor.ts";
 * using monitor = ChangeMonitor.watch("./public", console.log)!;
 * const seen = monitor.generation;
 * await Deno.writeTextFile("./public/index.html", "<p>new</p>");
 * await monitor.nextChange();
 * console.log(monitor.generation > seen); // true
 * ```
 */
export class ChangeMonitor implements Disposable {
  #watcher: Deno.FsWatcher;
  #generation = 0;
  #watching = true;
  #waiters: (() => void)[] = [];
  readonly #done: Promise<void>;

  private constructor(watcher: Deno.FsWatcher, log: (line: string) => void, root: string) {
    this.#watcher = watcher;
    this.#done = this.#count(log, root);
  }

  /**
   * Starts watching `root` and everything below it. Returns `undefined` when
   * the operating system refuses (no watcher support, inotify limits): the
   * caller should then check files on every request instead.
   */
  static watch(root: string, log: (line: string) => void): ChangeMonitor | undefined {
    try {
      return new ChangeMonitor(Deno.watchFs(root, { recursive: true }), log, root);
    } catch (error) {
      log(`watch: cannot watch ${root} (${error}); checking files on every request instead`);
      return undefined;
    }
  }

  /** How many batches of file-system events have arrived; it only grows. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Whether events are still arriving. Once the watcher stops (closed, or
   * failed), a quiet generation proves nothing and files must be checked.
   */
  get watching(): boolean {
    return this.#watching;
  }

  /** Resolves after the next batch of events has been counted. */
  nextChange(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops watching; resolves once the watcher has wound down. */
  close(): Promise<void> {
    this.#watching = false;
    try {
      this.#watcher.close();
    } catch { /* already closed */ }
    return this.#done;
  }

  /** `using monitor = …` closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  async #count(log: (line: string) => void, root: string): Promise<void> {
    try {
      for await (const event of this.#watcher) {
        // Reading a file (the server's own reads included) changes nothing.
        if (event.kind === "access") continue;
        this.#generation++;
        // Event paths are absolute; the log shows them relative to the root, like URL paths.
        const paths = event.paths.map((path) =>
          path.startsWith(root) ? path.slice(root.length) : path
        );
        log(`watch: ${event.kind} ${paths.join(", ")}: cached files will be checked again`);
        for (const wake of this.#waiters.splice(0)) wake();
      }
    } catch (error) {
      if (this.#watching) log(`watch: stopped (${error}); checking files on every request instead`);
    } finally {
      this.#watching = false;
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }
}
