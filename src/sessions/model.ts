// What a sessions listing is made of: the sessions, projects and read statistics it returns, and what the listing
// works from while it runs (the slug folders under projects/, the state files, the index).
import type { TranscriptSummary } from "../claude/transcript.ts";
import type { Mapping } from "../state/mappings.ts";
import type { FileKey, IndexedSummary, StartsSummary } from "./index-rows.ts";

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

/**
 * The session a file of a slug folder holds: `<id>.jsonl`. Subagents' files (`agent-*.jsonl`, or under
 * `<id>/subagents/`) hold none.
 */
export function sessionIdOf(name: string): string | undefined {
  return name.endsWith(".jsonl") && !name.startsWith("agent-") ? name.slice(0, -".jsonl".length) : undefined;
}

/** One folder under `projects/`, however many names reach it. */
export type SlugFolder = {
  /** `dev:ino`: the same for a symlink, a bind mount and the folder itself. */
  readonly key: string;
  /** The path to read it through. */
  readonly dir: string;
  /** Every name under `projects/` that reaches it, the real folder's first. */
  readonly names: string[];
};

export type WorkItem = {
  readonly identifier: string;
  readonly branch: string;
  readonly repoPath: string;
  readonly title: string | null;
};

export type Context = {
  readonly here: string;
  readonly folders: SlugFolder[];
  /** Local folders (this worktree, the others) by the key of their slug folder: where resuming works from here. */
  readonly localPlaces: Map<string, string>;
  readonly mappings: Mapping[];
  readonly workItems: WorkItem[];
  /** Slugs that are container paths: the symlinked ones, and those the mappings name. */
  readonly containerSlugs: Set<string>;
  readonly containerPaths: Set<string>;
  readonly containerPlaces: Map<string, boolean>;
  readonly stats: ReadStats;
  readonly notes: string[];
  readonly index: SummarySource;
};

/**
 * Where a listing gets what it knows of each transcript and each session's start records without reading them again:
 * the sessions index (index-file.ts), or the rows kept with a project's last listing (listing-cache.ts).
 */
export type SummarySource = {
  /** Whether the start records `name` are there (a Set of their names is one). */
  readonly recordNames: { has(name: string): boolean };
  /** The summary of transcript `name` in `dir` (stat'ed as `stats`): known while unchanged, else from `read`. */
  transcript(
    dir: string,
    name: string,
    stats: FileKey,
    read: () => TranscriptSummary,
  ): { summary: IndexedSummary; bytesRead: number; opened: boolean };
  /** The start records `name` (one of `recordNames`), undefined when they are not a regular file. */
  startsOf(name: string, read: (file: string) => StartsSummary): StartsSummary | undefined;
  /** Why the stored rows were not usable, when they were there but unusable. */
  readonly damaged?: string | undefined;
};

/** What `projects/` holds and how the mappings join its folders: all a project's slugs need. */
export type Layout = { readonly folders: SlugFolder[]; readonly symlinked: string[]; readonly mappings: Mapping[] };
