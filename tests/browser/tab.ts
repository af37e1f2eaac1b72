/**
 * One browser tab driven over CDP, with the actions a person takes: open a
 * URL, reload, click, look at the page, look at the cookies, take a picture.
 *
 * @module
 */
import { type CdpConnection, CdpSession, DEFAULT_TIMEOUT_MS } from "./cdp.ts";
import { TimeoutError } from "./deadline.ts";
import { type DocumentLoad, documentLoad } from "./document_load.ts";
import type { CdpCookie } from "./protocol.ts";

/** The tab's viewport: small screenshots that still show the top of each page. */
export const VIEWPORT = { width: 1000, height: 800 };

/** A page in its own tab, with the Page, Network and Runtime domains enabled. */
export class Tab {
  private constructor(readonly session: CdpSession) {}

  /**
   * Opens a blank tab on `connection` and attaches to it with a flat session.
   *
   * @example
   * ```ts ignore
   * const tab = await Tab.open(connection);
   * const load = await tab.navigate("http://127.0.0.1:8000/");
   * ```
   */
  static async open(connection: CdpConnection): Promise<Tab> {
    const { targetId } = await connection.send<{ targetId: string }>("Target.createTarget", {
      url: "about:blank",
    });
    const { sessionId } = await connection.send<{ sessionId: string }>("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const session = new CdpSession(connection, sessionId);
    await session.send("Page.enable");
    await session.send("Network.enable");
    await session.send("Emulation.setDeviceMetricsOverride", {
      ...VIEWPORT,
      deviceScaleFactor: 1,
      mobile: false,
    });
    // Screenshots of the page alone, without a scrollbar down the right edge.
    await session.send("Emulation.setScrollbarsHidden", { hidden: true });
    return new Tab(session);
  }

  /** Opens `url`, like typing it into the address bar. */
  navigate(url: string): Promise<DocumentLoad> {
    return this.#load(`opening ${url}`, async () => {
      const { errorText } = await this.session.send<{ errorText?: string }>("Page.navigate", {
        url,
      });
      if (errorText) throw new Error(`Page.navigate to ${url} failed: ${errorText}`);
    });
  }

  /** A normal reload (not Shift+reload): the browser may revalidate what it has cached. */
  reload(): Promise<DocumentLoad> {
    return this.#load("reload", () => this.session.send("Page.reload"));
  }

  /**
   * Clicks the element matching `selector` with real mouse events at its
   * centre, for an element whose click loads a page (a submit button).
   */
  clickAndLoad(selector: string): Promise<DocumentLoad> {
    return this.#load(`clicking ${selector}`, async () => {
      const { x, y } = await this.evaluate<{ x: number; y: number }>(`(() => {
        const element = document.querySelector(${JSON.stringify(selector)});
        element.scrollIntoView({ block: "center" });
        const box = element.getBoundingClientRect();
        return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
      })()`);
      for (const type of ["mousePressed", "mouseReleased"]) {
        await this.session.send("Input.dispatchMouseEvent", {
          type,
          x,
          y,
          button: "left",
          clickCount: 1,
        });
      }
    });
  }

  /**
   * Records the tab's events from before `action` until the page's load event
   * and the document's network events have all arrived.
   */
  async #load(what: string, action: () => Promise<unknown>): Promise<DocumentLoad> {
    const recording = this.session.record();
    try {
      await action();
      await recording.waitFor("Page.loadEventFired", undefined, DEFAULT_TIMEOUT_MS);
      return await recording.waitUntil(`the document's network events after ${what}`, documentLoad);
    } catch (error) {
      if (error instanceof TimeoutError) error.message += ` (during ${what})`;
      throw error;
    } finally {
      recording.stop();
    }
  }

  /** Evaluates `expression` in the page and returns its value (JSON-serialisable). */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.session.send<{
      result: { value?: unknown };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    }>("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) {
      const reason = exceptionDetails.exception?.description ?? exceptionDetails.text;
      throw new Error(`evaluating ${expression} in the page threw: ${reason}`);
    }
    return result.value as T;
  }

  /**
   * Waits until `expression` evaluates in the page to something other than
   * `null`, `undefined` or `false`, and returns it. For content a page's
   * script fills in after the load event (e.g. from its own `fetch`). The
   * page checks every 20 ms; the wait is bounded by `timeoutMs`.
   */
  async waitForPage<T>(
    what: string,
    expression: string,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<T> {
    const poll = `new Promise((resolve) => {
      const check = () => {
        const value = (${expression});
        if (value === null || value === undefined || value === false) setTimeout(check, 20);
        else resolve(value);
      };
      check();
    })`;
    const { result } = await this.session.send<{ result: { value?: unknown } }>(
      "Runtime.evaluate",
      { expression: poll, returnByValue: true, awaitPromise: true },
      timeoutMs,
    ).catch((error) => {
      if (error instanceof TimeoutError) {
        throw new TimeoutError(`Timed out after ${timeoutMs} ms waiting for ${what} in the page`);
      }
      throw error;
    });
    return result.value as T;
  }

  /** The browser's cookies for `url`, HttpOnly ones included (as DevTools → Application shows). */
  async cookies(url: string): Promise<CdpCookie[]> {
    const { cookies } = await this.session.send<{ cookies: CdpCookie[] }>("Network.getCookies", {
      urls: [url],
    });
    return cookies;
  }

  /** Deletes every cookie in the browser, like DevTools → Application → Clear. */
  async clearCookies(): Promise<void> {
    await this.session.send("Network.clearBrowserCookies");
  }

  /** Writes a PNG of the viewport to `path`. */
  async screenshot(path: string): Promise<void> {
    const { data } = await this.session.send<{ data: string }>("Page.captureScreenshot", {
      format: "png",
    });
    await Deno.writeFile(path, Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
  }
}
