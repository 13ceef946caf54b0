// What dev-open is asked and what it answers, and the messages every way through it writes (open.ts runs the steps).
import path from "node:path";
import { writeFileInside } from "../fs-beneath.ts";
import type { PersistenceEdit } from "./config/persistence.ts";
import type { RiskyMount } from "./config/risky-mounts.ts";
import type { ContainerNode } from "./launch/container-node.ts";
import type { ContainerUser } from "./launch/container-user.ts";
import { backupOutsideRepo } from "./launch/override.ts";
import type { MapResult } from "./mapping.ts";

export type DevOpenOptions = {
  readonly folder: string;
  readonly configPath: string | undefined;
  readonly init: boolean;
  readonly dryRun: boolean;
  readonly configOnly: boolean;
  /** Write the persistence mounts into the repo's config; otherwise they reach `up` through an override in host-only state. */
  readonly writeConfig: boolean;
  readonly rebuild: boolean;
  readonly samePath: boolean;
  readonly remoteHome: string | undefined;
  readonly isolated: boolean;
  readonly enter: "shell" | "claude" | undefined;
};

export type DevOpenResult = {
  readonly status: "dry-run" | "configured" | "running" | "still-starting" | "isolated";
  readonly workspaceFolder: string;
  readonly configPath: string;
  readonly mountsAdded: string[];
  readonly mountsSkipped: Array<{ name: string; reason: string }>;
  /** The host's credentials that the repo's own config mounts into the container (printed as warnings). */
  readonly riskyMounts?: readonly RiskyMount[];
  /** Who the container runs as and where its home is, with where both came from and whether it is a guess. */
  readonly containerUser?: ContainerUser;
  readonly containerId?: string;
  readonly remoteUser?: string;
  readonly remoteWorkspaceFolder?: string;
  readonly mapping?: MapResult;
  readonly logFile?: string;
  /** The config the container was launched with, when the repo's own was left as it was. */
  readonly overrideConfig?: string;
  /** For a linked worktree: the main repo's .git, mounted at its host path. */
  readonly gitDir?: string;
  /** Whether the hook and /start-work can run in the container. */
  readonly node?: ContainerNode;
  /** What a person reads, one line each. */
  readonly messages: string[];
};

/** The parts of the answer every way through dev-open gives. */
export type ResultBase = Pick<
  DevOpenResult,
  "workspaceFolder" | "configPath" | "mountsAdded" | "mountsSkipped" | "riskyMounts" | "containerUser"
>;

export function writeEdits(edit: PersistenceEdit, messages: string[], env: NodeJS.ProcessEnv): void {
  for (const file of edit.files) {
    if (file.before === file.after) continue;
    // The repo is anyone's: its files are edited only inside it (see SECURITY.md); the backup goes to host-only state.
    const backup = file.before !== undefined ? backupOutsideRepo(env, file.path, file.before) : undefined;
    writeFileInside(edit.workspaceFolder, file.path, file.after, { backup: false });
    messages.push(`Updated ${path.relative(edit.workspaceFolder, file.path)}${backup ? ` (backup: ${backup})` : ""}.`);
  }
  if (edit.added.length > 0) messages.push(`Added to the config: ${edit.added.join(", ")}.`);
  else if (!edit.files.some((f) => f.before !== f.after))
    messages.push("The config already has the persistence mounts.");
}

export function describeSkipped(edit: PersistenceEdit, messages: string[]): void {
  for (const skipped of edit.skipped) messages.push(`Not mounted: ${skipped.name} (${skipped.reason}).`);
}
