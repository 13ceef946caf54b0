// The scripts the shared settings.json runs must exist in the container too, at the path the command names:
// settings.json is mounted read-only, so a hook whose script is not there breaks every session inside.
// Shared folders are found in the container under its own home, so a command must name them through $HOME (or
// ~, or $CLAUDE_CONFIG_DIR), never through this host's absolute home.
import path from "node:path";
import { configDir, homeDir, settingsPath, type Env } from "../../claude/home.ts";
import { SHARED_ENTRIES } from "../../claude/shared.ts";
import { readTextIfExists } from "../../fs.ts";
import { parseJsoncLoosely } from "../../jsonc.ts";
import { isRecord } from "../../json.ts";

/** One line per hook command in settings.json that names a file the container will not have there. */
export function unreachableHookScripts(env: Env): string[] {
  let settings: unknown;
  try {
    settings = parseJsoncLoosely(readTextIfExists(settingsPath(env)) ?? "{}");
  } catch {
    // An unreadable settings.json names no script the container could miss.
    return [];
  }
  const home = homeDir(env);
  const config = configDir(env);
  const problems = new Set<string>();
  for (const command of hookCommands(settings)) {
    for (const word of command.split(/[\s;&|()"'=]+/)) {
      if (!word.startsWith("/")) continue;
      const file = path.normalize(word);
      const inShared = SHARED_ENTRIES.some(
        (entry) => file === path.join(config, entry.name) || file.startsWith(path.join(config, entry.name) + path.sep),
      );
      if (inShared && file.startsWith(home + path.sep)) {
        problems.add(
          `settings.json runs ${file} by this host's path, which the container does not have: write it as "$HOME/${path.relative(home, file)}" (the shared folder is there under the container's home).`,
        );
      } else if (!inShared && file.startsWith(home + path.sep)) {
        problems.add(
          `settings.json runs ${file}, which no container sees: keep it in ${path.join(config, "hooks")}/ (shared read-only) and name it "$HOME/${path.relative(home, path.join(config, "hooks", path.basename(file)))}".`,
        );
      }
    }
  }
  return [...problems];
}

function hookCommands(settings: unknown): string[] {
  const hooks = isRecord(settings) && isRecord(settings.hooks) ? settings.hooks : {};
  const commands: string[] = [];
  for (const groups of Object.values(hooks)) {
    if (!Array.isArray(groups)) continue;
    for (const group of groups) {
      const entries = isRecord(group) && Array.isArray(group.hooks) ? group.hooks : [];
      for (const entry of entries)
        if (isRecord(entry) && typeof entry.command === "string") commands.push(entry.command);
    }
  }
  return commands;
}
