// `claude-persist statusline`: the line under Claude Code's prompt (its settings.json `statusLine` runs this, with
// the session's status JSON on stdin). `--install` puts it in settings.json (only when asked: a status line is the
// user's to choose), `--uninstall` takes it out again; a status line that is not ours is never replaced.
import { fstatSync, readSync } from "node:fs";
import { flagHelp, flagSynopsis, parseOptions } from "../args.ts";
import type { Command } from "../command.ts";
import { parseStatusInput, statusLine } from "../usage/statusline.ts";

const MAX_INPUT = 1 << 20;

const flags = {
  install: { type: "boolean", help: "make it Claude Code's status line (settings.json statusLine)" },
  uninstall: {
    type: "boolean",
    help: "take it out of settings.json again",
    excludes: { flag: "install", message: "give --install or --uninstall, not both" },
  },
} as const;

const HELP = `Usage: claude-persist statusline ${flagSynopsis(flags)}

Prints the line Claude Code shows under its prompt: where the session runs (host or container, and which),
the work item of its branch (/start-work), and what the session has cost so far. Claude Code runs it with its
status JSON on stdin once it is installed with --install.
${flagHelp(flags)}`;

export const statusline: Command = {
  flags,
  help: HELP,
  async run(args, io) {
    const { values } = parseOptions("claude-persist statusline", args, flags);
    if (values.install || values.uninstall) {
      // Loaded only here: the line itself, run after every message, does not pay for the settings editor.
      const { setStatusLine } = await import("../usage/statusline-install.ts");
      io.stdout(setStatusLine(io.env, Boolean(values.install)));
      return 0;
    }
    const input = readInput();
    io.stdout(statusLine(io.env, parseStatusInput(input), io.cwd));
    return 0;
  },
};

/**
 * Claude Code's status JSON from stdin, read with read(2): node's stdin stream would load its stream and net modules,
 * a good part of the line's time. A terminal (run by hand), or nothing to read yet, is no input.
 */
function readInput(): string {
  // A terminal (node:tty, to ask, would load node:net): a character device, like /dev/null, which has nothing either.
  try {
    if (fstatSync(0).isCharacterDevice()) return "";
  } catch {
    return ""; // No stdin at all.
  }
  const buffer = Buffer.alloc(MAX_INPUT);
  let length = 0;
  try {
    for (let read = 1; read > 0 && length < MAX_INPUT; length += read)
      read = readSync(0, buffer, length, MAX_INPUT - length, null);
  } catch {
    // EAGAIN (a non-blocking stdin with nothing in it) or EOF already: what was read is the input.
  }
  return buffer.toString("utf8", 0, length);
}
