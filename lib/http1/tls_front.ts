/**
 * TLS whose handshake can be cut off: a public TCP listener in front of a
 * private TLS one.
 *
 * Why not `Deno.listenTls` alone? On Deno 2.9, `close()` on a TLS connection
 * whose handshake has not completed does not release its socket: the
 * descriptor stays open until the client itself closes or sends something.
 * A client that connects and stays silent holds a descriptor for as long as
 * it likes, and enough of them exhaust the process's descriptor limit. Deno
 * offers no server-side upgrade of a plain TCP connection (`Deno.startTls`
 * is the client side), so this module accepts plain TCP on the public port,
 * connects to a private `Deno.listenTls` listener on 127.0.0.1, and copies
 * bytes both ways. Closing a {@linkcode FrontedTlsConn} closes both plain
 * TCP connections, which the kernel always releases; the private TLS side
 * then sees EOF, its handshake fails, and Deno releases it too.
 *
 * What it costs: three descriptors per TLS connection instead of one, and
 * one more copy of every byte through a loopback socket.
 *
 * @module
 */

/**
 * A TLS connection accepted by {@linkcode TlsFrontListener}: reads and writes
 * go through TLS; `remoteAddr` is the real client's; `close()` releases every
 * socket behind it, handshake complete or not.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { TlsFrontListener } from "./tls_front.ts";
 * const fixtures = new URL("../../tests/fixtures/http1/", import.meta.url);
 * const cert = await Deno.readTextFile(new URL("cert.pem", fixtures));
 * const key = await Deno.readTextFile(new URL("key.pem", fixtures));
 * const listener = new TlsFrontListener({ hostname: "127.0.0.1", port: 0, cert, key });
 * const silent = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const conn = await listener.accept();
 * assertEquals(conn.remoteAddr.port, silent.localAddr.port);
 * conn.close(); // released although the client never started its handshake
 * silent.close();
 * listener.close();
 * await listener.drained();
 * ```
 */
export class FrontedTlsConn {
  /** The client's address (on the public TCP connection). */
  readonly remoteAddr: Deno.NetAddr;
  #tls: Deno.TlsConn;
  #release: () => void;

  /** Wraps `tls`, whose client is at `remoteAddr`; `release` closes the plain TCP pair. */
  constructor(tls: Deno.TlsConn, remoteAddr: Deno.NetAddr, release: () => void) {
    this.#tls = tls;
    this.remoteAddr = remoteAddr;
    this.#release = release;
  }

  /** Reads decrypted bytes. */
  read(buffer: Uint8Array): Promise<number | null> {
    return this.#tls.read(buffer);
  }

  /** Writes bytes, encrypted. */
  write(bytes: Uint8Array): Promise<number> {
    return this.#tls.write(bytes);
  }

  /** Sends TLS close_notify and half-closes. */
  closeWrite(): Promise<void> {
    return this.#tls.closeWrite();
  }

  /** Resolves once the TLS handshake has completed. */
  handshake(): Promise<Deno.TlsHandshakeInfo> {
    return this.#tls.handshake();
  }

  /** Closes the TLS connection and the plain TCP pair behind it. */
  close(): void {
    try {
      this.#tls.close();
    } catch { /* already closed */ }
    this.#release();
  }
}

/**
 * Options for {@linkcode TlsFrontListener}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import type { TlsFrontOptions } from "./tls_front.ts";
 * const options: TlsFrontOptions = { hostname: "127.0.0.1", port: 0, cert: "…", key: "…" };
 * assertEquals(options.port, 0);
 * ```
 */
export interface TlsFrontOptions {
  /** Public interface to bind. */
  hostname: string;
  /** Public port; `0` lets the OS pick. */
  port: number;
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/**
 * Accepts TLS connections on a public port; see the module documentation.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { TlsFrontListener } from "./tls_front.ts";
 * const fixtures = new URL("../../tests/fixtures/http1/", import.meta.url);
 * const cert = await Deno.readTextFile(new URL("cert.pem", fixtures));
 * const key = await Deno.readTextFile(new URL("key.pem", fixtures));
 * const listener = new TlsFrontListener({ hostname: "127.0.0.1", port: 0, cert, key });
 * const client = await Deno.connectTls({ hostname: "localhost", port: listener.addr.port, caCerts: [cert] });
 * const conn = await listener.accept();
 * await client.write(new TextEncoder().encode("hi"));
 * const buffer = new Uint8Array(2);
 * assertEquals(await conn.read(buffer), 2);
 * assertEquals(new TextDecoder().decode(buffer), "hi");
 * client.close();
 * conn.close();
 * listener.close();
 * await listener.drained();
 * ```
 */
export class TlsFrontListener {
  /** The public address. */
  readonly addr: Deno.NetAddr;
  #public: Deno.TcpListener;
  #private: Deno.TlsListener;
  /** Byte copies still running, one per direction per connection. */
  #copies = new Set<Promise<void>>();

  /** Binds the public TCP port and a private TLS listener on 127.0.0.1. */
  constructor(options: TlsFrontOptions) {
    const { hostname, port, cert, key } = options;
    this.#public = Deno.listen({ hostname, port, transport: "tcp" });
    try {
      this.#private = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
    } catch (error) {
      this.#public.close();
      throw error;
    }
    this.addr = this.#public.addr;
  }

  /**
   * The next client's connection. Rejects like `Deno.Listener.accept` (with
   * `BadResource` once closed); the client is never left half set up.
   */
  async accept(): Promise<FrontedTlsConn> {
    const outer = await this.#public.accept();
    let inner: Deno.TcpConn | undefined;
    try {
      inner = await Deno.connect({ hostname: "127.0.0.1", port: this.#private.addr.port });
      const tls = await this.#acceptOwn(inner.localAddr.port);
      outer.setNoDelay(true);
      inner.setNoDelay(true);
      this.#copy(outer, inner);
      this.#copy(inner, outer);
      const pair = [outer, inner];
      return new FrontedTlsConn(tls, outer.remoteAddr, () => pair.forEach(closeQuietly));
    } catch (error) {
      closeQuietly(outer);
      if (inner) closeQuietly(inner);
      throw error;
    }
  }

  /** Stops accepting. Connections already accepted stay open until closed. */
  close(): void {
    closeQuietly(this.#public);
    closeQuietly(this.#private);
  }

  /** Resolves once every accepted connection has been closed and its copies ended. */
  async drained(): Promise<void> {
    while (this.#copies.size > 0) await Promise.all(this.#copies);
  }

  /**
   * The private listener's connection from our own `port`. Anything else
   * (another local process found the private port) is closed.
   */
  async #acceptOwn(port: number): Promise<Deno.TlsConn> {
    while (true) {
      const tls = await this.#private.accept();
      if ((tls.remoteAddr as Deno.NetAddr).port === port) return tls;
      closeQuietly(tls);
    }
  }

  /**
   * Copies `from` to `to` until EOF, then half-closes `to` (so a client's
   * half-close reaches the server and the server's lingering close reaches
   * the client); on any error closes both.
   */
  #copy(from: Deno.TcpConn, to: Deno.TcpConn): void {
    const copying = (async () => {
      const buffer = new Uint8Array(16384);
      try {
        while (true) {
          const n = await from.read(buffer);
          if (n === null) break;
          for (let written = 0; written < n;) {
            written += await to.write(buffer.subarray(written, n));
          }
        }
        await to.closeWrite();
      } catch {
        closeQuietly(from);
        closeQuietly(to);
      }
    })();
    this.#copies.add(copying);
    copying.then(() => this.#copies.delete(copying));
  }
}

function closeQuietly(closable: { close(): void }): void {
  try {
    closable.close();
  } catch { /* already closed */ }
}
