// The gate: every host-side read, walk, rename and delete below a folder a dev container can write (`projects/`,
// `file-history/`, `todos/`, `tasks/`, `persist-state/`, a workspace's `.git`) goes through here. A container can
// change any name there between two of our system calls, so:
// - folders are reached one component at a time and held open (fs-beneath.ts: on Linux through /proc/self/fd/N),
//   never following a link at any component below the root the caller trusts;
// - a file opened after a listing must be the very file listed (device and inode, from fstat);
// - reads are bounded in bytes, listings in entries, walks in depth, and walks are loops (no recursion on input).
// test/house-rules.test.ts fails when another module touches these roots with plain `fs` calls.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  type Stats,
  unlinkSync,
} from "node:fs";
import path from "node:path";
import { errorCode, isNotFound, readRegularFile, refusal } from "./fs.ts";
import { withDirBeneath } from "./fs-beneath.ts";

export { withDirBeneath };
/** Folders held open across many writes (restore's targets, staging and undo), for trees of any depth. */
export { ConfigTree } from "./snapshot/config-tree.ts";

/** What a walk keeps of each entry: enough to check that what is opened later is what was listed. */
export type TreeEntry = {
  /** Relative to the walk's root, with "/". */
  readonly rel: string;
  readonly kind: "file" | "dir" | "other";
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  /** Bytes the file really occupies on disk: far below `size` for a sparse file. */
  readonly allocated: number;
  readonly mode: number;
  readonly uid: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
};

export type WalkLimits = { readonly maxEntries: number; readonly maxDepth: number };

/** A project's tree is a few thousand entries and a few folders deep; a container's trap is not. */
export const TREE_LIMITS: WalkLimits = { maxEntries: 500_000, maxDepth: 64 };

export type Walk = {
  readonly entries: TreeEntry[];
  /** Folders not descended into (deeper than maxDepth), and whether the walk stopped at maxEntries. */
  readonly tooDeep: string[];
  readonly truncated: boolean;
};

function entryOf(rel: string, stats: Stats): TreeEntry {
  return {
    rel,
    kind: stats.isFile() ? "file" : stats.isDirectory() ? "dir" : "other",
    dev: stats.dev,
    ino: stats.ino,
    size: stats.size,
    allocated: stats.blocks * 512,
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    mtimeMs: stats.mtimeMs,
    ctimeMs: stats.ctimeMs,
  };
}

/** Splits `rel` into its folder and last name, refusing `..` and absolute paths (fs-beneath checks the rest). */
function split(rel: string): { dir: string; name: string } {
  const parts = rel.split("/").filter((part) => part !== "" && part !== ".");
  const name = parts.pop();
  if (name === undefined || name === ".." || parts.includes("..") || path.isAbsolute(rel))
    throw refusal(`${rel} is not a name below its folder`);
  return { dir: parts.join("/"), name };
}

/** `lstat` of `root/rel`, its folder reached without following links; undefined when it is not there. */
export function statBeneath(root: string, rel: string): TreeEntry | undefined {
  const { dir, name } = split(rel);
  try {
    return withDirBeneath(root, dir, (held) => entryOf(rel, lstatSync(`${held}/${name}`)));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The names in `root/rel` (a real folder reached without following links), at most `maxEntries`; undefined when missing. */
export function listBeneath(root: string, rel: string, maxEntries = TREE_LIMITS.maxEntries): string[] | undefined {
  try {
    return withDirBeneath(root, rel, (held) => {
      const names = readdirSync(held);
      if (names.length > maxEntries) throw refusal(`${path.join(root, rel)} holds more than ${maxEntries} entries`);
      return names;
    });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Everything below `root/rel` (itself included, first), breadth by breadth in a loop: each folder listed through
 * the held chain, each entry `lstat`ed in its held folder, so a folder swapped for a link during the walk is seen
 * as a link (kind "other") and never entered. Sorted by path within each folder.
 */
export function walkBeneath(root: string, rel: string, limits: WalkLimits = TREE_LIMITS): Walk {
  const top = statBeneath(root, rel);
  const entries: TreeEntry[] = [];
  const tooDeep: string[] = [];
  if (top === undefined) return { entries, tooDeep, truncated: false };
  entries.push(top);
  const pending: Array<{ rel: string; depth: number }> = top.kind === "dir" ? [{ rel, depth: 0 }] : [];
  let truncated = false;
  while (pending.length > 0 && !truncated) {
    const folder = pending.pop() as { rel: string; depth: number };
    if (folder.depth >= limits.maxDepth) {
      tooDeep.push(folder.rel);
      continue;
    }
    let children: TreeEntry[];
    try {
      children = withDirBeneath(root, folder.rel, (held) =>
        readdirSync(held)
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
          .map((name) => entryOf(`${folder.rel}/${name}`, lstatSync(`${held}/${name}`))),
      );
    } catch (error) {
      // Gone, or swapped for a link or file since it was listed: not entered.
      if (isNotFound(error) || errorCode(error) === "EUNSAFEFILE") continue;
      throw error;
    }
    for (const child of children) {
      if (entries.length >= limits.maxEntries) {
        truncated = true;
        break;
      }
      entries.push(child);
    }
    // Depth first, in name order: pushed in reverse so the first name is walked first.
    for (const child of children.filter((c) => c.kind === "dir").reverse())
      pending.push({ rel: child.rel, depth: folder.depth + 1 });
  }
  // Folders before what is in them, in path order, whatever order the loop met them in.
  return { entries: entries.sort((a, b) => compareRel(a.rel, b.rel)), tooDeep, truncated };
}

/** Path order in which a folder comes right before what it holds ("a", "a/b", "a-b"), as a recursive walk gives. */
function compareRel(a: string, b: string): number {
  const left = a.split("/");
  const right = b.split("/");
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const l = left[i] as string;
    const r = right[i] as string;
    if (l !== r) return l < r ? -1 : 1;
  }
  return left.length - right.length;
}

/**
 * Opens the regular file `root/rel` for reading: no link followed at any component, never blocking on a FIFO. With
 * `listed`, it must be that very file (same device and inode): a file swapped in after the listing is refused.
 * The caller closes the descriptor.
 */
export function openBeneath(root: string, rel: string, listed?: Pick<TreeEntry, "dev" | "ino">): number {
  const { dir, name } = split(rel);
  const fd = withHeld(root, dir, (held) => {
    try {
      return openSync(`${held}/${name}`, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      if (errorCode(error) === "ELOOP") throw refusal(`${path.join(root, rel)} is a symbolic link; not reading it`);
      throw error;
    }
  });
  const stats = fstatSync(fd);
  const problem = !stats.isFile()
    ? "is not a regular file"
    : listed && (stats.dev !== listed.dev || stats.ino !== listed.ino)
      ? "is no longer the file that was listed (it was replaced meanwhile)"
      : undefined;
  if (problem) {
    closeSync(fd);
    throw refusal(`${path.join(root, rel)} ${problem}; not reading it`);
  }
  return fd;
}

/** `withDirBeneath` for a folder listed earlier: one that is a link or file now was swapped since, and is named so. */
function withHeld<T>(root: string, dir: string, fn: (held: string) => T): T {
  try {
    return withDirBeneath(root, dir, fn);
  } catch (error) {
    if (errorCode(error) !== "EUNSAFEFILE" || !/is a link or not a folder/.test(String(error))) throw error;
    throw refusal(
      `${path.join(root, dir)} is no longer a folder (a link or file was put in its place); not reading it`,
    );
  }
}

/** The bytes of the regular file `root/rel` (at most `maxBytes`), no link followed at any component; undefined when missing. */
export function readBeneath(root: string, rel: string, maxBytes?: number): Buffer | undefined {
  const { dir, name } = split(rel);
  try {
    return withDirBeneath(root, dir, (held) => readRegularFile(`${held}/${name}`, maxBytes));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** `root/rel` is a real, empty folder (reached without following a link); false for a link, a file, nothing. */
export function isEmptyFolder(root: string, rel: string): boolean {
  try {
    return listBeneath(root, rel)?.length === 0;
  } catch {
    return false;
  }
}

/** Renames `from` to `to`, both names in the one folder `root/rel`, held open: neither name's link is followed. */
export function renameBeneath(root: string, rel: string, from: string, to: string): void {
  withDirBeneath(root, rel, (held) => renameSync(`${held}/${split(from).name}`, `${held}/${split(to).name}`));
}

/** Removes the file or link `root/rel` (never what a link there names), its folder reached without following links. */
export function unlinkBeneath(root: string, rel: string): void {
  const { dir, name } = split(rel);
  try {
    withDirBeneath(root, dir, (held) => unlinkSync(`${held}/${name}`));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Removes the empty folder `root/rel` (a link there is not removed: ENOTDIR). */
export function rmdirBeneath(root: string, rel: string): void {
  const { dir, name } = split(rel);
  withDirBeneath(root, dir, (held) => rmdirSync(`${held}/${name}`));
}

/**
 * The real folder under `projects/` (held by the caller) that holds `slug`'s sessions: the slug's own folder, or the
 * sibling folder its link names (sync links a path slug to its travelling folder so; a container to the host's
 * slug). Undefined for anything else: a link out of `projects/`, to a link, a file, nothing.
 */
export function projectFolderName(projects: string, slug: string): string | undefined {
  const here = statBeneath(projects, slug);
  if (here === undefined) return undefined;
  if (here.kind === "dir") return slug;
  let sibling: string;
  try {
    sibling = withDirBeneath(projects, "", (held) => readlinkIn(held, slug));
  } catch {
    return undefined;
  }
  if (sibling === "" || sibling === "." || sibling === ".." || sibling.includes("/")) return undefined;
  return statBeneath(projects, sibling)?.kind === "dir" ? sibling : undefined;
}

/** What the link `root/rel` names, its folder reached without following links; undefined when it is no link. */
export function readlinkBeneath(root: string, rel: string): string | undefined {
  const { dir, name } = split(rel);
  try {
    return withDirBeneath(root, dir, (held) => readlinkIn(held, name));
  } catch {
    return undefined; // Not a link, not there, or its folder is no longer one.
  }
}

function readlinkIn(held: string, name: string): string {
  // readlink of a name in a held folder follows nothing.
  const stats = lstatSync(`${held}/${name}`);
  if (!stats.isSymbolicLink()) throw refusal(`${name} is not a link`);
  return readlinkSync(`${held}/${name}`);
}

/**
 * Where a container would race us: between a look and the act that follows it. Tests set `hook` to swap a folder
 * for a link at exactly that moment, deterministically; in use it is never set.
 */
export const raceWindow: { hook?: ((at: string) => void) | undefined } = {};

export function racePoint(at: string): void {
  raceWindow.hook?.(at);
}
