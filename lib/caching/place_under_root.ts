/**
 * Where a real path (symbolic links resolved) stands against the real root:
 * the one rule that decides whether a file reached through links may be
 * served, listed or logged as a change.
 *
 * @module
 */
import { SEPARATOR } from "jsr:@std/path@1.1.6/constants";

/**
 * `root`: the root itself; `outside`: not below it; `hidden`: below it with a
 * segment starting with `.` (never served); `inside`: below it and servable.
 */
export type PlaceUnderRoot = "root" | "outside" | "hidden" | "inside";

/**
 * Places `realPath` against `realRoot`. Both must be real paths, so a link
 * inside the root to `.env` or to a folder outside is judged by where it leads.
 *
 * @param realPath A real path.
 * @param realRoot The root's real path.
 * @returns Where `realPath` stands.
 *
 * @example
 * ```ts
 * import { assertEquals } from "jsr:@std/assert@1.0.19";
 * import { placeUnderRoot } from "./place_under_root.ts";
 * assertEquals(placeUnderRoot("/srv/site", "/srv/site"), "root");
 * assertEquals(placeUnderRoot("/srv/site/a/b.txt", "/srv/site"), "inside");
 * assertEquals(placeUnderRoot("/srv/site/.git/config", "/srv/site"), "hidden");
 * assertEquals(placeUnderRoot("/srv/site2/b.txt", "/srv/site"), "outside");
 * ```
 */
export function placeUnderRoot(realPath: string, realRoot: string): PlaceUnderRoot {
  if (realPath === realRoot) return "root";
  const prefix = realRoot.endsWith(SEPARATOR) ? realRoot : realRoot + SEPARATOR;
  if (!realPath.startsWith(prefix)) return "outside";
  const below = realPath.slice(prefix.length).split(SEPARATOR);
  return below.some((segment) => segment.startsWith(".")) ? "hidden" : "inside";
}
