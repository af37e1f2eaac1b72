/**
 * A minimal Chrome DevTools Protocol client over Deno's built-in `WebSocket`.
 *
 * CDP is JSON over one WebSocket. We send `{id, method, params, sessionId}`;
 * Chromium answers with the same `id` and either `result` or `error`. It also
 * pushes events, `{method, params, sessionId}`, with no `id`. A `sessionId`
 * addresses one attached tab ("flatten" sessions, `Target.attachToTarget`), so
 * one connection to the browser drives any number of tabs.
 *
 * Events are never waited for with a bare listener added after the action that
 * causes them (the event may already have arrived). Instead: start an
 * {@linkcode EventRecording}, act, then wait for what you need in the recording.
 *
 * Protocol reference: https://chromedevtools.github.io/devtools-protocol/
 *
 * @module
 */
import { TimeoutError, withTimeout } from "./deadline.ts";

/** How long a command or an event may take unless the caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** An event Chromium pushes without being asked, e.g. `Network.responseReceived`. */
export interface CdpEvent {
  method: string;
  // Each event has its own shape; readers cast to the few fields they use (see protocol.ts).
  params: Record<string, unknown>;
  /** The tab session it belongs to; absent for browser-level events. */
  sessionId?: string;
}

interface PendingCommand {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/** One WebSocket connection to Chromium's browser endpoint (`ws://…/devtools/browser/…`). */
export class CdpConnection {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, PendingCommand>();
  readonly #listeners = new Set<(event: CdpEvent) => void>();
  readonly #opened: Promise<void>;
  #nextId = 0;
  /** Resolves once the socket has closed, for whatever reason. */
  readonly closed: Promise<void>;

  private constructor(url: string) {
    this.#socket = new WebSocket(url);
    const opened = Promise.withResolvers<void>();
    const closed = Promise.withResolvers<void>();
    this.#opened = opened.promise;
    this.closed = closed.promise;
    this.#socket.onopen = () => opened.resolve();
    this.#socket.onmessage = (message) => this.#receive(JSON.parse(message.data));
    this.#socket.onclose = () => {
      opened.reject(new Error(`DevTools WebSocket ${url} closed before it opened`));
      for (const { method, reject } of this.#pending.values()) {
        reject(new Error(`DevTools connection closed while waiting for the reply to ${method}`));
      }
      this.#pending.clear();
      closed.resolve();
    };
    // An unhandled rejection would fail the test run; connect() reports it instead.
    this.#opened.catch(() => {});
  }

  /**
   * Opens a connection to `webSocketUrl` (what Chromium prints as
   * `DevTools listening on ws://…`).
   *
   * @example
   * ```ts ignore
   * const cdp = await CdpConnection.connect(chromium.webSocketUrl);
   * try {
   *   const { product } = await cdp.send<{ product: string }>("Browser.getVersion");
   * } finally {
   *   await cdp.close();
   * }
   * ```
   */
  static async connect(
    webSocketUrl: string,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<CdpConnection> {
    const connection = new CdpConnection(webSocketUrl);
    try {
      await withTimeout(
        connection.#opened,
        timeoutMs,
        `DevTools WebSocket ${webSocketUrl} to open`,
      );
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  /**
   * Sends one command and resolves with its `result`; rejects with Chromium's
   * error message, or when no reply comes within `timeoutMs`.
   * `sessionId` addresses a tab attached with `Target.attachToTarget`.
   */
  async send<Result = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<Result> {
    const id = ++this.#nextId;
    const reply = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject });
    });
    try {
      this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
      return await withTimeout(reply, timeoutMs, `the reply to ${method}`) as Result;
    } finally {
      this.#pending.delete(id);
    }
  }

  /** Calls `listener` with every event until the returned function is called. */
  onEvent(listener: (event: CdpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Closes the socket and waits until it is closed (Deno's sanitizers check). */
  async close(): Promise<void> {
    if (this.#socket.readyState !== WebSocket.CLOSED) this.#socket.close();
    await withTimeout(this.closed, DEFAULT_TIMEOUT_MS, "the DevTools WebSocket to close");
  }

  #receive(message: {
    id?: number;
    result?: unknown;
    error?: { message: string; data?: string };
    method?: string;
    params?: Record<string, unknown>;
    sessionId?: string;
  }): void {
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      if (!pending) return; // the command already timed out
      if (message.error) {
        const detail = message.error.data ? ` (${message.error.data})` : "";
        pending.reject(new Error(`${pending.method} failed: ${message.error.message}${detail}`));
      } else {
        pending.resolve(message.result);
      }
      return;
    }
    if (message.method === undefined) return;
    const event = {
      method: message.method,
      params: message.params ?? {},
      sessionId: message.sessionId,
    };
    for (const listener of this.#listeners) listener(event);
  }
}

/** One attached tab: commands and events carry its `sessionId`. */
export class CdpSession {
  /**
   * @param connection The browser connection the tab was attached on.
   * @param sessionId From `Target.attachToTarget` with `flatten: true`.
   */
  constructor(readonly connection: CdpConnection, readonly sessionId: string) {}

  /** Sends a command to this tab; see {@linkcode CdpConnection.send}. */
  send<Result = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<Result> {
    return this.connection.send<Result>(method, params, this.sessionId, timeoutMs);
  }

  /** Starts recording this tab's events; call it before the action whose events you want. */
  record(): EventRecording {
    return new EventRecording(this.connection, this.sessionId);
  }
}

/**
 * The events of one tab from the moment it was created, and bounded waits
 * for a condition on them. Because recording starts before the action, an
 * event that arrives before anyone waits for it is not lost.
 */
export class EventRecording {
  /** Every event recorded so far, in arrival order. */
  readonly events: CdpEvent[] = [];
  readonly #connection: CdpConnection;
  readonly #waiters = new Set<() => void>();
  readonly #stopListening: () => void;

  /** Starts recording the events of `sessionId` on `connection`. */
  constructor(connection: CdpConnection, sessionId: string) {
    this.#connection = connection;
    this.#stopListening = connection.onEvent((event) => {
      if (event.sessionId !== sessionId) return;
      this.events.push(event);
      for (const wake of this.#waiters) wake();
    });
  }

  /** The params of every recorded `method` event, in order. */
  all<Params>(method: string): Params[] {
    return this.events.filter((e) => e.method === method).map((e) => e.params as Params);
  }

  /**
   * Resolves with the first non-`undefined` value `check` returns, checking
   * now and again on every new event. Rejects after `timeoutMs` with a message
   * naming `what` and listing the events seen, or when the connection closes.
   */
  async waitUntil<T>(
    what: string,
    check: (recording: EventRecording) => T | undefined,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<T> {
    let wake = () => {};
    const satisfied = new Promise<T>((resolve) => {
      wake = () => {
        const value = check(this);
        if (value !== undefined) resolve(value);
      };
    });
    const closed = this.#connection.closed.then(() => {
      throw new Error(`DevTools connection closed while waiting for ${what}`);
    });
    this.#waiters.add(wake);
    try {
      wake();
      return await withTimeout(Promise.race([satisfied, closed]), timeoutMs, what);
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      const seen = [...new Set(this.events.map((e) => e.method))].join(", ") || "none";
      throw new TimeoutError(`${error.message} (events recorded: ${seen})`);
    } finally {
      this.#waiters.delete(wake);
    }
  }

  /** Waits for the first recorded `method` event whose params satisfy `where`. */
  waitFor<Params>(
    method: string,
    where: (params: Params) => boolean = () => true,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<Params> {
    return this.waitUntil(
      method,
      (recording) => recording.all<Params>(method).find(where),
      timeoutMs,
    );
  }

  /** Stops recording. */
  stop(): void {
    this.#stopListening();
    this.#waiters.clear();
  }
}
