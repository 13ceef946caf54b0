// The sessions of a project wherever they ran: the slug folders of its git worktrees, the container paths mapped
// onto it (symlinked slug folders and `persist-state/mappings.json`), newest first, with the command that resumes
// each one. Transcripts are summarized from their head and tail only; a folder reached by several names (a
// symlink, a bind mount) is read once.
import type { Env } from "../claude/home.ts";
import { saveIndex } from "./all-sessions.ts";
import { collectProject } from "./collect.ts";
import { loadContext, locateProject, readLayout, readWorkItems } from "./folders.ts";
import { SessionsIndex } from "./index-file.ts";
import type { SessionListing } from "./model.ts";

export type {
  ProjectSessions,
  ReadStats,
  SessionEnvironment,
  SessionInfo,
  SessionListing,
  SessionWorkItem,
} from "./model.ts";
export { sessionIdOf } from "./model.ts";
export { type AllSessions, listAllSessions } from "./all-sessions.ts";
export type { ProjectPrinter } from "./listing-cache.ts";

/** The sessions of the project that holds `cwd`: the git root of `cwd` (with all its worktrees), else `cwd`. */
export async function listProjectSessions(env: Env, cwd: string): Promise<SessionListing> {
  const notes: string[] = [];
  const layout = readLayout(env, notes);
  const found = await locateProject(cwd, layout);
  const index = SessionsIndex.load(env);
  const context = loadContext(found.here, found.places, layout, readWorkItems(env, notes), notes, index);
  const project = collectProject(context, found.project, found.folders, found.slugs);
  saveIndex(context, index, false);
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
