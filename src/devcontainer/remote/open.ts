// dev-open with a Docker engine on another machine (DOCKER_HOST=ssh://…, or a docker context whose endpoint is one):
// the mounts name that machine's own Claude folders, the pack is installed there, the project is linked there, and
// the two machines are kept in step (Syncthing when both run it, else unison at dev-open and after the session).
// A local engine never reaches this module's ssh: `checkRemoteEngine` answers undefined and dev-open goes on as before.
import { encodeProjectSlug, type Env } from "../../claude/home.ts";
import { CONTAINER_WORKSPACE_ENV } from "../../claude/shared.ts";
import { UserError } from "../../errors.ts";
import { projectIdentity } from "../../sync/identity.ts";
import { planEngineSync, syncBackCommand, syncWithEngineMachine } from "../../sync/engine-machine.ts";
import { parseDevcontainerConfig } from "../config/config.ts";
import { containerEnv, dockerExec, type Container } from "../launch/docker.ts";
import type { MapResult } from "../mapping.ts";
import type { PersistenceEdit } from "../config/persistence.ts";
import type { UpSuccess } from "../launch/up.ts";
import { requireProjectsAccess } from "../projects-access.ts";
import {
  matchContainerUser,
  REMOTE_UID_UP_ARGS,
  runUserCommands,
  setsRemoteUid,
  type UidOutcome,
} from "./container-user.ts";
import { resolveEngine } from "./engine.ts";
import {
  describeRemoteMachine,
  ensurePackOnRemote,
  linkRemoteProject,
  prepareRemoteFolders,
  withRemoteSources,
  type RemoteMachine,
} from "./machine.ts";

export type { RemoteMachine } from "./machine.ts";

/**
 * Before dev-open writes anything: the engine's machine when it is another one reached over ssh (undefined for a
 * local engine), with the repo at the same path there. An engine whose files cannot be reached stops here.
 */
export async function checkRemoteEngine(
  env: NodeJS.ProcessEnv,
  edit: PersistenceEdit,
): Promise<RemoteMachine | undefined> {
  const engine = await resolveEngine(env);
  if (engine.kind === "local") return undefined;
  if (engine.kind === "files-unreachable") {
    throw new UserError(
      `the Docker engine at ${engine.endpoint} runs on another machine, and its bind mounts name folders on that ` +
        "machine, which dev-open cannot reach over tcp: use DOCKER_HOST=ssh://user@host (dev-open then prepares that " +
        "machine over ssh), or run dev-open there (nothing was changed)",
    );
  }
  const configText = edit.files[0]?.after ?? "";
  if (parseDevcontainerConfig(configText, edit.configPath).config.dockerComposeFile !== undefined) {
    throw new UserError(
      "dev-open does not yet prepare compose-based configs for a Docker engine on another machine " +
        `(${engine.endpoint}): ` +
        "run dev-open on that machine (nothing was changed)",
    );
  }
  const machine = await describeRemoteMachine(env, engine.target, edit.workspaceFolder);
  if (!machine.hasWorkspace) {
    throw new UserError(
      `the Docker engine runs on ${machine.label}, which mounts the workspace from its own disk, and ` +
        `${edit.workspaceFolder} is not there: put the repo at the same path on ${machine.label} (git clone …), ` +
        `or run dev-open on ${machine.label} (nothing was changed)`,
    );
  }
  return machine;
}

/**
 * `--config-only` is for an editor that opens the container itself: on this machine it resolves the config's
 * `${localEnv:HOME}` to this machine's home, and an engine on another machine would mount whatever lies at those
 * paths there. That machine's own dev-open writes a config whose folders are its own.
 */
export async function refuseEditorConfigForRemoteEngine(env: NodeJS.ProcessEnv): Promise<void> {
  const engine = await resolveEngine(env);
  if (engine.kind === "local") return;
  const where = engine.kind === "ssh" ? engine.target.host : engine.endpoint;
  throw new UserError(
    `the Docker engine runs on another machine (${engine.endpoint}), and an editor opening the container from here ` +
      `would have it mount this machine's folders there: run 'claude-persist share' on ${where} and open the ` +
      "container from an editor connected to it (VS Code: Remote-SSH, then Reopen in Container), or run 'dev-open' " +
      "here to launch it (nothing was changed)",
  );
}

/** The engine's machine made ready: the pack, the folders the mounts need, and this machine's sessions there. */
export async function prepareRemoteEngine(env: Env, machine: RemoteMachine, edit: PersistenceEdit): Promise<string[]> {
  const messages = [
    `The Docker engine runs on ${machine.label}: the mounts use its Claude folders (${machine.configDir}).`,
  ];
  messages.push(await ensurePackOnRemote(env, machine));
  await prepareRemoteFolders(env, machine);
  const step = planEngineSync(env, machine);
  if (step.message) messages.push(step.message);
  if (step.how === "unison") messages.push(await syncWithEngineMachine(env, machine, edit.workspaceFolder, "before"));
  return messages;
}

/** The launch config with the pack's mounts from the engine's machine. */
export function remoteLaunchText(text: string, machine: RemoteMachine, edit: PersistenceEdit): string {
  return withRemoteSources(text, edit.containerHome, edit.targets, machine.configDir);
}

/** What `devcontainer up` is told on this engine (see container-user.ts). */
export function remoteUpArgs(machine: RemoteMachine | undefined, edit: PersistenceEdit): readonly string[] {
  return machine && setsRemoteUid(edit) ? REMOTE_UID_UP_ARGS : [];
}

/**
 * After `up`: the container user gets the uid of the account that owns the mounted folders, the lifecycle commands
 * `up` skipped run as that user, and the user must be able to open ~/.claude/projects (else a UserError).
 */
export async function settleRemoteUser(
  env: NodeJS.ProcessEnv,
  machine: RemoteMachine,
  up: UpSuccess,
  launch: { readonly edit: PersistenceEdit; readonly launched: boolean; readonly overrideConfig: string | undefined },
): Promise<string[]> {
  const { edit } = launch;
  const setsUid = setsRemoteUid(edit);
  const outcome: UidOutcome = setsUid ? await matchContainerUser(env, up, machine) : { changed: false };
  // A container launched by this run, or one whose launch went on in the background and never got its uid.
  if (setsUid && (launch.launched || outcome.changed)) {
    await runUserCommands(env, edit, up.containerId, launch.overrideConfig);
  }
  const fix = setsUid
    ? "Run dev-open --rebuild; if it stays so, see docs/remote-engines.md."
    : `Your config turns "updateRemoteUserUID" off: remove that line (dev-open then gives ${up.remoteUser} ` +
      `uid ${machine.uid}, your account's on ${machine.label}), then run dev-open --rebuild.`;
  const from = { label: machine.label, configDir: machine.configDir, uid: machine.uid, fix };
  await requireProjectsAccess(env, up.containerId, up.remoteUser, `${edit.containerHome}/.claude`, from);
  return outcome.message ? [outcome.message] : [];
}

/**
 * The container's slug linked on the engine's machine, to the project's travelling folder when the repo has a
 * remote (the workspace's slug too, as here), else to the workspace's slug folder there.
 */
export async function mapOnRemote(
  env: Env,
  machine: RemoteMachine,
  hostPath: string,
  containerPath: string,
): Promise<{ mapping: MapResult; problems: string[] }> {
  const hostSlug = encodeProjectSlug(hostPath);
  const containerSlug = encodeProjectSlug(containerPath);
  const identity = projectIdentity(hostPath);
  const slugs = identity ? [hostSlug, containerSlug] : hostSlug === containerSlug ? [] : [containerSlug];
  if (slugs.length === 0) return { mapping: { hostSlug, containerSlug, link: "same-path", merged: [] }, problems: [] };
  const folder = identity?.folder ?? hostSlug;
  const { states, problems } = await linkRemoteProject(env, machine, folder, slugs);
  const already = states.get(containerSlug) === "already";
  const link = hostSlug === containerSlug ? "same-path" : already ? "already" : "linked";
  // What the container's slug leads to there: the travelling folder when the project has one.
  return { mapping: { hostSlug: folder, containerSlug, link, merged: [] }, problems };
}

/** After the session entered from dev-open: its turns carried back here (Syncthing does that by itself). */
export async function afterRemoteSession(
  env: Env,
  machine: RemoteMachine,
  workspaceFolder: string,
): Promise<string | undefined> {
  if (planEngineSync(env, machine).how !== "unison") return undefined;
  return syncWithEngineMachine(env, machine, workspaceFolder, "after");
}

/** What a person runs after a session they enter by themselves, to carry its turns back here. */
export function remoteEntryAdvice(env: Env, machine: RemoteMachine): string | undefined {
  if (planEngineSync(env, machine).how !== "unison") return undefined;
  return `After the session, bring its turns here with: ${syncBackCommand(machine)}`;
}

export type RemoteCheck = { readonly status: "ok" | "fail" | "warn"; readonly label: string; readonly fix?: string };

/**
 * For doctor: on an engine on another machine, the project's link lives in that machine's `projects/`, so it is
 * looked at from inside the container; undefined for a local engine (doctor looks at this machine's folder).
 */
export async function remoteProjectLinkCheck(
  env: NodeJS.ProcessEnv,
  container: Container,
  claudeDir: string,
): Promise<RemoteCheck | undefined> {
  const engine = await resolveEngine(env).catch(() => undefined);
  if (engine?.kind !== "ssh") return undefined;
  const workspace = containerEnv(container)[CONTAINER_WORKSPACE_ENV];
  if (!workspace) return { status: "warn", label: "cannot tell where the workspace is in the container" };
  const slug = encodeProjectSlug(workspace);
  const link = `${claudeDir}/projects/${slug}`;
  const seen = await dockerExec(env, ["-u", "root", container.Id, "test", "-d", `${link}/`]);
  if (seen.ok) {
    return { status: "ok", label: `sessions in ${workspace} continue the project's (${link} on the engine's machine)` };
  }
  const label = `${link} is missing: claude --continue in ${workspace} starts from nothing`;
  return { status: "fail", label, fix: "dev-open" };
}
