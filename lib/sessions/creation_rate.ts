/**
 * How many new sessions one client may have stored: a token bucket per client
 * address. Ids cost nothing to issue (nothing is stored), but each one brought
 * back becomes a stored session, so a client minting ids and returning with
 * each would otherwise fill the store.
 *
 * @module
 */

/**
 * New sessions stored per minute per client address, and the burst allowed at
 * once: generous for the people behind one NAT, and 43,200 a day at most for
 * one attacker, against 100,000 sessions a store takes.
 */
export const NEW_SESSIONS_PER_MINUTE = 30;

/**
 * Most client addresses tracked at once. Past it the longest-tracked is
 * forgotten (its bucket starts full again): memory stays bounded whatever
 * addresses a client uses.
 */
const MAX_TRACKED_CLIENTS = 10_000;

/** One client's bucket. */
interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  updated: number;
}

/**
 * The part of a client address one person controls: the whole IPv4 address
 * (an IPv4-mapped IPv6 address included), and the first 64 bits of an IPv6
 * address, since a single host is routinely given a whole /64.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { clientKey } from "./creation_rate.ts";
 * assertEquals(clientKey("127.0.0.1"), "127.0.0.1");
 * assertEquals(clientKey("::ffff:10.0.0.1"), "10.0.0.1");
 * assertEquals(clientKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
 * assertEquals(clientKey("2001:db8::1"), "2001:db8:0:0::/64");
 * ```
 */
export function clientKey(hostname: string): string {
  if (!hostname.includes(":")) return hostname;
  const address = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1];
  const [head, tail] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined
    ? []
    : Array(8 - headGroups.length - tailGroups.length).fill("0");
  const groups = [...headGroups, ...zeros, ...tailGroups].map((g) => g.replace(/^0+(?=.)/, ""));
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/**
 * A token bucket per client: each holds up to `perMinute` tokens and gains
 * `perMinute` a minute; storing a new session takes one.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { CreationRateLimiter } from "./creation_rate.ts";
 * const limiter = new CreationRateLimiter({ perMinute: 2 });
 * assertEquals([limiter.take("a", 0), limiter.take("a", 0), limiter.take("a", 0)], [true, true, false]);
 * assertEquals(limiter.take("b", 0), true); // another client has its own bucket
 * assertEquals(limiter.take("a", 30_000), true); // half a minute: one more token
 * ```
 */
export class CreationRateLimiter {
  #perMinute: number;
  #maxClients: number;
  #buckets = new Map<string, Bucket>();

  /** A limiter with every bucket full. */
  constructor(options: { perMinute?: number; maxClients?: number } = {}) {
    this.#perMinute = options.perMinute ?? NEW_SESSIONS_PER_MINUTE;
    this.#maxClients = options.maxClients ?? MAX_TRACKED_CLIENTS;
    if (!(this.#perMinute > 0) || !(this.#maxClients >= 1)) {
      throw new RangeError("CreationRateLimiter: perMinute and maxClients must be positive");
    }
  }

  /** The rate, for messages: new sessions per minute per client. */
  get perMinute(): number {
    return this.#perMinute;
  }

  /** Takes a token from `client`'s bucket at `now` (ms); `false` when it is empty. */
  take(client: string, now: number): boolean {
    let bucket = this.#buckets.get(client);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxClients) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
      bucket = { tokens: this.#perMinute, updated: now };
      this.#buckets.set(client, bucket);
    }
    const refill = (Math.max(0, now - bucket.updated) * this.#perMinute) / 60_000;
    bucket.tokens = Math.min(this.#perMinute, bucket.tokens + refill);
    bucket.updated = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }
}
