// Entering a dev-open container: the `devcontainer exec` command a person types, and `dev-open --enter` running it.
import path from "node:path";
import { runProcess } from "../../child-process.ts";
import type { Env } from "../../claude/home.ts";
import type { Io } from "../../command.ts";
import { remoteEnvArgs, remoteEnvWords } from "./credentials.ts";
import { shellWord } from "../../text.ts";
import { listDevcontainerConfigs } from "../config/config.ts";
import { devcontainerScript } from "./up.ts";
import type { PersistenceEdit } from "../config/persistence.ts";

/**
 * `devcontainer exec` finds the container by its labels (the repo's folder and config file), so the override is
 * not needed here; `--config` is, for a config the CLI does not find by itself. The credentials set here are
 * handed over from the person's shell as they run it (see credentials.ts).
 */
export function entryCommand(edit: PersistenceEdit, env: Env): string {
  const command = ["devcontainer", "exec", "--workspace-folder", shellWord(edit.workspaceFolder)];
  const defaults = [
    path.join(edit.workspaceFolder, ".devcontainer", "devcontainer.json"),
    path.join(edit.workspaceFolder, ".devcontainer.json"),
  ];
  const foundByCli = listDevcontainerConfigs(edit.workspaceFolder).find((file) => defaults.includes(file));
  if (foundByCli !== edit.configPath) command.push("--config", shellWord(edit.configPath));
  return [...command, ...remoteEnvWords(edit.forwardedNames, env)].join(" ");
}

export async function enter(what: "shell" | "claude", edit: PersistenceEdit, io: Io): Promise<void> {
  const command = what === "claude" ? ["claude", "--continue"] : ["bash", "-l"];
  await runProcess(
    process.execPath,
    [
      devcontainerScript(),
      "exec",
      "--workspace-folder",
      edit.workspaceFolder,
      "--config",
      edit.configPath,
      ...remoteEnvArgs(edit.forwardedNames, io.env),
      ...command,
    ],
    { env: io.env, stdio: "inherit" },
  );
}
