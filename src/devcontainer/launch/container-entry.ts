// Entering a dev-open container: the `devcontainer exec` command a person types, and `dev-open --enter` running it.
import path from "node:path";
import { runProcess } from "../../child-process.ts";
import type { Io } from "../../command.ts";
import { shellWord } from "../../text.ts";
import { listDevcontainerConfigs } from "../config/config.ts";
import { devcontainerScript } from "./up.ts";
import type { PersistenceEdit } from "../config/persistence.ts";

/**
 * `devcontainer exec` finds the container by its labels (the repo's folder and config file) and takes our
 * remoteEnv from the container's metadata label, so the override is not needed here; `--config` is, for a config
 * the CLI does not find by itself.
 */
export function entryCommand(edit: PersistenceEdit): string {
  const command = ["devcontainer", "exec", "--workspace-folder", shellWord(edit.workspaceFolder)];
  const defaults = [
    path.join(edit.workspaceFolder, ".devcontainer", "devcontainer.json"),
    path.join(edit.workspaceFolder, ".devcontainer.json"),
  ];
  const foundByCli = listDevcontainerConfigs(edit.workspaceFolder).find((file) => defaults.includes(file));
  if (foundByCli !== edit.configPath) command.push("--config", shellWord(edit.configPath));
  return command.join(" ");
}

export async function enter(what: "shell" | "claude", edit: PersistenceEdit, io: Io): Promise<void> {
  const command = what === "claude" ? ["claude", "--continue"] : ["bash", "-l"];
  await runProcess(
    process.execPath,
    [devcontainerScript(), "exec", "--workspace-folder", edit.workspaceFolder, "--config", edit.configPath, ...command],
    { env: io.env, stdio: "inherit" },
  );
}
