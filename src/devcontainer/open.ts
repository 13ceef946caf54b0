// /dev-open: find the repo and its dev container config, make sure the config has the persistence mounts,
// prepare the host, launch the container through the devcontainers CLI, and map the project so that
// `claude --continue` in the container carries on the host's sessions.
import path from "node:path";
import { SHARED_ENTRIES } from "../claude/shared.ts";
import type { Io } from "../command.ts";
import { devcontainerUp, type UpSuccess } from "./launch/up.ts";
import { describeSeedOutcome, prepareClaudeStateSeed, seedRunningContainer } from "./launch/claude-state.ts";
import { loginAdvice, remoteEnvWords, setOnHost } from "./launch/credentials.ts";
import { unreachableHookScripts } from "./launch/host-scripts.ts";
import { preparePersistenceEdit, type PersistenceEdit } from "./config/persistence.ts";
import { parseDevcontainerConfig } from "./config/config.ts";
import { isOnlyPackCommand } from "./config/read-mounts.ts";
import { containerMetadata, effectiveUser, execAsRoot, findDevcontainer, type Container } from "./launch/docker.ts";
import { UserError } from "../errors.ts";
import { writeFileInside } from "../fs-beneath.ts";
import { ensureStateDir, STATE } from "../state/paths.ts";
import { backupOutsideRepo, gitDirMount, removeOverride, worktreeGitDir, writeOverride } from "./launch/override.ts";
import { checkContainerNode, describeNodeProblem, type ContainerNode } from "./launch/container-node.ts";
import { shellWord } from "../text.ts";
import { mapProject, type MapResult } from "./mapping.ts";
import { unifiedDiff } from "../diff.ts";
import { checkHostReady, prepareHost } from "./launch/host-mounts.ts";
import { enter, entryCommand } from "./launch/container-entry.ts";
import {
  afterRemoteSession,
  checkRemoteEngine,
  mapOnRemote,
  prepareRemoteEngine,
  refuseEditorConfigForRemoteEngine,
  remoteEntryAdvice,
  remoteLaunchText,
  remoteUpArgs,
  settleRemoteUser,
} from "./remote/open.ts";
import { projectsProblem } from "./projects-access.ts";

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

/** Claude Code's `!` commands time out after 2 minutes: leave a longer launch running in the background. */
const WAIT_IN_CLAUDE_MS = 100_000;

export async function openDevContainer(options: DevOpenOptions, io: Io): Promise<DevOpenResult> {
  // Before anything asks that engine about the image: a config for an editor here cannot serve it.
  if (options.configOnly) await refuseEditorConfigForRemoteEngine(io.env);
  const edit = await preparePersistenceEdit({
    folder: options.folder,
    configPath: options.configPath,
    init: options.init,
    samePath: options.samePath,
    remoteHome: options.remoteHome,
    remove: options.isolated,
    env: io.env,
  });
  const messages: string[] = [];
  const sharedNames = new Set(SHARED_ENTRIES.map((e) => e.name));
  const base = {
    workspaceFolder: edit.workspaceFolder,
    configPath: edit.configPath,
    mountsAdded: edit.added.filter((name) => sharedNames.has(name)),
    mountsSkipped: edit.skipped,
  };
  // --init creates the repo's config, so it is written there; --config-only and unshare exist to edit it.
  const intoRepo =
    options.writeConfig || options.configOnly || options.isolated || edit.files.some((f) => f.before === undefined);
  const changed = edit.files.some((f) => f.before !== f.after);
  if (options.dryRun) {
    messages.push(`dev-open dry run for ${edit.workspaceFolder} (nothing was written):`);
    if (!intoRepo && changed)
      messages.push(
        "The repo's config stays as it is: the container is launched with it plus these changes, kept in claude-persist's host-only folder (--write-config writes them into the repo instead).",
      );
    for (const file of edit.files) {
      const diff = unifiedDiff(file.before ?? "", file.after, path.relative(edit.workspaceFolder, file.path));
      messages.push(diff || `${path.relative(edit.workspaceFolder, file.path)}: no change`);
    }
    describeSkipped(edit, messages);
    return { status: "dry-run", ...base, messages };
  }

  // Every precondition of the host before the first write: a failed dev-open leaves the repo and the host as they were.
  if (!options.isolated) checkHostReady(io.env);
  // A Docker engine on another machine (ssh): its own folders are the mount sources (see remote/open.ts).
  const remote = options.isolated || options.configOnly ? undefined : await checkRemoteEngine(io.env, edit);
  if (intoRepo) writeEdits(edit, messages, io.env);
  describeSkipped(edit, messages);
  if (options.isolated) {
    if (removeOverride(io.env, edit.configPath))
      messages.push("Removed the launch config dev-open kept for this repo in claude-persist's host-only folder.");
    messages.push(
      "This repo's container keeps its own Claude sessions once it is recreated without the mounts:",
      `  devcontainer up --workspace-folder ${shellWord(edit.workspaceFolder)} --remove-existing-container`,
      "'claude-persist share' puts the mounts back.",
    );
    return { status: "isolated", ...base, messages };
  }
  prepareHost(io.env);
  if (options.configOnly) {
    messages.push(...prepareClaudeStateSeed(io.env, edit.workspaceFolder, edit.containerWorkspace).messages);
    // A container the editor starts runs `claude --continue` before any hook could link the project: link it now.
    messages.push(await mapForEditor(io.env, edit));
    messages.push(
      `Config ready: ${path.relative(edit.workspaceFolder, edit.configPath)}. Open the container from your editor, or run 'dev-open' to launch it here.`,
    );
    describeUnforwarded(edit, io.env, messages);
    messages.push(...unreachableHookScripts(io.env), ...loginAdvice(io.env));
    return { status: "configured", ...base, messages };
  }

  if (remote) messages.push(...(await prepareRemoteEngine(io.env, remote, edit)));
  const gitDir = await worktreeGitDir(edit.workspaceFolder);
  const targets = gitDir ? [...edit.targets, gitDir] : edit.targets;
  const existing = await findDevcontainer(edit.workspaceFolder, edit.configPath, io.env);
  const missing = existing ? targets.filter((t) => !existing.Mounts.some((m) => m.Destination === t)) : [];
  if (existing && missing.length > 0 && !options.rebuild) {
    throw new UserError(
      `a container for this repo (${existing.Id.slice(0, 12)}) is ${existing.State.Running ? "running" : "there"} without the persistence mounts ` +
        `(missing: ${missing.map((t) => path.basename(t)).join(", ")}); run 'dev-open --rebuild' to recreate it (files outside the workspace are lost)`,
    );
  }

  // The host's credentials go into no config at all: they are handed over at exec time (see credentials.ts).
  const launchesWithOverride = (!intoRepo && changed) || remote !== undefined;
  const configText = edit.files[0]?.after ?? "";
  const launchText = remote ? remoteLaunchText(configText, remote, edit) : configText;
  const overrideConfig = launchesWithOverride
    ? writeOverride(io.env, edit.configPath, launchText, intoRepo ? undefined : edit.composeOverlay)
    : undefined;
  if (!intoRepo && changed) {
    messages.push(
      `Left ${path.relative(edit.workspaceFolder, edit.configPath)} as it was: the persistence mounts come from ${overrideConfig} (--write-config writes them into the repo's config instead).`,
    );
  } else if (!intoRepo) {
    // The repo's config has our lines (committed by the team, or written before): a kept override would be stale.
    if (!overrideConfig) removeOverride(io.env, edit.configPath);
    messages.push("The config already has the persistence mounts.");
  }
  const running = existing && missing.length === 0 && !options.rebuild ? alreadyUp(existing, edit) : undefined;
  const launched = running
    ? { up: running }
    : await launch(edit, options, existing, io, {
        overrideConfig,
        mounts: gitDir ? [gitDirMount(gitDir)] : [],
        args: remoteUpArgs(remote, edit),
      });
  if (!("up" in launched)) {
    messages.push(
      `The container is still being built (this can take several minutes the first time); it goes on in the background.`,
      `Follow it with: tail -f ${launched.logFile}`,
      `When it is done, run /dev-open again to map the project and get the command to enter.`,
    );
    return {
      status: "still-starting",
      ...base,
      logFile: launched.logFile,
      ...(overrideConfig ? { overrideConfig } : {}),
      messages,
    };
  }
  const { up } = launched;
  // A container this run created has a root-owned ~/.claude (see ownClaudeHome); one found running was fixed then.
  if (!running) await ownClaudeHome(up, edit.containerHome, io.env);
  // Before anything says the sessions are shared: the user can open them (on an engine elsewhere, after its uid is set).
  const claudeHome = `${edit.containerHome}/.claude`;
  if (remote)
    messages.push(...(await settleRemoteUser(io.env, remote, up, { edit, launched: !running, overrideConfig })));
  const noAccess =
    remote || !edit.targets.includes(`${claudeHome}/projects`)
      ? undefined
      : await projectsProblem(io.env, up.containerId, up.remoteUser, claudeHome);
  const claudeState = prepareClaudeStateSeed(io.env, edit.workspaceFolder, up.remoteWorkspaceFolder);
  messages.push(
    ...claudeState.messages,
    describeSeedOutcome(
      await seedRunningContainer(up.containerId, up.remoteUser, claudeState.seed, io.env),
      claudeState.seed,
    ),
  );
  const remoteMap = remote
    ? await mapOnRemote(io.env, remote, edit.workspaceFolder, up.remoteWorkspaceFolder)
    : undefined;
  if (remoteMap) messages.push(...remoteMap.problems);
  const mapping =
    remoteMap?.mapping ??
    (await mapProject(io.env, {
      hostPath: edit.workspaceFolder,
      containerPath: up.remoteWorkspaceFolder,
      configPath: edit.configPath,
      containerId: up.containerId,
    }));
  if (gitDir)
    messages.push(
      `This is a linked worktree: ${gitDir} (the main repo's git objects and refs) is mounted at the same path, so git works on its branch inside.`,
    );
  // Asked when this run launched the container; on the fast path it was asked then (doctor asks every time).
  const node = running ? undefined : await checkContainerNode(up.containerId, io.env);
  describeLaunch(up, mapping, edit, io.env, messages, noAccess);
  const advice = remote && !options.enter ? remoteEntryAdvice(io.env, remote) : undefined;
  if (advice) messages.push(advice);
  if (node?.problem) messages.push(describeNodeProblem(node.problem));
  messages.push(...unreachableHookScripts(io.env), ...loginAdvice(io.env));
  const result: DevOpenResult = {
    status: "running",
    ...base,
    containerId: up.containerId,
    remoteUser: up.remoteUser,
    remoteWorkspaceFolder: up.remoteWorkspaceFolder,
    mapping,
    ...(overrideConfig ? { overrideConfig } : {}),
    ...(gitDir ? { gitDir } : {}),
    ...(node ? { node } : {}),
    messages,
  };
  if (options.enter) await enter(options.enter, edit, io);
  const synced = remote && options.enter ? await afterRemoteSession(io.env, remote, edit.workspaceFolder) : undefined;
  if (synced) messages.push(synced);
  return result;
}

function writeEdits(edit: PersistenceEdit, messages: string[], env: NodeJS.ProcessEnv): void {
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

function describeSkipped(edit: PersistenceEdit, messages: string[]): void {
  for (const skipped of edit.skipped) messages.push(`Not mounted: ${skipped.name} (${skipped.reason}).`);
}

/**
 * The answer `devcontainer up` would give for a container that already runs with every mount, when `up` would
 * do nothing but what dev-open has just done: it runs the config's initializeCommand (ours only prepares the
 * host, as prepareHost did) and any postAttachCommand. Skipping it saves a second node process and its Docker
 * round trips; with a command of the user's in either place, `up` runs as usual.
 */
function alreadyUp(container: Container, edit: PersistenceEdit): UpSuccess | undefined {
  if (!container.State.Running) return undefined;
  const configText = edit.files.find((f) => f.path === edit.configPath)?.after ?? "";
  const { config } = parseDevcontainerConfig(configText, edit.configPath);
  const metadata = containerMetadata(container);
  if (!isOnlyPackCommand(config.initializeCommand) || config.postAttachCommand !== undefined) return undefined;
  if (metadata.some((entry) => entry.postAttachCommand !== undefined)) return undefined;
  const workspace = container.Mounts.find((m) => m.Source === edit.workspaceFolder)?.Destination;
  if (!workspace) return undefined;
  const remoteUser = effectiveUser(metadata) ?? (container.Config.User || "root");
  return { outcome: "success", containerId: container.Id, remoteUser, remoteWorkspaceFolder: workspace };
}

async function launch(
  edit: PersistenceEdit,
  options: DevOpenOptions,
  existing: Container | undefined,
  io: Io,
  extra: { readonly overrideConfig: string | undefined; readonly mounts: string[]; readonly args: readonly string[] },
): Promise<{ up: UpSuccess } | { logFile: string }> {
  const inClaude = Boolean(io.env.CLAUDECODE) && !io.isTTY;
  const status = progressPrinter(io);
  const outcome = await devcontainerUp({
    workspaceFolder: edit.workspaceFolder,
    configPath: edit.configPath,
    removeExisting: Boolean(options.rebuild && existing),
    overrideConfig: extra.overrideConfig,
    mounts: extra.mounts,
    args: extra.args,
    env: io.env,
    logDir: ensureStateDir(io.env, STATE.launchLogs),
    onProgress: status.line,
    ...(inClaude ? { waitMs: WAIT_IN_CLAUDE_MS } : {}),
  });
  status.done();
  return outcome.done ? { up: outcome.result } : { logFile: outcome.logFile };
}

/**
 * Docker creates the parents of mount targets as root, so `~/.claude` itself would belong to root and Claude
 * Code would silently skip its hooks there. The config carries the same fix for containers opened elsewhere.
 */
async function ownClaudeHome(up: UpSuccess, containerHome: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (up.remoteUser === "root") return;
  await execAsRoot(up.containerId, ["chown", `${up.remoteUser}:`, path.posix.join(containerHome, ".claude")], env);
}

function describeLaunch(
  up: UpSuccess,
  mapping: MapResult,
  edit: PersistenceEdit,
  env: NodeJS.ProcessEnv,
  messages: string[],
  noAccess: string | undefined,
): void {
  messages.push(
    `Container ${up.containerId.slice(0, 12)} is running; ${up.remoteUser} works in ${up.remoteWorkspaceFolder}.`,
  );
  if (noAccess) messages.push(noAccess);
  else if (mapping.link === "same-path")
    messages.push("The workspace has the same path inside, so sessions need no mapping.");
  else
    messages.push(
      `Sessions of ${edit.workspaceFolder} are shared with ${up.remoteWorkspaceFolder} (projects/${mapping.containerSlug} → ${mapping.hostSlug}).`,
    );
  if (mapping.merged.length > 0)
    messages.push(
      `Merged ${mapping.merged.length} file(s) the container had made on its own into the host's project folder.`,
    );
  messages.push(`Enter with: ${entryCommand(edit, env)} claude --continue`);
}

/** A live status line on a terminal; plain lines otherwise. */
function progressPrinter(io: Io): { line: (text: string) => void; done: () => void } {
  // Off a terminal (a log, or Claude Code's context) each line is kept short: the docker command alone runs to kilobytes.
  const plain = (text: string) => (text.length > 200 ? `${text.slice(0, 199)}…` : text);
  if (!io.isTTY) return { line: (text) => io.stderr(`devcontainer: ${plain(text)}\n`), done: () => undefined };
  const width = Math.max(20, (process.stderr.columns || 80) - 1);
  let shown = false;
  return {
    line(text) {
      io.stderr(`\r\x1b[K${text.slice(0, width)}`);
      shown = true;
    },
    done() {
      if (shown) io.stderr("\r\x1b[K");
    },
  };
}
