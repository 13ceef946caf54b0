// The sessions of a project wherever they ran: the slug folders of its git worktrees, the container paths mapped
// onto it (symlinked slug folders and `persist-state/mappings.json`), newest first, with the command that resumes
// each one. Transcripts are summarized from their head and tail only; a folder reached by several names (a
// symlink, a bind mount) is read once.
import { realpathOrSelf, type Env } from "../claude/home.ts";
import { describeError } from "../errors.ts";
import { collectProject, compareNewestFirst, isContainerPlace, summarizeFolder } from "./collect.ts";
import { loadContext, locateProject, mainWorktreeOf, readLayout, readWorkItems, UnionFind } from "./folders.ts";
import { settledStartsKey } from "./index-file.ts";
import { type ListingInputs, listingKey, type Places, readCachedListing, saveListing } from "./listing-cache.ts";
import type { Context, ProjectSessions, ReadStats, SessionListing, SlugFolder } from "./model.ts";
import { type ScannedFolder, scanFolder } from "./scan.ts";

/**
 * A listing of every project: the last one's output when nothing it was made from changed (printed as it was), else
 * a new listing, and how to keep the output it is printed as for the next time.
 */
export type AllSessions =
  | { readonly output: Uint8Array; readonly stats: ReadStats }
  | { readonly listing: SessionListing; readonly remember: (output: string) => void };

export type {
  ProjectSessions,
  ReadStats,
  SessionEnvironment,
  SessionInfo,
  SessionListing,
  SessionWorkItem,
} from "./model.ts";
export { sessionIdOf } from "./model.ts";

/** The sessions of the project that holds `cwd`: the git root of `cwd` (with all its worktrees), else `cwd`. */
export async function listProjectSessions(env: Env, cwd: string): Promise<SessionListing> {
  const notes: string[] = [];
  const layout = readLayout(env, notes);
  const found = await locateProject(cwd, layout);
  const context = loadContext(env, found.here, found.places, layout, readWorkItems(env, notes), notes);
  const project = collectProject(context, found.project, found.folders, found.slugs);
  saveIndex(context, false);
  return { projects: [project], stats: context.stats, notes: context.notes };
}

/**
 * The project that holds `cwd` (its first worktree, or the folder) and every slug folder name that holds (or
 * points at) its sessions, without reading any transcript.
 */
export async function projectSlugFolders(env: Env, cwd: string): Promise<{ project: string; slugs: string[] }> {
  const { project, slugs } = await locateProject(cwd, readLayout(env, []));
  return { project, slugs };
}

/**
 * What `sessions --all` prints, `printedAs` (how it prints it: JSON, or a table for a terminal's width and time zone):
 * the last listing's output when nothing it was made from changed, else a new listing of every project, the one with
 * the newest session first, and how to keep its output for the next time.
 */
export function listAllSessions(env: Env, cwd: string, printedAs: ListingInputs["printedAs"]): AllSessions {
  const here = realpathOrSelf(cwd);
  const notes: string[] = [];
  // Everything a listing is made from that a stat or a small read tells, before anything is summarized.
  const startsKey = settledStartsKey(env);
  const layout = readLayout(env, notes);
  const workItems = readWorkItems(env, notes);
  const scanned = new Map(layout.folders.map((folder) => [folder.key, scanFolder(folder.dir)]));
  const clean = notes.length === 0 && [...scanned.values()].every((s) => s.error === undefined && s.unreadable === 0);
  // A listing with something to say (an unreadable file, a records folder changing now) is made afresh each time.
  const key =
    clean && startsKey !== undefined
      ? listingKey({ env, here, printedAs, layout, workItems, startsKey, scanned })
      : undefined;
  const last = key === undefined ? undefined : readCachedListing(env, printedAs.kind, key);
  if (last?.places.every(([place, repo]) => repoOf(place) === repo)) {
    return { output: last.output, stats: statsOfScan(scanned) };
  }
  const context = loadContext(env, here, [here], layout, workItems, notes);
  const { projects, places } = collectAll(context, scanned);
  saveIndex(context, true);
  const listing = { projects, stats: context.stats, notes: context.notes };
  const remember = (output: string) => {
    if (key === undefined || listing.notes.length > 0) return;
    try {
      saveListing(env, printedAs.kind, key, places, output);
    } catch {
      // Only the next listing's speed depends on it: that one is made afresh (and tries again).
    }
  };
  return { listing, remember };
}

/** The repo a project folder's place belongs to: the main worktree its `.git` file names, else the place. */
function repoOf(place: string): string {
  return mainWorktreeOf(place) ?? place;
}

function collectAll(
  context: Context,
  scanned: Map<string, ScannedFolder>,
): { projects: ProjectSessions[]; places: Places } {
  const summarized = new Map(
    context.folders.map((folder) => [folder.key, summarizeFolder(context, folder, scanned.get(folder.key))]),
  );
  // One project: the folders of one repo's worktrees (each `.git` file names the main one), and the container
  // folders mapped onto any of them.
  const groups = new UnionFind();
  const repos = new Map<string, string>();
  const firstOfRepo = new Map<string, string>();
  const places: Array<[string, string]> = [];
  for (const folder of context.folders) {
    const place = summarized.get(folder.key)?.place;
    if (!place) continue;
    const repo = repoOf(place);
    places.push([place, repo]);
    repos.set(folder.key, repo);
    const first = firstOfRepo.get(repo);
    if (first) groups.join(first, folder.key);
    else firstOfRepo.set(repo, folder.key);
  }
  const keyOfName = new Map(
    context.folders.flatMap((folder) => folder.names.map((name) => [name, folder.key] as const)),
  );
  for (const m of context.mappings) {
    const host = keyOfName.get(m.hostSlug);
    const container = keyOfName.get(m.containerSlug);
    if (host && container) groups.join(host, container);
  }
  const members = new Map<string, SlugFolder[]>();
  for (const folder of context.folders) {
    const group = groups.find(folder.key);
    const list = members.get(group);
    if (list) list.push(folder);
    else members.set(group, [folder]);
  }
  const projects: ProjectSessions[] = [];
  for (const folders of members.values()) {
    const labels = folders.map((f) => repos.get(f.key)).filter((repo): repo is string => repo !== undefined);
    const label = labels.find((repo) => !isContainerPlace(context, repo)) ?? labels[0] ?? folders[0]?.names[0] ?? "";
    const project = collectProject(context, label, folders, [], summarized);
    if (project.sessions.length > 0) projects.push(project);
  }
  projects.sort((a, b) => compareNewestFirst(a.sessions[0], b.sessions[0]) || a.project.localeCompare(b.project));
  return { projects, places };
}

function statsOfScan(scanned: Map<string, ScannedFolder>): ReadStats {
  const stats: ReadStats = { transcripts: 0, opened: 0, folders: 0, bytesRead: 0, totalBytes: 0 };
  for (const folder of scanned.values()) {
    stats.folders++;
    stats.transcripts += folder.files.length;
    for (const file of folder.files) stats.totalBytes += file.size;
  }
  return stats;
}

/** Saves what this listing read for the next one; a listing still works when it cannot, and says so. */
function saveIndex(context: Context, complete: boolean): void {
  try {
    context.index.save(complete);
  } catch (error) {
    const why = describeError(error);
    context.notes.push(`could not save the sessions index, so the next listing reads the transcripts again (${why})`);
  }
}
