// What a transcript says about usage, read from where the last reading stopped: each API response's tokens (with the
// line's model, working folder, branch, session and time), and Claude Code's own running cost of the session
// (`cost-state` lines). Transcripts are hostile input (containers write them): only a regular file is opened, never
// through a link, each line is checked by hand (zod on millions of lines would cost more than the reading), and a
// line too long or malformed is skipped.
import { closeSync, fstatSync, readSync } from "node:fs";
import { openRegularFile } from "../fs.ts";

/** One API response, counted once however many lines Claude Code wrote it in. */
export type UsageRecord = {
  /** What makes two lines one response: `message.id` with `requestId` (or 2.1.330's `requestRef`), else the line's uuid. */
  readonly key: string;
  readonly time: string;
  readonly model: string;
  /** The model Claude Code asked for (2.1.330's `requestedModel`): what its `cost-state` lines are keyed by. */
  readonly requestedModel: string | null;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheCreationTokens: number;
  readonly cacheReadTokens: number;
  readonly cwd: string | null;
  readonly branch: string | null;
  readonly session: string;
  /** From a subagent's transcript (`<session>/subagents/agent-*.jsonl`, or a sidechain line). */
  readonly agent: boolean;
  /** The time since the line before it, up to IDLE_MS: how long Claude worked towards it. */
  readonly activeMs: number;
  /** The cost older versions wrote on the line itself. */
  readonly costUSD: number | null;
  /** The name of the folder under projects/ it was read from. */
  readonly folder: string;
};

/** Claude Code's own cost of a session so far, per model (the latest `cost-state` line). */
export type CostState = { readonly session: string; readonly total: number; readonly models: Record<string, number> };

export type ReadResult = {
  readonly records: UsageRecord[];
  readonly costs: CostState[];
  /** Where the next reading starts: after the last complete line. */
  readonly offset: number;
  /** The last line's time, for the active time of the next reading's first response. */
  readonly lastTime: string | null;
  readonly bytesRead: number;
  readonly skipped: number;
};

/** A gap longer than this between two lines is the user away, not Claude working. */
export const IDLE_MS = 5 * 60_000;
/** A line longer than this is not read (a pasted file); the responses it could hold are never that long. */
const MAX_LINE = 64 << 20;
const CHUNK = 4 << 20;
const USAGE = Buffer.from('"usage"');
const COST = Buffer.from('"cost-state"');
const STAMP = Buffer.from('"timestamp":"');
let readBuffer: Buffer | undefined;

export function readUsage(
  file: string,
  where: { folder: string; agent: boolean; offset: number; lastTime: string | null },
): ReadResult {
  const fd = openRegularFile(file);
  const records: UsageRecord[] = [];
  const costs: CostState[] = [];
  let lastTime = where.lastTime;
  let skipped = 0;
  let offset = where.offset;
  let bytesRead = 0;
  try {
    const size = fstatSync(fd).size;
    if (offset > size) offset = 0; // Rewritten shorter: read it again (what was counted stays counted once).
    // One buffer for every file a run reads: allocating (and zeroing) 4 MiB per transcript was most of a cold run.
    readBuffer ??= Buffer.allocUnsafe(CHUNK);
    const buffer = readBuffer;
    let carry: Buffer | undefined;
    let position = offset;
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK, position);
      if (read <= 0) break;
      const dataStart = position - (carry?.length ?? 0);
      position += read;
      bytesRead += read;
      const data = carry ? Buffer.concat([carry, buffer.subarray(0, read)]) : buffer.subarray(0, read);
      carry = undefined;
      // Most lines (prompts, attachments, request blobs) hold no usage: they are never decoded. The next place of
      // each marker in the chunk is found once and kept until a line passes it.
      let nextUsage = -2;
      let nextCost = -2;
      let nextStamp = -2;
      const after = (marker: Buffer, at: number, known: number) =>
        known === -1 || known >= at ? known : data.indexOf(marker, at);
      let start = 0;
      for (let end = data.indexOf(10, start); end !== -1; end = data.indexOf(10, start)) {
        const from = start;
        start = end + 1;
        offset = dataStart + start;
        if (end - from > MAX_LINE) {
          skipped++;
          continue;
        }
        nextUsage = after(USAGE, from, nextUsage);
        nextCost = after(COST, from, nextCost);
        if ((nextUsage !== -1 && nextUsage < end) || (nextCost !== -1 && nextCost < end)) {
          const parsed = readLine(data.toString("utf8", from, end), where, lastTime);
          if (parsed === "bad") skipped++;
          else if (parsed) {
            if (parsed.time) lastTime = parsed.time;
            if (parsed.record) records.push(parsed.record);
            if (parsed.cost) costs.push(parsed.cost);
          }
          continue;
        }
        nextStamp = after(STAMP, from, nextStamp);
        if (nextStamp !== -1 && nextStamp < end) {
          const value = nextStamp + STAMP.length;
          const close = data.indexOf(34, value);
          if (close !== -1 && close < end && close - value <= 40) lastTime = data.toString("latin1", value, close);
        }
      }
      if (start < data.length) {
        if (data.length - start > MAX_LINE) {
          // One line longer than any response: skip what is read of it, and the rest of it when its end comes.
          offset = dataStart + data.length;
          skipped++;
        } else carry = Buffer.from(data.subarray(start));
      }
    }
  } finally {
    closeSync(fd);
  }
  return { records, costs, offset, lastTime, bytesRead, skipped };
}

type Line = { time: string | null; record?: UsageRecord; cost?: CostState };

function readLine(
  line: string,
  where: { folder: string; agent: boolean },
  lastTime: string | null,
): Line | "bad" | undefined {
  if (!line.includes('"assistant"') && !line.includes('"cost-state"')) return { time: null };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return "bad";
  }
  if (!isObject(value)) return "bad";
  if (value.type === "cost-state") return { time: null, ...costOf(value) };
  if (value.type !== "assistant") return { time: text(value.timestamp) };
  const record = recordOf(value, where, lastTime);
  return { time: text(value.timestamp), ...(record ? { record } : {}) };
}

function recordOf(
  line: Record<string, unknown>,
  where: { folder: string; agent: boolean },
  lastTime: string | null,
): UsageRecord | undefined {
  const message = line.message;
  const time = text(line.timestamp);
  const session = text(line.sessionId);
  if (!isObject(message) || !isObject(message.usage) || !time || !session) return undefined;
  const usage = message.usage;
  const id = text(message.id);
  const request = text(line.requestId) ?? text(line.requestRef);
  const uuid = text(line.uuid);
  const key = id && request ? `${id}:${request}` : id ? `${id}:${uuid ?? ""}` : uuid;
  if (!key) return undefined;
  const at = Date.parse(time);
  const before = lastTime === null ? Number.NaN : Date.parse(lastTime);
  const gap = at - before;
  const cost = line.costUSD;
  return {
    key,
    time,
    model: intern(text(message.model) ?? "(unknown)"),
    requestedModel: intern(text(line.requestedModel)),
    inputTokens: count(usage.input_tokens),
    outputTokens: count(usage.output_tokens),
    cacheCreationTokens: count(usage.cache_creation_input_tokens),
    cacheReadTokens: count(usage.cache_read_input_tokens),
    cwd: intern(text(line.cwd)),
    branch: intern(text(line.gitBranch)),
    session: intern(session),
    agent: where.agent || line.isSidechain === true,
    activeMs: Number.isFinite(gap) && gap > 0 ? Math.min(gap, IDLE_MS) : 0,
    costUSD: typeof cost === "number" && Number.isFinite(cost) && cost >= 0 ? cost : null,
    folder: where.folder,
  };
}

function costOf(line: Record<string, unknown>): { cost?: CostState } {
  const session = text(line.sessionId);
  const total = line.totalCostUSD;
  if (!session || typeof total !== "number" || !Number.isFinite(total) || !isObject(line.modelUsage)) return {};
  const models: Record<string, number> = {};
  for (const [model, usage] of Object.entries(line.modelUsage)) {
    if (isObject(usage) && typeof usage.costUSD === "number" && Number.isFinite(usage.costUSD) && usage.costUSD >= 0)
      models[model] = usage.costUSD;
  }
  return { cost: { session, total, models } };
}

/**
 * One copy of each of the few strings every record repeats (model, folder, branch, session): 60,000 records each
 * with their own copies were a third of a cold run's memory.
 */
const interned = new Map<string, string>();
export function intern<T extends string | null>(value: T): T {
  if (value === null) return value;
  const known = interned.get(value);
  if (known !== undefined) return known as T;
  interned.set(value, value);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" && value.length <= 4096 ? value : null;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : 0;
}
