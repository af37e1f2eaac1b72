/**
 * The cookie server under test, or its twin, with a fresh session store:
 *
 * - `hand`: the session app behind the hand-written HTTP/1.1 server (`serveCookies`);
 * - `twin`: the same app and store behind `Deno.serve`, the baseline.
 *
 * Usage: `deno run -A --unstable-kv bench/servers/cookie.ts hand|twin memory|KV_PATH`;
 * prints `listening PORT`.
 */
import { serveCookies } from "../../cookie_server.ts";
import { createWebCookieApp, openSessionStore } from "../../lib/sessions/mod.ts";

const [server, storeSpec] = Deno.args;
const { store } = await openSessionStore(storeSpec);
const onListen = ({ port }: Deno.NetAddr) => console.log(`listening ${port}`);
const log = () => {};

if (server === "hand") {
  serveCookies({ port: 0, store, log, onListen });
} else {
  Deno.serve({ port: 0, hostname: "127.0.0.1", onListen }, createWebCookieApp({ store, log }));
}
