// The usage ledger, in host-only state (`persist-host/usage-ledger/`): every response counted, one line each, appended
// and never rewritten, so that what was counted stays counted after Claude Code deletes transcripts older than
// `cleanupPeriodDays`. Beside it, how far each transcript was read, so that a run reads only what was written since.
// A ledger line that cannot be read is damage: the ledger keeps its readable lines and reads every transcript again
// (a response already in it is never counted twice).
import { closeSync, constants, openSync, renameSync, writeSync } from "node:fs";
import type { Env } from "../claude/home.ts";
import { describeError } from "../errors.ts";
import { fileIn, readRegularText, tempPathBeside } from "../fs.ts";
import { ensureStateDir, STATE } from "../state/paths.ts";
import { type CostState, intern, readUsage, type UsageRecord } from "./read.ts";
import type { TranscriptFile } from "./transcripts.ts";
import { capYoungGeneration } from "./young.ts";

const RECORDS = "records.jsonl";
const PROGRESS = "files.json";
const MAX_LEDGER_BYTES = 1 << 30;

export type Counted = {
  readonly records: UsageRecord[];
  /** Claude Code's own cost of each session, the latest seen. */
  readonly costs: Map<string, CostState>;
  readonly stats: { transcripts: number; read: number; bytesRead: number; kept: number; rebuilt: boolean };
};

type Progress = [ino: number, size: number, mtimeMs: number, offset: number, lastTime: string | null];

/** Counts the usage in `files` into the ledger and returns all it holds; without a ledger (unwritable), counts afresh. */
export function countUsage(env: Env, files: readonly TranscriptFile[], notes: string[]): Counted {
  let dir: string | undefined;
  try {
    dir = ensureStateDir(env, STATE.usageLedger);
  } catch (error) {
    notes.push(
      `could not keep the usage ledger (${describeError(error)}), so usage was counted from the transcripts alone`,
    );
  }
  const records: UsageRecord[] = [];
  const keys = new Set<string>();
  const costs = new Map<string, CostState>();
  const addCost = (cost: CostState) => {
    const known = costs.get(cost.session);
    if (known && known.total >= cost.total) return false;
    costs.set(cost.session, cost);
    return true;
  };
  let progress: Record<string, Progress> = {};
  let rebuilt = false;
  if (dir) {
    const loaded = loadLedger(dir);
    for (const record of loaded.records) {
      if (keys.has(record.key)) continue;
      keys.add(record.key);
      records.push(record);
    }
    for (const cost of loaded.costs) addCost(cost);
    if (loaded.damaged) {
      rebuilt = true;
      notes.push(
        `the usage ledger had ${loaded.damaged} unreadable lines; it was rebuilt from its other lines and the transcripts`,
      );
      writeWholeFile(dir, RECORDS, [...records.map(recordLine), ...[...costs.values()].map(costLine)].join(""));
    } else progress = loadProgress(dir);
  }
  const kept = records.length;
  // Lines for the ledger, written 128 kB at a time (not all at the end: 60,000 lines held twice, as an array and
  // as one string, were a cold run's peak memory).
  let appended: string[] = [];
  let pending = 0;
  let appendError: unknown;
  const flush = () => {
    if (!dir || appended.length === 0 || appendError !== undefined) return;
    try {
      appendLines(fileIn(dir, RECORDS), appended.join(""));
    } catch (error) {
      appendError = error;
    }
    appended = [];
    pending = 0;
  };
  const append = (line: string) => {
    appended.push(line);
    pending += line.length;
    if (pending > 1 << 17) flush();
  };
  const nextProgress: Record<string, Progress> = {};
  const stats = { transcripts: files.length, read: 0, bytesRead: 0, kept, rebuilt };
  for (const [i, file] of files.entries()) {
    if ((i & 127) === 0) capYoungGeneration();
    const seen = Object.hasOwn(progress, file.path) ? progress[file.path] : undefined;
    if (seen && seen[0] === file.ino && seen[1] === file.size && seen[2] === file.mtimeMs) {
      nextProgress[file.path] = seen;
      continue;
    }
    const resume = seen && seen[0] === file.ino && file.size >= seen[1];
    try {
      const read = readUsage(file.path, {
        folder: file.folder,
        agent: file.agent,
        offset: resume ? seen[3] : 0,
        lastTime: resume ? seen[4] : null,
      });
      stats.read++;
      stats.bytesRead += read.bytesRead;
      for (const record of read.records) {
        if (keys.has(record.key)) continue;
        keys.add(record.key);
        records.push(record);
        append(recordLine(record));
      }
      for (const cost of read.costs) if (addCost(cost)) append(costLine(cost));
      nextProgress[file.path] = [file.ino, file.size, file.mtimeMs, read.offset, read.lastTime];
    } catch (error) {
      notes.push(`could not read ${file.path} (${describeError(error)}), so its usage was left out`);
    }
  }
  if (dir) {
    try {
      flush();
      if (appendError !== undefined) throw appendError;
      // Unchanged when no transcript was read and none is gone: nothing to write.
      const changed = stats.read > 0 || Object.keys(progress).length !== Object.keys(nextProgress).length;
      if (changed || rebuilt) writeWholeFile(dir, PROGRESS, progressText(nextProgress));
    } catch (error) {
      notes.push(
        `could not add to the usage ledger (${describeError(error)}); the next run reads the transcripts again`,
      );
    }
  }
  return { records, costs, stats };
}

function recordLine(r: UsageRecord): string {
  const fields = [
    r.key,
    r.time,
    r.model,
    r.requestedModel,
    r.inputTokens,
    r.outputTokens,
    r.cacheCreationTokens,
    r.cacheReadTokens,
    r.cwd,
    r.branch,
    r.session,
    r.agent ? 1 : 0,
    r.activeMs,
    r.costUSD,
    r.folder,
  ];
  return `${JSON.stringify({ r: fields })}\n`;
}

function costLine(c: CostState): string {
  return `${JSON.stringify({ c: [c.session, c.total, c.models] })}\n`;
}

function loadLedger(dir: string): { records: UsageRecord[]; costs: CostState[]; damaged: number } {
  const records: UsageRecord[] = [];
  const costs: CostState[] = [];
  let damaged = 0;
  let text: string | undefined;
  try {
    text = readRegularText(fileIn(dir, RECORDS), MAX_LEDGER_BYTES);
  } catch {
    return { records, costs, damaged: 1 };
  }
  if (text === undefined) return { records, costs, damaged };
  const lines = text.split("\n");
  // The last line is empty, or a line a run stopped half-way through writing.
  const last = lines.pop();
  if (last) damaged++;
  for (const line of lines) {
    const parsed = parseLedgerLine(line);
    if (parsed === undefined) damaged++;
    else if ("key" in parsed) records.push(parsed);
    else costs.push(parsed);
  }
  return { records, costs, damaged };
}

function parseLedgerLine(line: string): UsageRecord | CostState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const str = (v: unknown): v is string => typeof v === "string";
  const strOrNull = (v: unknown): v is string | null => v === null || typeof v === "string";
  const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
  if ("r" in value && Array.isArray(value.r) && value.r.length === 15) {
    const [
      key,
      time,
      model,
      requested,
      input,
      output,
      creation,
      read,
      cwd,
      branch,
      session,
      agent,
      active,
      cost,
      folder,
    ] = value.r as unknown[];
    if (!str(key) || !str(time) || !str(model) || !strOrNull(requested) || !str(session) || !str(folder))
      return undefined;
    if (!num(input) || !num(output) || !num(creation) || !num(read) || !num(active)) return undefined;
    if (!strOrNull(cwd) || !strOrNull(branch) || (agent !== 0 && agent !== 1) || !(cost === null || num(cost)))
      return undefined;
    return {
      key,
      time,
      model: intern(model),
      requestedModel: intern(requested),
      inputTokens: input,
      outputTokens: output,
      cacheCreationTokens: creation,
      cacheReadTokens: read,
      cwd: intern(cwd),
      branch: intern(branch),
      session: intern(session),
      agent: agent === 1,
      activeMs: active,
      costUSD: cost,
      folder: intern(folder),
    };
  }
  if ("c" in value && Array.isArray(value.c) && value.c.length === 3) {
    const [session, total, models] = value.c as unknown[];
    if (!str(session) || !num(total) || typeof models !== "object" || models === null) return undefined;
    const checked: Record<string, number> = {};
    for (const [model, cost] of Object.entries(models)) if (num(cost)) checked[model] = cost;
    return { session, total, models: checked };
  }
  return undefined;
}

function loadProgress(dir: string): Record<string, Progress> {
  try {
    const value: unknown = JSON.parse(readRegularText(fileIn(dir, PROGRESS)) ?? "{}");
    if (typeof value !== "object" || value === null || !("files" in value)) return {};
    const files = value.files;
    if (typeof files !== "object" || files === null) return {};
    const out: Record<string, Progress> = {};
    for (const [file, entry] of Object.entries(files)) {
      if (!Array.isArray(entry) || entry.length !== 5) continue;
      const [ino, size, mtimeMs, offset, lastTime] = entry as unknown[];
      if (typeof ino !== "number" || typeof size !== "number" || typeof mtimeMs !== "number") continue;
      if (typeof offset !== "number" || !(lastTime === null || typeof lastTime === "string")) continue;
      out[file] = [ino, size, mtimeMs, offset, lastTime];
    }
    return out;
  } catch {
    return {}; // Only speed depends on it: every transcript is read again.
  }
}

function appendLines(file: string, text: string): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    const bytes = Buffer.from(text);
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
  } finally {
    closeSync(fd);
  }
}

/** Writes `dir/name` whole, through a new file renamed over it (never through a link planted there). */
/**
 * `{"version":1,"files":{…}}` in pieces of ~64 kB: made whole (10,000 transcripts' progress, and its bytes again to
 * write it) it was 3 MB at the moment a cold run's memory peaks, when every record is held.
 */
function* progressText(files: Record<string, Progress>): Generator<string> {
  let piece = '{"version":1,"files":{';
  let first = true;
  for (const [path, progress] of Object.entries(files)) {
    piece += `${first ? "" : ","}${JSON.stringify(path)}:${JSON.stringify(progress)}`;
    first = false;
    if (piece.length > 1 << 16) {
      yield piece;
      piece = "";
    }
  }
  yield `${piece}}}`;
}

export function writeWholeFile(dir: string, name: string, text: string | Iterable<string>): void {
  const file = fileIn(dir, name);
  const temp = tempPathBeside(file);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for (const piece of typeof text === "string" ? [text] : text) {
      const bytes = Buffer.from(piece);
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}
