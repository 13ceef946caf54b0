// `claude-persist usage`: tokens, cost and active time of Claude Code's sessions, grouped by issue (the default),
// day, week, month, session, branch, project, environment, machine or model; this project's (whatever paths it
// had), or every project's with --all.
import path from "node:path";
import * as z from "zod/mini";
import { flagHelp, flagSynopsis, parseOptions } from "../args.ts";
import type { Command, Io } from "../command.ts";
import { EXIT, UserError } from "../errors.ts";
import { writeFileAtomic } from "../fs.ts";
import { oneLine } from "../text.ts";
import { formatCost, formatCount, formatDuration } from "../usage/format.ts";
import { renderHtml } from "../usage/html.ts";
import { cachedOutput, inputsKey, keepOutput } from "../usage/output-cache.ts";
import { priceSource, usePrices } from "../usage/prices.ts";
import { readPriceOverlay, refreshPrices } from "../usage/refresh-prices.ts";
import { commentBody, confirm, postComment } from "../usage/post.ts";
import { parseIssueRef } from "../work/issue-ref.ts";
import { PRICE_SOURCE } from "../usage/price-table.ts";
import { GROUPINGS, type Grouping, type Row, type Totals } from "../usage/report.ts";
import { scanTranscripts, type UsageReport, usageReport } from "../usage/usage.ts";
import { formatJson, renderColumns, terminalColumns } from "./output.ts";

const date = () =>
  z.pipe(
    z.string().check(z.regex(/^\d{4}-?\d\d-?\d\d$/, "give a date as YYYY-MM-DD (or YYYYMMDD)")),
    z.transform((value: string) => value.replace(/^(\d{4})-?(\d\d)-?(\d\d)$/, "$1-$2-$3")),
  );

const flags = {
  by: {
    type: "string",
    value: "GROUPING",
    help: `group by ${GROUPINGS.join(", ")} (default: issue)`,
    check: () => z.enum(GROUPINGS),
    default: "issue",
  },
  all: { type: "boolean", help: "every project under Claude Code's projects/ folder, not only this one" },
  issue: { type: "string", value: "ID", help: "only the usage of this work item (LIN-123)" },
  since: { type: "string", value: "DATE", help: "from this day on (YYYY-MM-DD, in the time zone)", check: date },
  until: { type: "string", value: "DATE", help: "up to this day, included", check: date },
  timezone: {
    type: "string",
    value: "ZONE",
    help: "the time zone days are told in (default: $TZ, else the system's), e.g. Europe/Paris",
    check: () => z.string().check(z.refine(isTimeZone, "not a time zone this system knows (try Europe/Paris or UTC)")),
  },
  html: {
    type: "string",
    value: "FILE",
    help: "also write the report as one self-contained web page (charts, no network) to FILE",
    check: () => z.string().check(z.minLength(1)),
  },
  post: {
    type: "boolean",
    help: "add the --issue's usage as one comment on it in Linear (asks first; LINEAR_API_KEY)",
  },
  yes: { type: "boolean", help: "with --post: post without asking" },
  "refresh-prices": {
    type: "boolean",
    help: "fetch LiteLLM's current prices first and keep them for later runs (usage never fetches otherwise)",
  },
  json: { type: "boolean", help: "print one JSON object: { ok, by, rows: [{ key, inputTokens, ... }], totals }" },
} as const;

const HELP = `Usage: claude-persist usage ${flagSynopsis(flags)}

What Claude Code's sessions used: tokens, cost and active time, grouped by the work item (/start-work) whose
branch each response was written on, or as --by says. One project however many paths it had: the host, its
worktrees, its dev containers, other machines synced with 'claude-persist sync'. Costs are Claude Code's own
where its transcripts have them, else from the price table in the pack (LiteLLM's, taken ${PRICE_SOURCE.taken});
a model without a price is shown as unpriced. What was counted stays counted after Claude Code deletes old
transcripts.
${flagHelp(flags)}`;

export const usage: Command = {
  flags,
  help: HELP,
  async run(args, io) {
    const { values } = parseOptions("claude-persist usage", args, flags);
    const timeZone = values.timezone;
    if (values["refresh-prices"]) {
      const fresh = await refreshPrices(io.env, new Date());
      io.stderr(
        `claude-persist usage: took the prices of ${Object.keys(fresh.prices).length} Claude models from ${oneLine(fresh.url)}\n`,
      );
    }
    const refreshed = readPriceOverlay(io.env);
    if (refreshed) usePrices(refreshed.prices, refreshed);
    if (values.post) return post(io, values.issue, Boolean(values.yes), Boolean(values.all));
    const columns = terminalColumns(io);
    const scan = scanTranscripts(io.env);
    // Printed again as it was while nothing it was made from changed (a page to write always makes a new report).
    const question = JSON.stringify([args, io.cwd, io.env.TZ ?? null, values.json ? "json" : (columns ?? null)]);
    const key =
      values.html === undefined && scan.notes.length === 0 ? inputsKey(io.env, scan.files, question) : undefined;
    const kept = key === undefined ? undefined : cachedOutput(io.env, key);
    if (kept !== undefined) {
      io.stdout(kept);
      return 0;
    }
    const report = await usageReport(
      io.env,
      {
        by: values.by,
        all: Boolean(values.all),
        cwd: io.cwd,
        ...(timeZone !== undefined ? { timeZone } : {}),
        ...(values.since !== undefined ? { since: values.since } : {}),
        ...(values.until !== undefined ? { until: values.until } : {}),
        ...(values.issue !== undefined ? { issue: values.issue } : {}),
      },
      scan,
    );
    const output = values.json
      ? formatJson({
          ok: true,
          by: report.by,
          ...(report.project ? { project: report.project } : {}),
          timeZone: timeZone ?? localZone(io.env),
          rows: report.rows,
          totals: report.totals,
          prices: priceSource(),
        })
      : await renderReport(report, columns, Boolean(values.all));
    io.stdout(output);
    // Keyed by the inputs as they are after this run counted (the ledger grew): the next run with nothing new hits.
    if (report.notes.length === 0) keepOutput(io.env, inputsKey(io.env, scan.files, question), output);
    if (values.html !== undefined) {
      const file = path.resolve(io.cwd, values.html);
      const where = values.all ? "all projects" : (report.project ?? "this project");
      writeFileAtomic(file, renderHtml(report, `Claude Code usage of ${where} by ${report.by}`, new Date()));
      io.stderr(`claude-persist usage: wrote ${oneLine(file)}\n`);
    }
    for (const note of report.notes) io.stderr(`claude-persist usage: ${oneLine(note)}\n`);
    return 0;
  },
};

async function post(io: Io, issue: string | undefined, yes: boolean, all: boolean): Promise<number> {
  if (issue === undefined)
    throw new UserError(
      "--post needs --issue ID: the work item whose usage to post; see 'claude-persist usage --help'",
      EXIT.usage,
    );
  const identifier = parseIssueRef(issue).identifier;
  const report = await usageReport(io.env, { by: "environment", all, cwd: io.cwd, issue: identifier });
  if (report.totals.responses === 0) {
    throw new UserError(`no usage is recorded for ${identifier} here (its branch's sessions); nothing was posted`);
  }
  const body = commentBody(identifier, report);
  if (!yes) {
    io.stderr(`${body}\n`);
    if (!(await confirm(io.stdin, io.stderr, `Post this comment to ${identifier}?`))) {
      io.stderr("Not posted (pass --yes to post without asking).\n");
      return EXIT.failed;
    }
  }
  const url = await postComment(io.env, identifier, body);
  io.stdout(`Posted the usage of ${identifier} to Linear${url ? `: ${oneLine(url)}` : ""}.\n`);
  return EXIT.ok;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** How JSON names the local time zone, without Intl: $TZ, else "local" (the system's). */
function localZone(env: NodeJS.ProcessEnv): string {
  return env.TZ || "local";
}

const TITLES: Record<Grouping, string> = {
  day: "DAY",
  week: "WEEK OF",
  month: "MONTH",
  session: "SESSION",
  issue: "ISSUE",
  branch: "BRANCH",
  project: "PROJECT",
  environment: "ENVIRONMENT",
  machine: "MACHINE",
  model: "MODEL",
};

/** The table: a row per group, the totals, and a bar per row for its share of the cost (of the tokens, unpriced). */
export async function renderReport(report: UsageReport, columns: number | undefined, all: boolean): Promise<string> {
  const where = all ? "all projects" : oneLine(report.project ?? "this project");
  if (report.rows.length === 0) {
    return (
      `No Claude Code usage for ${where} in the period asked.\n` +
      "Usage is counted from the transcripts Claude Code writes under ~/.claude/projects/ (and kept once counted).\n"
    );
  }
  const header = [
    TITLES[report.by],
    "TOKENS",
    "COST",
    "ACTIVE",
    "SESSIONS",
    "INPUT",
    "OUTPUT",
    "CACHE WRITE",
    "CACHE READ",
    "SUBAGENTS",
  ];
  const cells = (key: string, t: Totals) => [
    key,
    formatCount(t.totalTokens),
    formatCost(t),
    formatDuration(t.activeSeconds),
    String(t.sessions),
    formatCount(t.inputTokens),
    formatCount(t.outputTokens),
    formatCount(t.cacheCreationTokens),
    formatCount(t.cacheReadTokens),
    t.subagentTokens > 0 ? percent(t.subagentTokens, t.totalTokens) : "-",
  ];
  const rows = report.rows.map((row) => cells(rowKey(row), row));
  // The bars get 20 cells of the terminal's width (when it is 80 or more). What does not fit goes: first the token
  // breakdown, the subagents' share and the sessions, then (renderColumns) the group's name is cut.
  const barRoom = columns === undefined || columns >= 80 ? 20 : 0;
  const limit = columns === undefined ? undefined : columns - (barRoom > 0 ? barRoom + 2 : 0);
  let table = [header, ...rows, cells("TOTAL", report.totals)];
  for (const drop of [9, 8, 7, 6, 5, 4, 3]) {
    const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length))) ?? [];
    if (limit === undefined || 2 + widths.reduce((a, b) => a + b + 2, -2) <= limit) break;
    table = table.map((row) => row.filter((_, i) => i !== drop));
  }
  const lines = await renderColumns(table, limit, { uncut: [1, 2] });
  const width = Math.max(0, ...lines.map((line) => line.length));
  const room = columns === undefined ? barRoom : Math.min(40, columns - width - 2);
  if (room >= 5) {
    const byCost = report.totals.totalCost > 0;
    const measure = (row: Row) => (byCost ? row.totalCost : row.totalTokens);
    const most = Math.max(...report.rows.map(measure));
    report.rows.forEach((row, i) => {
      const cellsWide = most > 0 ? Math.round((room * measure(row)) / most) : 0;
      const bar = "█".repeat(cellsWide) || (measure(row) > 0 ? "▏" : "");
      lines[i + 1] = `${(lines[i + 1] ?? "").padEnd(width)}  ${bar}`.trimEnd();
    });
  }
  const title = `Claude Code usage of ${where} by ${report.by}`;
  const unpriced = report.totals.unpricedModels;
  const foot = [
    `Costs: Claude Code's own where its transcripts have them, else LiteLLM's prices of ${priceSource().taken}.`,
    ...(unpriced.length > 0
      ? [`Unpriced (no price known, not counted in COST): ${unpriced.map((m) => oneLine(m, 60)).join(", ")}.`]
      : []),
  ];
  return `${title}\n${lines.join("\n")}\n\n${foot.join("\n")}\n`;
}

function rowKey(row: Row): string {
  const key = oneLine(row.key, 80);
  return row.title ? `${key} ${oneLine(row.title, 40)}` : key;
}

function percent(part: number, whole: number): string {
  const share = whole > 0 ? (100 * part) / whole : 0;
  return share > 0 && share < 1 ? "<1%" : `${Math.round(share)}%`;
}
