/**
 * Group commit: the classic way a database makes many small durable writes
 * cheap. Writes that arrive while a commit is in flight wait for it to finish,
 * then all go together in the next commit. A write that arrives alone is
 * committed at once, so no latency is added; under load, one commit carries
 * many writes. Each caller's promise settles only when the commit carrying its
 * write has settled: nothing is acknowledged before it is stored.
 *
 * @module
 */

/** Limits on what one commit may carry. */
export interface GroupCommitLimits<T> {
  /** Most items in one commit. */
  maxItems: number;
  /**
   * Most distinct keys in one commit, when a commit's size is bound by the
   * keys it touches rather than by its items (e.g. Deno KV reads at most 10
   * keys at once). Needs {@linkcode GroupCommitLimits.keyOf}.
   */
  maxKeys?: number;
  /** The key an item touches. */
  keyOf?: (item: T) => string;
}

/** An item waiting for a commit, with the settlers of its caller's promise. */
interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Commits items in groups, one group at a time, in arrival order.
 *
 * `commit` receives a group and returns one result per item, in order; if it
 * throws, or returns a different number of results, every item of that group
 * is rejected with the error, and later groups are committed as usual.
 *
 * @example Three writes in one tick: the first commits alone, the other two together
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { GroupCommit } from "./group_commit.ts";
 * const groups: number[][] = [];
 * const writer = new GroupCommit<number, number>(async (items) => {
 *   groups.push(items);
 *   await Promise.resolve(); // the durable write
 *   return items.map((item) => item * 10);
 * }, { maxItems: 100 });
 * const results = await Promise.all([1, 2, 3].map((item) => writer.submit(item)));
 * assertEquals(results, [10, 20, 30]);
 * assertEquals(groups, [[1], [2, 3]]);
 * ```
 */
export class GroupCommit<T, R> {
  #commit: (items: T[]) => Promise<R[]>;
  #limits: GroupCommitLimits<T>;
  #waiting: Waiting<T, R>[] = [];
  #committing = false;

  /**
   * Makes a group committer; nothing is committed until the first {@linkcode GroupCommit.submit}.
   *
   * @param commit Stores a group of items durably; one result per item, in order.
   * @param limits Bounds on the size of one group.
   */
  constructor(commit: (items: T[]) => Promise<R[]>, limits: GroupCommitLimits<T>) {
    if (!(limits.maxItems >= 1) || !((limits.maxKeys ?? 1) >= 1)) {
      throw new RangeError("GroupCommit: maxItems and maxKeys must be at least 1");
    }
    if (limits.maxKeys !== undefined && limits.keyOf === undefined) {
      throw new TypeError("GroupCommit: maxKeys needs keyOf");
    }
    this.#commit = commit;
    this.#limits = limits;
  }

  /** Queues `item` for the next commit; resolves with its result once that commit is done. */
  submit(item: T): Promise<R> {
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    this.#waiting.push({ item, resolve, reject });
    if (!this.#committing) this.#commitAll();
    return promise;
  }

  /** Commits group after group until nothing waits. Never rejects. */
  async #commitAll(): Promise<void> {
    this.#committing = true;
    while (this.#waiting.length > 0) {
      const group = this.#waiting.splice(0, this.#groupSize());
      try {
        const results = await this.#commit(group.map((waiting) => waiting.item));
        if (results.length !== group.length) {
          // A short answer would acknowledge some items with `undefined` as if stored.
          throw new Error(
            `GroupCommit: commit returned ${results.length} results for ${group.length} items`,
          );
        }
        group.forEach((waiting, i) => waiting.resolve(results[i]));
      } catch (error) {
        for (const waiting of group) waiting.reject(error);
      }
    }
    this.#committing = false;
  }

  /** How many of the waiting items, from the front, the next group can take. */
  #groupSize(): number {
    const { maxItems, maxKeys, keyOf } = this.#limits;
    const size = Math.min(maxItems, this.#waiting.length);
    if (maxKeys === undefined || keyOf === undefined) return size;
    const keys = new Set<string>();
    for (let i = 0; i < size; i++) {
      keys.add(keyOf(this.#waiting[i].item));
      if (keys.size > maxKeys) return i;
    }
    return size;
  }
}
