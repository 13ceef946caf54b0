// /dev-open: find the repo and its dev container config, make sure the config has the persistence mounts,
// prepare the host, launch the container through the devcontainers CLI, and map the project so that
// `claude --continue` in the container carries on the host's sessions. The steps, in order:
//   plan the edit (the config, the container's user and home, the mounts) → a dry run shows it and stops
//   → unshare takes the mounts out and stops → the host is checked → share (--config-only) writes the config for
//   an editor and stops → otherwise launch: up, check the mounts landed in the user's home, map, report.
import path from "node:path";
import { SHARED_ENTRIES } from "../claude/shared.ts";
import type { Io } from "../command.ts";
import { unifiedDiff } from "../diff.ts";
import { UserError } from "../errors.ts";
import { holdsHiddenCharacters, shellWord } from "../text.ts";
import { preparePersistenceEdit, type PersistenceEdit } from "./config/persistence.ts";
import { prepareClaudeStateSeed } from "./launch/claude-state.ts";
import { describeContainerUser } from "./launch/container-user.ts";
import { loginAdvice, remoteEnvWords, setOnHost } from "./launch/credentials.ts";
import { checkHostReady, prepareHost } from "./launch/host-mounts.ts";
import { unreachableHookScripts } from "./launch/host-scripts.ts";
import { removeOverride } from "./launch/override.ts";
import { HomeMismatch } from "./launch/verify-home.ts";
import { describePlanted, hostProjectFolder } from "./host-project.ts";
import { forgetProjectPath, mapProject } from "./mapping.ts";
import { launchAndMap, progressPrinter } from "./open-launch.ts";
import {
  describeSkipped,
  type DevOpenOptions,
  type DevOpenResult,
  type ResultBase,
  writeEdits,
} from "./open-report.ts";
import { refuseEditorConfigForRemoteEngine } from "./remote/open.ts";

export type { DevOpenOptions, DevOpenResult } from "./open-report.ts";

export async function openDevContainer(options: DevOpenOptions, io: Io): Promise<DevOpenResult> {
  // Before anything asks that engine about the image: a config for an editor here cannot serve it.
  if (options.configOnly) await refuseEditorConfigForRemoteEngine(io.env);
  const edit = await planEdit(options, io);
  // Said before anything is launched: the user may not want that container to start at all.
  for (const risky of edit.riskyMounts ?? []) io.stderr(`warning: ${risky.label}; ${risky.fix}.\n`);
  refusePlantedHostFolder(edit, options, io);
  const base = resultBase(edit);
  // --init creates the repo's config, so it is written there; --config-only and unshare exist to edit it.
  const intoRepo =
    options.writeConfig || options.configOnly || options.isolated || edit.files.some((f) => f.before === undefined);
  if (options.dryRun) return dryRun(edit, base, intoRepo);
  if (options.isolated) return isolate(edit, base, io);
  // Every precondition of the host before the first write: a failed dev-open leaves the repo and the host as they were.
  checkHostReady(io.env);
  if (options.configOnly) return configureForEditor(edit, base, io);
  try {
    return await launchAndMap(edit, options, { base, intoRepo }, io);
  } catch (error) {
    if (!(error instanceof HomeMismatch) || options.remoteHome) throw error;
    return relaunchWithHome(error, options, intoRepo, io);
  }
}

/**
 * A link at the host's own project folder of this repo that claude-persist did not make stops every way that writes
 * (dev-open merges into that folder, links to it and mounts it): never through a link we did not make. A dry run
 * and unshare only say so.
 */
function refusePlantedHostFolder(edit: PersistenceEdit, options: DevOpenOptions, io: Io): void {
  const found = hostProjectFolder(io.env, edit.workspaceFolder);
  if (found.kind === "ok") return;
  const { label, fix } = describePlanted(found);
  if (options.dryRun || options.isolated) io.stderr(`warning: ${label}; ${fix}.\n`);
  else throw new UserError(`${label}; ${fix} (nothing was changed)`);
}

/** The mounts missed the user's home (found only inside the started container): planned again with it, recreated. */
async function relaunchWithHome(
  mismatch: HomeMismatch,
  options: DevOpenOptions,
  intoRepo: boolean,
  io: Io,
): Promise<DevOpenResult> {
  const fixed: DevOpenOptions = { ...options, remoteHome: mismatch.home, rebuild: true };
  const edit = await planEdit(fixed, io);
  const user = edit.containerUser && {
    ...edit.containerUser,
    user: mismatch.user,
    homeFrom: "$HOME in the started container",
  };
  const result = await launchAndMap(
    { ...edit, ...(user ? { containerUser: user } : {}) },
    fixed,
    { base: { ...resultBase(edit), ...(user ? { containerUser: user } : {}) }, intoRepo },
    io,
  );
  result.messages.unshift(
    `The mounts went to ${mismatch.plannedHome}/.claude, but ${mismatch.user}'s home in the container is ${mismatch.home}: recreated the container with them there.`,
  );
  return result;
}

/** The config, the container's user and home, and the mounts: dev-open builds the image first to read them. */
async function planEdit(options: DevOpenOptions, io: Io): Promise<PersistenceEdit> {
  const launches = !options.dryRun && !options.configOnly && !options.isolated;
  const status = launches ? progressPrinter(io) : undefined;
  try {
    return await preparePersistenceEdit({
      folder: options.folder,
      configPath: options.configPath,
      init: options.init,
      samePath: options.samePath,
      remoteHome: options.remoteHome,
      remove: options.isolated,
      env: io.env,
      // Without a launch the engine is only asked about images it has (an editor's user may have none running).
      lookup: launches ? (options.rebuild ? "rebuild" : "build") : "images",
      ...(status ? { onProgress: status.line } : {}),
    });
  } finally {
    status?.done();
  }
}

function resultBase(edit: PersistenceEdit): ResultBase {
  const sharedNames = new Set(SHARED_ENTRIES.map((e) => e.name));
  return {
    workspaceFolder: edit.workspaceFolder,
    configPath: edit.configPath,
    mountsAdded: edit.added.filter((name) => sharedNames.has(name)),
    mountsSkipped: edit.skipped,
    ...(edit.riskyMounts?.length ? { riskyMounts: edit.riskyMounts } : {}),
    ...(edit.containerUser ? { containerUser: edit.containerUser } : {}),
  };
}

function dryRun(edit: PersistenceEdit, base: ResultBase, intoRepo: boolean): DevOpenResult {
  const messages = [`dev-open dry run for ${edit.workspaceFolder} (nothing was written):`];
  if (edit.containerUser) messages.push(describeContainerUser(edit.containerUser));
  const changed = edit.files.some((f) => f.before !== f.after);
  if (!intoRepo && changed) {
    messages.push(
      "The repo's files stay as they are: the container is launched with its config plus these changes, kept in claude-persist's host-only folder (--write-config writes them into the repo instead).",
    );
    // The launch config is the repo's plus our lines; a compose file is not edited but overlaid.
    const [config] = edit.files;
    if (config)
      messages.push(unifiedDiff(config.before ?? "", config.after, path.relative(edit.workspaceFolder, config.path)));
    if (edit.composeOverlay !== undefined)
      messages.push(
        "The compose overlay (host-only state, listed after the repo's compose files):",
        edit.composeOverlay,
      );
  } else {
    for (const file of edit.files) {
      const name = path.relative(edit.workspaceFolder, file.path);
      messages.push(unifiedDiff(file.before ?? "", file.after, name) || `${name}: no change`);
    }
  }
  // The diffs above show the repo's own bytes: one line says where they hold what a terminal would run.
  const shown = !intoRepo && changed ? edit.files.slice(0, 1) : edit.files;
  for (const file of shown)
    if (file.before !== undefined && holdsHiddenCharacters(file.before))
      messages.push(
        `${path.relative(edit.workspaceFolder, file.path)} holds control or invisible characters (escape sequences, bidi overrides): ` +
          "they are shown as \\xNN or \\uNNNN, not run; '--json' gives the exact text",
      );
  describeSkipped(edit, messages);
  return { status: "dry-run", ...base, messages };
}

/** unshare / --isolated: the mounts out of the config, the kept launch config gone, the container path freed. */
async function isolate(edit: PersistenceEdit, base: ResultBase, io: Io): Promise<DevOpenResult> {
  const messages: string[] = [];
  writeEdits(edit, messages, io.env);
  describeSkipped(edit, messages);
  if (removeOverride(io.env, edit.configPath))
    messages.push("Removed the launch config dev-open kept for this repo in claude-persist's host-only folder.");
  const freed = await forgetProjectPath(io.env, edit.workspaceFolder, edit.configPath);
  if (freed.length > 0)
    messages.push(`Freed ${freed.join(", ")} in the container: another repo can use that folder now.`);
  messages.push(
    "This repo's container keeps its own Claude sessions once it is recreated without the mounts:",
    `  devcontainer up --workspace-folder ${shellWord(edit.workspaceFolder)} --remove-existing-container`,
    "'claude-persist share' puts the mounts back.",
  );
  return { status: "isolated", ...base, messages };
}

/** share / --config-only: the config written for an editor to open, the host prepared, the project linked. */
async function configureForEditor(edit: PersistenceEdit, base: ResultBase, io: Io): Promise<DevOpenResult> {
  const messages: string[] = [];
  if (edit.containerUser) messages.push(describeContainerUser(edit.containerUser));
  // Linked before anything is written: a container path another repo uses stops here, with the repo as it was.
  const mapped = await mapForEditor(io.env, edit);
  writeEdits(edit, messages, io.env);
  describeSkipped(edit, messages);
  prepareHost(io.env);
  messages.push(...prepareClaudeStateSeed(io.env, edit.workspaceFolder, edit.containerWorkspace).messages);
  messages.push(mapped);
  messages.push(
    `Config ready: ${path.relative(edit.workspaceFolder, edit.configPath)}. Open the container from your editor, or run 'dev-open' to launch it here.`,
  );
  describeUnforwarded(edit, io.env, messages);
  messages.push(...unreachableHookScripts(io.env), ...loginAdvice(io.env));
  return { status: "configured", ...base, messages };
}

/** A container the editor starts runs `claude --continue` before any hook could link the project: link it now. */
async function mapForEditor(env: NodeJS.ProcessEnv, edit: PersistenceEdit): Promise<string> {
  try {
    const mapping = await mapProject(env, {
      hostPath: edit.workspaceFolder,
      containerPath: edit.containerWorkspace,
      configPath: edit.configPath,
    });
    return mapping.link === "same-path"
      ? "The workspace has the same path in the container, so sessions need no mapping."
      : `Sessions of ${edit.workspaceFolder} are shared with ${edit.containerWorkspace} in the container (projects/${mapping.containerSlug} → ${mapping.hostSlug}).`;
  } catch (error) {
    // A container opened by an editor has only the shared link to go by: sharing it would mix two repos' histories.
    if (error instanceof UserError && /already mapped/.test(error.message))
      throw new UserError(
        `${error.message.replace(/: open this one with.*$/, "")}: an editor's container finds its sessions only through that shared link, ` +
          "so this config is left as it was; run 'dev-open' (it mounts this repo's own project folder there), " +
          `or give it its own "workspaceFolder"`,
      );
    if (error instanceof UserError) return `Sessions are not mapped yet: ${error.message}`;
    throw error;
  }
}

/** The repo's config forwards nothing (it would blank a teammate's variables); say what an editor's container lacks. */
function describeUnforwarded(edit: PersistenceEdit, env: NodeJS.ProcessEnv, messages: string[]): void {
  const names = setOnHost(edit.forwardedNames, env);
  if (names.length === 0) return;
  messages.push(
    `A container your editor opens from this config does not get ${names.join(", ")} from this host (a shared config that forwards a variable gives everyone without it an empty one).`,
    `'dev-open --enter claude' hands them over; or pass them yourself: devcontainer exec --workspace-folder ${shellWord(edit.workspaceFolder)} ${remoteEnvWords(names, env).join(" ")} claude`,
  );
}
