// Doctor's checks of this repo's dev container, from the host: its mounts, its user's uid, the single-file
// mounts, the project mapping, cleanupPeriodDays and node inside.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import * as z from "zod/mini";
import { configDir, settingsPath } from "../claude/home.ts";
import { CONTAINER_WORKSPACE_ENV, HOST_FILE_LINKS_DIR, SHARED_ENTRIES } from "../claude/shared.ts";
import type { DevcontainerConfig } from "../devcontainer/config/config.ts";
import { checkContainerNode, NODE_FIX } from "../devcontainer/launch/container-node.ts";
import {
  containerEnv,
  containerMetadata,
  dockerExec,
  effectiveUser,
  findDevcontainer,
  type Container,
} from "../devcontainer/launch/docker.ts";
import type { PersistencePlan } from "../devcontainer/config/mount-plan.ts";
import { worktreeGitDir } from "../devcontainer/launch/override.ts";
import { checkHomeMounts } from "../devcontainer/launch/verify-home.ts";
import { projectLinkState } from "../devcontainer/project-link.ts";
import { remoteProjectLinkCheck } from "../devcontainer/remote/open.ts";
import { resolveEngine } from "../devcontainer/remote/engine.ts";
import { describeNoAccess, projectsAccess } from "../devcontainer/projects-access.ts";
import { normaliseTarget, parseMountString } from "../devcontainer/config/read-mounts.ts";
import { statBeneath } from "../container-tree.ts";
import { describeError } from "../errors.ts";
import { readTextIfExists } from "../fs.ts";
import { parseJsoncLoosely } from "../jsonc.ts";
import { shellWord } from "../text.ts";
import { displayPath } from "./container-checks.ts";
import { type CheckResult, fail, firstLine, ok, readLinkQuietly, type Section, tagged, warn } from "./report.ts";

/** Claude Code's own default for `cleanupPeriodDays`. */
const DEFAULT_CLEANUP_DAYS = 30;

/** What doctor knows of this repo's config when it checks its container. */
export type ContainerTarget = {
  readonly root: string;
  readonly file: string;
  readonly config: DevcontainerConfig;
  readonly plan: PersistencePlan;
  readonly devOpen: (flag?: string) => string;
};

export async function containerSection(env: NodeJS.ProcessEnv, target: ContainerTarget): Promise<Section> {
  let container: Container | undefined;
  try {
    container = await findDevcontainer(target.root, target.file, env);
  } catch (error) {
    return { title: "Its dev container", checks: tagged("devcontainer.found", fail(describeError(error))) };
  }
  if (!container) {
    const none = ok("no container yet", `${target.devOpen()} starts one`);
    return { title: "Its dev container", checks: tagged("devcontainer.found", none) };
  }
  const id = container.Id.slice(0, 12);
  const title = `Its dev container (${id})`;
  const checks = tagged("devcontainer.mounts", checkContainerMounts(container, target));
  const gitDir = await worktreeGitDir(target.root).catch(() => undefined);
  if (gitDir) {
    const worktreeGit = checkWorktreeGitMount(container, gitDir, target.devOpen("--rebuild"));
    checks.push(...tagged("devcontainer.worktree-git", worktreeGit));
  }
  if (!container.State.Running) {
    const stopped = ok("the container is stopped", `${target.devOpen()} starts it`);
    return { title, checks: [...checks, ...tagged("devcontainer.running", stopped)] };
  }
  const user = containerUser(container, target.config);
  const claudeDir = containerClaudeDir(container, target.plan);
  const singleFiles = await checkSingleFileMounts(env, container, claudeDir, target.devOpen("--rebuild"));
  // On an engine on another machine the project's link is in that machine's folders: asked from the container.
  const mapping =
    (await remoteProjectLinkCheck(env, container, claudeDir)) ?? checkContainerMapping(env, container, target);
  checks.push(
    ...tagged("devcontainer.home-mounts", await checkHomeMountsIn(env, container, user, target)),
    ...tagged("devcontainer.uid", await checkUserAccess(env, container, user, claudeDir, target)),
    ...tagged("devcontainer.single-file-mounts", singleFiles.checks),
    ...tagged("devcontainer.mapping", mapping),
    ...tagged(
      "devcontainer.cleanup-period",
      await checkCleanupPeriod(env, container, user, claudeDir, singleFiles.stale, target.devOpen("--rebuild")),
    ),
    ...tagged("devcontainer.node", await checkNodeInContainer(env, container.Id)),
  );
  return { title, checks };
}

/** The same check dev-open makes after a launch: the mounts are in the user's real $HOME/.claude. */
async function checkHomeMountsIn(
  env: NodeJS.ProcessEnv,
  container: Container,
  user: string,
  target: ContainerTarget,
): Promise<CheckResult> {
  const planned = containerClaudeDir(container, target.plan).replace(/\/\.claude$/, "");
  const targets = target.plan.mounts.map((m) => `${planned}/.claude/${m.name}`);
  const check = await checkHomeMounts(env, container.Id, user, planned, targets).catch(() => undefined);
  if (!check) return warn(`${user}'s home in the container could not be asked`);
  if (check.home !== planned)
    return fail(
      `${user}'s home in the container is ${check.home}, but the mounts are under ${planned}/.claude: Claude Code there does not see the host's sessions`,
      target.devOpen(`--rebuild --remote-home ${check.home}`),
    );
  if (check.missing.length > 0)
    return fail(
      `${check.home}/.claude lacks ${check.missing.join(", ")} in the container`,
      target.devOpen("--rebuild"),
    );
  return ok(`the mounts are in ${user}'s home in the container (${check.home}/.claude)`);
}

/** A linked worktree's `.git` file names the main repo's `.git` by its host path: the container needs it there. */
function checkWorktreeGitMount(container: Container, gitDir: string, fix: string): CheckResult {
  if (container.Mounts.some((mount) => mount.Source === gitDir && mount.Destination === gitDir)) {
    return ok(`the main repo's ${gitDir} is mounted at the same path: git works in this worktree's container`);
  }
  return fail(
    `the main repo's ${gitDir} is not mounted: git fails in this worktree's container ("not a git repository")`,
    fix,
  );
}

async function checkNodeInContainer(env: NodeJS.ProcessEnv, containerId: string): Promise<CheckResult> {
  const node = await checkContainerNode(containerId, env);
  if (node.problem) return fail(`${node.problem}: the SessionStart hook and /start-work cannot run there`, NODE_FIX);
  return ok(`node ${node.version ?? ""} in the container runs the hook and /start-work`);
}

/** What the container must have: every mount of the config, and the persistence mounts (the config may lack them). */
function checkContainerMounts(container: Container, target: ContainerTarget): CheckResult {
  const expected = new Map<string, boolean | undefined>();
  for (const mount of target.config.mounts ?? []) {
    const fields = typeof mount === "string" ? parseMountString(mount) : { target: mount.target };
    if (!fields.target || fields.target.includes("${")) continue;
    expected.set(normaliseTarget(fields.target), typeof mount === "string" ? "readonly" in fields : undefined);
  }
  for (const mount of target.plan.mounts) expected.set(normaliseTarget(mount.target), mount.readonly);
  const actual = new Map(container.Mounts.map((m) => [normaliseTarget(m.Destination), m]));
  const missing = [...expected.keys()].filter((t) => !actual.has(t));
  const fix = target.devOpen("--rebuild");
  if (missing.length > 0) {
    return fail(
      `the container lacks ${missing.length} mount(s) of the config: ` +
        missing.map((t) => path.posix.basename(t)).join(", "),
      fix,
      "it was created before they were added; --rebuild recreates it " +
        "(what it holds outside the workspace and the mounts is lost)",
    );
  }
  const writable = [...expected]
    .filter(([t, readonly]) => readonly === true && actual.get(t)?.RW === true)
    .map(([t]) => path.posix.basename(t));
  if (writable.length > 0) return fail(`mounted read-write, but read-only in the config: ${writable.join(", ")}`, fix);
  return ok(`the container has the config's ${expected.size} mount(s)`);
}

/** The user that Claude Code runs as in the container: as the devcontainers CLI picks it. */
function containerUser(container: Container, config: DevcontainerConfig): string {
  // The config as the last entry: its remoteUser and containerUser win over the image's.
  return effectiveUser([...containerMetadata(container), config]) ?? (container.Config.User || "root");
}

/** `~/.claude` in the container: the parent of the mounted projects folder, else from the plan. */
function containerClaudeDir(container: Container, plan: PersistencePlan): string {
  const projects = container.Mounts.find((m) => m.Destination.endsWith("/.claude/projects"));
  return projects ? path.posix.dirname(projects.Destination) : `${plan.containerHome}/.claude`;
}

/** Bind-mounted 0600 transcripts are readable in the container only by a user with the host owner's uid (Linux). */
async function checkContainerUid(
  env: NodeJS.ProcessEnv,
  container: Container,
  user: string,
  target: ContainerTarget,
): Promise<CheckResult> {
  if (process.platform !== "linux") return ok(`file ownership is mapped by Docker on ${process.platform}`);
  const owner = projectsOwner(configDir(env)) ?? ownerUid(configDir(env));
  const id = await dockerExec(env, [container.Id, "id", "-u", user]);
  const uid = Number(id.stdout.trim());
  if (!id.ok || !Number.isInteger(uid)) {
    return warn(`cannot tell the uid of ${user} in the container`, undefined, firstLine(id.stderr));
  }
  if (uid === 0) return ok(`${user} is root in the container: it can read the host's transcripts`);
  if (owner === undefined || owner === uid) {
    return ok(`${user} has uid ${uid} in the container, like the owner of the host's transcripts`);
  }
  const rel = path.relative(target.root, target.file);
  const fix =
    target.config.updateRemoteUserUID === false
      ? `set "updateRemoteUserUID": true in ${shellWord(rel)}, then: ${target.devOpen("--rebuild")}`
      : owner === 0
        ? `run Docker and Claude Code as your own user, not root (the devcontainers CLI never gives ${user} uid 0), ` +
          `or set "remoteUser": "root" in ${shellWord(rel)}`
        : `give ${user} uid ${owner} in the image (another user there has it, so the devcontainers CLI could not), ` +
          `then: ${target.devOpen("--rebuild")}`;
  return fail(
    `${user} is uid ${uid} in the container, but the host's transcripts belong to uid ${owner} (mode 0600): ` +
      "it cannot read them",
    fix,
  );
}

/**
 * The container user can open the mounted ~/.claude/projects, asked inside as that user. On this machine's engine
 * the uid compared with the host's transcripts says why not; on an engine elsewhere the mounted folders are that
 * machine's (their owner is not this machine's), so the answer from inside is the check.
 */
async function checkUserAccess(
  env: NodeJS.ProcessEnv,
  container: Container,
  user: string,
  claudeDir: string,
  target: ContainerTarget,
): Promise<CheckResult> {
  const engine = await resolveEngine(env).catch(() => undefined);
  const byUid = engine?.kind === "ssh" ? undefined : await checkContainerUid(env, container, user, target);
  const mount = container.Mounts.find((m) => m.Destination === `${claudeDir}/projects`);
  if (byUid?.status === "fail" || !mount) return byUid ?? warn(`${claudeDir}/projects is not mounted`);
  const access = await projectsAccess(env, container.Id, user, claudeDir);
  if (access.ok) {
    const who = access.uid === undefined ? user : `${user} (uid ${access.uid})`;
    return byUid ?? ok(`${who} can read and write ${access.folder} in the container`);
  }
  const from =
    engine?.kind === "ssh" && mount.Source
      ? { label: engine.target.host, configDir: path.posix.dirname(mount.Source) }
      : undefined;
  const why = from ? "dev-open gives the container user the uid of your account there" : undefined;
  return fail(`${describeNoAccess(access, from)}: its sessions are not shared there`, target.devOpen("--rebuild"), why);
}

/** The owner of `projects/` (of its transcripts), through the gate: its own, not that of what a link there names. */
function projectsOwner(claudeDir: string): number | undefined {
  try {
    return statBeneath(claudeDir, "projects")?.uid;
  } catch {
    // Not reachable: the owner is unknown and the check says nothing.
    return undefined;
  }
}

function ownerUid(file: string): number | undefined {
  try {
    return statSync(file).uid;
  } catch {
    // Not there, or not reachable: the owner is unknown and the check says nothing.
    return undefined;
  }
}

/**
 * A single-file bind mount keeps the inode it was made with: once the host replaces the file by a rename (Claude
 * Code saves settings.json that way), the container sees the old content. Compared byte for byte; `stale` names
 * the files the container has an old copy of.
 */
async function checkSingleFileMounts(
  env: NodeJS.ProcessEnv,
  container: Container,
  claudeDir: string,
  rebuild: string,
): Promise<{ checks: CheckResult[]; stale: string[] }> {
  const files = SHARED_ENTRIES.filter((entry) => entry.kind === "file")
    .map((entry) => ({
      name: entry.name,
      mount: container.Mounts.find((m) => m.Destination === `${claudeDir}/${entry.name}`),
    }))
    .filter((f) => f.mount !== undefined);
  const current: string[] = [];
  const stale: string[] = [];
  const problems: CheckResult[] = [];
  for (const { name } of files) {
    const hostFile = path.join(configDir(env), name);
    const host = readTextIfExists(hostFile) ?? "";
    const inside = await dockerExec(env, ["-u", "root", container.Id, "cat", `${claudeDir}/${name}`]);
    if (!inside.ok) {
      problems.push(warn(`cannot read ${claudeDir}/${name} in the container`, undefined, firstLine(inside.stderr)));
    } else if (inside.stdout === host) {
      current.push(name);
    } else {
      const link = readLinkQuietly(path.join(configDir(env), HOST_FILE_LINKS_DIR, name));
      const linkRight = link === path.posix.join("..", "..", name);
      stale.push(name);
      problems.push(
        fail(
          `${name} in the container is an old copy: the host replaced the file after the container started`,
          linkRight ? `docker restart ${container.Id.slice(0, 12)}` : rebuild,
          "a single-file mount keeps the file it was made with",
        ),
      );
    }
  }
  const checks =
    current.length > 0 ? [ok(`single-file mounts are current: ${current.join(", ")}`), ...problems] : problems;
  return { checks, stale };
}

/** The container's project folder links to the host's: `claude --continue` inside finds the host's sessions. */
function checkContainerMapping(env: NodeJS.ProcessEnv, container: Container, target: ContainerTarget): CheckResult {
  const containerPath =
    containerEnv(container)[CONTAINER_WORKSPACE_ENV] ??
    container.Mounts.find((m) => m.Source === target.root)?.Destination ??
    expectedContainerPath(target.root, target.config);
  if (!containerPath) return warn("cannot tell where the workspace is in the container");
  const state = projectLinkState(env, containerPath, { host: target.root, container: containerPath });
  if (state.kind === "outside") return warn("cannot tell where the workspace is in the container");
  const shown = displayPath(state.link, env);
  switch (state.kind) {
    case "same-path":
      return ok(`the workspace has the same path inside (${containerPath}): no mapping needed`);
    case "missing":
      return fail(`${shown} is missing: claude --continue in ${containerPath} starts from nothing`, target.devOpen());
    case "not-a-link":
      return fail(
        `${shown} holds sessions the container made before the project was mapped`,
        `${target.devOpen()} (it merges them into the host's)`,
      );
    case "elsewhere":
      return fail(`${shown} points at ${state.target}, another project`, "dev-open --same-path");
    case "ok":
      return ok(
        `sessions in ${containerPath} continue the host's (projects/${state.containerSlug} → ${state.hostSlug})`,
      );
  }
}

/**
 * Every Claude Code prunes the shared folders after its `cleanupPeriodDays`: a container with a shorter period
 * deletes the host's history. When settings.json is mounted (and current) both read the same file.
 */
async function checkCleanupPeriod(
  env: NodeJS.ProcessEnv,
  container: Container,
  user: string,
  claudeDir: string,
  staleFiles: readonly string[],
  rebuild: string,
): Promise<CheckResult> {
  const hostDays = cleanupDays(readTextIfExists(settingsPath(env)));
  const mounted = container.Mounts.some((m) => m.Destination === `${claudeDir}/settings.json`);
  if (mounted && !staleFiles.includes("settings.json")) {
    return ok(`cleanupPeriodDays is ${hostDays} on both sides (settings.json is the host's)`);
  }
  const inside = await dockerExec(env, ["-u", user, container.Id, "cat", `${claudeDir}/settings.json`]);
  const containerDays = cleanupDays(inside.ok ? inside.stdout : undefined);
  if (containerDays === hostDays) return ok(`cleanupPeriodDays is ${hostDays} on both sides`);
  // A stale mount heals with a restart; a missing one comes with --rebuild (the host has the file to mount).
  const fix = mounted
    ? `docker restart ${container.Id.slice(0, 12)}`
    : existsSync(settingsPath(env))
      ? rebuild
      : `set "cleanupPeriodDays": ${hostDays} in ${claudeDir}/settings.json in the container`;
  const label = `cleanupPeriodDays is ${containerDays} in the container but ${hostDays} on the host`;
  if (containerDays < hostDays) return fail(`${label}: the container deletes shared sessions sooner`, fix);
  return warn(label, fix);
}

function cleanupDays(text: string | undefined): number {
  const value: unknown = text ? parseJsoncLoosely(text) : undefined;
  const parsed = z.object({ cleanupPeriodDays: z.number() }).safeParse(value);
  return parsed.success ? parsed.data.cleanupPeriodDays : DEFAULT_CLEANUP_DAYS;
}

/** Where the workspace lands in the container: `workspaceFolder`, else /workspaces/<basename of the repo>. */
export function expectedContainerPath(root: string, config: DevcontainerConfig): string | undefined {
  const folder = config.workspaceFolder
    ?.replaceAll("${localWorkspaceFolderBasename}", path.basename(root))
    .replaceAll("${localWorkspaceFolder}", root);
  if (folder === undefined) return `/workspaces/${path.basename(root)}`;
  return folder.includes("${") ? undefined : folder;
}
