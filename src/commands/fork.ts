// `claude-persist fork SESSION[@MESSAGE] [--worktree [NAME] | --issue LIN-123]`: a new session holding the conversation
// up to a message, where it will be resumed; `fork list | compare NAME | drop NAME`: the project's experiments.
import { actionHelp, parseOptions } from "../args.ts";
import type { Command, Io } from "../command.ts";
import type { DevOpenResult } from "../devcontainer/open.ts";
import { describeError, UserError } from "../errors.ts";
import { oneLine } from "../text.ts";
import { printJson } from "./output.ts";

const json = { type: "boolean", help: "print one machine-readable result" } as const;

const forkFlags = {
  worktree: {
    type: "string",
    value: "[NAME]",
    help: "fork into a new git worktree on a new branch NAME (default fork/<session>-turn-<N>), made\nfrom the commit the session was at when the message was written",
  },
  issue: {
    type: "string",
    value: "LIN-123",
    help: "fork into a new worktree on the branch /start-work gives this issue",
    excludes: { flag: "worktree", message: "names the branch itself: leave out --worktree" },
  },
  open: {
    type: "boolean",
    help: "then open the fork's worktree in its own dev container (dev-open); the fork resumes there",
  },
  json,
} as const;

const actions = {
  "SESSION[@MESSAGE]": {
    flags: forkFlags,
    help:
      "a new session holding the conversation up to MESSAGE (a turn number or a message\n" +
      "uuid as 'sessions --tree' shows them; default: where resume goes on from); the\n" +
      "original is not touched. Prints the command that resumes the fork.",
  },
  list: { flags: { json }, help: "this project's forks: where each resumes, its branch and worktree" },
  compare: {
    args: "NAME",
    flags: { json },
    help: "commits and files changed on each side since the fork, and the turns each\nconversation has had since (NAME: the fork's branch, worktree or session id)",
  },
  drop: {
    args: "NAME",
    flags: { json },
    help: "after a snapshot, remove the fork's worktree (its branch stays), its dev container\nand its session; prints the command that undoes it",
  },
} as const;

const HELP = `Usage: claude-persist fork SESSION[@MESSAGE] [--worktree [NAME] | --issue LIN-123] [--open] [--json]
       claude-persist fork list | compare NAME | drop NAME [--json]

Session branching for experimental work: fork a session from any message into its own worktree, resumable there
with claude --resume (and listed in its picker).

${actionHelp(actions, 22)}`;

/** `--worktree` takes an optional name: `--worktree exp SESSION` names it, `--worktree SESSION` does not. */
function withWorktreeValue(args: string[]): string[] {
  const at = args.indexOf("--worktree");
  if (at === -1) return args;
  const next = args[at + 1];
  const others = args.filter((arg, i) => i !== at && i !== at + 1 && !arg.startsWith("-"));
  const named = next !== undefined && !next.startsWith("-") && others.length > 0;
  return [...args.slice(0, at), `--worktree=${named ? next : ""}`, ...args.slice(at + (named ? 2 : 1))];
}

export const fork: Command = {
  actions,
  help: HELP,
  async run(args, io) {
    const [action] = args;
    if (action === "list" || action === "compare" || action === "drop") {
      const { runExperimentAction } = await import("./fork-experiments.ts");
      return runExperimentAction(action, args.slice(1), io);
    }
    const command = "claude-persist fork";
    const { values, positionals } = parseOptions(command, withWorktreeValue(args), forkFlags, { positionals: 1 });
    const [spec] = positionals;
    if (spec === undefined) {
      io.stderr(HELP);
      return 2;
    }
    if (values.open && values.worktree === undefined && values.issue === undefined) {
      throw new UserError("--open opens the fork's worktree: add --worktree [NAME] or --issue LIN-123", 2);
    }
    const { forkSession } = await import("../branching/fork.ts");
    const result = await forkSession(io.env, io.cwd, {
      spec,
      ...(values.worktree !== undefined ? { worktree: values.worktree || true } : {}),
      ...(values.issue !== undefined ? { issue: values.issue } : {}),
    });
    const opened =
      values.open && result.worktree ? await openWorktree(result.worktree.folder, io, Boolean(values.json)) : null;
    if (values.json) {
      printJson(io, { ok: opened === null || opened.ok, ...result, open: opened?.result ?? null });
      return opened && !opened.ok ? opened.exitCode : 0;
    }
    const lines = [
      `Forked ${result.source} after turn ${result.at.turn} (message ${result.at.uuid}) into session ${result.id}.`,
    ];
    if (result.worktree) {
      lines.push(
        `Worktree ${oneLine(result.worktree.folder)} on a new branch ${oneLine(result.worktree.branch)}, from ${oneLine(result.worktree.how)}.`,
      );
    }
    lines.push(`The original is unchanged. Resume the fork with:`, `  ${result.resume}`);
    if (opened?.ok) lines.push(`or in its dev container (see above how to enter it): claude --resume ${result.id}`);
    io.stdout(`${lines.join("\n")}\n`);
    return opened && !opened.ok ? opened.exitCode : 0;
  },
};

/**
 * The worktree opened in its own dev container, as `dev-open <folder>` would: the fork is in the worktree's project
 * folder, which dev-open maps into the container. A failure is reported as dev-open reports it; the fork stands.
 */
async function openWorktree(
  folder: string,
  io: Io,
  json: boolean,
): Promise<{ ok: boolean; exitCode: number; result: DevOpenResult | null }> {
  const { openDevContainer } = await import("../devcontainer/open.ts");
  const { plainDevOpen, printDevOpenResult } = await import("./dev-open.ts");
  try {
    if (!json) io.stdout(`Opening ${oneLine(folder)} in its dev container (dev-open):\n`);
    const result = await openDevContainer(plainDevOpen(folder), { ...io, cwd: folder });
    if (!json) printDevOpenResult(result, false, io);
    return { ok: true, exitCode: 0, result };
  } catch (error) {
    io.stderr(`claude-persist dev-open: ${describeError(error)}\n`);
    return { ok: false, exitCode: error instanceof UserError ? error.exitCode : 1, result: null };
  }
}
