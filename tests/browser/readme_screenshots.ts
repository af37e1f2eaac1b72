/**
 * Regenerates the README's screenshots (`deno task screenshots`) from the
 * commands the README gives: each server started exactly as its `deno task`
 * runs it (the command is read from deno.json), on its default port, and its
 * page opened at the README's address and reloaded once in headless Chromium.
 * Ports 8000 and 8080 must be free.
 *
 * @module
 */
import { fromFileUrl } from "jsr:@std/path@1.1.6/from-file-url";
import { ServerProcess } from "../support/server_process.ts";
import { findChromium } from "./chromium.ts";
import { withTab } from "./harness.ts";
import type { Tab } from "./tab.ts";

const PROJECT = new URL("../../", import.meta.url);
const FOLDER = new URL("./screenshots/", import.meta.url);

/** One README screenshot: the task that serves the page, where the README opens it, the file. */
interface Shot {
  task: "cache" | "cookie";
  address: string;
  file: string;
}

const SHOTS: Shot[] = [
  { task: "cache", address: "http://localhost:8000/", file: "caching-reload-304.png" },
  { task: "cookie", address: "http://localhost:8080/", file: "cookies-welcome-back.png" },
];

/**
 * The `deno run` arguments of a task in deno.json (after `deno run`). The
 * tasks are plain space-separated commands, with no quoting to undo.
 */
async function taskArguments(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", PROJECT)));
  const words = String(config.tasks[task]).split(" ");
  if (words[0] !== "deno" || words[1] !== "run") throw new Error(`task ${task}: not a deno run`);
  return words.slice(2);
}

/** Starts the task's server in the project folder, opens and reloads its page, saves the shot. */
async function take(tab: Tab, shot: Shot): Promise<void> {
  const server = new ServerProcess(await taskArguments(shot.task), { cwd: fromFileUrl(PROJECT) });
  try {
    await server.waitForLine(/ (?:at|on) https?:\/\/\S+:\d+\//);
    server.drainOutput();
    await tab.navigate(shot.address);
    await tab.reload();
    const path = fromFileUrl(new URL(shot.file, FOLDER));
    await tab.screenshot(path);
    console.log(`${path}: deno task ${shot.task}, ${shot.address}, reloaded once`);
  } finally {
    server.kill("SIGTERM");
    await server.finish();
  }
}

if (import.meta.main) {
  const chromium = findChromium();
  if ("missing" in chromium) throw new Error(`no Chromium: ${chromium.missing}`);
  await withTab(chromium.path, async (tab) => {
    for (const shot of SHOTS) await take(tab, shot);
  });
}
