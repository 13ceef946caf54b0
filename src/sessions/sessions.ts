// The sessions of a project wherever they ran: the slug folders of its git worktrees, the container paths mapped
// onto it (symlinked slug folders and `persist-state/mappings.json`), newest first, with the command that resumes
// each one. Transcripts are summarized from their head and tail only; a folder reached by several names (a
// symlink, a bind mount) is read once.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import * as z from "zod";
import { encodeProjectSlug, hasProjectSlug, projectsDir, realpathOrSelf, type Env } from "../claude/home.ts";
import { summarizeTranscript } from "../claude/transcript.ts";
import { describeError } from "../errors.ts";
import { errorCode, readRegularText } from "../fs.ts";
import { shellWord } from "../text.ts";
import { STATE, statePath } from "../state/paths.ts";
import { mappingSchema, mappingsFile, type Mapping } from "../state/mappings.ts";
import { SessionsIndex, type IndexedSummary, type StartsSummary } from "./index-file.ts";
import { readJsonState } from "../state/files.ts";
import { readWorkItemEntries, workItemsPath } from "../work/work-items.ts";

export type SessionEnvironment = {
  readonly kind: "host" | "container";
  /** The machine (or container) name the SessionStart hook recorded; absent when only the transcript says where. */
  readonly machine: string | null;
  readonly cwd: string | null;
};

export type SessionWorkItem = { readonly identifier: string; readonly title: string | null };

export type SessionInfo = {
  /** The project it belongs to: the repo's main worktree on the host, or the folder. */
  readonly project: string;
  readonly id: string;
  readonly firstPrompt: string | null;
  readonly started: string | null;
  readonly lastActivity: string;
  readonly environments: SessionEnvironment[];
  readonly branch: string | null;
  readonly workItem: SessionWorkItem | null;
  /** Where `claude --resume` must run to continue it in the right worktree. */
  readonly folder: string | null;
  /** The exact command that resumes it from the folder the listing was made in. */
  readonly resume: string;
  readonly transcript: string;
};

export type ProjectSessions = {
  readonly project: string;
  /** Every folder name under `projects/` that holds (or points at) this project's sessions. */
  readonly slugs: string[];
  readonly sessions: SessionInfo[];
};

export type ReadStats = {
  transcripts: number;
  /** Transcripts opened and read: the others were unchanged since a listing put them in the index. */
  opened: number;
  folders: number;
  bytesRead: number;
  totalBytes: number;
  /** Why the stored index could not be used (it is rebuilt), when it was there but unusable. */
  indexDamage?: string;
};

export type SessionListing = {
  readonly projects: ProjectSessions[];
  readonly stats: ReadStats;
  /** Things left out, one sentence each (unreadable files, malformed state). */
  readonly notes: string[];
};

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
  const keyOfName = new Map(context.folders.flatMap((folder) => folder.names.map((name) => [name, folder.key] as const)));
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

/**
 * The session a file of a slug folder holds: `<id>.jsonl`. Subagents' files (`agent-*.jsonl`, or under
 * `<id>/subagents/`) hold none.
 */
export function sessionIdOf(name: string): string | undefined {
  return name.endsWith(".jsonl") && !name.startsWith("agent-") ? name.slice(0, -".jsonl".length) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------

/** One folder under `projects/`, however many names reach it. */
type SlugFolder = {
  /** `dev:ino`: the same for a symlink, a bind mount and the folder itself. */
  readonly key: string;
  /** The path to read it through. */
  readonly dir: string;
  /** Every name under `projects/` that reaches it, the real folder's first. */
  readonly names: string[];
};

type WorkItem = { readonly identifier: string; readonly branch: string; readonly repoPath: string; readonly title: string | null };

type Context = {
  readonly here: string;
  readonly folders: SlugFolder[];
  /** Local folders (this worktree, the others) by the key of their slug folder: where resuming works from here. */
  readonly localPlaces: Map<string, string>;
  readonly mappings: Mapping[];
  readonly workItems: WorkItem[];
  readonly recordedStarts: Set<string>;
  readonly startsDir: string;
  /** Slugs that are container paths: the symlinked ones, and those the mappings name. */
  readonly containerSlugs: Set<string>;
  readonly containerPaths: Set<string>;
  readonly containerPlaces: Map<string, boolean>;
  readonly stats: ReadStats;
  readonly notes: string[];
  readonly index: SessionsIndex;
};

/** What `projects/` holds and how the mappings join its folders: all a project's slugs need. */
type Layout = { readonly folders: SlugFolder[]; readonly symlinked: string[]; readonly mappings: Mapping[] };

function readLayout(env: Env, notes: string[]): Layout {
  const mappings = readNoted(mappingsFile(env), "mappings", notes, () => readJsonState(mappingsFile(env), z.array(z.unknown()), [])).flatMap((entry) => {
    const parsed = mappingSchema.safeParse(entry);
    return parsed.success ? [parsed.data] : [];
  });
  return { ...scanProjectsDir(projectsDir(env)), mappings };
}

type FoundProject = {
  readonly here: string;
  readonly project: string;
  /** The repo's worktrees (or the folder): where its sessions resume from here. */
  readonly places: string[];
  readonly folders: SlugFolder[];
  readonly slugs: string[];
};

async function locateProject(cwd: string, layout: Layout): Promise<FoundProject> {
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

function loadContext(env: Env, here: string, localPaths: string[], layout: Layout, notes: string[]): Context {
  const { folders, symlinked, mappings } = layout;
  const localPlaces = new Map<string, string>();
  const keyOfName = new Map(folders.flatMap((folder) => folder.names.map((name) => [name, folder.key] as const)));
  for (const place of [here, ...localPaths]) {
    const key = keyOfName.get(encodeProjectSlug(place));
    if (key && !localPlaces.has(key)) localPlaces.set(key, place);
  }
  const mapped = mappings.filter((m) => m.containerSlug !== m.hostSlug);
  const startsDir = statePath(env, STATE.sessionStarts);
  const index = SessionsIndex.load(env);
  return {
    here,
    folders,
    localPlaces,
    mappings,
    workItems: readNoted(workItemsPath(env), "work items", notes, () => readWorkItemEntries(env)).flatMap((entry) => {
      const parsed = workItemSchema.safeParse(entry);
      return parsed.success ? [{ ...parsed.data, title: parsed.data.title ?? null }] : [];
    }),
    recordedStarts: new Set(listNames(startsDir)),
    startsDir,
    containerSlugs: new Set([...symlinked, ...mapped.map((m) => m.containerSlug)]),
    containerPaths: new Set(mapped.map((m) => m.containerPath)),
    containerPlaces: new Map(),
    stats: { transcripts: 0, opened: 0, folders: 0, bytesRead: 0, totalBytes: 0, ...(index.damaged ? { indexDamage: index.damaged } : {}) },
    notes,
    index,
  };
}

/** The folders under `projects/`, one entry per folder however many names reach it. */
function scanProjectsDir(projects: string): { folders: SlugFolder[]; symlinked: string[] } {
  const byKey = new Map<string, { dir: string; real: string[]; links: string[] }>();
  const symlinked: string[] = [];
  let entries;
  try {
    entries = readdirSync(projects, { withFileTypes: true });
  } catch {
    return { folders: [], symlinked };
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    const dir = path.join(projects, entry.name);
    let stats;
    try {
      stats = statSync(dir);
    } catch {
      continue; // A dangling symlink: nothing to list.
    }
    if (!stats.isDirectory()) continue;
    if (entry.isSymbolicLink()) symlinked.push(entry.name);
    const key = `${stats.dev}:${stats.ino}`;
    const folder = byKey.get(key) ?? { dir, real: [], links: [] };
    (entry.isSymbolicLink() ? folder.links : folder.real).push(entry.name);
    if (!entry.isSymbolicLink() && folder.real.length === 1) folder.dir = dir;
    byKey.set(key, folder);
  }
  const folders = [...byKey].map(([key, f]) => ({ key, dir: f.dir, names: [...f.real, ...f.links] }));
  return { folders, symlinked };
}

type FolderSummary = {
  readonly transcripts: Array<{ readonly file: string; readonly id: string; readonly summary: IndexedSummary }>;
  /** The folder this slug folder stands for, when it can be told: where its sessions resume. */
  readonly place: string | undefined;
};

function summarizeFolder(context: Context, folder: SlugFolder): FolderSummary {
  const transcripts: FolderSummary["transcripts"] = [];
  let entries;
  try {
    entries = readdirSync(folder.dir, { withFileTypes: true });
  } catch (error) {
    context.notes.push(`could not read ${folder.dir} (${describeError(error)})`);
    return { transcripts, place: undefined };
  }
  context.stats.folders++;
  let unreadable = 0;
  for (const entry of entries) {
    const id = entry.isFile() ? sessionIdOf(entry.name) : undefined;
    if (id === undefined) continue;
    const file = path.join(folder.dir, entry.name);
    try {
      // A stat, and the file is opened only when it changed since the index saw it.
      const stats = statSync(file);
      if (!stats.isFile()) continue;
      const { summary, bytesRead, opened } = context.index.transcript(folder.dir, entry.name, stats, () => summarizeTranscript(file));
      context.stats.transcripts++;
      if (opened) context.stats.opened++;
      context.stats.bytesRead += bytesRead;
      context.stats.totalBytes += summary.size;
      transcripts.push({ file, id, summary });
    } catch {
      unreadable++;
    }
  }
  if (unreadable > 0) context.notes.push(`${unreadable} transcript${unreadable === 1 ? "" : "s"} in ${folder.dir} could not be read`);
  return { transcripts, place: placeOf(context, folder, transcripts) };
}

/** The folder a slug folder stands for: a local one, else what the mappings or its transcripts say. */
function placeOf(context: Context, folder: SlugFolder, transcripts: FolderSummary["transcripts"]): string | undefined {
  const local = context.localPlaces.get(folder.key);
  if (local) return local;
  const names = new Set(folder.names);
  const real = folder.names[0];
  const host = context.mappings.find((m) => m.hostSlug === real);
  if (host) return host.hostPath;
  // Newest first: a folder that moved keeps its newest name.
  const cwds = [...transcripts]
    .sort((a, b) => timeOf(b.summary.lastTimestamp) - timeOf(a.summary.lastTimestamp))
    .flatMap((t) => [t.summary.lastCwd, t.summary.firstCwd])
    .filter((cwd): cwd is string => cwd !== undefined);
  const ownCwd = cwds.find((cwd) => encodeProjectSlug(cwd) === real) ?? cwds.find((cwd) => names.has(encodeProjectSlug(cwd)));
  if (ownCwd) return ownCwd;
  return context.mappings.find((m) => names.has(m.hostSlug))?.hostPath ?? context.mappings.find((m) => names.has(m.containerSlug))?.containerPath;
}

function collectProject(
  context: Context,
  project: string,
  folders: SlugFolder[],
  slugs: string[],
  summarized: Map<string, FolderSummary> = new Map(),
): ProjectSessions {
  const projectSlugs = new Set([...slugs, ...folders.flatMap((f) => f.names)]);
  const workItems = context.workItems.filter((item) => belongsTo(item.repoPath, projectSlugs));
  const byId = new Map<string, SessionInfo>();
  for (const folder of folders) {
    const { transcripts, place } = summarized.get(folder.key) ?? summarizeFolder(context, folder);
    for (const { file, id, summary } of transcripts) {
      const starts = readStarts(context, id);
      const branch = summary.gitBranch ?? null;
      // The newest entry wins when a branch was started twice.
      const workItem = branch ? [...workItems].reverse().find((item) => item.branch === branch) : undefined;
      const session: SessionInfo = {
        project,
        id,
        firstPrompt: summary.firstPrompt ?? null,
        started: summary.firstTimestamp ?? starts.first,
        lastActivity: lastActivityOf(file, summary, starts),
        environments: environmentsOf(context, summary, starts),
        branch,
        workItem: workItem ? { identifier: workItem.identifier, title: workItem.title } : null,
        folder: place ?? null,
        resume: resumeCommand(context.here, place, id),
        transcript: file,
      };
      const seen = byId.get(id);
      // The same session in two folders (a copy left by a move): the newer one is the one to resume.
      if (!seen || compareNewestFirst(session, seen) < 0) byId.set(id, session);
    }
  }
  const sessions = [...byId.values()].sort(compareNewestFirst);
  return { project, slugs: [...projectSlugs].sort(), sessions };
}

function belongsTo(repoPath: string, projectSlugs: Set<string>): boolean {
  return hasProjectSlug(projectSlugs, repoPath);
}

function lastActivityOf(file: string, summary: IndexedSummary, starts: StartsSummary): string {
  const newest = Math.max(timeOf(summary.lastTimestamp), timeOf(starts.newest));
  if (newest > 0) {
    const iso = new Date(newest).toISOString();
    parsedTimes.set(iso, newest); // The sort asks for it next.
    return iso;
  }
  try {
    return statSync(file).mtime.toISOString();
  } catch {
    return new Date(0).toISOString();
  }
}

/** Where it ran: what the hook recorded, plus the transcript's folders that no record covers. */
function environmentsOf(context: Context, summary: IndexedSummary, starts: StartsSummary): SessionEnvironment[] {
  const found: SessionEnvironment[] = [];
  const add = (environment: SessionEnvironment) => {
    if (!found.some((e) => e.kind === environment.kind && e.machine === environment.machine && (e.machine !== null || e.cwd === environment.cwd))) {
      found.push(environment);
    }
  };
  for (const environment of starts.environments) add(environment);
  const recordedCwds = new Set(starts.environments.map((e) => e.cwd));
  for (const cwd of [summary.firstCwd, summary.lastCwd]) {
    if (cwd === undefined || recordedCwds.has(cwd)) continue;
    add({ kind: isContainerPlace(context, cwd) ? "container" : "host", machine: null, cwd });
  }
  return found;
}

function isContainerPlace(context: Context, place: string): boolean {
  let known = context.containerPlaces.get(place);
  if (known === undefined) {
    known = context.containerPaths.has(place) || context.containerSlugs.has(encodeProjectSlug(place));
    // Asked twice per session, of the few folders sessions ran in.
    context.containerPlaces.set(place, known);
  }
  return known;
}

function resumeCommand(here: string, place: string | undefined, id: string): string {
  const resume = `claude --resume ${shellWord(id)}`;
  return place === undefined || place === here ? resume : `cd ${shellWord(place)} && ${resume}`;
}


function compareNewestFirst(a: SessionInfo | undefined, b: SessionInfo | undefined): number {
  return timeOf(b?.lastActivity) - timeOf(a?.lastActivity) || (a?.id ?? "").localeCompare(b?.id ?? "");
}

/** Sorting 10,000 sessions asks for each time about fourteen times: each string is parsed once. */
const parsedTimes = new Map<string, number>();

function timeOf(iso: string | null | undefined): number {
  if (!iso) return 0;
  let time = parsedTimes.get(iso);
  if (time === undefined) {
    time = Date.parse(iso);
    if (Number.isNaN(time)) time = 0;
    parsedTimes.set(iso, time);
  }
  return time;
}

// ---------------------------------------------------------------------------------------------------------------
// What lives outside: git, and the pack's state files other commands write. Read defensively: a missing file is
// "none", a malformed one is a note, never a failure of the listing.

async function findProject(here: string): Promise<{ root: string; worktrees: string[] }> {
  // Loaded here: `sessions --all` runs no git, and git's process library is most of what this command would load.
  const { listWorktrees, repoRoot } = await import("../work/git.ts");
  let root: string;
  try {
    root = realpathOrSelf(await repoRoot(here));
  } catch {
    return { root: here, worktrees: [] };
  }
  try {
    const worktrees = (await listWorktrees(root)).filter((w) => !w.bare).map((w) => realpathOrSelf(w.path));
    return { root, worktrees: worktrees.includes(root) ? worktrees : [root, ...worktrees] };
  } catch {
    return { root, worktrees: [root] };
  }
}

/** The main worktree of the repo whose linked worktree is `dir` (its `.git` file names it), without running git. */
function mainWorktreeOf(dir: string): string | undefined {
  // `dir` may come from a transcript a container wrote: read only a small regular file there.
  let text: string | undefined;
  try {
    text = readRegularText(path.join(dir, ".git"), 64 * 1024);
  } catch {
    return undefined; // A `.git` folder (a main worktree).
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
const workItemSchema = z
  .object({ identifier: z.string().min(1), branch: z.string().min(1), repoPath: z.string().min(1), title: z.string().optional() })
  .loose();

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

/** A session's start records: a line per start, a few hundred bytes each. */
const MAX_STARTS_BYTES = 1024 * 1024;

const startRecordSchema = z
  .object({ environment: z.enum(["host", "container"]), machine: z.string().optional(), cwd: z.string().optional(), time: z.string().optional() })
  .loose();

/** Where a session ran, as the listing shows it; more than this many different places are not listed. */
const MAX_START_PLACES = 64;

/** The hook's records of one session's starts (one JSON line each, oldest first), from the index when unchanged. */
function readStarts(context: Context, id: string): StartsSummary {
  const none: StartsSummary = { first: null, newest: null, environments: [] };
  const name = `${id}.jsonl`;
  if (!context.recordedStarts.has(name)) return none;
  const file = path.join(context.startsDir, name);
  try {
    // Containers write these: only a regular file of bounded size is read (a FIFO would hang the listing).
    const stats = statSync(file);
    if (!stats.isFile()) return none;
    return context.index.startsOf(context.startsDir, name, stats, () => summarizeStarts(readRegularText(file, MAX_STARTS_BYTES) ?? ""));
  } catch {
    return none;
  }
}

function summarizeStarts(text: string): StartsSummary {
  const records = text.split("\n").flatMap((line) => {
    if (!line.trim()) return [];
    try {
      const parsed = startRecordSchema.safeParse(JSON.parse(line));
      if (!parsed.success) return [];
      const { environment, machine, cwd, time } = parsed.data;
      return [{ kind: environment, machine: machine ?? null, cwd: cwd ?? null, time: time ?? null }];
    } catch {
      return [];
    }
  });
  const environments: Array<StartsSummary["environments"][number]> = [];
  for (const { kind, machine, cwd } of records) {
    if (environments.length === MAX_START_PLACES) break;
    if (!environments.some((e) => e.kind === kind && e.machine === machine && e.cwd === cwd)) environments.push({ kind, machine, cwd });
  }
  const newest = records.reduce<string | null>((found, { time }) => (timeOf(time) > timeOf(found) ? time : found), null);
  return { first: records[0]?.time ?? null, newest, environments };
}

/** Saves what this listing read for the next one; a listing still works when it cannot, and says so. */
function saveIndex(context: Context, complete: boolean): void {
  try {
    context.index.save(complete);
  } catch (error) {
    context.notes.push(`could not save the sessions index, so the next listing reads the transcripts again (${describeError(error)})`);
  }
}

function listNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}


/** Which folders belong together: each key points towards its group's first. */
class UnionFind {
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
