/**
 * Every wait in the browser tests is bounded: a step that never happens fails
 * with a message naming the step, instead of hanging the test run.
 *
 * @module
 */

/** Thrown when a bounded wait runs out of time. */
export class TimeoutError extends Error {
  override name = "TimeoutError";
}

/**
 * Resolves as `promise` does, or rejects with a {@linkcode TimeoutError}
 * saying `Timed out after MS ms waiting for WHAT` when it takes longer.
 * The timer is always cleared, so Deno's sanitizers see no leftover timer.
 *
 * @example
 * ```ts ignore
 * await withTimeout(loaded, 10_000, "Page.loadEventFired after reload");
 * ```
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`Timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
