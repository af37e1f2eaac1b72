/**
 * The few Chrome DevTools Protocol shapes the browser tests read: only the
 * fields used, named as in the protocol reference
 * (https://chromedevtools.github.io/devtools-protocol/tot/Network/).
 *
 * @module
 */

/** Header fields as CDP sends them. Repeated fields (`Set-Cookie`) are joined with `\n`. */
export type CdpHeaders = Record<string, string>;

/** `Network.requestWillBeSent`: the browser is about to send a request (or follow a redirect). */
export interface RequestWillBeSent {
  requestId: string;
  /** `"Document"` for a page navigation, `"Fetch"` for the page's own `fetch()`. */
  type?: string;
  request: { url: string; method: string };
  /** Set when this request follows a redirect: the redirect's response. */
  redirectResponse?: { status: number; headers: CdpHeaders };
}

/** `Network.requestWillBeSentExtraInfo`: the header fields exactly as sent on the wire. */
export interface RequestWillBeSentExtraInfo {
  requestId: string;
  /** Includes what the network stack adds: `Cookie`, `If-None-Match`, `If-Modified-Since`. */
  headers: CdpHeaders;
}

/** `Network.responseReceived`: the response the page sees. */
export interface ResponseReceived {
  requestId: string;
  type: string;
  response: { url: string; status: number; headers: CdpHeaders };
}

/** `Network.responseReceivedExtraInfo`: the status and header fields as received on the wire. */
export interface ResponseReceivedExtraInfo {
  requestId: string;
  statusCode: number;
  headers: CdpHeaders;
}

/** One entry of `Network.getCookies`. */
export interface CdpCookie {
  name: string;
  value: string;
  path: string;
  /** Seconds since the epoch; -1 for a session cookie. */
  expires: number;
  httpOnly: boolean;
  secure: boolean;
  sameSite?: "Strict" | "Lax" | "None";
}
