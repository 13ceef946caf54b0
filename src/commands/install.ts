// `claude-persist install` and `claude-persist uninstall`.
import { flagHelp, flagSynopsis, parseOptions } from "../args.ts";
import type { Command, Io } from "../command.ts";
import { install as installPack, type InstallResult } from "../install/install.ts";
import { uninstall as uninstallPack } from "../install/uninstall.ts";
import { plural, printJson } from "./output.ts";

const flags = {
  "dry-run": { type: "boolean", help: "say what would change, change nothing" },
  json: { type: "boolean", help: "print one machine-readable result" },
} as const;

const help = (name: string, text: string) =>
  `Usage: claude-persist ${name} ${flagSynopsis(flags)}\n\n${text}\n${flagHelp(flags)}`;

export const install: Command = {
  flags,
  help: help("install", "Installs /dev-open, /start-work and the SessionStart hook into Claude Code's config dir."),
  async run(args, io) {
    const { values } = parseOptions("claude-persist install", args, flags);
    report(io, await installPack(io.env, { dryRun: values["dry-run"] }), values.json, "installed");
    return 0;
  },
};

export const uninstall: Command = {
  flags,
  help: help("uninstall", "Removes what install added and gives back any file it replaced."),
  async run(args, io) {
    const { values } = parseOptions("claude-persist uninstall", args, flags);
    report(io, await uninstallPack(io.env, { dryRun: values["dry-run"] }), values.json, "uninstalled");
    return 0;
  },
};

function report(io: Io, result: InstallResult, json: boolean | undefined, verb: string): void {
  if (json) {
    printJson(io, { ok: true, ...result });
    return;
  }
  const prefix = result.dryRun ? "would " : "";
  for (const change of result.changes) {
    io.stdout(`${prefix}${change.action} ${change.path}${change.backup ? ` (backup: ${change.backup})` : ""}\n`);
  }
  const summary = result.changes.length === 0 ? "nothing to change" : plural(result.changes.length, "change");
  io.stdout(
    `claude-persist ${result.dryRun ? `${verb.replace(/ed$/, "")} (dry run)` : verb} in ${result.configDir}: ${summary}.\n`,
  );
  for (const note of result.notes) io.stdout(`note: ${note}\n`);
}
