// `sessions --all`: every project under projects/, the one with the newest session first, printed a project at a
// time. The output is kept per project (listing-cache.ts): a project whose files are as they were prints its kept
// part; one whose files changed is made again from its kept rows, reading only the files that changed. Anything
// else that changed (the layout, the mappings, the work items, the start records, where or how it is printed, a
// folder's place) makes the whole listing afresh from the sessions index.
import { projectsDir, realpathOrSelf, type Env } from "../claude/home.ts";
import { describeError } from "../errors.ts";
import {
  collectProject,
  compareNewestFirst,
  type FolderSummary,
  isContainerPlace,
  summarizeFolder,
} from "./collect.ts";
import { loadContext, mainWorktreeOf, readLayout, readWorkItems, UnionFind } from "./folders.ts";
import { SessionsIndex, settledStartsKey } from "./index-file.ts";
import { KeptRows } from "./kept-rows.ts";
import {
  groupId,
  type KeptFolder,
  type KeptGroup,
  type KeptListing,
  type KeptPart,
  type PrintedOutput,
  type ProjectPrinter,
  projectKey,
  readKeptListing,
  readAllKeptRows,
  readKeptRows,
  sameProjectKey,
  saveKeptListing,
  sharedKey,
} from "./listing-cache.ts";
import type { Context, Layout, ProjectSessions, ReadStats, SlugFolder, WorkItem } from "./model.ts";
import { type ScannedFolder, scanFolder } from "./scan.ts";

/** How many projects' parts are kept beside the listing before they are written into it (see saveKeptListing). */
const MAX_BESIDE = 16;

/** What `sessions --all` prints, in chunks (kept parts are printed from the bytes they were read into). */
export type AllSessions = {
  readonly output: ReadonlyArray<string | Uint8Array>;
  readonly stats: ReadStats;
  readonly notes: string[];
};

/** What a listing of every project starts from: all that a stat or a small read tells, before any transcript. */
type Inputs = {
  readonly env: Env;
  readonly here: string;
  readonly layout: Layout;
  readonly workItems: WorkItem[];
  readonly scanned: ReadonlyMap<string, ScannedFolder>;
  readonly printer: ProjectPrinter;
};

/** What `sessions --all` prints as `printer` prints it, from the kept parts where their files did not change. */
export async function listAllSessions(env: Env, cwd: string, printer: ProjectPrinter): Promise<AllSessions> {
  const here = realpathOrSelf(cwd);
  const notes: string[] = [];
  const startsKey = settledStartsKey(env);
  const layout = readLayout(env, notes);
  const workItems = readWorkItems(env, notes);
  const scanned = new Map(layout.folders.map((folder) => [folder.key, scanFolder(folder.dir)]));
  const inputs: Inputs = { env, here, layout, workItems, scanned, printer };
  const clean = notes.length === 0 && [...scanned.values()].every((s) => s.error === undefined && s.unreadable === 0);
  // A listing with something to say (an unreadable file, a records folder changing now) is made afresh each time.
  const shared =
    clean && startsKey !== undefined
      ? sharedKey({ printer, here, projects: projectsDir(env), layout, workItems, startsKey })
      : undefined;
  const kept = shared === undefined ? undefined : readKeptListing(env, printer.kind, shared);
  // Rows that are not what we write make the listing afresh, which replaces them.
  const again = shared !== undefined && kept && (await fromKept(inputs, shared, kept).catch(() => undefined));
  if (again) return again;
  return afresh(inputs, notes, shared);
}

/** A project to list again: its kept part, its folders, and whether its files changed since. */
type Entry = { readonly kept: KeptPart; readonly folders: readonly SlugFolder[]; readonly changed: boolean };

/** The listing from the kept one, each project whose files changed made again; undefined when it cannot be. */
async function fromKept(inputs: Inputs, shared: string, kept: KeptListing): Promise<AllSessions | undefined> {
  const { env, layout, scanned, printer } = inputs;
  const byKey = new Map(layout.folders.map((folder) => [folder.key, folder]));
  const entries: Entry[] = kept.projects.map((project) => {
    const folders = project.folders.flatMap((f) => byKey.get(f.key) ?? []);
    return { kept: project, folders, changed: !sameProjectKey(folders, scanned, project.key) };
  });
  // Every folder in one project, each place still of its repo (a folder that became a linked worktree joins another).
  const keys = kept.projects.flatMap((project) => project.folders.map((f) => f.key));
  if (keys.length !== layout.folders.length || new Set(keys).size !== keys.length || !keys.every((k) => byKey.has(k)))
    return undefined;
  if (!kept.projects.every((p) => p.folders.every((f) => f.place === null || repoOf(f.place) === f.repo)))
    return undefined;
  const stats = statsOfScan(scanned);
  let index: SessionsIndex | undefined;
  const startsFrom = () => (index ??= SessionsIndex.load(env));
  const changed = remake(
    inputs,
    kept,
    entries.filter((e) => e.changed),
    startsFrom,
    stats,
  );
  if (changed === undefined) return undefined;
  const measures = new Map<string, number[]>();
  for (const { entry, project } of changed.made) measures.set(entry.kept.id, await printer.measure(project));
  const layoutNow = printer.layout(entries.map((e) => measures.get(e.kept.id) ?? e.kept.measure));
  // A project kept in another layout (a changed one's cell is now the widest) is printed again, from its rows.
  const relaid = entries.filter((e) => !e.changed && !sameNumbers(e.kept.layout, layoutNow));
  const again = relaid.length > 0 ? remake(inputs, kept, relaid, startsFrom, stats) : { made: [], rows: undefined };
  if (again === undefined) return undefined;
  const parts = new Map(kept.projects.map((project) => [project.id, project]));
  const rows = new Map<string, string>();
  for (const { made, rows: source } of [changed, again]) {
    for (const { entry, project } of made) {
      if (!source) continue;
      const part = await printPart(printer, entry.kept, project, entry.folders, layoutNow, measures, scanned);
      parts.set(entry.kept.id, part);
      rows.set(entry.kept.id, source.rowsOf(entry.folders.map((folder) => folder.dir)));
    }
  }
  const projects = kept.projects.flatMap((project) => parts.get(project.id) ?? []);
  const output = joined(printer, projects);
  if (rows.size > 0) {
    try {
      // A few projects' parts beside the listing; past MAX_BESIDE, all in the listing again.
      const how = kept.patches + rows.size > MAX_BESIDE ? "fold" : "beside";
      saveKeptListing(env, printer.kind, { shared, generation: kept.generation, projects }, rows, how, output);
    } catch {
      // Only the next listing's speed depends on it: that one makes these projects again (and tries again).
    }
  }
  return { output: coalesced(output.chunks), stats, notes: [] };
}

/** The projects of `entries` made again from their kept rows (their changed files read); undefined when they cannot be. */
function remake(
  inputs: Inputs,
  kept: KeptListing,
  entries: readonly Entry[],
  startsFrom: () => SessionsIndex,
  stats: ReadStats,
): { made: Array<{ entry: Entry; project: ProjectSessions }>; rows: KeptRows } | undefined {
  const stored: Buffer[] = [];
  for (const entry of entries) {
    const rows = readKeptRows(inputs.env, inputs.printer.kind, entry.kept.id, kept.generation);
    if (rows === undefined) return undefined;
    stored.push(rows);
  }
  const rows = new KeptRows(stored, undefined, startsFrom);
  const context = loadContext(inputs.here, [inputs.here], inputs.layout, inputs.workItems, [], rows);
  const made: Array<{ entry: Entry; project: ProjectSessions }> = [];
  for (const entry of entries) {
    const summarized = new Map<string, FolderSummary>();
    for (const [i, folder] of entry.folders.entries()) {
      const summary = summarizeFolder(context, folder, inputs.scanned.get(folder.key));
      // Its newest transcript may name another place: the projects may group otherwise.
      if ((summary.place ?? null) !== entry.kept.folders[i]?.place) return undefined;
      summarized.set(folder.key, summary);
    }
    made.push({ entry, project: collectProject(context, entry.kept.label, [...entry.folders], [], summarized) });
  }
  stats.opened += context.stats.opened;
  stats.bytesRead += context.stats.bytesRead;
  return context.notes.length > 0 ? undefined : { made, rows };
}

/** A new listing of every project, from the sessions index; kept for the next one when `shared` says it can be. */
async function afresh(inputs: Inputs, notes: string[], shared: string | undefined): Promise<AllSessions> {
  const { env, here, layout, workItems, scanned, printer } = inputs;
  const index = SessionsIndex.load(env);
  const rows = keptRowsOrNone(readAllKeptRows(env, printer.kind), index);
  const context = loadContext(here, [here], layout, workItems, notes, rows);
  const groups = collectAll(context, scanned);
  saveIndex(context, index, true);
  const measures = new Map<string, number[]>();
  for (const { group, project } of groups) measures.set(group.id, await printer.measure(project));
  const layoutNow = printer.layout([...measures.values()]);
  const projects: KeptPart[] = [];
  for (const { group, project, folders } of groups)
    projects.push(await printPart(printer, group, project, folders, layoutNow, measures, scanned));
  const output = joined(printer, projects);
  if (shared !== undefined && context.notes.length === 0) {
    const generation = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
    const kept = new Map(groups.map(({ group, folders }) => [group.id, rows.rowsOf(folders.map((f) => f.dir))]));
    try {
      saveKeptListing(env, printer.kind, { shared, generation, projects }, kept, "afresh", output);
    } catch {
      // Only the next listing's speed depends on it: that one is made afresh (and tries again).
    }
  }
  return { output: coalesced(output.chunks), stats: context.stats, notes: context.notes };
}

/** The sessions index, helped by what the last listing kept (not what it kept if that is damaged). */
function keptRowsOrNone(stored: readonly Buffer[], index: SessionsIndex): KeptRows {
  try {
    return new KeptRows(stored, index, () => index, false);
  } catch {
    return new KeptRows([], index, () => index, false);
  }
}

/** A project's part as `printer` prints it in `layout`, with what the next listing keeps of it. */
async function printPart(
  printer: ProjectPrinter,
  group: KeptGroup,
  project: ProjectSessions,
  folders: readonly SlugFolder[],
  layout: readonly number[],
  measures: ReadonlyMap<string, number[]>,
  scanned: ReadonlyMap<string, ScannedFolder>,
): Promise<KeptPart> {
  const newest = project.sessions[0];
  // Measured before it is printed (a table loads what measures its cells then).
  const measure = measures.get(group.id) ?? (await printer.measure(project));
  return {
    id: group.id,
    label: group.label,
    folders: group.folders,
    first: newest ? { lastActivity: newest.lastActivity, id: newest.id, project: project.project } : null,
    measure,
    layout: [...layout],
    key: projectKey(folders, scanned),
    part: newest ? await printer.print(project, layout) : "",
  };
}

/** The output: the projects with sessions, the one with the newest session first, their parts joined. */
function joined(printer: ProjectPrinter, projects: readonly KeptPart[]): PrintedOutput {
  const shown = projects.filter((project) => project.first !== null);
  if (shown.length === 0) return { chunks: [printer.none()], offsets: new Map() };
  // Sorted as they were listed: stable, so equal ones stay in the order the projects were grouped in.
  const first = (project: KeptPart) => project.first ?? { lastActivity: "", id: "", project: "" };
  shown.sort((a, b) => compareNewestFirst(first(a), first(b)) || first(a).project.localeCompare(first(b).project));
  const chunks: Array<string | Uint8Array> = [printer.open];
  const offsets = new Map<string, number>();
  let at = Buffer.byteLength(printer.open);
  for (const [i, { id, part }] of shown.entries()) {
    if (i > 0) {
      chunks.push(printer.separator);
      at += Buffer.byteLength(printer.separator);
    }
    offsets.set(id, at);
    chunks.push(part);
    at += typeof part === "string" ? Buffer.byteLength(part) : part.length;
  }
  chunks.push(printer.close);
  return { chunks, offsets };
}

/**
 * `chunks` as few as can be: chunks that lie one after another in the bytes they were read from (the kept listing,
 * printed in the same order) are one view of those bytes, and texts side by side are one text. Printed unchanged, a
 * listing is one write of the bytes read.
 */
function coalesced(chunks: ReadonlyArray<string | Uint8Array>): Array<string | Uint8Array> {
  const out: Array<string | Uint8Array> = [];
  for (const chunk of chunks) {
    const last = out.at(-1);
    if (typeof chunk === "string" && typeof last === "string") {
      out[out.length - 1] = last + chunk;
    } else if (last instanceof Uint8Array && follows(last, chunk)) {
      // An ASCII text that follows is as many bytes as characters.
      const length = last.length + chunk.length;
      out[out.length - 1] = new Uint8Array(last.buffer, last.byteOffset, length);
    } else {
      out.push(chunk);
    }
  }
  return out;
}

/** Whether `next` (bytes, or an ASCII text) is what lies right after `run` in the bytes `run` is a view of. */
function follows(run: Uint8Array, next: string | Uint8Array): boolean {
  const end = run.byteOffset + run.length;
  if (typeof next !== "string") return next.buffer === run.buffer && next.byteOffset === end;
  // Compared in place, without a copy: 300 separators are asked of each listing.
  const bytes = new Uint8Array(run.buffer);
  if (end + next.length > bytes.length) return false;
  for (let i = 0; i < next.length; i++) {
    const code = next.charCodeAt(i);
    if (code > 0x7f || bytes[end + i] !== code) return false;
  }
  return true;
}

/** The repo a project folder's place belongs to: the main worktree its `.git` file names, else the place. */
function repoOf(place: string): string {
  return mainWorktreeOf(place) ?? place;
}

/**
 * Every project: the folders of one repo's worktrees (each `.git` file names the main one), and the container
 * folders mapped onto any of them, in the order their first folders are listed.
 */
function collectAll(
  context: Context,
  scanned: ReadonlyMap<string, ScannedFolder>,
): Array<{ group: KeptGroup & { folders: KeptFolder[] }; folders: SlugFolder[]; project: ProjectSessions }> {
  const summarized = new Map(
    context.folders.map((folder) => [folder.key, summarizeFolder(context, folder, scanned.get(folder.key))]),
  );
  const groups = new UnionFind();
  const kept = new Map<string, KeptFolder>();
  const firstOfRepo = new Map<string, string>();
  for (const folder of context.folders) {
    const place = summarized.get(folder.key)?.place;
    const repo = place ? repoOf(place) : undefined;
    kept.set(folder.key, { key: folder.key, place: place ?? null, repo: repo ?? null });
    if (!repo) continue;
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
  return [...members.values()].map((folders) => {
    const repos = folders.map((f) => kept.get(f.key)?.repo).filter((repo): repo is string => typeof repo === "string");
    const label = repos.find((repo) => !isContainerPlace(context, repo)) ?? repos[0] ?? folders[0]?.names[0] ?? "";
    const project = collectProject(context, label, folders, [], summarized);
    const group = { id: groupId(folders), label, folders: folders.flatMap((f) => kept.get(f.key) ?? []) };
    return { group, folders, project };
  });
}

function statsOfScan(scanned: ReadonlyMap<string, ScannedFolder>): ReadStats {
  const stats: ReadStats = { transcripts: 0, opened: 0, folders: 0, bytesRead: 0, totalBytes: 0 };
  for (const folder of scanned.values()) {
    stats.folders++;
    stats.transcripts += folder.files.length;
    for (const file of folder.files) stats.totalBytes += file.size;
  }
  return stats;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** Saves what this listing read for the next one; a listing still works when it cannot, and says so. */
export function saveIndex(context: Context, index: SessionsIndex, complete: boolean): void {
  try {
    index.save(complete);
  } catch (error) {
    const why = describeError(error);
    context.notes.push(`could not save the sessions index, so the next listing reads the transcripts again (${why})`);
  }
}
