/**
 * How both servers write a network address: `host:port`, with an IPv6
 * address in brackets (RFC 3986 §3.2.2), so that `::1` and port 8080 read
 * `[::1]:8080`, not `::1:8080`.
 *
 * @module
 */

/**
 * `host:port` for an address, bracketing an IPv6 host.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { formatHostPort } from "./net_address.ts";
 * assertEquals(formatHostPort({ hostname: "127.0.0.1", port: 8080 }), "127.0.0.1:8080");
 * assertEquals(formatHostPort({ hostname: "::1", port: 8080 }), "[::1]:8080");
 * ```
 */
export function formatHostPort(addr: { hostname: string; port: number }): string {
  const { hostname, port } = addr;
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * The URL to open for a server listening on `addr`: a wildcard address
 * (`0.0.0.0`, `::`) is shown as `localhost`, which reaches it from the same
 * machine.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { listenUrl } from "./net_address.ts";
 * assertEquals(listenUrl("http", { hostname: "::", port: 8080 }), "http://localhost:8080/");
 * assertEquals(listenUrl("https", { hostname: "::1", port: 8443 }), "https://[::1]:8443/");
 * ```
 */
export function listenUrl(
  scheme: "http" | "https",
  addr: { hostname: string; port: number },
): string {
  const wildcard = addr.hostname === "0.0.0.0" || addr.hostname === "::";
  return `${scheme}://${formatHostPort(wildcard ? { ...addr, hostname: "localhost" } : addr)}/`;
}
