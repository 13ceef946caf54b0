// `start-work` (and `/start-work`): a Linear issue becomes its branch or worktree, the issue moves to In Progress,
// the work item is remembered for the SessionStart hook, and a short report (with the issue's description)
// goes to stdout, which the slash command puts in front of Claude.
import * as z from "zod/mini";
import { flagHelp, parseOptions } from "../args.ts";
import type { Command, Io } from "../command.ts";
import { openDevContainer, type DevOpenResult } from "../devcontainer/open.ts";
import { describeError, UserError } from "../errors.ts";
import type { StartIssueResult } from "../work/linear.ts";
import type { LookedUpIssue } from "../work/issue-lookup.ts";
import { startWorkOn, type StartWorkResult } from "../work/start-work.ts";
import { oneLine } from "../text.ts";
import { plainDevOpen, printDevOpenResult } from "./dev-open.ts";
import { printJson } from "./output.ts";

// Checked here, before anything runs: git checks --from again, but only after Linear has been asked.
const flags = {
  title: {
    type: "string",
    value: "T",
    help: "the title, when Linear is not asked (names the branch lin-123-<title>)",
    check: () =>
      z
        .string()
        .check(z.maxLength(200, "at most 200 characters"), z.regex(/^[^\x00-\x1f\x7f]*$/, "must be one line of text")),
  },
  from: {
    type: "string",
    value: "REF",
    help: "where a new branch starts (default: origin's default branch, else main or master)",
    check: () =>
      z
        .string()
        .check(
          z.maxLength(200, "at most 200 characters"),
          z.regex(
            /^[^\s\x00-\x1f\x7f-][^\s\x00-\x1f\x7f]*$/,
            "must be a branch, tag or commit name like main or origin/main",
          ),
        ),
  },
  carry: {
    type: "boolean",
    help: "take uncommitted changes along to the branch",
    excludes: {
      flag: "worktree",
      message:
        "--carry takes uncommitted changes along in this checkout and --worktree leaves this checkout alone; pick one",
    },
  },
  worktree: {
    type: "boolean",
    help: "check the branch out in a worktree beside the repo instead (<repo>.worktrees/<branch>; on the host)",
  },
  "no-status": { type: "boolean", help: "leave the issue's state in Linear alone" },
  assign: { type: "boolean", help: "assign the issue to you (the owner of LINEAR_API_KEY)" },
  open: { type: "boolean", help: "then open the branch's folder in its dev container (dev-open)" },
  "dry-run": {
    type: "boolean",
    help: "say which branch or worktree it would make and what it would send to Linear; change and send nothing",
  },
  json: { type: "boolean", help: "print one machine-readable result" },
} as const;

const ENVIRONMENT =
  "Environment: LINEAR_API_KEY, LINEAR_API_URL (default https://api.linear.app/graphql), LINEAR_TIMEOUT_MS.";

const HELP = `Usage: start-work <LIN-123 | issue URL> [options]

Starts work on a Linear issue in the git repository of the current folder: checks out Linear's branch for it
(creating it from the default branch when it does not exist), moves the issue to the team's first started
state, remembers it for the next Claude sessions here, and prints the issue with its description.
Without LINEAR_API_KEY, Linear is not asked: the branch is named after the issue (and --title).

${flagHelp(flags)}${ENVIRONMENT}
`;

/** Enough of a description for Claude to start from; the rest is one click away in Linear. */
const MAX_DESCRIPTION = 4_000;

export const startWork: Command = {
  flags,
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseOptions("start-work", args, flags, { positionals: 1 });
    const [input] = positionals;
    if (input === undefined)
      throw new UserError("which issue? pass one, like 'start-work LIN-123' or its Linear URL", 2);
    const { result, looked, started, startFailed, here } = await startWorkOn(input, values, io.env, io.cwd);
    if (result.dryRun) {
      if (values.json) printJson(io, { ok: true, ...result, open: null });
      else io.stdout(preview(result, looked, here, Boolean(values.open)));
      return 0;
    }
    if (values.json) {
      // The preview's fields belong to previews: a run's document is as it was.
      const { dryRun: _dryRun, linearChanges: _changes, ...done } = result;
      if (!values.open) {
        printJson(io, { ok: true, ...done, open: null });
        return 0;
      }
      const opened = await openFolder(result.folder, io, true);
      printJson(io, { ok: opened.exitCode === 0, ...done, open: opened });
      return opened.exitCode;
    }
    io.stdout(report(result, looked, started, { noStatus: Boolean(values["no-status"]), startFailed, here }));
    if (!values.open) return 0;
    io.stdout(`\nOpening ${result.folder} in its dev container (dev-open):\n`);
    return (await openFolder(result.folder, io, false)).exitCode;
  },
};

/**
 * Runs dev-open on `folder` as `dev-open <folder>` would; with `json`, its result is returned, not printed. A failure
 * is reported as dev-open reports it, and the work done so far stands.
 */
async function openFolder(
  folder: string,
  io: Io,
  json: boolean,
): Promise<{ exitCode: number; result: DevOpenResult | null }> {
  try {
    const result = await openDevContainer(plainDevOpen(folder), { ...io, cwd: folder });
    if (!json) printDevOpenResult(result, false, io);
    return { exitCode: 0, result };
  } catch (error) {
    io.stderr(`claude-persist dev-open: ${describeError(error)}\n`);
    if (!(error instanceof UserError) && io.env.CLAUDE_PERSIST_DEBUG && error instanceof Error)
      io.stderr(`${error.stack}\n`);
    return { exitCode: error instanceof UserError ? error.exitCode : 1, result: null };
  }
}

function report(
  result: StartWorkResult,
  looked: LookedUpIssue,
  started: StartIssueResult | undefined,
  { noStatus, startFailed, here }: { noStatus: boolean; startFailed: boolean; here: string },
): string {
  const lines: string[] = [];
  lines.push(result.title ? `${oneLine(result.identifier)}: ${oneLine(result.title)}` : oneLine(result.identifier));
  if (looked.linearAsked) {
    lines.push(`  ${oneLine(looked.issue.url)}`);
    const before = looked.issue.state.name;
    const state = result.state ?? before;
    const how = result.stateMoved
      ? `moved from ${before}`
      : noStatus
        ? "left alone: --no-status"
        : startFailed
          ? "not changed: see the note below"
          : "unchanged";
    lines.push(`  state: ${oneLine(state)} (${how})${started?.assigned ? ", assigned to you" : ""}`);
  } else {
    lines.push(
      `  Linear was not asked (LINEAR_API_KEY is not set): the branch is named after the issue${result.title ? " and --title" : ""}, and its state in Linear was left alone.`,
    );
  }
  lines.push(branchLine(result, here));
  lines.push(
    result.workItemRecorded
      ? `Remembered: the next Claude sessions in ${result.folder} are told this issue is in progress.`
      : "Not remembered: see the note below.",
  );
  for (const note of result.notes) lines.push(`note: ${note}`);
  if (looked.linearAsked) {
    const description = looked.issue.description?.trim();
    lines.push("");
    if (description) {
      lines.push("Description (from Linear):");
      lines.push(trimDescription(description));
    } else {
      lines.push("The issue has no description in Linear.");
    }
  }
  return `${lines.join("\n")}\n`;
}

/** What a --dry-run would do: the branch or worktree, the change sent to Linear, the record; nothing of it done. */
function preview(result: StartWorkResult, looked: LookedUpIssue, here: string, open: boolean): string {
  const lines = ["Dry run: nothing was changed and nothing was sent to Linear."];
  lines.push(result.title ? `${result.identifier}: ${oneLine(result.title)}` : result.identifier);
  if (!looked.linearAsked) lines.push("  Linear would not be asked (LINEAR_API_KEY is not set).");
  else {
    const changes = result.linearChanges;
    const sent = [
      changes?.state ? `move it from ${oneLine(looked.issue.state.name)} to ${oneLine(changes.state)}` : "",
      changes?.assign ? "assign it to you" : "",
    ].filter(Boolean);
    lines.push(`  ${oneLine(looked.issue.url)}`);
    lines.push(`  Linear: would ${sent.length > 0 ? sent.join(" and ") : "change nothing"}.`);
  }
  const { action, branch, folder } = result;
  const where = folder !== here ? `in a new worktree at ${folder}` : `in ${folder}`;
  const would = {
    created: `would be created and checked out ${where}`,
    switched: `exists; would be checked out in ${folder}`,
    "worktree-added": `exists; would be checked out in a new worktree at ${folder}`,
    reused: folder !== here ? `already checked out in the worktree at ${folder}` : `already checked out in ${folder}`,
  }[action];
  lines.push(`Branch ${branch}: ${would}.`);
  lines.push(`Would remember it for the next Claude sessions in ${folder}.`);
  if (open) lines.push(`Would then open ${folder} in its dev container (dev-open).`);
  for (const note of result.notes) lines.push(`note: ${note}`);
  return `${lines.join("\n")}\n`;
}

/** What was done to the branch, said from where start-work ran (`here`): another folder is a worktree. */
function branchLine({ action, branch, folder }: StartWorkResult, here: string): string {
  switch (action) {
    case "created":
      return folder !== here
        ? `Branch ${branch}: created, in a new worktree at ${folder}; work there (cd ${folder}).`
        : `Branch ${branch}: created and checked out in ${folder}.`;
    case "switched":
      return `Branch ${branch}: already existed; checked out in ${folder}.`;
    case "worktree-added":
      return `Branch ${branch}: already existed; checked out in a new worktree at ${folder}; work there (cd ${folder}).`;
    case "reused":
      return folder !== here
        ? `Branch ${branch}: already checked out in the worktree at ${folder}; reused it.`
        : `Branch ${branch}: already checked out in ${folder}; nothing to change.`;
  }
}

function trimDescription(text: string): string {
  // Escape sequences and other control characters would reach the terminal as commands.
  const printable = text.replace(/\r\n?/g, "\n").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
  if (printable.length <= MAX_DESCRIPTION) return printable;
  return `${printable.slice(0, MAX_DESCRIPTION).trimEnd()}\n[… ${printable.length - MAX_DESCRIPTION} more characters in Linear]`;
}
