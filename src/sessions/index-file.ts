// The sessions index: what `sessions` read from each transcript and each session's start records, kept under the
// file's size, mtime and inode, so that a file unchanged since the last listing is never opened again (a listing of
// 10,000 unchanged transcripts costs 10,000 stats). The start records' folder is trusted as a whole while its own
// times say nothing in it changed (the hook moves them at every start), so they cost one stat. The index lives in the
// host-only state folder. It is still read as untrusted input: bounded in size, every row checked when a listing
// uses it, one that does not check out is read again from its file (and a complete listing drops it).
// Two listings at once each replace the whole file atomically: the last one wins, and what the other learnt is only
// read again next time. Containers write the start records: their folder is reached through the gate and held open
// while the listing stats and reads in it (a link put in its place is not followed; there are no records then).
import { lstatSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { configDir, type Env } from "../claude/home.ts";
import { statBeneath } from "../container-tree.ts";
import { type HeldDir, holdDirBeneath } from "../fs-beneath.ts";
import type { TranscriptSummary } from "../claude/transcript.ts";
import { fileIn, readRegularText, replaceFileIn } from "../fs.ts";
import { isRecord } from "../json.ts";
import { PACK_STATE_DIR, STATE, statePath } from "../state/paths.ts";
import {
  checkStartsRow,
  checkTable,
  checkTranscriptRow,
  type FileKey,
  type IndexedSummary,
  keyMatches,
  remapTranscriptRow,
  sharedPlaces,
  type Row,
  type StartsSummary,
  StringTable,
  startsRow,
  transcriptRow,
} from "./index-rows.ts";

export type { IndexedSummary, StartsSummary } from "./index-rows.ts";

const INDEX_VERSION = 2;
/** Far more than 10,000 sessions need (about 3 MB): a bigger file is not ours, and the index is rebuilt. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/**
 * A folder changed this recently may change again within the same tick of its clock without its times moving: its
 * times are not kept as proof that nothing changed (as git does with a file changed just before its index).
 */
const RACY_MS = 3000;

/** Rows by folder, then by file name in it (10,000 full paths would make the file twice as large to parse). */
type StoredSection = Record<string, unknown>;
/** The rows this listing saw, to write back: each a row as stored (reused as it was read) or a new one. */
type SeenSection = Map<string, Map<string, Row>>;
/** What says a folder's entries did not change: its inode, ctime and mtime (a rename, a new file, the hook's touch). */
export type FolderKey = [number, number, number];

/** The start records' folder below the config dir (the gate's root): `persist-state/session-starts`. */
const STARTS_REL = path.join(PACK_STATE_DIR, STATE.sessionStarts.name);

export function sessionsIndexPath(env: Env): string {
  // In the host-only state folder: never mounted into containers, never synced.
  return statePath(env, STATE.sessionsIndex);
}

export class SessionsIndex {
  private changed = false;
  private readonly seenTranscripts: SeenSection = new Map();
  private readonly seenStarts = new Map<string, Row>();
  /** The start records there are, by file name. */
  readonly recordNames: Set<string>;
  /** The records folder's key now; undefined when it cannot be read. */
  private readonly startsKey: FolderKey | undefined;
  /** Whether the records folder is as the stored rows saw it: then its rows are used without a stat. */
  private readonly startsTrusted: boolean;
  /** The records folder, held open until `save` (undefined when missing, or a link or file in its place). */
  private readonly held: HeldDir | undefined;

  private constructor(
    private readonly file: string,
    private readonly startsDir: string,
    root: string,
    private readonly table: StringTable,
    private readonly storedTranscripts: StoredSection,
    private readonly stored: { startsKey: unknown; starts: StoredSection },
    /** Why the stored index was not used, when it was there but unusable. */
    readonly damaged: string | undefined,
  ) {
    this.held = holdStarts(root);
    // The folder's times first, then its names: a record added in between changes the times the next listing sees.
    this.startsKey = this.held && folderKey(this.held.dir);
    this.startsTrusted = this.startsKey !== undefined && sameKey(this.startsKey, stored.startsKey);
    this.recordNames = new Set(this.held ? listNames(this.held.dir) : []);
    if (damaged !== undefined) this.changed = true;
  }

  /** The stored index, or an empty one (rebuilt on save) when it is missing, too large or not what we write. */
  static load(env: Env): SessionsIndex {
    const file = sessionsIndexPath(env);
    const startsDir = statePath(env, STATE.sessionStarts);
    let text: string | undefined;
    let problem: string | undefined;
    try {
      text = readRegularText(file, MAX_INDEX_BYTES);
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    const parsed = text === undefined ? undefined : parseIndex(text);
    if (typeof parsed === "string") problem = `${file} ${parsed}`;
    if (parsed === undefined || typeof parsed === "string") {
      const empty = { startsKey: null, starts: {} };
      return new SessionsIndex(file, startsDir, configDir(env), new StringTable(), {}, empty, problem);
    }
    const { strings, transcripts, starts } = parsed;
    const stored =
      starts.dir === startsDir ? { startsKey: starts.key, starts: starts.rows } : { startsKey: null, starts: {} };
    return new SessionsIndex(file, startsDir, configDir(env), new StringTable(strings), transcripts, stored, undefined);
  }

  /** The summary of the transcript `name` in `dir` (stat'ed as `stats`): from the index when unchanged, else from `read`. */
  transcript(
    dir: string,
    name: string,
    stats: FileKey,
    read: () => TranscriptSummary,
  ): { summary: IndexedSummary; bytesRead: number; opened: boolean } {
    const folder = Object.hasOwn(this.storedTranscripts, dir) ? this.storedTranscripts[dir] : undefined;
    const row = isRecord(folder) && Object.hasOwn(folder, name) ? folder[name] : undefined;
    if (Array.isArray(row) && keyMatches(row, stats)) {
      const summary = checkTranscriptRow(row, this.table);
      if (summary) {
        remember(this.seenTranscripts, dir, name, row);
        return { summary, bytesRead: 0, opened: false };
      }
    }
    const { bytesRead, ...summary } = read();
    remember(this.seenTranscripts, dir, name, transcriptRow(stats, summary, this.table));
    this.changed = true;
    return { summary, bytesRead, opened: true };
  }

  /**
   * The start records `name` (one of `recordNames`): from the index when the folder did not change or the file's key
   * matches, else from `read` (undefined when it is not a regular file).
   */
  startsOf(name: string, read: (file: string) => StartsSummary): StartsSummary | undefined {
    const row = Object.hasOwn(this.stored.starts, name) ? this.stored.starts[name] : undefined;
    if (this.startsTrusted && Array.isArray(row)) {
      const known = checkStartsRow(row);
      if (known) {
        this.seenStarts.set(name, row);
        return known;
      }
    }
    if (!this.held) return undefined;
    const file = fileIn(this.held.dir, name);
    // Containers write these: only a regular file is read (a FIFO would hang the listing), no link followed.
    const stats = lstatSync(file);
    if (!stats.isFile()) return undefined;
    if (Array.isArray(row) && keyMatches(row, stats)) {
      const known = checkStartsRow(row);
      if (known) {
        this.seenStarts.set(name, row);
        return known;
      }
    }
    const value = read(file);
    this.seenStarts.set(name, startsRow(stats, value));
    this.changed = true;
    return value;
  }

  /**
   * Writes the index if this listing learnt anything. With `complete` (every transcript was looked at) it holds what
   * this listing saw, so deleted files drop out; otherwise the folders it listed replace theirs, and the others stay.
   */
  save(complete: boolean): void {
    try {
      this.write(complete);
    } finally {
      this.held?.close();
    }
  }

  private write(complete: boolean): void {
    const dropped = complete && count(this.seenTranscripts) < countStored(this.storedTranscripts);
    const startsKey = this.startsKeyToKeep();
    if (!this.changed && !dropped && sameKey(startsKey, this.stored.startsKey)) return;
    const seen = rowsOf(this.seenTranscripts);
    const transcripts = complete ? seen : { ...this.storedTranscripts, ...seen };
    const text = JSON.stringify({
      version: INDEX_VERSION,
      ...(complete ? compacted(transcripts, this.table) : { strings: this.table.strings, transcripts }),
      starts: { dir: this.startsDir, key: startsKey, rows: this.startsRowsToKeep() },
    });
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    replaceFileIn(path.dirname(this.file), path.basename(this.file), text, 0o600, { cache: true });
  }

  /** The records folder's key to store: the one read before its names, unless it changed too recently to be proof. */
  private startsKeyToKeep(): FolderKey | null {
    if (this.startsKey === undefined) return null;
    return isSettled(this.startsKey) ? this.startsKey : null;
  }

  /**
   * The records' rows to store: those this listing used, and the stored ones of records still there, which must be
   * true of the folder as it is now: kept as they are when it did not change, else only when their file's key matches.
   */
  private startsRowsToKeep(): Record<string, Row> {
    const rows: Record<string, Row> = {};
    for (const [name, row] of Object.entries(this.stored.starts)) {
      if (!this.recordNames.has(name) || this.seenStarts.has(name) || !Array.isArray(row)) continue;
      if (this.startsTrusted || (this.held && stillMatches(fileIn(this.held.dir, name), row))) rows[name] = row;
    }
    for (const [name, row] of this.seenStarts) rows[name] = row;
    return rows;
  }
}

function stillMatches(file: string, row: Row): boolean {
  try {
    const stats = lstatSync(file);
    return stats.isFile() && keyMatches(row, stats) && checkStartsRow(row) !== undefined;
  } catch {
    return false;
  }
}

/**
 * The start records folder's key, when it is settled enough to tell later that nothing in it changed; "none" when
 * there is no such folder; undefined while it is changing.
 */
export function settledStartsKey(env: Env): FolderKey | "none" | undefined {
  let stats: ReturnType<typeof statBeneath>;
  try {
    stats = statBeneath(configDir(env), STARTS_REL);
  } catch {
    return "none";
  }
  // A link in its place is no records folder: a listing reads none from it.
  if (stats?.kind !== "dir") return "none";
  const key: FolderKey = [stats.ino, stats.ctimeMs, stats.mtimeMs];
  return isSettled(key) ? key : undefined;
}

/** The records folder held open through the gate; undefined when it is missing or something else is in its place. */
function holdStarts(root: string): HeldDir | undefined {
  try {
    return holdDirBeneath(root, STARTS_REL);
  } catch {
    return undefined;
  }
}

function isSettled(key: FolderKey): boolean {
  return key[1] <= Date.now() - RACY_MS;
}

function folderKey(dir: string): FolderKey | undefined {
  try {
    const stats = statSync(dir);
    return stats.isDirectory() ? [stats.ino, stats.ctimeMs, stats.mtimeMs] : undefined;
  } catch {
    return undefined;
  }
}

function sameKey(key: FolderKey | null, stored: unknown): boolean {
  if (key === null) return stored === null;
  return Array.isArray(stored) && stored.length === 3 && key.every((part, i) => part === stored[i]);
}

function listNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function remember(section: SeenSection, dir: string, name: string, row: Row): void {
  let folder = section.get(dir);
  if (!folder) {
    folder = new Map();
    section.set(dir, folder);
  }
  folder.set(name, row);
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

/**
 * The rows of a complete listing with their string table, which is made again with only the strings they use when
 * fewer than half of its strings are still used (folders and branches gone): otherwise the rows are written as read.
 */
function compacted(transcripts: StoredSection, old: StringTable): { strings: string[]; transcripts: StoredSection } {
  const used = new Set<unknown>();
  for (const folder of Object.values(transcripts)) {
    for (const row of Object.values(folder as Record<string, Row>))
      for (const place of sharedPlaces(row)) used.add(place);
  }
  if (used.size * 2 >= old.strings.length) return { strings: old.strings, transcripts };
  const table = new StringTable();
  const rows: StoredSection = {};
  for (const [dir, folder] of Object.entries(transcripts)) {
    const remapped: Record<string, Row> = {};
    for (const [name, row] of Object.entries(folder as Record<string, Row>)) {
      remapped[name] = remapTranscriptRow(row, old, table);
    }
    rows[dir] = remapped;
  }
  return { strings: table.strings, transcripts: rows };
}

// ---------------------------------------------------------------------------------------------------------------

type Parsed = {
  strings: string[];
  transcripts: StoredSection;
  starts: { dir: unknown; key: unknown; rows: StoredSection };
};

/** The index's sections, or why it cannot be used. Its rows are checked one by one when looked up. */
function parseIndex(text: string): Parsed | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return "is not JSON";
  }
  const strings = isRecord(json) ? checkTable(json.strings) : undefined;
  if (
    !isRecord(json) ||
    json.version !== INDEX_VERSION ||
    strings === undefined ||
    !isRecord(json.transcripts) ||
    !isRecord(json.starts) ||
    !isRecord(json.starts.rows)
  ) {
    return `is not a version ${INDEX_VERSION} sessions index`;
  }
  return {
    strings,
    transcripts: json.transcripts,
    starts: { dir: json.starts.dir, key: json.starts.key, rows: json.starts.rows },
  };
}
