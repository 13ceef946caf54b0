// What a listing stats before it reads anything: each slug folder's session files with their size, mtime and inode
// (what says whether a file changed since the index or the last listing saw it).
import { readdirSync, type Stats, statSync } from "node:fs";
import path from "node:path";
import { describeError } from "../errors.ts";
import { sessionIdOf } from "./model.ts";

export type ScannedFile = { readonly name: string; readonly id: string; readonly file: string; readonly stats: Stats };

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
    const id = sessionIdOf(name);
    if (id === undefined) continue;
    // Not path.join: the folder's path is normalised already and an entry's name is one component (10,000 times).
    const file = `${dir}${path.sep}${name}`;
    let stats: Stats;
    try {
      stats = statSync(file);
    } catch {
      unreadable++;
      continue;
    }
    if (stats.isFile()) files.push({ name, id, file, stats });
  }
  return { files, unreadable };
}
