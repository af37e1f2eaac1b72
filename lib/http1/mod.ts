/**
 * A hand-written HTTP/1.1 server for Deno on raw TCP; see `server.ts` for the
 * design and protocol decisions.
 *
 * @example
 * ```ts
 * import { serveHttp1 } from "./mod.ts";
 * const server = serveHttp1({ port: 0, onListen() {} }, () => ({ status: 200, body: "hello" }));
 * await server.shutdown();
 * ```
 *
 * @module
 */
export * from "./server.ts";
export * from "./limits.ts";
export { ERROR_STATUS, type RequestErrorCode } from "./errors.ts";
export {
  type HeadParseResult,
  INCOMPLETE,
  KNOWN_METHODS,
  parseRequestHead,
  type RequestHead,
} from "./parser.ts";
export { ChunkedDecoder } from "./chunked.ts";
export { serializeResponse } from "./response.ts";
