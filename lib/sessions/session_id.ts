/**
 * Session ids the server can recognise as its own without storing them: random
 * bytes, the time they were issued, and a MAC (HMAC-SHA-256) over both under a
 * server secret. A first visit is answered with such an id and stores nothing;
 * when the id comes back, a valid MAC proves this server issued it, and only
 * then is the session stored.
 *
 * Layout (48 bytes, 64 base64url characters, every one significant):
 *
 * | bytes  | what                                       |
 * | ------ | ------------------------------------------ |
 * | 0–25   | random: 208 bits, far beyond guessing      |
 * | 26–31  | issue time, ms since the epoch, big-endian |
 * | 32–47  | HMAC-SHA-256 of bytes 0–31, first 16 bytes |
 *
 * @module
 */
import { timingSafeEqual } from "jsr:@std/crypto@1.1.0/timing-safe-equal";

/** Random bytes at the start of an id. */
const RANDOM_BYTES = 26;
/** Bytes of the issue time: 48 bits of milliseconds last until the year 10889. */
const TIME_BYTES = 6;
/** The signed part: random bytes and issue time. */
const SIGNED_BYTES = RANDOM_BYTES + TIME_BYTES;
/** HMAC-SHA-256 truncated to 128 bits, as RFC 4868 truncates it for IPsec. */
const MAC_BYTES = 16;
/** Bytes of a whole id. */
const ID_BYTES = SIGNED_BYTES + MAC_BYTES;

/** Size of a new server secret: the HMAC-SHA-256 block's worth of key is more than enough. */
const SECRET_BYTES = 32;

/** base64url of {@linkcode ID_BYTES} bytes: exactly 64 characters, no padding. */
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{64}$/;

/**
 * Tells whether `value` has the shape of an id this server issues. Anything
 * else is rejected before any lookup or MAC, so junk costs nothing.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { isWellFormedSessionId } from "./session_id.ts";
 * assertEquals(isWellFormedSessionId("A".repeat(64)), true);
 * assertEquals(isWellFormedSessionId("admin"), false);
 * ```
 */
export function isWellFormedSessionId(value: string): boolean {
  return SESSION_ID_PATTERN.test(value);
}

/**
 * A fresh random secret for {@linkcode SessionIdSigner}, from the platform's
 * cryptographically secure RNG.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { newSecret } from "./session_id.ts";
 * assertEquals(newSecret().length, 32);
 * ```
 */
export function newSecret(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
}

/**
 * Issues and checks session ids under one secret. Processes that share a
 * secret (a Deno KV store keeps one) recognise each other's ids.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { newSecret, SessionIdSigner } from "./session_id.ts";
 * const signer = await SessionIdSigner.fromSecret(newSecret());
 * const id = await signer.issue(1_700_000_000_000);
 * assertEquals(await signer.issuedAt(id), 1_700_000_000_000);
 * const other = await SessionIdSigner.fromSecret(newSecret());
 * assertEquals(await other.issuedAt(id), undefined);
 * ```
 */
export class SessionIdSigner {
  #key: CryptoKey;

  private constructor(key: CryptoKey) {
    this.#key = key;
  }

  /** Makes a signer from a secret such as {@linkcode newSecret} returns. */
  static async fromSecret(secret: Uint8Array<ArrayBuffer>): Promise<SessionIdSigner> {
    const key = await crypto.subtle.importKey(
      "raw",
      secret,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return new SessionIdSigner(key);
  }

  /** A new id, issued at `now` (ms since the epoch). */
  async issue(now: number): Promise<string> {
    const id = new Uint8Array(ID_BYTES);
    crypto.getRandomValues(id.subarray(0, RANDOM_BYTES));
    new DataView(id.buffer).setUint16(RANDOM_BYTES, Math.floor(now / 2 ** 32));
    new DataView(id.buffer).setUint32(RANDOM_BYTES + 2, now % 2 ** 32);
    id.set(await this.#mac(id.subarray(0, SIGNED_BYTES)), SIGNED_BYTES);
    return id.toBase64({ alphabet: "base64url", omitPadding: true });
  }

  /**
   * When `id` was issued (ms since the epoch), if this signer issued it;
   * `undefined` for anything else. The MACs are compared in constant time.
   */
  async issuedAt(id: string): Promise<number | undefined> {
    if (!isWellFormedSessionId(id)) return undefined;
    const bytes = Uint8Array.fromBase64(id, { alphabet: "base64url" });
    const expected = await this.#mac(bytes.subarray(0, SIGNED_BYTES));
    if (!timingSafeEqual(expected, bytes.subarray(SIGNED_BYTES))) return undefined;
    const view = new DataView(bytes.buffer);
    return view.getUint16(RANDOM_BYTES) * 2 ** 32 + view.getUint32(RANDOM_BYTES + 2);
  }

  async #mac(signed: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
    const mac = await crypto.subtle.sign("HMAC", this.#key, signed);
    return new Uint8Array(mac, 0, MAC_BYTES);
  }
}
