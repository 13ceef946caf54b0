// Which folders under projects/ are one project: the slug folders of a repo's worktrees (each `.git` file names the
// main one), and the container paths mapped onto them (symlinked slug folders and `persist-state/mappings.json`).
// Also what the listing reads besides transcripts: git, and the pack's state files other commands write.
import { type Dirent, lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import * as z from "zod/mini";
import { encodeProjectSlug, projectsDir, realpathOrSelf, type Env } from "../claude/home.ts";
import { projectFolderName, statBeneath, type TreeEntry } from "../container-tree.ts";
import { describeError } from "../errors.ts";
import { errorCode, readRegularText } from "../fs.ts";
import { readJsonState } from "../state/files.ts";
import { mappingSchema, mappingsFile } from "../state/mappings.ts";
import { readWorkItemEntries, workItemsPath } from "../work/work-items.ts";
import type { Context, Layout, SlugFolder, SummarySource, WorkItem } from "./model.ts";

export function readLayout(env: Env, notes: string[]): Layout {
  const read = () => readJsonState(mappingsFile(env), z.array(z.unknown()), []);
  const mappings = readNoted(mappingsFile(env), "mappings", notes, read).flatMap((entry) => {
    const parsed = mappingSchema.safeParse(entry);
    return parsed.success ? [parsed.data] : [];
  });
  return { ...scanProjectsDir(projectsDir(env)), mappings };
}

export type FoundProject = {
  readonly here: string;
  readonly project: string;
  /** The repo's worktrees (or the folder): where its sessions resume from here. */
  readonly places: string[];
  readonly folders: SlugFolder[];
  readonly slugs: string[];
};

export async function locateProject(cwd: string, layout: Layout): Promise<FoundProject> {
  const here = realpathOrSelf(cwd);
  const { root, worktrees } = await findProject(here);
  const wanted = new Set([root, ...worktrees].map(encodeProjectSlug));
  // In a container the folder's slug is the container's; the mapping names the host's, and the other way round.
  for (const m of layout.mappings) if (wanted.has(m.containerSlug)) wanted.add(m.hostSlug);
  for (const m of layout.mappings) if (wanted.has(m.hostSlug)) wanted.add(m.containerSlug);
  const folders = layout.folders.filter((folder) => folder.names.some((name) => wanted.has(name)));
  const slugs = [...new Set([...wanted, ...folders.flatMap((folder) => folder.names)])].sort();
  return { here, project: worktrees[0] ?? root, places: [root, ...worktrees], folders, slugs };
}

/** The work items start-work recorded (malformed entries left out, an unreadable file a note). */
export function readWorkItems(env: Env, notes: string[]): WorkItem[] {
  return readNoted(workItemsPath(env), "work items", notes, () => readWorkItemEntries(env)).flatMap((entry) => {
    const parsed = workItemSchema.safeParse(entry);
    return parsed.success ? [{ ...parsed.data, title: parsed.data.title ?? null }] : [];
  });
}

export function loadContext(
  here: string,
  localPaths: string[],
  layout: Layout,
  workItems: WorkItem[],
  notes: string[],
  index: SummarySource,
): Context {
  const { folders, symlinked, mappings } = layout;
  const localPlaces = new Map<string, string>();
  const keyOfName = new Map(folders.flatMap((folder) => folder.names.map((name) => [name, folder.key] as const)));
  for (const place of [here, ...localPaths]) {
    const key = keyOfName.get(encodeProjectSlug(place));
    if (key && !localPlaces.has(key)) localPlaces.set(key, place);
  }
  const mapped = mappings.filter((m) => m.containerSlug !== m.hostSlug);
  return {
    here,
    folders,
    localPlaces,
    mappings,
    workItems,
    containerSlugs: new Set([...symlinked, ...mapped.map((m) => m.containerSlug)]),
    containerPaths: new Set(mapped.map((m) => m.containerPath)),
    containerPlaces: new Map(),
    stats: {
      transcripts: 0,
      opened: 0,
      folders: 0,
      bytesRead: 0,
      totalBytes: 0,
      ...(index.damaged ? { indexDamage: index.damaged } : {}),
    },
    notes,
    index,
  };
}

/** The folders under `projects/`, one entry per folder however many names reach it. */
function scanProjectsDir(projects: string): { folders: SlugFolder[]; symlinked: string[] } {
  const byKey = new Map<string, { dir: string; real: string[]; links: string[] }>();
  const symlinked: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(projects, { withFileTypes: true });
  } catch {
    return { folders: [], symlinked };
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    // Through the gate: a link is followed only to a sibling folder in `projects/` (a container's mapping, sync's
    // travelling folder), never out of it (a container's link to the host's home is not listed).
    let real: string | undefined;
    let stats: TreeEntry | undefined;
    try {
      real = projectFolderName(projects, entry.name);
      stats = real === undefined ? undefined : statBeneath(projects, real);
    } catch {
      continue;
    }
    if (real === undefined || stats?.kind !== "dir") continue; // A dangling link, or one leading out: nothing to list.
    if (entry.isSymbolicLink()) symlinked.push(entry.name);
    const key = `${stats.dev}:${stats.ino}`;
    const folder = byKey.get(key) ?? { dir: path.join(projects, real), real: [], links: [] };
    (entry.isSymbolicLink() ? folder.links : folder.real).push(entry.name);
    byKey.set(key, folder);
  }
  const folders = [...byKey].map(([key, f]) => ({ key, dir: f.dir, names: [...f.real, ...f.links] }));
  return { folders, symlinked };
}

// ---------------------------------------------------------------------------------------------------------------
// What lives outside: git, and the pack's state files other commands write. Read defensively: a missing file is
// "none", a malformed one is a note, never a failure of the listing.

export async function findProject(here: string): Promise<{ root: string; worktrees: string[] }> {
  // Loaded here: `sessions --all` runs no git, and git's process library is most of what this command would load.
  const { listWorktrees, repoRoot } = await import("../work/git.ts");
  let root: string;
  try {
    root = realpathOrSelf(await repoRoot(here));
  } catch {
    return { root: here, worktrees: [] };
  }
  try {
    // git lists what `.git/worktrees/*/gitdir` says, which a container can write: a worktree counts only when its own
    // `.git` names this repo back (a planted entry naming another repo would add that repo to "this project").
    const main = realpathOrSelf(mainWorktreeOf(root) ?? root);
    const worktrees = (await listWorktrees(root))
      .filter((w) => !w.bare)
      .map((w) => realpathOrSelf(w.path))
      .filter((w) => w === main || realpathOrSelf(mainWorktreeOf(w) ?? w) === main);
    return { root, worktrees: worktrees.includes(root) ? worktrees : [root, ...worktrees] };
  } catch {
    return { root, worktrees: [root] };
  }
}

/** The main worktree of the repo whose linked worktree is `dir` (its `.git` file names it), without running git. */
export function mainWorktreeOf(dir: string): string | undefined {
  // `dir` may come from a transcript a container wrote: read only a small regular file there.
  const gitFile = path.join(dir, ".git");
  let text: string | undefined;
  try {
    // Asked of every project's folder: a main worktree's `.git` folder, or no folder at all, is told by one lstat.
    if (!lstatSync(gitFile, { throwIfNoEntry: false })?.isFile()) return undefined;
    text = readRegularText(gitFile, 64 * 1024);
  } catch {
    return undefined; // Not a folder (a file named as one), unreadable, or swapped since: not a linked worktree's.
  }
  if (text === undefined) return undefined;
  const gitdir = /^gitdir: (.+)$/m.exec(text)?.[1]?.trim();
  if (!gitdir) return undefined;
  const worktreeGitDir = path.resolve(dir, gitdir);
  if (path.basename(path.dirname(worktreeGitDir)) !== "worktrees") return undefined; // A submodule.
  let common = path.dirname(path.dirname(worktreeGitDir));
  try {
    const commondir = readRegularText(path.join(worktreeGitDir, "commondir"), 64 * 1024);
    if (commondir !== undefined) common = path.resolve(worktreeGitDir, commondir.trim());
  } catch {
    // Older layouts have no commondir: the parent of `worktrees/` is the common dir.
  }
  return path.basename(common) === ".git" ? path.dirname(common) : common;
}

// Lenient on purpose: an entry of an older version still names its issue in the listing.
const workItemSchema = z.looseObject({
  identifier: z.string().check(z.minLength(1)),
  branch: z.string().check(z.minLength(1)),
  repoPath: z.string().check(z.minLength(1)),
  title: z.optional(z.string()),
});

/** A state file another command writes: unreadable or malformed, it is a note and none of its entries. */
function readNoted<T>(file: string, what: string, notes: string[], read: () => T[]): T[] {
  try {
    return read();
  } catch (error) {
    notes.push(
      errorCode(error)
        ? `${file} could not be read (${describeError(error)}), so its ${what} were left out`
        : `${file} is not a JSON array of ${what}, so they were left out`,
    );
    return [];
  }
}

/** Which folders belong together: each key points towards its group's first. */
export class UnionFind {
  private readonly parent = new Map<string, string>();

  find(key: string): string {
    const up = this.parent.get(key);
    if (up === undefined || up === key) return key;
    const root = this.find(up);
    this.parent.set(key, root);
    return root;
  }

  join(a: string, b: string): void {
    const rootA = this.find(a);
    const rootB = this.find(b);
    if (rootA !== rootB) this.parent.set(rootB, rootA);
  }
}
