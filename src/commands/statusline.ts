// `claude-persist statusline`: the line under Claude Code's prompt (its settings.json `statusLine` runs this, with
// the session's status JSON on stdin). `--install` puts it in settings.json (only when asked: a status line is the
// user's to choose), `--uninstall` takes it out again; a status line that is not ours is never replaced.
import { PACK_CODE_DIR, settingsPath } from "../claude/home.ts";
import { flagHelp, flagSynopsis, parseOptions } from "../args.ts";
import type { Command, Io } from "../command.ts";
import { UserError } from "../errors.ts";
import { readTextToEdit, writeFileAtomic } from "../fs.ts";
import { editJsonc, parseJsonc } from "../jsonc.ts";
import { parseStatusInput, statusLine } from "../usage/statusline.ts";

/** What settings.json's statusLine runs: like the hook's command, resolved where it runs, quiet without the pack. */
export const STATUSLINE_COMMAND =
  `f="\${CLAUDE_CONFIG_DIR:-$HOME/.claude}/${PACK_CODE_DIR}/bin/claude-persist.mjs"; ` +
  `[ -f "$f" ] && command -v node >/dev/null 2>&1 && exec node "$f" statusline; exit 0`;

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
      io.stdout(setStatusLine(io, Boolean(values.install)));
      return 0;
    }
    const input = io.isTTY ? "" : await readInput(io.stdin);
    io.stdout(statusLine(io.env, parseStatusInput(input), io.cwd));
    return 0;
  },
};

async function readInput(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_INPUT) break;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function setStatusLine(io: Io, install: boolean): string {
  const file = settingsPath(io.env);
  const text = readTextToEdit(file) ?? "";
  const settings = text.trim() ? parseJsonc(text, file) : {};
  const current =
    typeof settings === "object" && settings !== null && "statusLine" in settings ? settings.statusLine : undefined;
  const ours =
    typeof current === "object" && current !== null && "command" in current && current.command === STATUSLINE_COMMAND;
  if (install) {
    if (ours) return `The status line is already claude-persist's (${file}).\n`;
    if (current !== undefined) {
      throw new UserError(
        `${file} already has a statusLine of your own; take it out first if you want claude-persist's (nothing was changed)`,
      );
    }
    writeFileAtomic(file, editJsonc(text || "{}\n", ["statusLine"], { type: "command", command: STATUSLINE_COMMAND }));
    return `Claude Code's status line is now claude-persist's (${file}); new sessions show it.\n`;
  }
  if (!ours) return `The status line in ${file} is not claude-persist's; nothing to take out.\n`;
  writeFileAtomic(file, editJsonc(text, ["statusLine"], undefined));
  return `Took claude-persist's status line out of ${file}.\n`;
}
