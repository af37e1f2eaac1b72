/**
 * Where the browser tests put their screenshots: one folder per test run
 * (`$BROWSER_SCREENSHOTS`, or a fresh `browser_screenshots_*` folder in the
 * system's temp dir), with a subfolder per scenario.
 *
 * @module
 */
import { join } from "jsr:@std/path@1.1.6/join";
import type { Tab } from "./tab.ts";

let runFolder: Promise<string> | undefined;

/** The run's folder, created on first use and shared by every scenario of the run. */
function screenshotRunFolder(): Promise<string> {
  runFolder ??= (async () => {
    const chosen = Deno.env.get("BROWSER_SCREENSHOTS");
    if (!chosen) return await Deno.makeTempDir({ prefix: "browser_screenshots_" });
    await Deno.mkdir(chosen, { recursive: true });
    return chosen;
  })();
  return runFolder;
}

/** The screenshots of one scenario, numbered in the order they were taken. */
export class ScreenshotFolder {
  #taken = 0;
  private constructor(readonly path: string) {}

  /**
   * Creates (or reuses) the folder `<run folder>/<scenario>`.
   *
   * @example
   * ```ts ignore
   * const shots = await ScreenshotFolder.create("caching");
   * await shots.take(tab, "first-load-200"); // …/caching/1-first-load-200.png
   * ```
   */
  static async create(scenario: string): Promise<ScreenshotFolder> {
    const path = join(await screenshotRunFolder(), scenario);
    await Deno.mkdir(path, { recursive: true });
    return new ScreenshotFolder(path);
  }

  /** Saves the tab's viewport as `<n>-<name>.png` and returns the file's path. */
  async take(tab: Tab, name: string): Promise<string> {
    const file = join(this.path, `${++this.#taken}-${name}.png`);
    await tab.screenshot(file);
    return file;
  }
}
