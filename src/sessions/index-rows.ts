// The sessions index's rows as stored: a transcript's summary or a session's start records after the file's key
// (size, mtime, inode), the strings many rows repeat (folders, branches, versions) kept once in a table. Everything
// here is read back as untrusted input and checked field by field when a listing uses it: by hand, because zod over
// 13,000 rows would cost more than the stats.
import type { TranscriptSummary } from "../claude/transcript.ts";

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

/**
 * What says a file did not change: a stat's size, mtime and inode (a `Stats` is one), and its ctime, which no one
 * can set back: a rewrite in place to the same size, with the mtime put back, still changes it.
 */
export type FileKey = {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
};

/** The time in a row's key: the later of mtime and ctime (equal for a file only ever written). */
export function changedAt(stats: FileKey): number {
  return Math.max(stats.mtimeMs, stats.ctimeMs);
}

/** A row is `[size, mtimeMs, inode, ...value]`: the file's key, then what was read from it. */
export type Row = unknown[];
const KEY_LENGTH = 3;

export function keyMatches(row: Row, stats: FileKey): boolean {
  // Inode numbers can pass 2^53 and lose precision as JSON numbers: such a file only compares unequal, and is re-read.
  return row[0] === stats.size && row[1] === changedAt(stats) && row[2] === stats.ino;
}

/**
 * The strings rows share, each stored once: a transcript row names its folders, branch and version by their place
 * in this table (10,000 rows of one project repeat the same few).
 */
export class StringTable {
  private readonly places = new Map<string, number>();

  /** `stored` is the table as read (checked by `checkTable`), so that rows read from the file keep their meaning. */
  constructor(readonly strings: string[] = []) {
    for (const [i, text] of strings.entries()) if (!this.places.has(text)) this.places.set(text, i);
  }

  placeOf(full: string | undefined): number | null {
    if (full === undefined) return null;
    const text = clip(full);
    let place = this.places.get(text);
    if (place === undefined) {
      place = this.strings.push(text) - 1;
      this.places.set(text, place);
    }
    return place;
  }

  /** The string at `place`, null for null, undefined when the place is not one. */
  at(place: unknown): string | null | undefined {
    if (place === null) return null;
    return typeof place === "number" && Number.isInteger(place) && place >= 0 ? this.strings[place] : undefined;
  }
}

/** The stored string table, or undefined when it is not a list of short strings. */
export function checkTable(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const text of value) if (!isText(text)) return undefined;
  return value as string[];
}

// A transcript row: its key, its session id, then first cwd, last cwd, branch and version (places in the string
// table), then first and last timestamps and the first prompt.
const TRANSCRIPT_ROW_LENGTH = KEY_LENGTH + 8;
const FIRST_SHARED = KEY_LENGTH + 1;

export function transcriptRow(stats: FileKey, summary: IndexedSummary, table: StringTable): Row {
  return [
    stats.size,
    changedAt(stats),
    stats.ino,
    clipOrNull(summary.sessionId),
    table.placeOf(summary.firstCwd),
    table.placeOf(summary.lastCwd),
    table.placeOf(summary.gitBranch),
    table.placeOf(summary.version),
    clipOrNull(summary.firstTimestamp),
    clipOrNull(summary.lastTimestamp),
    clipOrNull(summary.firstPrompt),
  ];
}

/** The places in the string table a transcript row refers to. */
export function sharedPlaces(row: Row): unknown[] {
  return row.slice(FIRST_SHARED, FIRST_SHARED + 4);
}

/** A checked transcript row with its shared strings' places moved from table `from` to table `to`. */
export function remapTranscriptRow(row: Row, from: StringTable, to: StringTable): Row {
  return row.map((field, i) =>
    i >= FIRST_SHARED && i < FIRST_SHARED + 4 ? to.placeOf(from.at(field) ?? undefined) : field,
  );
}

/** The summary a transcript row holds (its size is the file's, which the key matched), or undefined. */
export function checkTranscriptRow(row: Row, table: StringTable): IndexedSummary | undefined {
  if (row.length !== TRANSCRIPT_ROW_LENGTH) return undefined;
  const [
    size,
    ,
    ,
    sessionId,
    firstCwdAt,
    lastCwdAt,
    gitBranchAt,
    versionAt,
    firstTimestamp,
    lastTimestamp,
    firstPrompt,
  ] = row;
  const firstCwd = table.at(firstCwdAt);
  const lastCwd = table.at(lastCwdAt);
  const gitBranch = table.at(gitBranchAt);
  const version = table.at(versionAt);
  if (
    !isCount(size) ||
    firstCwd === undefined ||
    lastCwd === undefined ||
    gitBranch === undefined ||
    version === undefined ||
    !isOptionalText(sessionId) ||
    !isOptionalText(firstTimestamp) ||
    !isOptionalText(lastTimestamp) ||
    !isOptionalText(firstPrompt)
  ) {
    return undefined;
  }
  return {
    size,
    sessionId: sessionId ?? undefined,
    firstCwd: firstCwd ?? undefined,
    lastCwd: lastCwd ?? undefined,
    gitBranch: gitBranch ?? undefined,
    version: version ?? undefined,
    firstTimestamp: firstTimestamp ?? undefined,
    lastTimestamp: lastTimestamp ?? undefined,
    firstPrompt: firstPrompt ?? undefined,
  };
}

export function startsRow(stats: FileKey, starts: StartsSummary): Row {
  return [
    stats.size,
    changedAt(stats),
    stats.ino,
    starts.first,
    starts.newest,
    starts.environments.map((e) => [e.kind, e.machine, e.cwd]),
  ];
}

export function checkStartsRow(row: Row): StartsSummary | undefined {
  if (row.length !== KEY_LENGTH + 3) return undefined;
  const [, , , first, newest, places] = row;
  if (!isOptionalText(first) || !isOptionalText(newest) || !Array.isArray(places)) return undefined;
  const environments: Array<StartsSummary["environments"][number]> = [];
  for (const place of places) {
    if (!Array.isArray(place) || place.length !== 3) return undefined;
    const [kind, machine, cwd] = place as unknown[];
    if ((kind !== "host" && kind !== "container") || !isOptionalText(machine) || !isOptionalText(cwd)) return undefined;
    environments.push({ kind, machine, cwd });
  }
  return { first, newest, environments };
}

/**
 * A field as the index keeps it: at most MAX_FIELD characters, the bound it checks on reading (a transcript's field
 * over it made every row written unreadable, and the index was thrown away on every run).
 */
function clip(text: string): string {
  return text.length > MAX_FIELD ? text.slice(0, MAX_FIELD) : text;
}

function clipOrNull(text: string | undefined): string | null {
  return text === undefined ? null : clip(text);
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
