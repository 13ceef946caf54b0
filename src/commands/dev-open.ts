// `dev-open` (and `/dev-open`): open this repo in its dev container with the Claude session data shared.
import * as z from "zod/mini";
import { flagHelp, parseOptions } from "../args.ts";
import type { Command, Io } from "../command.ts";
import { openDevContainer, type DevOpenOptions, type DevOpenResult } from "../devcontainer/open.ts";
import { visibleLines } from "../text.ts";
import { printJson } from "./output.ts";

export const devOpenFlags = {
  config: {
    type: "string",
    value: "PATH",
    help: "the devcontainer.json to use when the repo has several",
    check: () => z.string().check(z.minLength(1)),
  },
  init: {
    type: "boolean",
    help: "write a minimal .devcontainer/devcontainer.json (with the mounts) when there is none",
  },
  "dry-run": { type: "boolean", help: "print the changes to the config, change nothing" },
  "config-only": {
    type: "boolean",
    help: "the same as 'claude-persist share' (write the mounts into the config; no launch)",
  },
  "write-config": {
    type: "boolean",
    help:
      "write the mounts into the repo's config too (by default the repo stays as it\n" +
      "was: the container gets them from a copy of the config in host-only state)",
  },
  rebuild: { type: "boolean", help: "recreate a running container that lacks the mounts" },
  "same-path": { type: "boolean", help: "mount the workspace at its host path: no mapping needed" },
  "remote-home": {
    type: "string",
    value: "DIR",
    help: "the container user's home, when it cannot be told from the config",
    check: () =>
      z
        .string()
        .check(z.regex(/^\/[A-Za-z0-9._/-]*$/, "must be an absolute path of letters, digits, '.', '_', '-' and '/'")),
  },
  isolated: { type: "boolean", help: "the same as 'claude-persist unshare' (take the mounts out of the config again)" },
  shell: {
    type: "boolean",
    help: "after launching, open a shell in the container",
    excludes: { flag: "claude", message: "choose one of --shell and --claude" },
  },
  claude: { type: "boolean", help: "after launching, open claude --continue in the container" },
  json: { type: "boolean", help: "print one machine-readable result" },
} as const;

const HELP = `Usage: dev-open [folder] [options]

Opens the repo's dev container with your Claude Code sessions, todos and history shared with the host.

${flagHelp(devOpenFlags)}`;

export const devOpen: Command = {
  flags: devOpenFlags,
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseOptions("dev-open", args, devOpenFlags, { positionals: 1 });
    const result = await openDevContainer(
      {
        folder: positionals[0] ?? io.cwd,
        configPath: values.config,
        init: Boolean(values.init),
        dryRun: Boolean(values["dry-run"]),
        configOnly: Boolean(values["config-only"]),
        writeConfig: Boolean(values["write-config"]),
        rebuild: Boolean(values.rebuild),
        samePath: Boolean(values["same-path"]),
        remoteHome: values["remote-home"],
        isolated: Boolean(values.isolated),
        enter: values.shell ? "shell" : values.claude ? "claude" : undefined,
      },
      io,
    );
    printDevOpenResult(result, Boolean(values.json), io);
    return 0;
  },
};

/** What `dev-open <folder>` does with no option: the options start-work --open, share and unshare start from. */
export function plainDevOpen(folder: string): DevOpenOptions {
  return {
    folder,
    configPath: undefined,
    init: false,
    dryRun: false,
    configOnly: false,
    writeConfig: false,
    rebuild: false,
    samePath: false,
    remoteHome: undefined,
    isolated: false,
    enter: undefined,
  };
}

/**
 * dev-open's answer as it prints it: its messages, or with `json` one JSON document. A dry run puts its diffs alone on
 * stdout and every other line on stderr, so that `--dry-run > x.patch` is a patch `git apply` takes. `name` is the
 * command the user ran (share and unshare are dev-open in a mode), which the dry run's header names.
 * The repo's files are anyone's: their escape sequences are shown, not run (in JSON: exact, as `\u` escapes).
 */
export function printDevOpenResult(result: DevOpenResult, json: boolean, io: Io, name = "dev-open"): void {
  if (json) {
    const messages = result.messages.map((line) => named(line, name));
    printJson(io, { ok: true, ...result, messages });
    return;
  }
  for (const line of result.messages) {
    const shown = visibleLines(named(line, name));
    if (result.status === "dry-run" && !line.startsWith("--- ")) io.stderr(`${shown}\n`);
    else io.stdout(`${shown}\n`);
  }
}

/** A message of dev-open's, said by the command that ran it. */
function named(line: string, name: string): string {
  return name === "dev-open" ? line : line.replace(/^dev-open dry run for /, `${name} dry run for `);
}
