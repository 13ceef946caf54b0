// Removing a folder of ours (a restore's staging, a used-up undo, a pruned one) however deep it is: Node's rmSync
// recurses once per level (a stack overflow past ~2,000 levels) and names each entry by its full path (ENAMETOOLONG
// past 4,096 bytes), so a deep tree it failed on stayed behind. Here a loop goes down one folder at a time, held open
// (Linux: /proc/self/fd/N), with one descriptor open at any moment; a link is removed, never followed.
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  rmdirSync,
  rmSync,
  unlinkSync,
} from "node:fs";
import { isNotFound } from "../fs.ts";

const FD_PATHS = process.platform === "linux" && existsSync("/proc/self/fd");

/** Removes `dir` and everything in it; nothing when it is missing. */
export function removeTree(dir: string): void {
  if (!FD_PATHS) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    if (isNotFound(error)) return;
    // A link or a file: removed as itself.
    rmSync(dir, { force: true });
    return;
  }
  // The folders entered, each with the names still to remove in it (what is left of its listing).
  const entered: Array<{ name: string; rest: string[] }> = [];
  let rest = readdirSync(`/proc/self/fd/${fd}`);
  try {
    for (;;) {
      const here = `/proc/self/fd/${fd}`;
      const name = rest.pop();
      if (name !== undefined) {
        const entry = `${here}/${name}`;
        let isDir: boolean;
        try {
          isDir = lstatSync(entry).isDirectory();
        } catch (error) {
          if (isNotFound(error)) continue;
          throw error;
        }
        if (!isDir) {
          unlinkSync(entry);
          continue;
        }
        const child = openSync(entry, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
        closeSync(fd);
        fd = child;
        entered.push({ name, rest });
        rest = readdirSync(`/proc/self/fd/${fd}`);
        continue;
      }
      // This folder is empty now: up one, and remove it there.
      const up = entered.pop();
      if (up === undefined) break;
      const parent = openSync(`${here}/..`, constants.O_RDONLY | constants.O_DIRECTORY);
      closeSync(fd);
      fd = parent;
      rmdirSync(`/proc/self/fd/${fd}/${up.name}`);
      rest = up.rest;
    }
  } finally {
    closeSync(fd);
  }
  rmdirSync(dir);
}
