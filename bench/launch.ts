/**
 * Starting the servers `bench/run.ts` measures: the programs as users run
 * them (their access log to a file or a pipe), and the peers a user would
 * pick instead (`node:http`, nginx), each pinned to the server CPU.
 *
 * @module
 */

/** A server process started for the whole run. */
export interface RunningServer {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** The server's own process (paused and resumed by pid, so never a shell around it). */
  child: Deno.ChildProcess;
  /** The file its access log goes to (appended), emptied between scenarios to bound disk use. */
  logFile?: string;
}

/** Where a program's stdout goes: appended to a file, or a pipe read as fast as it comes. */
export type LogTarget = "file" | "pipe";

/**
 * `command` prefixed with `taskset -c CPUS` when there are CPUs to pin to.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { pinned } from "./launch.ts";
 * assertEquals(pinned(["nginx"], "0"), ["taskset", "-c", "0", "nginx"]);
 * assertEquals(pinned(["nginx"], undefined), ["nginx"]);
 * ```
 */
export function pinned(command: string[], cpus: string | undefined): string[] {
  return cpus === undefined ? command : ["taskset", "-c", cpus, ...command];
}

/**
 * A TCP port nothing listens on right now, for servers that cannot report the one they chose.
 *
 * @example
 * ```ts
 * import { assert } from "jsr:@std/assert@1.0.19";
 * import { freePort } from "./launch.ts";
 * assert(freePort() > 0);
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts `command` with its stdout appended to `logFile` (through `sh`, the
 * way `>> FILE` does in a terminal), or piped to this process and read as
 * fast as it comes (as a terminal or `| tee` would), and waits until it
 * accepts connections on `port`. The child is the server itself: the shell
 * `exec`s it.
 *
 * @example
 * ```ts ignore
 * import { freePort, launch } from "./launch.ts";
 * const port = freePort();
 * const server = await launch(["node", "server.mjs", `${port}`], port, { target: "pipe" });
 * server.child.kill("SIGTERM");
 * ```
 */
export async function launch(
  command: string[],
  port: number,
  log: { target: "file"; file: string } | { target: "pipe" | "none" },
): Promise<RunningServer> {
  const [program, ...args] = log.target === "file"
    ? ["sh", "-c", 'exec "$@" >> "$0"', log.file, ...command]
    : command;
  const child = new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: log.target === "pipe" ? "piped" : "null",
    stderr: "inherit",
  }).spawn();
  if (log.target === "pipe") child.stdout.pipeTo(new WritableStream()).catch(() => {});
  await waitUntilListening(port, child, command.join(" "));
  return {
    origin: `http://127.0.0.1:${port}`,
    child,
    logFile: log.target === "file" ? log.file : undefined,
  };
}

/** Polls `port` until a connection succeeds; fails if the process exits first or after 30 s. */
async function waitUntilListening(
  port: number,
  child: Deno.ChildProcess,
  what: string,
): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 30_000;
  while (true) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      if (exited || Date.now() > deadline) throw new Error(`${what}: not listening on ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** What {@linkcode nginxConfig} needs. */
export interface NginxSite {
  /** Folder for nginx's pid, error log, temp files and access log. */
  dir: string;
  /** The folder served. */
  root: string;
  /** The port to listen on, on 127.0.0.1. */
  port: number;
  /** Whether to write the access log (to `dir/access.log`). */
  accessLog: boolean;
}

/**
 * An nginx configuration a user without root can run: one worker, files
 * from `root` with `open_file_cache` (so a hot file costs no open or stat),
 * `Cache-Control: no-cache` as the caching server sends, the access log in
 * the default combined format (one write per request) or off, and every path
 * nginx writes to inside `dir`. Keep-alive is unlimited per connection, as in
 * the Deno servers (nginx closes after 1,000 requests by default).
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "jsr:@std/assert@1.0.19";
 * import { nginxConfig } from "./launch.ts";
 * const config = nginxConfig({ dir: "/tmp/n", root: "/srv", port: 8081, accessLog: false });
 * assertStringIncludes(config, "listen 127.0.0.1:8081;");
 * assertStringIncludes(config, "access_log off;");
 * ```
 */
export function nginxConfig(site: NginxSite): string {
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((kind) => `  ${kind}_temp_path ${site.dir}/${kind};`).join("\n");
  return `daemon off;
worker_processes 1;
pid ${site.dir}/nginx.pid;
error_log ${site.dir}/error.log;
events { worker_connections 4096; }
http {
${temp}
  access_log ${site.accessLog ? `${site.dir}/access.log` : "off"};
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 60s;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  types { text/html html; }
  server {
    listen 127.0.0.1:${site.port};
    root ${site.root};
    add_header Cache-Control no-cache;
  }
}
`;
}

/**
 * Starts nginx with {@linkcode nginxConfig}, pinned to `cpus`; its access
 * log, if on, is `dir/access.log`.
 *
 * @example
 * ```ts ignore
 * import { launchNginx } from "./launch.ts";
 * const nginx = await launchNginx({ dir: "/tmp/n", root: "/srv", accessLog: true }, "0");
 * nginx.child.kill("SIGTERM");
 * ```
 */
export async function launchNginx(
  site: Omit<NginxSite, "port">,
  cpus: string | undefined,
): Promise<RunningServer> {
  await Deno.mkdir(site.dir, { recursive: true });
  const port = freePort();
  const config = `${site.dir}/nginx.conf`;
  await Deno.writeTextFile(config, nginxConfig({ ...site, port }));
  const server = await launch(
    pinned(["nginx", "-p", site.dir, "-e", `${site.dir}/error.log`, "-c", config], cpus),
    port,
    { target: "none" },
  );
  return { ...server, logFile: site.accessLog ? `${site.dir}/access.log` : undefined };
}

/**
 * Starts bench/servers/node_http.mjs serving `file`, with `node` when
 * installed, else with Deno's Node compatibility; its log, when on, is
 * appended to `logFile`.
 *
 * @example
 * ```ts ignore
 * import { launchNodeHttp } from "./launch.ts";
 * const node = await launchNodeHttp("/srv/index.html", "/tmp/node.log", "0");
 * node.child.kill("SIGTERM");
 * ```
 */
export async function launchNodeHttp(
  file: string,
  logFile: string | undefined,
  cpus: string | undefined,
): Promise<RunningServer> {
  const script = new URL("./servers/node_http.mjs", import.meta.url).pathname;
  const runtime = await commandExists("node") ? ["node"] : [Deno.execPath(), "run", "-A"];
  const port = freePort();
  const command = pinned([...runtime, script, file, `${port}`, logFile ? "log" : "quiet"], cpus);
  return await launch(
    command,
    port,
    logFile ? { target: "file", file: logFile } : { target: "none" },
  );
}

/**
 * Whether `name` is a command on PATH.
 *
 * @example
 * ```ts
 * import { assert } from "jsr:@std/assert@1.0.19";
 * import { commandExists } from "./launch.ts";
 * assert(await commandExists("sh"));
 * assert(!await commandExists("no-such-command-here"));
 * ```
 */
export async function commandExists(name: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}
