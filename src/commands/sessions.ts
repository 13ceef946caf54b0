// `claude-persist sessions [--all] [--json] [--stats]`: this project's sessions from the host, its worktrees and its
// dev containers, newest first, each with the command that resumes it.
import { readlinkSync, statSync } from "node:fs";
import { flagHelp, flagSynopsis, parseOptions } from "../args.ts";
import { projectsDir } from "../claude/home.ts";
import type { Command, Io } from "../command.ts";
import {
  listAllSessions,
  listProjectSessions,
  type ReadStats,
  type SessionInfo,
  type SessionListing,
} from "../sessions/sessions.ts";
import { oneLine } from "../text.ts";
import { formatJson, formatTime, plural, renderColumns, terminalColumns } from "./output.ts";

const flags = {
  all: { type: "boolean", help: "every project under Claude Code's projects/ folder, grouped by project" },
  json: { type: "boolean", help: "print one JSON object: { ok, sessions: [...] } (with --tree: { ok, tree })" },
  tree: {
    type: "boolean",
    help:
      "draw this project's sessions as a tree: forks, branches inside a session, where each leaf was last\n" +
      "written, which one claude --continue / --resume goes on from, the command for every other",
    excludes: { flag: "all", message: "draws one project: leave out --all" },
  },
  stats: {
    type: "boolean",
    help:
      "print on stderr how much of the transcripts was read (only their first and last lines are, and only\n" +
      "of those that changed since the last listing)",
  },
} as const;

const HELP = `Usage: claude-persist sessions ${flagSynopsis(flags)}

Lists the Claude Code sessions of this project (the git repository of the current folder, with all its
worktrees and the dev containers opened with /dev-open), newest first, with the command that resumes each.
${flagHelp(flags)}`;

export const sessions: Command = {
  flags,
  help: HELP,
  async run(args, io) {
    const { values } = parseOptions("claude-persist sessions", args, flags);
    const json = Boolean(values.json);
    if (values.tree) {
      const { projectTree } = await import("../branching/tree.ts");
      const tree = await projectTree(io.env, io.cwd);
      io.stdout(json ? formatJson({ ok: true, tree }) : (await import("./session-tree.ts")).renderTree(tree));
      for (const note of tree.notes) io.stderr(`claude-persist sessions: ${oneLine(note)}\n`);
      return 0;
    }
    const columns = terminalColumns(io);
    let listing: SessionListing;
    let remember: ((output: string) => void) | undefined;
    if (values.all) {
      // A table's times are local times, and its width the terminal's: the same listing prints differently elsewhere.
      const all = listAllSessions(
        io.env,
        io.cwd,
        json
          ? { kind: "json", details: "" }
          : { kind: "table", details: `${columns ?? "unbounded"} ${timeZoneOf(io.env)}` },
      );
      if ("output" in all) {
        io.stdout(all.output);
        if (values.stats) io.stderr(describeStats(all.stats));
        return 0;
      }
      ({ listing, remember } = all);
    } else {
      listing = await listProjectSessions(io.env, io.cwd);
    }
    const output = await render(io, listing, { json, all: Boolean(values.all), columns });
    io.stdout(output);
    remember?.(output);
    for (const note of listing.notes) io.stderr(`claude-persist sessions: ${oneLine(note)}\n`);
    if (values.stats) io.stderr(describeStats(listing.stats));
    return 0;
  },
};

/**
 * Which time zone a table's local times are in, told without Intl (whose first use costs 16 ms): $TZ, else the zone
 * /etc/localtime names (or that file's identity, when it is a copy).
 */
function timeZoneOf(env: NodeJS.ProcessEnv): string {
  if (env.TZ !== undefined) return `TZ=${env.TZ}`;
  try {
    return `localtime ${readlinkSync("/etc/localtime")}`;
  } catch {
    const stats = statSync("/etc/localtime", { throwIfNoEntry: false });
    return stats ? `localtime ${stats.size} ${stats.mtimeMs} ${stats.ino}` : "no localtime";
  }
}

async function render(
  io: Io,
  listing: SessionListing,
  how: { json: boolean; all: boolean; columns: number | undefined },
): Promise<string> {
  const all = listing.projects.flatMap((project) => project.sessions);
  if (how.json) return formatJson({ ok: true, sessions: all });
  if (all.length === 0) return describeNone(io, listing, how.all);
  return renderTable(listing, how.columns);
}

function describeNone(io: Io, listing: SessionListing, all: boolean): string {
  if (all) {
    return (
      `No Claude Code sessions in ${projectsDir(io.env)} yet.\n` +
      "Claude Code keeps a session there for each conversation you start with `claude` in a folder; they are listed here then.\n"
    );
  }
  const project = listing.projects[0]?.project ?? io.cwd;
  return (
    `No Claude Code sessions for ${project} yet.\n` +
    `Start one with \`claude\` in ${project}, in one of its git worktrees, or in its dev container (open it with /dev-open);\n` +
    "it is listed here then, with the command that resumes it. 'claude-persist sessions --all' lists every project's.\n"
  );
}

const COLUMNS = ["LAST ACTIVITY", "BRANCH", "WORK ITEM", "RAN IN", "FIRST PROMPT", "RESUME"] as const;

/** One table for all projects (so the columns line up across them), each project under its own heading. */
async function renderTable(listing: SessionListing, columns: number | undefined): Promise<string> {
  const groups = listing.projects
    .filter((project) => project.sessions.length > 0)
    .map((project) => ({ project, rows: project.sessions.map(row) }));
  const lines = await renderColumns([COLUMNS, ...groups.flatMap((group) => group.rows)], columns, {
    uncut: [COLUMNS.indexOf("LAST ACTIVITY"), COLUMNS.indexOf("RESUME")],
    optional: [COLUMNS.indexOf("WORK ITEM"), COLUMNS.indexOf("RAN IN"), COLUMNS.indexOf("BRANCH")],
  });
  const header = lines.shift() ?? "";
  const out: string[] = [];
  for (const { project, rows } of groups) {
    if (out.length > 0) out.push("");
    out.push(`${oneLine(project.project)}: ${plural(project.sessions.length, "session")}, newest first`);
    out.push(header, ...lines.splice(0, rows.length));
  }
  return `${out.join("\n")}\n`;
}

function row(session: SessionInfo): string[] {
  const ranIn = [...new Set(session.environments.map((e) => (e.machine ? `${e.kind}:${e.machine}` : e.kind)))];
  return [
    formatTime(session.lastActivity),
    oneLine(session.branch ?? "-", 32),
    oneLine(session.workItem?.identifier ?? "-", 40),
    oneLine(ranIn.join(", ")) || "-",
    oneLine(session.firstPrompt ?? "-", 48),
    session.resume,
  ];
}

function describeStats(stats: ReadStats): string {
  const share = stats.totalBytes > 0 ? ((100 * stats.bytesRead) / stats.totalBytes).toFixed(3) : "0";
  return (
    `claude-persist sessions: read ${stats.bytesRead} of ${stats.totalBytes} bytes (${share}%) ` +
    `in ${stats.transcripts} transcripts, ${stats.folders} folders; opened ${stats.opened} transcripts, ` +
    `${stats.transcripts - stats.opened} unchanged since the last listing\n` +
    (stats.indexDamage
      ? `claude-persist sessions: the sessions index was not usable (${stats.indexDamage}), so it was rebuilt\n`
      : "")
  );
}
