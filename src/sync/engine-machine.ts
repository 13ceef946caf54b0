// Keeping this machine and a remote Docker engine's machine in step for dev-open: nothing to do when both run
// Syncthing through `claude-persist sync` (it is continuous); otherwise unison over the same ssh, on demand, when
// dev-open starts and when the session it entered ends, with the line-union merge for transcripts.
import path from "node:path";
import type { Env } from "../claude/home.ts";
import { linkProject } from "./identity.ts";
import { mergeInto } from "../devcontainer/mapping.ts";
import { findRuntimeDir } from "../install/install.ts";
import { readSyncSettings } from "./setup.ts";
import { unisonOnce } from "./unison.ts";

/** What dev-open needs to know of the other machine (see devcontainer/remote/machine.ts). */
export type EngineMachine = {
  readonly label: string;
  readonly home: string;
  readonly configDir: string;
  readonly runsSyncthing: boolean;
  readonly hasUnison: boolean;
};

export type StepPlan = { readonly how: "syncthing" | "unison" | "none"; readonly message?: string };

/** How the two machines stay in step; `none` says why and what to do. */
export function planEngineSync(env: Env, machine: EngineMachine): StepPlan {
  if (readSyncSettings(env) && machine.runsSyncthing) {
    return {
      how: "syncthing",
      message:
        `This machine and ${machine.label} both run Syncthing (claude-persist sync): ` +
        "sessions follow continuously, nothing more to do.",
    };
  }
  if (!machine.hasUnison) {
    return {
      how: "none",
      message:
        `Sessions are not carried between this machine and ${machine.label}: unison is not installed there ` +
        `(apt-get install unison, 2.52 or later), nor is Syncthing set up on both ('claude-persist sync init').`,
    };
  }
  return { how: "unison" };
}

/** The command a person runs to carry the container's turns back here (printed after the enter command). */
export function syncBackCommand(machine: EngineMachine): string {
  const relative = machine.configDir === `${machine.home}/.claude`;
  const command = `claude-persist sync unison ${machine.label}`;
  return relative ? command : `${command}  # (its config dir: ${machine.configDir})`;
}

/**
 * Makes the project travel (its slug here linked to `projects/repo-…`, as the hook does) and runs unison once.
 * Returns one line for the person; a failed run is said, not thrown: the container still works on what is there.
 */
export async function syncWithEngineMachine(
  env: Env,
  machine: EngineMachine,
  workspaceFolder: string,
  when: "before" | "after",
): Promise<string> {
  const linked = linkProject(env, workspaceFolder, mergeInto);
  if (!linked) {
    return (
      `Sessions of ${workspaceFolder} stay on each machine: the repo has no git remote to know it by on ` +
      `${machine.label} (add one: git remote add origin URL).`
    );
  }
  const cliPath = path.join(findRuntimeDir(), "bin", "claude-persist.mjs");
  const result = await unisonOnce(env, machine.label, { cliPath, remoteDir: machine.configDir });
  const direction =
    when === "before"
      ? `${machine.label} has this machine's sessions`
      : `this machine has the sessions made on ${machine.label}`;
  if (result.exitCode === 0) return `Synced with ${machine.label} by unison: ${direction}.`;
  const reason = result.output.trim().split("\n").findLast(Boolean)?.slice(0, 200) ?? "";
  const rerun = syncBackCommand(machine);
  return `unison with ${machine.label} stopped (exit ${result.exitCode}: ${reason}); run '${rerun}' to see why.`;
}
