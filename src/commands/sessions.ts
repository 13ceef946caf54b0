// `claude-persist sessions [--all] [--json] [--stats]`: this project's sessions from the host, its worktrees and its
// dev containers, newest first, each with the command that resumes it.
import { readlinkSync, statSync } from "node:fs";
import { flagHelp, flagSynopsis, parseOptions } from "../args.ts";
import type { Command } from "../command.ts";
import { listAllSessions, listProjectSessions, type ReadStats } from "../sessions/sessions.ts";
import { oneLine } from "../text.ts";
import { formatJson, terminalColumns } from "./output.ts";
import { allPrinter, render } from "./sessions-print.ts";

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
    // Asked only of a table: telling a terminal from a pipe costs a JSON listing more than the rest of its start.
    const columns = json ? undefined : terminalColumns(io);
    if (values.all) {
      const all = await listAllSessions(
        io.env,
        io.cwd,
        allPrinter(io, { json, columns, timeZone: timeZoneOf(io.env) }),
      );
      for (const chunk of all.output) io.stdout(chunk);
      for (const note of all.notes) io.stderr(`claude-persist sessions: ${oneLine(note)}\n`);
      if (values.stats) io.stderr(describeStats(all.stats));
      return 0;
    }
    const listing = await listProjectSessions(io.env, io.cwd);
    io.stdout(await render(io, listing, { json, columns }));
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
