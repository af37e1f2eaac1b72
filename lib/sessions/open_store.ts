/**
 * Picks and opens the session store the command line asked for.
 *
 * @module
 */
import { dirname } from "jsr:@std/path@1.1.6/dirname";
import { KvSessionStore } from "./kv_store.ts";
import { MemorySessionStore } from "./memory_store.ts";
import type { SessionStore } from "./session.ts";

/** The opened store, and a notice to print when it is not what was asked for. */
export interface OpenedStore {
  /** The store to use. */
  store: SessionStore;
  /** Set when the server fell back to memory; say it at start-up. */
  notice?: string;
}

/**
 * Opens the store named by `--store`:
 * - `memory`: process memory.
 * - an `http(s)://` URL: a remote Deno KV database (KV Connect).
 * - any other value: a local Deno KV file; its folder is created if missing.
 * - absent: Deno KV at Deno's default location for this script.
 *
 * Deno KV needs `--unstable-kv`. Without it (e.g. `deno run` straight from a
 * URL) the server falls back to memory and the returned notice says so.
 *
 * @example
 * ```ts
 * import { openSessionStore } from "./open_store.ts";
 * const { store } = await openSessionStore("memory");
 * console.log(store.description); // "memory (lost on restart)"
 * store.close();
 * ```
 */
export async function openSessionStore(spec: string | undefined): Promise<OpenedStore> {
  if (spec === "memory") return { store: new MemorySessionStore() };
  if (typeof Deno.openKv !== "function") {
    return {
      store: new MemorySessionStore(),
      notice: "Deno KV is not enabled (run with --unstable-kv): " +
        "sessions are kept in memory and lost on restart.",
    };
  }
  if (spec === undefined) {
    return { store: new KvSessionStore(await Deno.openKv(), { description: "Deno KV" }) };
  }
  if (!/^https?:\/\//.test(spec)) await Deno.mkdir(dirname(spec), { recursive: true });
  return {
    store: new KvSessionStore(await Deno.openKv(spec), { description: `Deno KV at ${spec}` }),
  };
}
