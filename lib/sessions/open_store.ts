/**
 * Picks and opens the session store the command line asked for.
 *
 * @module
 */
import { dirname } from "jsr:@std/path@1.1.6/dirname";
import { KvSessionStore } from "./kv_store.ts";
import { MemorySessionStore } from "./memory_store.ts";
import type { SessionStore } from "./session.ts";

/**
 * Where `Deno.openKv()` without a path keeps its file. Deno does not tell a
 * program which deno.json it found, so the rule is spelled out rather than
 * the path computed.
 */
const DEFAULT_KV_LOCATION = "sessions are in Deno's default KV file: " +
  "<Origin storage>/<SHA-256 of the deno.json file URL, or of the script's URL " +
  'when there is none>/kv.sqlite3 ("deno info" prints Origin storage); ' +
  "choose the file with --store FILE";

/** The opened store, and a notice to print when it is not what was asked for. */
export interface OpenedStore {
  /** The store to use. */
  store: SessionStore;
  /** Set when the store is not what was asked for, or is not where one would look; say it at start-up. */
  notice?: string;
}

/**
 * Opens the store named by `--store`:
 * - `memory`: process memory.
 * - an `http(s)://` URL: a remote Deno KV database (KV Connect).
 * - any other value: a local Deno KV file; its folder is created if missing.
 * - absent: Deno KV at Deno's default location for this script; the notice
 *   says where that is.
 *
 * Deno KV needs `--unstable-kv`. Without it (e.g. `deno run` straight from a
 * URL) the server falls back to memory and the returned notice says so.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { openSessionStore } from "./open_store.ts";
 * const { store } = await openSessionStore("memory");
 * assertEquals(store.description, "memory (lost on restart)");
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
    const description = "Deno KV at Deno's default location";
    return {
      store: new KvSessionStore(await Deno.openKv(), { description }),
      notice: DEFAULT_KV_LOCATION,
    };
  }
  if (!/^https?:\/\//.test(spec)) await Deno.mkdir(dirname(spec), { recursive: true });
  return {
    store: new KvSessionStore(await Deno.openKv(spec), { description: `Deno KV at ${spec}` }),
  };
}
