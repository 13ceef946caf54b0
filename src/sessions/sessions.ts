// The sessions of a project wherever they ran: the slug folders of its git worktrees, the container paths mapped
// onto it (symlinked slug folders and `persist-state/mappings.json`), newest first, with the command that resumes
// each one. Transcripts are summarized from their head and tail only; a folder reached by several names (a
// symlink, a bind mount) is read once.
import { realpathOrSelf, type Env } from "../claude/home.ts";
import { describeError } from "../errors.ts";
import { collectProject, compareNewestFirst, isContainerPlace, summarizeFolder } from "./collect.ts";
import { loadContext, locateProject, mainWorktreeOf, readLayout, UnionFind } from "./folders.ts";
import type { Context, ProjectSessions, SessionListing, SlugFolder } from "./model.ts";

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
  const context = loadContext(env, found.here, found.places, layout, notes);
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

/** Every project under `projects/`, the one with the newest session first. */
export function listAllSessions(env: Env, cwd: string): SessionListing {
  const here = realpathOrSelf(cwd);
  const notes: string[] = [];
  const context = loadContext(env, here, [here], readLayout(env, notes), notes);
  const summarized = new Map(context.folders.map((folder) => [folder.key, summarizeFolder(context, folder)]));
  // One project: the folders of one repo's worktrees (each `.git` file names the main one), and the container
  // folders mapped onto any of them.
  const groups = new UnionFind();
  const repoOf = new Map<string, string>();
  const firstOfRepo = new Map<string, string>();
  for (const folder of context.folders) {
    const place = summarized.get(folder.key)?.place;
    if (!place) continue;
    const repo = mainWorktreeOf(place) ?? place;
    repoOf.set(folder.key, repo);
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
    const repos = folders.map((f) => repoOf.get(f.key)).filter((repo): repo is string => repo !== undefined);
    const label = repos.find((repo) => !isContainerPlace(context, repo)) ?? repos[0] ?? folders[0]?.names[0] ?? "";
    const project = collectProject(context, label, folders, [], summarized);
    if (project.sessions.length > 0) projects.push(project);
  }
  projects.sort((a, b) => compareNewestFirst(a.sessions[0], b.sessions[0]) || a.project.localeCompare(b.project));
  saveIndex(context, true);
  return { projects, stats: context.stats, notes: context.notes };
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
