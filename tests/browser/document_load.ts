/**
 * What crossed the network for a page's own document during one navigation,
 * assembled from the `Network.*` events of an {@linkcode EventRecording}.
 *
 * @module
 */
import type { EventRecording } from "./cdp.ts";
import type {
  CdpHeaders,
  RequestWillBeSent,
  RequestWillBeSentExtraInfo,
  ResponseReceived,
  ResponseReceivedExtraInfo,
} from "./protocol.ts";

/** One request and its response as they were on the wire; a redirect makes a chain of them. */
export interface WireExchange {
  method: string;
  url: string;
  /** Request header fields as sent, names in lower case. */
  requestHeaders: CdpHeaders;
  /** The status on the wire: a `304` stays `304` here. */
  status: number;
  /** Response header fields as received, names in lower case. */
  responseHeaders: CdpHeaders;
}

/** The document's exchanges for one navigation, in order. */
export interface DocumentLoad {
  /** Every hop: `[POST /logout → 303, GET / → 200]` for a redirect, else one. */
  exchanges: WireExchange[];
  /** The last hop: the response the page was built from. */
  final: WireExchange;
  /**
   * The final status as `Network.responseReceived` reports it. After a 304
   * Chromium reports the stored 200 that the 304 refreshed (as the page's
   * Performance API does), so the wire status is in `final.status`.
   */
  reportedStatus: number;
}

/**
 * Builds the {@linkcode DocumentLoad} of the first `"Document"` request in
 * `recording`, or returns `undefined` while some of its events have not
 * arrived yet (the `…ExtraInfo` events come separately and in no fixed order
 * relative to the others), so it can be the check of `recording.waitUntil`.
 *
 * @example
 * ```ts ignore
 * const load = await recording.waitUntil("the document's network events", documentLoad);
 * console.log(load.final.status); // 200, or 304 after a revalidating reload
 * ```
 */
export function documentLoad(recording: EventRecording): DocumentLoad | undefined {
  const requests = recording.all<RequestWillBeSent>("Network.requestWillBeSent");
  const requestId = requests.find((r) => r.type === "Document")?.requestId;
  if (requestId === undefined) return undefined;
  const ofDocument = <T extends { requestId: string }>(method: string) =>
    recording.all<T>(method).filter((e) => e.requestId === requestId);

  // One requestWillBeSent per hop; the ExtraInfo events pair with the hops in order.
  const hops = ofDocument<RequestWillBeSent>("Network.requestWillBeSent");
  const sent = ofDocument<RequestWillBeSentExtraInfo>("Network.requestWillBeSentExtraInfo");
  const received = ofDocument<ResponseReceivedExtraInfo>("Network.responseReceivedExtraInfo");
  const finished = ofDocument<ResponseReceived>("Network.responseReceived");
  if (sent.length < hops.length || received.length < hops.length || finished.length === 0) {
    return undefined;
  }
  const exchanges = hops.map((hop, i) => ({
    method: hop.request.method,
    url: hop.request.url,
    requestHeaders: lowerCaseNames(sent[i].headers),
    status: received[i].statusCode,
    responseHeaders: lowerCaseNames(received[i].headers),
  }));
  return {
    exchanges,
    final: exchanges[exchanges.length - 1],
    reportedStatus: finished[finished.length - 1].response.status,
  };
}

/** HTTP field names are case-insensitive; CDP passes on whatever case was on the wire. */
function lowerCaseNames(headers: CdpHeaders): CdpHeaders {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
}
