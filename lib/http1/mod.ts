/**
 * A hand-written HTTP/1.1 server for Deno on raw TCP, front door: everything
 * outside `lib/http1/` imports from this module. See `server.ts` for the
 * design and the protocol decisions.
 *
 * - {@linkcode serveHttp1}: listen, accept, serve a handler, shut down.
 * - {@linkcode Http1Request} and {@linkcode Http1Response}: what a handler gets
 *   and gives.
 * - The limits (`limits.ts`), each a named constant with its reason.
 * - The pure protocol pieces, for tests and fuzzers:
 *   {@linkcode parseRequestHead}, {@linkcode ChunkedDecoder},
 *   {@linkcode serializeResponse}.
 *
 * The other modules in this folder are internal: their exports serve their
 * siblings and the unit tests, and may change without notice.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { serveHttp1 } from "./mod.ts";
 * const server = serveHttp1({ port: 0, onListen() {} }, () => ({ status: 200, body: "hello" }));
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assertEquals(await response.text(), "hello");
 * await server.shutdown();
 * ```
 *
 * @module
 */
export { type Http1ServeOptions, type Http1Server, serveHttp1 } from "./server.ts";
export { type Http1Handler, Http1Request, type Http1Response } from "./message.ts";
export { CROWDED_CONNECTIONS } from "./pool.ts";
export * from "./limits.ts";
export { ERROR_STATUS, RequestError, type RequestErrorCode } from "./errors.ts";
export {
  type HeadLimits,
  type HeadParseResult,
  INCOMPLETE,
  KNOWN_METHODS,
  parseRequestHead,
  type RequestHead,
} from "./parser.ts";
export { type BodyFraming } from "./fields.ts";
export { ChunkedDecoder, type ChunkedLimits } from "./chunked.ts";
export { type SerializeOptions, serializeResponse } from "./response.ts";
