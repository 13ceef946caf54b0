// What a listing stats before it reads anything: each slug folder's session files with their size, mtime and inode
// (what says whether a file changed since the index or the last listing saw it).
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { describeError } from "../errors.ts";
import { fileIn } from "../fs.ts";
import type { FileKey } from "./index-rows.ts";
import { sessionIdOf } from "./model.ts";

/**
 * A session file as a stat found it. Only the numbers are kept: 10,000 `Stats` (each with four dates) kept alive until
 * the listing ends cost more in garbage collection than the stats themselves.
 */
export type ScannedFile = { readonly name: string } & FileKey;

export type ScannedFolder = {
  readonly files: ScannedFile[];
  /** Session files that could not be stat'ed. */
  readonly unreadable: number;
  /** Why the folder itself could not be read, when it could not. */
  readonly error?: string;
};

export function scanFolder(dir: string): ScannedFolder {
  let names: string[];
  try {
    // Names only: each is stat'ed anyway, which tells a file from the rest.
    names = readdirSync(dir);
  } catch (error) {
    return { files: [], unreadable: 0, error: `could not read ${dir} (${describeError(error)})` };
  }
  const files: ScannedFile[] = [];
  let unreadable = 0;
  for (const name of names) {
    if (sessionIdOf(name) === undefined) continue;
    let stats: Stats;
    try {
      // Not followed: a link a container planted among the sessions is not a session of this folder.
      stats = lstatSync(fileIn(dir, name));
    } catch {
      unreadable++;
      continue;
    }
    if (stats.isFile())
      files.push({ name, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino });
  }
  return { files, unreadable };
}
