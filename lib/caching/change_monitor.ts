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
 * Only changes to paths the server could serve count: events for hidden paths
 * (`.git/`, `.data/`, editors' `.swp` files) neither move the generation nor
 * reach the log, since nothing under them is ever served.
 *
 * @module
 */
import { SEPARATOR } from "jsr:@std/path@1.1.6/constants";
import { placeUnderRoot } from "./place_under_root.ts";

/** Receives the servable paths of each batch of events (`[root]` when the batch names none). */
export type ChangeListener = (paths: readonly string[]) => void;

/**
 * Counts file-system events under a directory.
 *
 * @example
 * ```ts
 * import { assert } from "jsr:@std/assert@1.0.19";
 * import { ChangeMonitor } from "./change_monitor.ts";
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * const monitor = ChangeMonitor.watch(root, () => {})!;
 * const seen = monitor.generation;
 * const changed = monitor.nextChange();
 * await Deno.writeTextFile(`${root}/index.html`, "<p>new</p>");
 * await changed;
 * assert(monitor.generation > seen);
 * await monitor.close();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export class ChangeMonitor implements Disposable {
  #watcher: Deno.FsWatcher;
  #generation = 0;
  #watching = true;
  #waiters: (() => void)[] = [];
  #listeners: ChangeListener[] = [];
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

  /**
   * Calls `listener` with the paths of every batch of events that counts,
   * before the generation moves on, so what it forgets is forgotten by the
   * time any request sees the new generation.
   */
  onChange(listener: ChangeListener): void {
    this.#listeners.push(listener);
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
        const paths = event.paths.length === 0 ? [root] : servablePaths(event.paths, root);
        if (paths.length === 0) continue;
        for (const listener of this.#listeners) listener(paths);
        this.#generation++;
        const shown = paths.filter((path) => !isEditorTemporary(path)).map((path) =>
          // Event paths are absolute; the log shows them relative to the root, like URL paths.
          path.startsWith(root) ? path.slice(root.length) || "/" : path
        );
        if (shown.length > 0) {
          log(`watch: ${event.kind} ${shown.join(", ")}: cached files will be checked again`);
        }
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

/**
 * The paths among `paths` that the server could serve: not hidden below
 * `root` (no segment starting with `.`). Paths outside the root are kept, as
 * they can only come from links the watcher followed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { servablePaths } from "./change_monitor.ts";
 * const paths = ["/srv/site/a.html", "/srv/site/.data/s.kv-wal", "/srv/site/.git/index.lock"];
 * assertEquals(servablePaths(paths, "/srv/site"), ["/srv/site/a.html"]);
 * ```
 */
export function servablePaths(paths: readonly string[], root: string): string[] {
  return paths.filter((path) => placeUnderRoot(path, root) !== "hidden");
}

/**
 * Names editors write beside the file being saved: Vim's `4913` probe and
 * `file~` backups, Emacs's `#file#` auto-saves. A change to one still counts
 * (a client could ask for it by name), but is not worth a log line.
 */
function isEditorTemporary(path: string): boolean {
  const name = path.slice(path.lastIndexOf(SEPARATOR) + 1);
  return name === "4913" || name.endsWith("~") || (name.startsWith("#") && name.endsWith("#"));
}
