// `usage`'s library part: the transcripts under projects/ counted into the ledger, each response placed (project,
// issue, environment, machine) and costed, then grouped. The command (src/commands/usage.ts) renders the report.
import type { Env } from "../claude/home.ts";
import { locateProject, readLayout, readWorkItems } from "../sessions/folders.ts";
import type { Layout } from "../sessions/model.ts";
import { type Attribution, attribute } from "./attribute.ts";
import { type Costs, costsOf } from "./cost.ts";
import { countUsage } from "./ledger.ts";
import type { UsageRecord } from "./read.ts";
import { type Filter, type Grouping, groupUsage, type Report } from "./report.ts";
import { findTranscripts, type TranscriptFile } from "./transcripts.ts";

export type UsageQuery = Filter & {
  readonly by: Grouping;
  /** Every project, or only the one that holds `cwd`. */
  readonly all: boolean;
  readonly cwd: string;
  /** Only this issue's responses (`LIN-123`). */
  readonly issue?: string;
};

export type UsageReport = Report & {
  /** The project reported on (undefined with --all). */
  readonly project?: string;
  readonly notes: string[];
  readonly stats: ReturnType<typeof countUsage>["stats"];
};

export type Counted = {
  readonly records: UsageRecord[];
  readonly costs: Costs;
  readonly where: Attribution;
  readonly notes: string[];
  readonly stats: ReturnType<typeof countUsage>["stats"];
};

export type Scan = { readonly layout: Layout; readonly files: TranscriptFile[]; readonly notes: string[] };

/** The transcripts under projects/ as a stat finds them, before anything is read. */
export function scanTranscripts(env: Env): Scan {
  const notes: string[] = [];
  const layout = readLayout(env, notes);
  return { layout, files: findTranscripts(layout.folders, notes), notes };
}

/** Every response the ledger and the transcripts hold, placed and costed. */
export function countAll(env: Env, scan: Scan = scanTranscripts(env)): Counted {
  const { layout, files, notes } = scan;
  const counted = countUsage(env, files, notes);
  const where = attribute(env, layout, readWorkItems(env, notes), counted.records);
  return {
    records: counted.records,
    costs: costsOf(counted.records, counted.costs),
    where,
    notes,
    stats: counted.stats,
  };
}

export async function usageReport(env: Env, query: UsageQuery, scan?: Scan): Promise<UsageReport> {
  const counted = countAll(env, scan);
  let project: string | undefined;
  let keep: (record: UsageRecord) => boolean = () => true;
  if (!query.all) {
    const found = await locateProject(query.cwd, readLayout(env, []));
    const slugs = new Set(found.slugs);
    // This project: its own folders, and whatever folders the attribution joined to them (another machine's path).
    const projects = new Set(counted.records.filter((r) => slugs.has(r.folder)).map((r) => counted.where.projectOf(r)));
    project = [...projects][0] ?? found.project;
    if (projects.size === 0) projects.add(found.project);
    keep = (record) => projects.has(counted.where.projectOf(record));
  }
  if (query.issue !== undefined) {
    const wanted = query.issue.toUpperCase();
    const inProject = keep;
    keep = (record) => inProject(record) && counted.where.issueOf(record)?.identifier.toUpperCase() === wanted;
  }
  const report = groupUsage(counted.records, counted.costs, query.by, counted.where, query, keep);
  return { ...report, ...(project !== undefined ? { project } : {}), notes: counted.notes, stats: counted.stats };
}
