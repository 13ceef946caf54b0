// dev-open's launch: the container up with the persistence mounts (from the repo's config, or from a copy of it in
// host-only state), its ~/.claude made the user's, the project mapped, and what to type to enter.
import path from "node:path";
import { encodeProjectSlug } from "../claude/home.ts";
import type { Io } from "../command.ts";
import { UserError } from "../errors.ts";
import { ensureStateDir, STATE } from "../state/paths.ts";
import { parseDevcontainerConfig } from "./config/config.ts";
import type { PersistenceEdit } from "./config/persistence.ts";
import { isOnlyPackCommand } from "./config/read-mounts.ts";
import { describeSeedOutcome, prepareClaudeStateSeed, seedRunningContainer } from "./launch/claude-state.ts";
import { enter, entryCommand } from "./launch/container-entry.ts";
import { checkContainerNode, describeNodeProblem } from "./launch/container-node.ts";
import { describeContainerUser } from "./launch/container-user.ts";
import { loginAdvice } from "./launch/credentials.ts";
import { type Container, containerMetadata, effectiveUser, execAsRoot, findDevcontainer } from "./launch/docker.ts";
import { prepareHost } from "./launch/host-mounts.ts";
import { unreachableHookScripts } from "./launch/host-scripts.ts";
import { gitDirMount, removeOverride, worktreeGitDir, writeOverride } from "./launch/override.ts";
import { projectsProblemUnlessKnown } from "./launch/container-records.ts";
import { LIVE_HOME, runningContainerOf } from "./launch/find-user.ts";
import { checkOwnProjectMount, type OwnProject, ownProjectMount, removeOwnMarker } from "./launch/own-project.ts";
import { devcontainerUp, type UpSuccess } from "./launch/up.ts";
import { checkHomeMounts, HomeMismatch } from "./launch/verify-home.ts";
import { type MapResult, mapProject } from "./mapping.ts";
import {
  describeSkipped,
  type DevOpenOptions,
  type DevOpenResult,
  type ResultBase,
  writeEdits,
} from "./open-report.ts";
import {
  afterRemoteSession,
  checkRemoteEngine,
  mapOnRemote,
  prepareRemoteEngine,
  remoteEntryAdvice,
  remoteLaunchText,
  remoteUpArgs,
  settleRemoteUser,
} from "./remote/open.ts";

/** Claude Code's `!` commands time out after 2 minutes: leave a longer launch running in the background. */
const WAIT_IN_CLAUDE_MS = 100_000;

export async function launchAndMap(
  edit: PersistenceEdit,
  options: DevOpenOptions,
  plan: { readonly base: ResultBase; readonly intoRepo: boolean },
  io: Io,
): Promise<DevOpenResult> {
  const made: { own?: OwnProject } = {};
  try {
    return await launchAndMapWith(edit, options, plan, io, made);
  } finally {
    // The own folder's marker goes on every way out (the check removes it after a launch).
    if (made.own) removeOwnMarker(made.own);
  }
}

async function launchAndMapWith(
  edit: PersistenceEdit,
  options: DevOpenOptions,
  plan: { readonly base: ResultBase; readonly intoRepo: boolean },
  io: Io,
  made: { own?: OwnProject },
): Promise<DevOpenResult> {
  const { base, intoRepo } = plan;
  const messages: string[] = [];
  if (edit.containerUser) messages.push(describeContainerUser(edit.containerUser));
  const changed = edit.files.some((f) => f.before !== f.after);
  // A Docker engine on another machine (ssh): its own folders are the mount sources (see remote/open.ts).
  const remote = await checkRemoteEngine(io.env, edit);
  if (intoRepo) writeEdits(edit, messages, io.env);
  describeSkipped(edit, messages);
  prepareHost(io.env);
  if (remote) messages.push(...(await prepareRemoteEngine(io.env, remote, edit)));
  const gitDir = await worktreeGitDir(edit.workspaceFolder);
  // The repo's own project folder on its container path (own-project.ts); an engine elsewhere maps on its machine.
  const own = remote ? undefined : await ownProjectMount(io.env, edit);
  if (own) made.own = own;
  // A container path another repo's link names needs that mount: a container made without it must be recreated.
  const targets = [...edit.targets, ...(gitDir ? [gitDir] : []), ...(own?.sharedWith ? [own.target] : [])];
  // Found running while its user was read (find-user.ts), a moment ago: not looked up again.
  const existing =
    runningContainerOf(edit.containerUser, edit.workspaceFolder, edit.configPath) ??
    (await findDevcontainer(edit.workspaceFolder, edit.configPath, io.env));
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
        mounts: [...(gitDir ? [gitDirMount(gitDir)] : []), ...(own ? [own.mount] : [])],
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
  // Docker followed the mount's source by name after our check: what it mounted must be the folder checked.
  if (own && !running) {
    const unchecked = await checkOwnProjectMount(io.env, up.containerId, own);
    if (unchecked) messages.push(unchecked);
  }
  // Found running, the home was read from the container itself and every mount is there (checked above).
  if (!(running && edit.containerUser?.homeFrom === LIVE_HOME)) await verifyHome(io.env, up, edit, Boolean(running));
  // A container this run created has a root-owned ~/.claude (see ownClaudeHome); one found running was fixed then.
  if (!running) await ownClaudeHome(up, edit.containerHome, io.env);
  // Before anything says the sessions are shared: the user can open them (on an engine elsewhere, after its uid is set).
  const claudeHome = `${edit.containerHome}/.claude`;
  if (remote)
    messages.push(...(await settleRemoteUser(io.env, remote, up, { edit, launched: !running, overrideConfig })));
  const noAccess =
    remote || !edit.targets.includes(`${claudeHome}/projects`)
      ? undefined
      : await projectsProblemUnlessKnown(io.env, up, claudeHome, running ? existing : undefined);
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
  const ownFolder = own?.sharedWith !== undefined && own.containerSlug === encodeProjectSlug(up.remoteWorkspaceFolder);
  const mapping =
    remoteMap?.mapping ??
    (own && ownFolder
      ? { hostSlug: own.hostSlug, containerSlug: own.containerSlug, link: "own-folder" as const, merged: [] }
      : undefined) ??
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

/**
 * The mounts must be where the container's user has its home: asked inside the started container. A container
 * this run created is recreated by the caller with that home (HomeMismatch); one found running is not touched.
 */
async function verifyHome(env: NodeJS.ProcessEnv, up: UpSuccess, edit: PersistenceEdit, found: boolean): Promise<void> {
  const check = await checkHomeMounts(env, up.containerId, up.remoteUser, edit.containerHome, edit.targets);
  if (!check) return;
  if (check.home !== edit.containerHome) {
    if (!found) throw new HomeMismatch(up.remoteUser, check.home, edit.containerHome);
    throw new UserError(
      `the running container's user ${up.remoteUser} has its home in ${check.home}, but its mounts are under ${edit.containerHome}/.claude: ` +
        `sessions are not shared there; run 'dev-open --rebuild --remote-home ${check.home}' (files outside the workspace are lost)`,
    );
  }
  if (check.missing.length > 0)
    throw new UserError(
      `the container lacks ${check.missing.join(", ")} in ${check.home}/.claude, so sessions are not shared there; run 'dev-open --rebuild'`,
    );
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
  else if (mapping.link === "own-folder")
    messages.push(
      `${up.remoteWorkspaceFolder} is also the container path of another repo's container: this one has the project folder of ${edit.workspaceFolder} mounted at projects/${mapping.containerSlug}, so each repo's container resumes its own sessions.`,
    );
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
export function progressPrinter(io: Io): { line: (text: string) => void; done: () => void } {
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
