// The sessions index: what `sessions` read from each transcript and each session's start records, kept under the
// file's size, mtime and inode, so that a file unchanged since the last listing is never opened again (a listing of
// 10,000 unchanged transcripts costs 10,000 stats). It lives in the host-only state folder. It is still read as
// untrusted input: bounded in size, every record checked when a listing uses it, one that does not check out is read
// again from its file (and a complete listing drops it).
// Two listings at once each replace the whole file atomically: the last one wins, and what the other learnt is only
// read again next time.
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
  type Stats,
} from "node:fs";
import path from "node:path";
import type { Env } from "../claude/home.ts";
import type { TranscriptSummary } from "../claude/transcript.ts";
import { tempPathBeside } from "../fs.ts";
import { STATE, statePath } from "../state/paths.ts";
import { isRecord } from "../json.ts";

const INDEX_VERSION = 1;
/** Far more than 10,000 sessions need (about 4 MB): a bigger file is not ours, and the index is rebuilt. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** No field we keep is longer: first prompts are cut at 200 characters, paths at what a filesystem allows. */
const MAX_FIELD = 4096;

/** A session's start records as the listing uses them: the first and newest times, and where it ran (each once). */
export type StartsSummary = {
  readonly first: string | null;
  readonly newest: string | null;
  readonly environments: ReadonlyArray<{
    readonly kind: "host" | "container";
    readonly machine: string | null;
    readonly cwd: string | null;
  }>;
};

/** What a listing keeps of a transcript: its summary without the bytes that one reading took. */
export type IndexedSummary = Omit<TranscriptSummary, "bytesRead">;

/** The file's key (a file with the same size, mtime and inode is taken as unchanged) and what was read from it. */
type Entry<T> = { readonly size: number; readonly mtimeMs: number; readonly ino: number; readonly value: T };
/**
 * As stored: rows by folder, then by file name in it (10,000 full paths would make the file twice as large to parse).
 * A row is `[size, mtimeMs, ino, ...value]`; rows are checked when looked up, so a listing checks only what it uses.
 */
type StoredSection = Record<string, unknown>;
/** The rows this listing saw, to write back: each a row as stored (reused as it was read) or a new one. */
type SeenSection = Map<string, Map<string, unknown[]>>;

export function sessionsIndexPath(env: Env): string {
  // In the host-only state folder: never mounted into containers, never synced.
  return statePath(env, STATE.sessionsIndex);
}

export class SessionsIndex {
  private changed = false;
  private readonly seenTranscripts: SeenSection = new Map();
  private readonly seenStarts: SeenSection = new Map();

  private constructor(
    private readonly file: string,
    private readonly storedTranscripts: StoredSection,
    private readonly storedStarts: StoredSection,
    /** Why the stored index was not used, when it was there but unusable. */
    readonly damaged: string | undefined,
  ) {}

  /** The stored index, or an empty one (rebuilt on save) when it is missing, too large or not what we write. */
  static load(env: Env): SessionsIndex {
    const file = sessionsIndexPath(env);
    let text: string | undefined;
    let problem: string | undefined;
    try {
      text = readBoundedRegularFile(file, MAX_INDEX_BYTES);
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    const parsed = text === undefined ? undefined : parseIndex(text);
    if (typeof parsed === "string") problem = `${file} ${parsed}`;
    if (parsed === undefined || typeof parsed === "string") {
      const index = new SessionsIndex(file, {}, {}, problem);
      index.changed = problem !== undefined;
      return index;
    }
    return new SessionsIndex(file, parsed.transcripts, parsed.starts, undefined);
  }

  /** The summary of the transcript `name` in `dir` (stat'ed as `stats`): from the index when unchanged, else from `read`. */
  transcript(
    dir: string,
    name: string,
    stats: Stats,
    read: () => TranscriptSummary,
  ): { summary: IndexedSummary; bytesRead: number; opened: boolean } {
    const known = lookUp(this.storedTranscripts, dir, name, stats, checkSummary);
    if (known) {
      remember(this.seenTranscripts, dir, name, known.row);
      return { summary: known.value, bytesRead: 0, opened: false };
    }
    const { bytesRead, ...summary } = read();
    remember(this.seenTranscripts, dir, name, rowOf(stats, summaryRow(summary)));
    this.changed = true;
    return { summary, bytesRead, opened: true };
  }

  /** The start records of `name` in `dir` (stat'ed as `stats`): from the index when unchanged, else from `read`. */
  startsOf(dir: string, name: string, stats: Stats, read: () => StartsSummary): StartsSummary {
    const known = lookUp(this.storedStarts, dir, name, stats, checkStarts);
    if (known) {
      remember(this.seenStarts, dir, name, known.row);
      return known.value;
    }
    const value = read();
    remember(this.seenStarts, dir, name, rowOf(stats, startsRow(value)));
    this.changed = true;
    return value;
  }

  /**
   * Writes the index if this listing learnt anything. With `complete` (every transcript was looked at) it holds what
   * this listing saw, so deleted files drop out; otherwise the folders it listed replace theirs, and the others stay.
   */
  save(complete: boolean): void {
    const dropped =
      complete &&
      (count(this.seenTranscripts) < countStored(this.storedTranscripts) ||
        count(this.seenStarts) < countStored(this.storedStarts));
    if (!this.changed && !dropped) return;
    const seen = rowsOf(this.seenTranscripts);
    const transcripts = complete ? seen : { ...this.storedTranscripts, ...seen };
    // Start records are looked up only for the sessions listed: the others of a listed folder stay.
    const starts = complete ? rowsOf(this.seenStarts) : mergeRows(this.storedStarts, this.seenStarts);
    const text = JSON.stringify({ version: INDEX_VERSION, transcripts, starts });
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    replaceFile(this.file, text);
  }
}

function rowOf(stats: Stats, value: unknown[]): unknown[] {
  return [stats.size, stats.mtimeMs, stats.ino, ...value];
}

function summaryRow(summary: IndexedSummary): unknown[] {
  return [summary.size, ...SUMMARY_TEXT_FIELDS.map((field) => summary[field] ?? null)];
}

function startsRow(starts: StartsSummary): unknown[] {
  return [starts.first, starts.newest, starts.environments.map((e) => [e.kind, e.machine, e.cwd])];
}

function remember(section: SeenSection, dir: string, name: string, row: unknown[]): void {
  let folder = section.get(dir);
  if (!folder) {
    folder = new Map();
    section.set(dir, folder);
  }
  folder.set(name, row);
}

/** The stored row of `dir`/`name` when it is well formed and its key matches `stats`, with its checked value. */
function lookUp<T>(
  section: StoredSection,
  dir: string,
  name: string,
  stats: Stats,
  check: (row: readonly unknown[]) => T | undefined,
): (Entry<T> & { row: unknown[] }) | undefined {
  const folder = Object.hasOwn(section, dir) ? section[dir] : undefined;
  if (!isRecord(folder) || !Object.hasOwn(folder, name)) return undefined;
  const row = folder[name];
  if (!Array.isArray(row)) return undefined;
  const [size, mtimeMs, ino] = row as unknown[];
  // Inode numbers can pass 2^53 and lose precision as JSON numbers: such a file only compares unequal, and is re-read.
  if (size !== stats.size || mtimeMs !== stats.mtimeMs || ino !== stats.ino) return undefined;
  const value = check(row);
  return value === undefined ? undefined : { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, value, row };
}

function count(section: SeenSection): number {
  let total = 0;
  for (const folder of section.values()) total += folder.size;
  return total;
}

function countStored(section: StoredSection): number {
  let total = 0;
  for (const folder of Object.values(section)) if (isRecord(folder)) total += Object.keys(folder).length;
  return total;
}

function rowsOf(section: SeenSection): StoredSection {
  const rows: StoredSection = {};
  for (const [dir, folder] of section) rows[dir] = Object.fromEntries(folder);
  return rows;
}

function mergeRows(stored: StoredSection, seen: SeenSection): StoredSection {
  const merged: StoredSection = { ...stored };
  for (const [dir, folder] of seen) {
    const old = merged[dir];
    merged[dir] = { ...(isRecord(old) ? old : {}), ...Object.fromEntries(folder) };
  }
  return merged;
}

/** Writes a new file beside `file` and renames it over `file`: whatever was there (even a link) is replaced, not written through. */
function replaceFile(file: string, text: string): void {
  const temp = tempPathBeside(file);
  const fd = openSync(temp, "wx", 0o600);
  try {
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * The file's text when it is a regular file (a link in its last component is refused, a FIFO never waited on) of at
 * most `maxBytes`; undefined when it does not exist.
 */
function readBoundedRegularFile(file: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
    throw new Error(`${file} could not be read (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error(`${file} is not a regular file`);
    if (stats.size > maxBytes) throw new Error(`${file} is larger than ${maxBytes} bytes`);
    const buffer = Buffer.alloc(stats.size);
    let length = 0;
    for (let read = 1; read > 0 && length < buffer.length; length += read)
      read = readSync(fd, buffer, length, buffer.length - length, null);
    return buffer.toString("utf8", 0, length);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checking what was read: by hand, field by field, because zod over 10,000 records would cost more than the stats.

type Parsed = { transcripts: StoredSection; starts: StoredSection };

/** The index's sections, or why it cannot be used. Its rows are checked one by one when looked up. */
function parseIndex(text: string): Parsed | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return "is not JSON";
  }
  if (!isRecord(json) || json.version !== INDEX_VERSION || !isRecord(json.transcripts) || !isRecord(json.starts)) {
    return `is not a version ${INDEX_VERSION} sessions index`;
  }
  return { transcripts: json.transcripts, starts: json.starts };
}

const SUMMARY_TEXT_FIELDS = [
  "sessionId",
  "firstCwd",
  "lastCwd",
  "gitBranch",
  "version",
  "firstTimestamp",
  "lastTimestamp",
  "firstPrompt",
] as const;

/** A row's value starts after its key (size, mtime, inode). Read in place: a listing checks 13,000 rows. */
const KEY_LENGTH = 3;

function checkSummary(row: readonly unknown[]): IndexedSummary | undefined {
  const size = row[KEY_LENGTH];
  if (!isCount(size) || row.length !== KEY_LENGTH + 1 + SUMMARY_TEXT_FIELDS.length) return undefined;
  const summary: Record<string, string | number | undefined> = { size };
  for (let i = 0; i < SUMMARY_TEXT_FIELDS.length; i++) {
    const text = row[KEY_LENGTH + 1 + i];
    if (!isOptionalText(text)) return undefined;
    summary[SUMMARY_TEXT_FIELDS[i] as string] = text ?? undefined;
  }
  return summary as IndexedSummary;
}

function checkStarts(row: readonly unknown[]): StartsSummary | undefined {
  const [first, newest, places] = row.slice(KEY_LENGTH);
  if (row.length !== KEY_LENGTH + 3 || !isOptionalText(first) || !isOptionalText(newest) || !Array.isArray(places)) {
    return undefined;
  }
  const environments: Array<StartsSummary["environments"][number]> = [];
  for (const place of places) {
    if (!Array.isArray(place) || place.length !== 3) return undefined;
    const [kind, machine, cwd] = place as unknown[];
    if ((kind !== "host" && kind !== "container") || !isOptionalText(machine) || !isOptionalText(cwd)) return undefined;
    environments.push({ kind, machine, cwd });
  }
  return { first, newest, environments };
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isText(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_FIELD;
}

function isOptionalText(value: unknown): value is string | null {
  return value === null || isText(value);
}
