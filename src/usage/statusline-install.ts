// `statusline --install | --uninstall`: claude-persist's status line in Claude Code's settings.json, put in only when
// asked and never over a status line of the user's own; taken out again only when it is ours.
import { type Env, PACK_CODE_DIR, settingsPath } from "../claude/home.ts";
import { UserError } from "../errors.ts";
import { readTextToEdit, writeFileAtomic } from "../fs.ts";
import { editJsonc, parseJsonc } from "../jsonc.ts";

/** What settings.json's statusLine runs: like the hook's command, resolved where it runs, quiet without the pack. */
export const STATUSLINE_COMMAND =
  `f="\${CLAUDE_CONFIG_DIR:-$HOME/.claude}/${PACK_CODE_DIR}/bin/claude-persist.mjs"; ` +
  `[ -f "$f" ] && command -v node >/dev/null 2>&1 && exec node "$f" statusline; exit 0`;

export function setStatusLine(env: Env, install: boolean): string {
  const file = settingsPath(env);
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
