// `claude-persist snapshot [create|list|restore|prune]`: snapshots of this project's session data, and rolling
// back to one.
import * as z from "zod/mini";
import { actionHelp, parseOptions } from "../args.ts";
import type { Command } from "../command.ts";
import { UserError } from "../errors.ts";
import type { SnapshotInfo } from "../snapshot/format.ts";
import { listSnapshots, pruneSnapshots } from "../snapshot/list.ts";
import { resolveSnapshotProject } from "../snapshot/project.ts";
import { formatBytes, plural, printJson, renderColumns, startProgress, terminalColumns } from "./output.ts";
import { didYouMean } from "../suggest.ts";
import { oneLine } from "../text.ts";

const json = { type: "boolean", help: "print one machine-readable result" } as const;

const actions = {
  create: { flags: { json }, help: "take a snapshot now" },
  list: { flags: { json }, help: "the project's snapshots, newest first (the default)" },
  restore: {
    args: "<id|latest>",
    flags: { exact: { type: "boolean", help: "also remove the sessions created since" }, json },
    help:
      "put back what the snapshot held. The archive is verified first; the\n" +
      "files it replaces are moved aside into an undo snapshot, so the\n" +
      "restore can be undone. Sessions created since stay, unless --exact\n" +
      "(they go into that undo snapshot). Refused while a Claude session of\n" +
      "the project runs.\n" +
      "'latest' is the newest snapshot not taken by a restore.",
  },
  prune: {
    flags: {
      keep: {
        type: "string",
        value: "N",
        help: "how many snapshots taken with create to keep",
        // Digits only: Number("") and Number(" ") are 0, which would delete every snapshot.
        check: () =>
          z.pipe(
            z.pipe(
              z.string().check(z.regex(/^[0-9]{1,6}$/, "give a whole number of snapshots to keep, 1 or more")),
              z.transform(Number),
            ),
            z.int().check(z.minimum(1, "keep at least 1 snapshot")),
          ),
        default: 10,
      },
      "dry-run": { type: "boolean", help: "list what would be deleted; delete nothing" },
      json,
    },
    help:
      "keep the newest N snapshots taken with create (default 10) and the\n" +
      "newest pre-restore and pre-merge ones; delete the others",
  },
} as const;

const HELP = `Usage: claude-persist snapshot [create|list|restore|prune] [options]

Snapshots of this project's Claude Code data: its sessions' transcripts (on the host, in its worktrees and its
dev containers), their todos, tasks and file history, and claude-persist's records of them. Kept as one compressed
archive each under <config>/persist-host/snapshots/, a folder no dev container mounts.

${actionHelp(actions, 39)}`;

export const snapshot: Command = {
  actions,
  help: HELP,
  async run(args, io) {
    const [action = "list", ...rest] = args[0]?.startsWith("-") ? ["list", ...args] : args;
    const command = `claude-persist snapshot ${action}`;
    if (action === "help") {
      io.stdout(HELP);
      return 0;
    }
    switch (action) {
      case "create": {
        const { values } = parseOptions(command, rest, actions[action].flags);
        // Archiving (node:crypto, node:zlib and the stream modules) is loaded when a snapshot is taken or restored.
        const { createSnapshot } = await import("../snapshot/create.ts");
        const stopProgress = startProgress(io, "claude-persist snapshot: still taking the snapshot");
        const result = await createSnapshot(io.env, io.cwd).finally(stopProgress);
        if (values.json) printJson(io, { ok: true, ...result });
        else {
          io.stdout(
            `Snapshot ${result.id} of ${result.project.path}: ${plural(result.sessionCount, "session")}, ${plural(result.fileCount, "file")}, ` +
              `${formatBytes(result.bytes)} (${formatBytes(result.archiveBytes)} compressed) in ${result.seconds.toFixed(1)} s\n  ${result.archive}\n`,
          );
        }
        if (result.skipped.length > 0)
          io.stderr(
            `claude-persist snapshot: left out ${result.skipped.length} symlinks or special files (${result.skipped.slice(0, 3).join(", ")})\n`,
          );
        return 0;
      }
      case "list": {
        const { values } = parseOptions(command, rest, actions[action].flags);
        const project = await resolveSnapshotProject(io.env, io.cwd);
        const all = listSnapshots(project);
        if (values.json) printJson(io, { ok: true, snapshots: all });
        else io.stdout(await renderList(project.hostPath, all, terminalColumns(io)));
        return 0;
      }
      case "restore": {
        const { values, positionals } = parseOptions(command, rest, actions.restore.flags, { positionals: 1 });
        const ref = positionals[0];
        if (!ref)
          throw new UserError(
            `say which snapshot: '${command} latest', or an id from 'claude-persist snapshot list'`,
            2,
          );
        const { restoreSnapshot } = await import("../snapshot/restore.ts");
        const stopProgress = startProgress(io, "claude-persist snapshot: still restoring");
        const result = await restoreSnapshot(io.env, io.cwd, ref, { exact: Boolean(values.exact) }).finally(
          stopProgress,
        );
        if (values.json) printJson(io, { ok: true, ...result });
        else {
          const removed = values.exact ? `; ${plural(result.removed, "file")} it did not have removed` : "";
          io.stdout(
            `Restored snapshot ${result.id} of ${result.project}: ${plural(result.sessions, "session")}, ${plural(result.files, "file")}, ` +
              `${formatBytes(result.bytes)}${removed} (${result.seconds.toFixed(1)} s).\n` +
              `What it replaced is in snapshot ${result.undo.id} (${plural(result.undo.movedAside, "file")} moved aside); undo with:\n` +
              `  claude-persist snapshot restore ${result.undo.id}\n`,
          );
        }
        return 0;
      }
      case "prune": {
        const { values } = parseOptions(command, rest, actions.prune.flags);
        const project = await resolveSnapshotProject(io.env, io.cwd);
        const dryRun = Boolean(values["dry-run"]);
        const result = await pruneSnapshots(project, values.keep, { dryRun });
        const ids = (list: SnapshotInfo[]) => list.map((s) => s.id);
        if (values.json) printJson(io, { ok: true, dryRun, kept: ids(result.kept), removed: ids(result.removed) });
        else io.stdout(describePrune(result.kept.length, result.removed, dryRun));
        return 0;
      }
      default:
        throw new UserError(
          `unknown action '${oneLine(action, 40)}'${didYouMean(action, Object.keys(actions))}; use create, list, restore or prune`,
          2,
        );
    }
  },
};

async function renderList(project: string, all: SnapshotInfo[], columns: number | undefined): Promise<string> {
  if (all.length === 0) return `No snapshots of ${project} yet; take one with 'claude-persist snapshot create'.\n`;
  // Ids, kinds and machines come from summaries, which an older version kept where containers write.
  const rows = all.map((s) => [
    oneLine(s.id, 80),
    oneLine(s.kind, 20),
    s.sessionCount < 0 ? "?" : String(s.sessionCount),
    s.bytes < 0 ? "?" : formatBytes(s.bytes),
    s.stored === "moved-aside" ? "moved aside" : formatBytes(s.archiveBytes),
    s.environment.machine === "unknown" ? "?" : oneLine(`${s.environment.kind}:${s.environment.machine}`, 80),
  ]);
  const titles = ["ID", "KIND", "SESSIONS", "DATA", "ARCHIVE", "TAKEN ON"];
  return `${oneLine(project)}: ${plural(all.length, "snapshot")}, newest first\n${(await renderColumns([titles, ...rows], columns)).join("\n")}\n`;
}

function describePrune(kept: number, removed: SnapshotInfo[], dryRun: boolean): string {
  if (removed.length === 0) return `Nothing to prune: ${plural(kept, "snapshot")} kept.\n`;
  if (dryRun) {
    const lines = removed.map(
      (s) => `  ${oneLine(s.id, 80)}  ${oneLine(s.kind, 20)}  ${formatBytes(Math.max(0, s.archiveBytes))}`,
    );
    return `Dry run: would delete ${plural(removed.length, "snapshot")} and keep ${kept}:\n${lines.join("\n")}\n`;
  }
  return `Deleted ${plural(removed.length, "snapshot")} (${removed.map((s) => oneLine(s.id, 80)).join(", ")}); ${kept} kept.\n`;
}
