// Snapshots of one project's session data, to roll it back: its transcripts (every slug folder that maps to it),
// the todos, tasks and file-history of those sessions, the hook's records of their starts, and the project's
// entries in mappings.json and work-items.json. One gzip-compressed tar per snapshot under
// `persist-host/snapshots/<host project slug>/`, a folder no container mounts, with a manifest (sizes, sha256)
// as its last entry and a small summary beside it for listing. A restore's undo is a folder there of the files
// it replaced, moved aside. Snapshots taken before sit in the old shared `persist-state/snapshots/`: they are
// still listed and restored, as the hostile input anything a container writes is.
// This module: how snapshots are stored and named, their records' schemas, and reading those records.
import * as z from "zod/mini";
import { readRegularText } from "../fs.ts";
import { PACK_STATE_DIR, STATE } from "../state/paths.ts";

/** An undo folder holds its manifest and the moved files under `files/`, by their path in the config dir. */
export const MOVED_ASIDE_MANIFEST = "manifest.json";
export const MOVED_ASIDE_FILES = "files";
/** Summaries and undo manifests are small; a bigger (or endless) one is not ours. */
const SMALL_JSON_MAX = 64 * 1024 * 1024;
/** The manifest's path inside an archive: the last entry, written once every file's checksum is known. */
export const MANIFEST_ENTRY = ".claude-persist/manifest.json";
export const ARCHIVE_EXT = ".tar.gz";
export const SUMMARY_EXT = ".json";
/** What a snapshot may hold, relative to the config dir; an archive entry anywhere else is refused. */
export const SNAPSHOT_ROOTS = [
  "projects",
  "todos",
  "tasks",
  "file-history",
  `${PACK_STATE_DIR}/${STATE.sessionStarts.name}`,
] as const;
/** An id as uniqueId makes them: `2026-05-01T09-30-12-345Z`, maybe `-pre-restore` or `-pre-merge`, maybe `-2`. */
export const SNAPSHOT_ID_PATTERN = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z(-pre-restore|-pre-merge)?(-\d{1,6})?$/;
/** A slug folder name as Claude Code makes them: one path part, never `..`. */
export const SLUG_PATTERN = /^[A-Za-z0-9-]{1,255}$/;
/** Snapshots and restores of one project wait this long for each other: a 1 GB restore takes about a minute. */
export const SNAPSHOT_LOCK_WAIT_MS = 10 * 60_000;

export type SnapshotKind = "manual" | "pre-restore" | "pre-merge";

const fileRecordSchema = z.object({
  path: z.string(),
  size: z.int().check(z.nonnegative()),
  mode: z.int(),
  mtimeMs: z.number(),
  sha256: z.string(),
});
const dirRecordSchema = z.object({ path: z.string(), mode: z.int(), mtimeMs: z.number() });
const sessionRecordSchema = z.object({ id: z.string(), slug: z.string(), bytes: z.number() });

export const summarySchema = z.object({
  format: z.literal(1),
  id: z.string(),
  kind: z.enum(["manual", "pre-restore", "pre-merge"]),
  created: z.string(),
  project: z.object({ path: z.string(), slug: z.string() }),
  environment: z.object({ kind: z.enum(["host", "container"]), machine: z.string() }),
  claudePersistVersion: z.string(),
  slugs: z.array(z.string()),
  sessionCount: z.int(),
  fileCount: z.int(),
  /** The files' bytes, uncompressed. */
  bytes: z.number(),
});

export const manifestSchema = z.extend(summarySchema, {
  sessions: z.array(sessionRecordSchema),
  directories: z.array(dirRecordSchema),
  files: z.array(fileRecordSchema),
  /** The project's entries of the pack's shared state files, as they were. */
  state: z.object({ mappings: z.array(z.unknown()), workItems: z.array(z.unknown()) }),
});

/** A restore's undo: what it moved aside (files/), what it added (moved aside again on undo), the state before. */
export const movedAsideSchema = z.extend(summarySchema, {
  form: z.literal("moved-aside"),
  sessions: z.array(sessionRecordSchema),
  directories: z.array(z.string()),
  files: z.array(z.object({ path: z.string(), size: z.int().check(z.nonnegative()) })),
  added: z.array(z.string()),
  state: z.object({ mappings: z.array(z.unknown()), workItems: z.array(z.unknown()) }),
});

export type SnapshotSummary = z.infer<typeof summarySchema>;
export type Manifest = z.infer<typeof manifestSchema>;
export type MovedAside = z.infer<typeof movedAsideSchema>;

/** A project as snapshots see it: the host's path names its snapshot folder, wherever the command runs. */
export type SnapshotProject = {
  /** The project's folder here (on the host, or in the container). */
  readonly path: string;
  readonly hostPath: string;
  readonly slug: string;
  /** Every slug folder name that holds (or points at) its sessions. */
  readonly slugs: string[];
  /** Its snapshots, host-only. */
  readonly dir: string;
  /** Where they were before: read until migrated, never written. */
  readonly legacyDir: string;
};

/** `archive` is the .tar.gz, or for an undo ("moved-aside") its folder. */
export type SnapshotInfo = SnapshotSummary & {
  readonly stored: "archive" | "moved-aside";
  readonly archive: string;
  readonly archiveBytes: number;
};

export type CreateResult = SnapshotInfo & { readonly seconds: number; readonly skipped: string[] };

/**
 * A small JSON file, read only if it is a regular file itself (no link, FIFO or device: those would lead
 * elsewhere or hang) of bounded size; undefined when missing or unreadable.
 */
export function readSmallJson(file: string): unknown {
  try {
    const text = readRegularText(file, SMALL_JSON_MAX);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
