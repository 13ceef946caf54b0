// No lost lines: when two machines append to one session before each other's change arrives, Syncthing keeps the
// loser as `<id>.sync-conflict-<date>-<time>-<device>.jsonl`. We merge it back by line (a line's `uuid`, else the
// whole line), in an order every machine computes alike, so that merges made on both sides at once converge.
// No dependencies beyond node:fs: the SessionStart hook bundles it, and it costs one readdir when there is nothing.
import { lstatSync, readdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { projectsDir, type Env } from "../claude/home.ts";
import { listBeneath, projectFolderName, withDirBeneath } from "../container-tree.ts";
import { errorCode, isNotFound, readRegularText, tempPathBeside } from "../fs.ts";
import { STATE, statePath } from "../state/paths.ts";
import { oneLine } from "../text.ts";
import { PROJECT_IDENTITY_PREFIX } from "./folders.ts";

const CONFLICT = /^(.+)\.sync-conflict-\d{8}-\d{6}-([A-Z0-9]{7})(\.jsonl)$/;
/** Bigger conflict copies are left for the user: the hook must stay quick and memory-bounded. */
const MAX_MERGE_BYTES = 64 * 1024 * 1024;

export type MergedConflict = {
  readonly session: string;
  /** Lines the conflict copy had that the session did not: the other machine's branch. */
  readonly added: number;
  /** The short device ID Syncthing names the copy after. */
  readonly device: string;
  /** A copy of the session's start records (persist-state/session-starts), not of its transcript. */
  readonly records?: true;
};

/** The conflict copies of sessions in `dir` (one project folder), or none: one readdir. */
export function conflictCopies(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => name.includes(".sync-conflict-") && CONFLICT.test(name));
}

/**
 * Merges every conflict copy in `dir` (a folder the caller trusts) into its session and removes it. Copies that cannot
 * be merged stay. The folder is held open: every read, write, rename and removal is of a name in it.
 */
export function mergeConflicts(dir: string): MergedConflict[] {
  try {
    return withDirBeneath(dir, "", mergeInHeld);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/**
 * `mergeConflicts` of the folder that holds `slug`'s sessions in `projects` (its own, or the travelling folder sync's
 * link names), reached through the gate: a link a container planted at `projects/<slug>` is not merged through.
 */
export function mergeProjectConflicts(projects: string, slug: string): MergedConflict[] {
  const folder = projectFolderName(projects, slug);
  return folder === undefined ? [] : withDirBeneath(projects, folder, mergeInHeld);
}

function mergeInHeld(dir: string): MergedConflict[] {
  const merged: MergedConflict[] = [];
  for (const name of conflictCopies(dir)) {
    const match = CONFLICT.exec(name);
    if (!match) continue;
    const session = `${match[1]}${match[3]}`;
    const added = mergeCopy(path.join(dir, session), path.join(dir, name));
    if (added !== undefined) merged.push({ session, added, device: match[2] ?? "" });
  }
  return merged;
}

/** Folds `copy` into `file` atomically and removes `copy`; the number of lines it added, or undefined when left. */
export function mergeCopy(file: string, copy: string): number | undefined {
  for (let attempt = 0; attempt < 3; attempt++) {
    const copyText = readRegular(copy);
    if (copyText === undefined) return undefined;
    const before = statOf(file);
    if (before === "unfit") return undefined;
    const ours = before ? readRegular(file) : "";
    if (ours === undefined) return undefined;
    const { text, added } = unionOfLines(ours, copyText);
    if (added > 0 || !before) {
      const temp = tempPathBeside(file);
      writeFileSync(temp, text, { mode: before ? before.mode & 0o777 : 0o600, flag: "wx" });
      // A line appended while we merged must not be lost: only replace the file we read.
      const now = statOf(file);
      const changed =
        now === "unfit" ||
        !now !== !before ||
        (now && before && (now.size !== before.size || now.mtimeMs !== before.mtimeMs));
      if (changed) {
        unlinkSync(temp);
        continue;
      }
      renameSync(temp, file);
    }
    unlinkSync(copy);
    return added;
  }
  return undefined;
}

type Stat = { size: number; mtimeMs: number; mode: number } | undefined | "unfit";

function statOf(file: string): Stat {
  try {
    const stat = lstatSync(file);
    if (!stat.isFile() || stat.size > MAX_MERGE_BYTES) return "unfit";
    return { size: stat.size, mtimeMs: stat.mtimeMs, mode: stat.mode };
  } catch {
    return undefined;
  }
}

/** Containers write these folders: a FIFO or link swapped in after the look is refused, never waited on. */
function readRegular(file: string): string | undefined {
  const stat = statOf(file);
  if (!stat || stat === "unfit") return undefined;
  try {
    return readRegularText(file, MAX_MERGE_BYTES);
  } catch {
    return undefined;
  }
}

/**
 * The union of two transcripts' lines. Order: by each line's timestamp (a line without one takes the one before
 * it), then by its key, so both machines write the same bytes whichever copy they started from.
 */
export function unionOfLines(ours: string, theirs: string): { text: string; added: number } {
  const seen = new Map<string, { line: string; time: string }>();
  const add = (text: string): number => {
    let count = 0;
    let time = "";
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      const parsed = parseLine(line);
      time = parsed.time ?? time;
      if (seen.has(parsed.key)) continue;
      seen.set(parsed.key, { line, time });
      count++;
    }
    return count;
  };
  add(ours);
  const added = add(theirs);
  const lines = [...seen.entries()].sort(([keyA, a], [keyB, b]) =>
    a.time < b.time ? -1 : a.time > b.time ? 1 : keyA < keyB ? -1 : keyA > keyB ? 1 : 0,
  );
  return { text: lines.map(([, entry]) => `${entry.line}\n`).join(""), added };
}

function parseLine(line: string): { key: string; time: string | undefined } {
  try {
    const record: unknown = JSON.parse(line);
    if (record && typeof record === "object") {
      // Transcript lines carry `timestamp`, session-start records `time`.
      const { uuid, timestamp, time } = record as { uuid?: unknown; timestamp?: unknown; time?: unknown };
      const when = typeof timestamp === "string" ? timestamp : typeof time === "string" ? time : undefined;
      return { key: typeof uuid === "string" && uuid ? `uuid:${uuid}` : `line:${line}`, time: when };
    }
  } catch {
    // Not JSON (a torn last line): keep it whole.
  }
  return { key: `line:${line}`, time: undefined };
}

/** One line for the user about merged copies. */
export function describeMerged(merged: readonly MergedConflict[]): string {
  return merged
    .map((m) => {
      const session = oneLine(m.session.replace(/\.jsonl$/, ""), 80);
      return m.records
        ? `session ${session} was started on two machines while apart (device ${m.device}): merged its start records`
        : `session ${session} was continued on two machines at once (device ${m.device}): ` +
            `merged its ${m.added} line(s) back, no line lost; the session now has two branches and resume follows the newest`;
    })
    .join("; ");
}

/** Every project folder that travels, and the session-start records: merge their conflict copies. */
export function mergeAllConflicts(env: Env): MergedConflict[] {
  // session-starts/ is reached through the gate too: a container can put a link in its place.
  const starts = statePath(env, STATE.sessionStarts);
  const records = mergeBeneath(path.dirname(starts), path.basename(starts)).map((m) => ({
    ...m,
    records: true as const,
  }));
  const projects = projectsDir(env);
  let names: string[];
  try {
    names = (listBeneath(projects, "") ?? []).filter((name) => name.startsWith(PROJECT_IDENTITY_PREFIX));
  } catch {
    return records;
  }
  // Each folder held open as it is merged: one swapped for a link after the listing is not entered.
  const sessions = names.flatMap((name) => mergeBeneath(projects, name));
  return [...sessions, ...records];
}

/** `mergeConflicts` of `root/name` reached through the gate; none when it is missing, a link or not a folder. */
function mergeBeneath(root: string, name: string): MergedConflict[] {
  try {
    return withDirBeneath(root, name, mergeInHeld);
  } catch (error) {
    if (errorCode(error) === "EUNSAFEFILE" || isNotFound(error)) return [];
    throw error;
  }
}

/** How many conflict copies wait in the travelling project folders and among the session-start records. */
export function countConflictCopies(env: Env): number {
  const records = conflictCopies(statePath(env, STATE.sessionStarts)).length;
  const projects = projectsDir(env);
  try {
    return (listBeneath(projects, "") ?? [])
      .filter((name) => name.startsWith(PROJECT_IDENTITY_PREFIX))
      .reduce((sum, name) => {
        try {
          return sum + withDirBeneath(projects, name, conflictCopies).length;
        } catch {
          return sum;
        }
      }, records);
  } catch {
    return records;
  }
}
