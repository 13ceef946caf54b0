// Usage grouped as asked: by day, week or month (in a time zone), session, issue, branch, project, environment,
// machine or model; each row's tokens, cost, active time and sessions, and the totals, in the names ccusage's JSON
// uses where the meaning is the same.
import type { Attribution } from "./attribute.ts";
import type { Costs } from "./cost.ts";
import type { UsageRecord } from "./read.ts";

export const GROUPINGS = [
  "day",
  "week",
  "month",
  "session",
  "issue",
  "branch",
  "project",
  "environment",
  "machine",
  "model",
] as const;
export type Grouping = (typeof GROUPINGS)[number];

export type Totals = {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
  /** The cost of the priced responses; see `unpricedModels` for the rest. */
  totalCost: number;
  /** Models whose responses have no cost (no price in the table, none from Claude Code): `totalCost` leaves them out. */
  unpricedModels: string[];
  unpricedTokens: number;
  /** Of totalTokens, those of subagents' transcripts. */
  subagentTokens: number;
  activeSeconds: number;
  responses: number;
  sessions: number;
  modelsUsed: string[];
};

export type Row = { key: string; title?: string } & Totals;
export type Report = { by: Grouping; rows: Row[]; totals: Totals };

/** `timeZone` undefined: this process's local time (TZ, else the system's), which needs no Intl (its first use costs ~100 ms). */
export type Filter = { since?: string; until?: string; timeZone?: string | undefined };

export function groupUsage(
  records: readonly UsageRecord[],
  costs: Costs,
  by: Grouping,
  where: Attribution,
  filter: Filter,
  keep: (record: UsageRecord) => boolean = () => true,
): Report {
  const dayOf = dayKeys(filter.timeZone);
  const rows = new Map<string, Accumulator>();
  const all = new Accumulator();
  for (const [i, record] of records.entries()) {
    if (!keep(record)) continue;
    const day = dayOf(record.time);
    if (day === undefined) continue;
    if ((filter.since && day < filter.since) || (filter.until && day > filter.until)) continue;
    const { key, title } = keyOf(record, by, day, where);
    let row = rows.get(key);
    if (!row) {
      row = new Accumulator(title);
      rows.set(key, row);
    }
    const cost = costs[i] ?? Number.NaN;
    row.add(record, cost);
    all.add(record, cost);
  }
  const sorted = [...rows].map(([key, row]) => ({ key, ...row.title, ...row.totals() }));
  if (by === "day" || by === "week" || by === "month")
    sorted.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  else sorted.sort((a, b) => b.totalCost - a.totalCost || b.totalTokens - a.totalTokens || a.key.localeCompare(b.key));
  return { by, rows: sorted, totals: all.totals() };
}

export const NO_ISSUE = "(no issue)";
export const NO_BRANCH = "(no branch)";

function keyOf(record: UsageRecord, by: Grouping, day: string, where: Attribution): { key: string; title?: string } {
  switch (by) {
    case "day":
      return { key: day };
    case "week":
      return { key: weekOf(day) };
    case "month":
      return { key: day.slice(0, 7) };
    case "session":
      return { key: record.session };
    case "issue": {
      const item = where.issueOf(record);
      return item ? { key: item.identifier, ...(item.title ? { title: item.title } : {}) } : { key: NO_ISSUE };
    }
    case "branch":
      return { key: record.branch ?? NO_BRANCH };
    case "project":
      return { key: where.projectOf(record) };
    case "environment":
      return { key: where.environmentOf(record) };
    case "machine":
      return { key: where.machineOf(record) };
    case "model":
      return { key: record.model };
  }
}

/** The Monday that starts the week of `day` (YYYY-MM-DD), as ISO weeks start. */
function weekOf(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  const back = (date.getUTCDay() + 6) % 7;
  return new Date(date.getTime() - back * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The local date (YYYY-MM-DD in `timeZone`) of a time. The zone's offset is asked of Intl once per hour of UTC time
 * (asking it per response costs more than the rest of a run), and applied to each time of that hour.
 */
export function dayKeys(timeZone: string | undefined): (time: string) => string | undefined {
  if (timeZone === undefined) return localDay;
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
  const offsets = new Map<number, number>();
  return (time) => {
    const at = Date.parse(time);
    if (Number.isNaN(at)) return undefined;
    const hour = Math.floor(at / 3_600_000);
    let offset = offsets.get(hour);
    if (offset === undefined) {
      const start = hour * 3_600_000;
      const parts = format.formatToParts(start);
      const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
      const local = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"));
      offset = local - start;
      offsets.set(hour, offset);
    }
    return new Date(at + offset).toISOString().slice(0, 10);
  };
}

function localDay(time: string): string | undefined {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return undefined;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
}

class Accumulator {
  readonly title: { title?: string };
  private input = 0;
  private output = 0;
  private creation = 0;
  private read = 0;
  private cost = 0;
  private unpriced = new Set<string>();
  private unpricedTokens = 0;
  private agentTokens = 0;
  private activeMs = 0;
  private responses = 0;
  private sessions = new Set<string>();
  private models = new Set<string>();

  constructor(title?: string) {
    this.title = title === undefined ? {} : { title };
  }

  /** `cost` NaN: none (unpriced). */
  add(record: UsageRecord, cost: number): void {
    const tokens = record.inputTokens + record.outputTokens + record.cacheCreationTokens + record.cacheReadTokens;
    this.input += record.inputTokens;
    this.output += record.outputTokens;
    this.creation += record.cacheCreationTokens;
    this.read += record.cacheReadTokens;
    if (!Number.isNaN(cost)) this.cost += cost;
    else {
      this.unpriced.add(record.model);
      this.unpricedTokens += tokens;
    }
    if (record.agent) this.agentTokens += tokens;
    this.activeMs += record.activeMs;
    this.responses++;
    this.sessions.add(record.session);
    this.models.add(record.model);
  }

  totals(): Totals {
    return {
      inputTokens: this.input,
      outputTokens: this.output,
      cacheCreationTokens: this.creation,
      cacheReadTokens: this.read,
      totalTokens: this.input + this.output + this.creation + this.read,
      totalCost: this.cost,
      unpricedModels: [...this.unpriced].sort(),
      unpricedTokens: this.unpricedTokens,
      subagentTokens: this.agentTokens,
      activeSeconds: Math.round(this.activeMs / 1000),
      responses: this.responses,
      sessions: this.sessions.size,
      modelsUsed: [...this.models].sort(),
    };
  }
}
