// One project's sessions from its slug folders: each transcript's summary (from the index when unchanged), its start
// records, where it ran and the command that resumes it, newest first.
import { statSync } from "node:fs";
import * as z from "zod/mini";
import { encodeProjectSlug, hasProjectSlug } from "../claude/home.ts";
import { summarizeTranscript } from "../claude/transcript.ts";
import { fileIn, readRegularText } from "../fs.ts";
import { shellWord } from "../text.ts";
import type { IndexedSummary, StartsSummary } from "./index-file.ts";
import { type ScannedFolder, scanFolder } from "./scan.ts";
import { newestFirst, timeKey } from "./times.ts";
import {
  type Context,
  type ProjectSessions,
  type SessionEnvironment,
  type SessionInfo,
  type SlugFolder,
  sessionIdOf,
  type WorkItem,
} from "./model.ts";

export type FolderSummary = {
  readonly transcripts: Array<{ readonly file: string; readonly id: string; readonly summary: IndexedSummary }>;
  /** The folder this slug folder stands for, when it can be told: where its sessions resume. */
  readonly place: string | undefined;
};

export function summarizeFolder(
  context: Context,
  folder: SlugFolder,
  scanned: ScannedFolder = scanFolder(folder.dir),
): FolderSummary {
  const transcripts: FolderSummary["transcripts"] = [];
  if (scanned.error !== undefined) {
    context.notes.push(scanned.error);
    return { transcripts, place: undefined };
  }
  context.stats.folders++;
  let unreadable = scanned.unreadable;
  for (const stats of scanned.files) {
    const { name } = stats;
    const id = sessionIdOf(name) ?? name;
    const file = fileIn(folder.dir, name);
    try {
      // The file is opened only when it changed since the index saw it.
      const read = () => summarizeTranscript(file);
      const { summary, bytesRead, opened } = context.index.transcript(folder.dir, name, stats, read);
      context.stats.transcripts++;
      if (opened) context.stats.opened++;
      context.stats.bytesRead += bytesRead;
      context.stats.totalBytes += summary.size;
      transcripts.push({ file, id, summary });
    } catch {
      unreadable++;
    }
  }
  if (unreadable > 0) {
    context.notes.push(`${unreadable} transcript${unreadable === 1 ? "" : "s"} in ${folder.dir} could not be read`);
  }
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
  // The newest transcript's cwd (its last, then its first) whose slug is the folder's real name, else any of its
  // names: a folder that moved keeps its newest name. One pass, not a sort: a folder can hold thousands.
  let own: { cwd: string; time: string } | undefined;
  let named: { cwd: string; time: string } | undefined;
  const slugs = new Map<string, string>();
  for (const { summary } of transcripts) {
    const time = timeKey(summary.lastTimestamp);
    for (const cwd of [summary.lastCwd, summary.firstCwd]) {
      if (cwd === undefined) continue;
      let slug = slugs.get(cwd);
      if (slug === undefined) {
        slug = encodeProjectSlug(cwd);
        slugs.set(cwd, slug);
      }
      if (slug === real && (!own || time > own.time)) own = { cwd, time };
      if (names.has(slug) && (!named || time > named.time)) named = { cwd, time };
    }
  }
  const ownCwd = own?.cwd ?? named?.cwd;
  if (ownCwd) return ownCwd;
  return (
    context.mappings.find((m) => names.has(m.hostSlug))?.hostPath ??
    context.mappings.find((m) => names.has(m.containerSlug))?.containerPath
  );
}

export function collectProject(
  context: Context,
  project: string,
  folders: SlugFolder[],
  slugs: string[],
  summarized: Map<string, FolderSummary> = new Map(),
): ProjectSessions {
  const projectSlugs = new Set([...slugs, ...folders.flatMap((f) => f.names)]);
  // By branch; the newest entry wins when a branch was started twice.
  const workItems = new Map<string, WorkItem>();
  for (const item of context.workItems) if (belongsTo(item.repoPath, projectSlugs)) workItems.set(item.branch, item);
  const byId = new Map<string, SessionInfo>();
  for (const folder of folders) {
    const { transcripts, place } = summarized.get(folder.key) ?? summarizeFolder(context, folder);
    const resumeFrom = resumePrefix(context.here, place);
    for (const { file, id, summary } of transcripts) {
      const starts = readStarts(context, id);
      const branch = summary.gitBranch ?? null;
      const workItem = branch ? workItems.get(branch) : undefined;
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
        resume: `${resumeFrom}claude --resume ${shellWord(id)}`,
        transcript: file,
      };
      const seen = byId.get(id);
      // The same session in two folders (a copy left by a move): the newer one is the one to resume.
      if (!seen || compareNewestFirst(session, seen) < 0) byId.set(id, session);
    }
  }
  // lastActivity is spelled as toISOString spells it: compared as text.
  const sessions = [...byId.values()].sort(
    (a, b) => newestFirst(a.lastActivity, b.lastActivity) || a.id.localeCompare(b.id),
  );
  return { project, slugs: [...projectSlugs].sort(), sessions };
}

function belongsTo(repoPath: string, projectSlugs: Set<string>): boolean {
  return hasProjectSlug(projectSlugs, repoPath);
}

function lastActivityOf(file: string, summary: IndexedSummary, starts: StartsSummary): string {
  const transcript = timeKey(summary.lastTimestamp);
  const recorded = timeKey(starts.newest);
  const newest = newestFirst(transcript, recorded) > 0 ? recorded : transcript;
  if (newest) return newest;
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
    const same = (e: SessionEnvironment) =>
      e.kind === environment.kind &&
      e.machine === environment.machine &&
      (e.machine !== null || e.cwd === environment.cwd);
    if (!found.some(same)) {
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

export function isContainerPlace(context: Context, place: string): boolean {
  let known = context.containerPlaces.get(place);
  if (known === undefined) {
    known = context.containerPaths.has(place) || context.containerSlugs.has(encodeProjectSlug(place));
    // Asked twice per session, of the few folders sessions ran in.
    context.containerPlaces.set(place, known);
  }
  return known;
}

/** What comes before `claude --resume <id>`: the `cd` to where its sessions resume, unless the listing runs there. */
function resumePrefix(here: string, place: string | undefined): string {
  return place === undefined || place === here ? "" : `cd ${shellWord(place)} && `;
}

/** Newest first by last activity, then by id: `a` and `b` are sessions (or what a kept listing keeps of one). */
export function compareNewestFirst(
  a: Pick<SessionInfo, "lastActivity" | "id"> | undefined,
  b: Pick<SessionInfo, "lastActivity" | "id"> | undefined,
): number {
  return newestFirst(timeKey(a?.lastActivity), timeKey(b?.lastActivity)) || (a?.id ?? "").localeCompare(b?.id ?? "");
}

/** A session's start records: a line per start, a few hundred bytes each. */
const MAX_STARTS_BYTES = 1024 * 1024;

const startRecordSchema = z.looseObject({
  environment: z.enum(["host", "container"]),
  machine: z.optional(z.string()),
  cwd: z.optional(z.string()),
  time: z.optional(z.string()),
});

/** Where a session ran, as the listing shows it; more than this many different places are not listed. */
const MAX_START_PLACES = 64;

/** The hook's records of one session's starts (one JSON line each, oldest first), from the index when unchanged. */
function readStarts(context: Context, id: string): StartsSummary {
  const none: StartsSummary = { first: null, newest: null, environments: [] };
  const name = `${id}.jsonl`;
  if (!context.index.recordNames.has(name)) return none;
  try {
    // Containers write these: only a regular file of bounded size is read.
    const read = (file: string) => summarizeStarts(readRegularText(file, MAX_STARTS_BYTES) ?? "");
    return context.index.startsOf(name, read) ?? none;
  } catch {
    return none; // Gone since the folder was listed, or unreadable: the session is listed without its records.
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
    if (!environments.some((e) => e.kind === kind && e.machine === machine && e.cwd === cwd)) {
      environments.push({ kind, machine, cwd });
    }
  }
  const newest = records.reduce<string | null>(
    (found, { time }) => (timeKey(time) > timeKey(found) ? time : found),
    null,
  );
  return { first: records[0]?.time ?? null, newest, environments };
}
