// `claude-persist install` and `claude-persist uninstall`.
import path from "node:path";
import { flagHelp, flagSynopsis, type Flags, parseOptions } from "../args.ts";
import type { Command, Io } from "../command.ts";
import { COMMAND_NAMES, DEVCONTAINER, defaultBinDir, runtimeOnPath, tildePath } from "../install/bin-links.ts";
import { findRuntimeDir, install as installPack, type InstallResult } from "../install/install.ts";
import { uninstall as uninstallPack } from "../install/uninstall.ts";
import { plural, printJson } from "./output.ts";

const flags = {
  "dry-run": { type: "boolean", help: "say what would change, change nothing" },
  json: { type: "boolean", help: "print one machine-readable result" },
} as const;

const installFlags = {
  "bin-dir": {
    type: "string",
    value: "DIR",
    help: "link the commands claude-persist, dev-open and start-work into DIR\n(default: ~/.local/bin, unless npm already put them on PATH)",
  },
  verbose: { type: "boolean", help: "list every file written" },
  ...flags,
} as const;

const help = (name: string, table: Flags, text: string) =>
  `Usage: claude-persist ${name} ${flagSynopsis(table)}\n\n${text}\n${flagHelp(table)}`;

export const install: Command = {
  flags: installFlags,
  help: help(
    "install",
    installFlags,
    "Sets up Claude Code (its config dir, ~/.claude): the /dev-open and /start-work commands, the SessionStart hook\nand the runtime they run; and puts the commands claude-persist, dev-open and start-work on your PATH.",
  ),
  async run(args, io) {
    const { values } = parseOptions("claude-persist install", args, installFlags);
    const given = values["bin-dir"];
    // An npm global install put the commands on PATH already; from a clone (or npx) they go into the bin folder.
    const binDir = given
      ? path.resolve(io.cwd, given)
      : runtimeOnPath(io.env, findRuntimeDir())
        ? undefined
        : defaultBinDir(io.env);
    const result = await installPack(io.env, { dryRun: values["dry-run"], binDir });
    if (values.json) printJson(io, { ok: true, ...result });
    else reportInstall(io, result, Boolean(values.verbose));
    return 0;
  },
};

export const uninstall: Command = {
  flags,
  help: help("uninstall", flags, "Removes what install added and gives back any file it replaced."),
  async run(args, io) {
    const { values } = parseOptions("claude-persist uninstall", args, flags);
    const result = await uninstallPack(io.env, { dryRun: values["dry-run"] });
    if (values.json) {
      printJson(io, { ok: true, ...result });
      return 0;
    }
    listChanges(io, result);
    const summary = result.changes.length === 0 ? "nothing to change" : plural(result.changes.length, "change");
    io.stdout(
      `claude-persist ${result.dryRun ? "uninstall (dry run)" : "uninstalled"} in ${result.configDir}: ${summary}.\n`,
    );
    for (const note of result.notes) io.stdout(`note: ${note}\n`);
    return 0;
  },
};

function listChanges(io: Io, result: InstallResult, only?: (change: InstallResult["changes"][number]) => boolean) {
  const prefix = result.dryRun ? "would " : "";
  for (const change of result.changes) {
    if (only && !only(change)) continue;
    io.stdout(`${prefix}${change.action} ${change.path}${change.backup ? ` (backup: ${change.backup})` : ""}\n`);
  }
}

/**
 * Three lines: what was installed where, the next step, how to undo. Every file written with --verbose or --dry-run;
 * a file of the user's that was replaced (and where it was kept) always.
 */
function reportInstall(io: Io, result: InstallResult, verbose: boolean): void {
  const { env } = io;
  listChanges(io, result, verbose || result.dryRun ? undefined : (change) => change.backup !== undefined);
  const bin = result.bin;
  const there = new Set([...(bin?.linked ?? []), ...(bin?.unchanged ?? [])]);
  const named = bin ? [...COMMAND_NAMES, DEVCONTAINER].filter((name) => there.has(name)) : [...COMMAND_NAMES];
  const names = named.length > 1 ? `${named.slice(0, -1).join(", ")} and ${named.at(-1)}` : (named[0] ?? "none of");
  const where = bin ? `${names} in ${tildePath(env, bin.dir)}` : `${names} on your PATH (installed by npm)`;
  const what = `/dev-open, /start-work, the SessionStart hook and its runtime (persist/); the commands ${where}`;
  const count = result.changes.length + (bin?.linked.length ?? 0);
  if (result.dryRun) {
    io.stdout(
      `claude-persist install (dry run) in ${result.configDir}: ${plural(count, "change")}; nothing was written.\n`,
    );
    return;
  }
  const done = count === 0 ? "already installed, nothing changed" : plural(count, "change");
  io.stdout(`claude-persist installed in ${result.configDir} (${result.version}, ${done}): ${what}.\n`);
  for (const name of bin?.inTheWay ?? []) {
    const link = path.join(bin?.dir ?? "", name);
    io.stdout(
      `Left ${tildePath(env, link)} as it was (not claude-persist's): run ${name} as ${tildePath(env, path.join(result.configDir, "persist", "bin", `${name}.cjs`))}, or move that file away and install again.\n`,
    );
  }
  if (bin && !bin.onPath) {
    const dir = tildePath(env, bin.dir).replace(/^~/, "$HOME");
    io.stdout(
      `${tildePath(env, bin.dir)} is not on your PATH, so these commands are not found by name yet: add export PATH="${dir}:$PATH" to your shell's startup file (~/.bashrc, ~/.zshrc) and open a new terminal.\n`,
    );
  }
  io.stdout("Next: in a repo with a dev container, run dev-open (or /dev-open in Claude Code).\n");
  io.stdout(`Undo: claude-persist uninstall${bin ? "" : ", then npm uninstall -g claude-persist"}\n`);
}
