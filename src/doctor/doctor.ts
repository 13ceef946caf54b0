// `claude-persist doctor`: checks that sessions can follow the user between the host and dev containers, and
// for everything that is wrong says the command that fixes it. Each check is a small function that returns one
// line (or a few); nothing here changes the user's files, apart from the one session-start record that running
// the hook writes and that is removed again at once.
import { randomUUID } from "node:crypto";
import { existsSync, readlinkSync, rmSync, statSync, type Stats } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import { loadExeca } from "../execa.ts";
import { parse as parseJsoncLoosely } from "jsonc-parser";
import * as z from "zod";
import { configDir, encodeProjectSlug, projectsDir, settingsPath, type Env } from "../claude/home.ts";
import { CONTAINER_WORKSPACE_ENV, HOST_FILE_LINKS_DIR, HOST_WORKSPACE_ENV, READ_WRITE_ENTRIES, SHARED_ENTRIES } from "../claude/shared.ts";
import {
  type CheckResult,
  type CheckStatus,
  containerMountChecks,
  describeProjectLink,
  displayPath,
  fail,
  ok,
  readMountPoints,
  warn,
  workspacesOf,
} from "./container-checks.ts";
import { composeFilesOf, composeServiceTargets } from "../devcontainer/compose.ts";
import { findRepoRoot, listDevcontainerConfigs, readDevcontainerConfig, type DevcontainerConfig } from "../devcontainer/config.ts";
import { devcontainerScript } from "../devcontainer/launch.ts";
import type { PersistencePlan } from "../devcontainer/mount-plan.ts";
import { configMountTargets, normaliseTarget, parseMountString } from "../devcontainer/read-mounts.ts";
import { planPersistence } from "../devcontainer/persistence.ts";
import { readOverride, worktreeGitDir } from "../devcontainer/override.ts";
import { checkContainerNode, NODE_FIX } from "../devcontainer/container-node.ts";
import { parseDevcontainerConfig } from "../devcontainer/config.ts";
import {
  containerEnv,
  containerMetadata,
  DOCKER_UNREACHABLE_FIX,
  dockerExec,
  effectiveUser,
  type DockerProbe,
  findDevcontainer,
  probeDocker,
  type Container,
} from "../devcontainer/docker.ts";
import { detectEnvironment } from "../environment.ts";
import { CLAUDE_CREDENTIAL_ENV, loginAdvice, setOnHost } from "../devcontainer/credentials.ts";
import { describeError } from "../errors.ts";
import { readBoundedText, readTextIfExists } from "../fs.ts";
import { oneLine, shellWord } from "../text.ts";
import { STATE, statePath } from "../state/paths.ts";
import { mappingsFile, readMappings, type Mapping } from "../state/mappings.ts";
import { projectLinkState } from "../devcontainer/project-link.ts";
import { HOOK_COMMAND, HOOK_SCRIPT, registeredHook } from "../install/settings.ts";

type Section = { readonly title: string; readonly checks: CheckResult[] };

export type DoctorReport = {
  readonly environment: "host" | "container";
  readonly configDir: string;
  readonly cwd: string;
  /** False when any check failed; warnings do not count. */
  readonly ok: boolean;
  readonly counts: Record<CheckStatus, number>;
  readonly sections: Section[];
};

/** Claude Code's own default for `cleanupPeriodDays`. */
const DEFAULT_CLEANUP_DAYS = 30;
const HOOK_TIMEOUT_MS = 5_000;
const PROCESS_TIMEOUT_MS = 20_000;
const NODE_MAJOR = 20;

export async function runDoctor(env: NodeJS.ProcessEnv, cwd: string): Promise<DoctorReport> {
  const where = detectEnvironment(env);
  const sections = where.kind === "container" ? await containerSections(env, cwd) : await hostSections(env, cwd);
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0 };
  for (const check of sections.flatMap((section) => section.checks)) counts[check.status]++;
  return { environment: where.kind, configDir: configDir(env), cwd, ok: counts.fail === 0, counts, sections };
}

// ---------------------------------------------------------------------------------------------------------------
// Where doctor runs

async function hostSections(env: NodeJS.ProcessEnv, cwd: string): Promise<Section[]> {
  const [hook, node, devcontainer, docker, root] = await Promise.all([
    checkHookRuns(env, cwd),
    checkNode(env),
    checkDevcontainerCli(env),
    probeDocker(env),
    findRepoRoot(cwd),
  ]);
  const configs = listDevcontainerConfigs(root);
  const home: Section = {
    title: `Claude Code home (${displayPath(configDir(env), env)})`,
    checks: [
      ...tagged("host.config-dir", checkConfigDir(env)),
      ...tagged("host.shared-folders", checkSharedFolders(env)),
      ...tagged("host.hook-registered", checkHookRegistered(env)),
      ...tagged("host.hook-runs", hook),
      ...tagged("host.mapping-collisions", checkMappingCollisions(env, configs.length > 0 ? root : undefined)),
    ],
  };
  const tools: Section = {
    title: "Tools",
    checks: [...tagged("tools.node", node), ...tagged("tools.devcontainer-cli", devcontainer), ...tagged("tools.docker", dockerCheck(docker, configs.length > 0)), ...tagged("tools.credentials", checkCredentials(env))],
  };
  const repo: Section[] = [];
  if (configs.length === 0) {
    repo.push({ title: `This repo (${root})`, checks: tagged("repo.config", ok("no dev container config here: nothing to check for this repo", "dev-open --init writes one")) });
  }
  for (const file of configs) repo.push(...(await repoSections(env, { root, file, several: configs.length > 1, docker: docker.reachable })));
  return [home, tools, ...repo];
}

async function containerSections(env: NodeJS.ProcessEnv, cwd: string): Promise<Section[]> {
  const mounts = readMountPoints();
  // Read before the hook runs: it repairs a missing project link, which doctor should still report.
  const workspaces = workspacesOf(env);
  const before = workspaces && projectLinkState(env, cwd, workspaces);
  const [hook, node] = await Promise.all([checkHookRuns(env, cwd), checkNode(env)]);
  const repaired = workspaces && before?.kind === "missing" && projectLinkState(env, cwd, workspaces).kind === "ok";
  const inside = [
    ...tagged("container.mounts", containerMountChecks(env, mounts)),
    ...tagged(
      "container.project-link",
      repaired ? ok(`${displayPath(before.link, env)} was missing: the SessionStart hook that doctor ran has just linked it`) : describeProjectLink(env, cwd, before),
    ),
  ];
  const here = [...tagged("container.hook-registered", checkHookRegistered(env)), ...tagged("container.hook-runs", hook), ...tagged("container.node", node)];
  return [
    { title: `Inside this dev container (${displayPath(configDir(env), env)})`, checks: inside },
    { title: "Claude Code here", checks: here },
  ];
}

/** Whether Claude in a dev container can start without a login: only a credential variable reaches it. */
function checkCredentials(env: Env): CheckResult {
  const [problem, fix] = loginAdvice(env);
  if (!problem) return ok(`${setOnHost(CLAUDE_CREDENTIAL_ENV, env).join(", ")} set: Claude in dev containers gets it by name`);
  return warn(problem, fix);
}

// ---------------------------------------------------------------------------------------------------------------
// The Claude Code home on the host

type DirState =
  | { readonly kind: "ok" | "group-writable" | "readable"; readonly mode: number }
  | { readonly kind: "missing" | "not-a-folder" }
  | { readonly kind: "not-yours"; readonly uid: number };

/** A folder of the user's should be there, theirs, and closed to other users (Claude Code makes its folders 0700). */
function inspectPrivateDir(dir: string): DirState {
  let stats: Stats;
  try {
    stats = statSync(dir);
  } catch {
    return { kind: "missing" };
  }
  if (!stats.isDirectory()) return { kind: "not-a-folder" };
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) return { kind: "not-yours", uid: stats.uid };
  const mode = stats.mode & 0o777;
  if (mode & 0o022) return { kind: "group-writable", mode };
  if (mode & 0o044) return { kind: "readable", mode };
  return { kind: "ok", mode };
}

/**
 * One line per kind of problem, naming every folder that has it, with one command for all of them; `okLabel` gets
 * the folders that are fine.
 */
function privateDirResults(dirs: readonly string[], env: Env, options: { missingFix?: string; okLabel: (dirs: string[]) => string }): CheckResult[] {
  const byKind = new Map<DirState["kind"], { dirs: string[]; shown: string[]; states: DirState[] }>();
  for (const dir of dirs) {
    const state = inspectPrivateDir(dir);
    const group = byKind.get(state.kind) ?? { dirs: [], shown: [], states: [] };
    group.dirs.push(dir);
    group.shown.push(displayPath(dir, env));
    group.states.push(state);
    byKind.set(state.kind, group);
  }
  const results: CheckResult[] = [];
  const uid = process.getuid?.();
  const modes = (states: DirState[]) => [...new Set(states.map((s) => ("mode" in s ? octal(s.mode) : "")))].join(", ");
  for (const [kind, { dirs: found, shown, states }] of byKind) {
    const list = shown.join(" ");
    const named = `${shown.join(", ")} ${shown.length === 1 ? "is" : "are"}`;
    switch (kind) {
      case "ok":
        results.unshift(ok(options.okLabel(found)));
        break;
      case "missing":
        results.push(fail(`${named} missing`, options.missingFix ?? `mkdir -p -m 700 ${list}`));
        break;
      case "not-a-folder":
        results.push(fail(`${named} not a folder`, shown.map((s) => `mv ${s} ${s}.old && mkdir -m 700 ${s}`).join("; ")));
        break;
      case "not-yours": {
        const owners = [...new Set(states.map((s) => ("uid" in s ? s.uid : -1)))].join(", ");
        results.push(fail(`${named} owned by uid ${owners}, not by you (uid ${uid})`, `sudo chown -R ${userName()}: ${list}`));
        break;
      }
      case "group-writable":
        results.push(fail(`${named} writable by other users (mode ${modes(states)})`, `chmod 700 ${list}`));
        break;
      case "readable":
        results.push(warn(`${named} readable by other users (mode ${modes(states)})`, `chmod 700 ${list}`));
        break;
    }
  }
  return results;
}

function checkConfigDir(env: Env): CheckResult[] {
  return privateDirResults([configDir(env)], env, {
    missingFix: "claude-persist install",
    okLabel: ([dir]) => `${displayPath(dir ?? "", env)} is yours and private`,
  });
}

/** The read-write shared folders (what dev containers mount): one line when all are fine. */
function checkSharedFolders(env: Env): CheckResult[] {
  const root = configDir(env);
  const names = READ_WRITE_ENTRIES.filter((entry) => entry.kind === "dir").map((entry) => entry.name);
  return privateDirResults(
    names.map((name) => path.join(root, name)),
    env,
    { okLabel: (found) => `shared folders there, yours and private: ${found.map((dir) => path.basename(dir)).join(", ")}` },
  );
}

/** Our SessionStart hook is in settings.json, and it is the current command. */
function checkHookRegistered(env: Env): CheckResult {
  const file = settingsPath(env);
  const shown = displayPath(file, env);
  const hook = registeredHook(env);
  switch (hook.kind) {
    case "unreadable":
      return fail(`${shown} cannot be read (${describeError(hook.error)})`, `sudo chown ${userName()}: ${shown}`);
    case "no-file":
      return fail(`${shown} does not exist: the SessionStart hook is not registered`, "claude-persist install");
    case "invalid": {
      // The settings module's messages end with advice for install; doctor gives its own.
      const reason = describeError(hook.error).replace(/; fix (?:the file|it) and run again.*$/, "").replaceAll(file, shown);
      return fail(reason, `correct ${shown} by hand (Claude Code reads it too), then run: claude-persist install`);
    }
    case "none":
      return fail(`the SessionStart hook is not registered in ${shown}`, "claude-persist install");
    case "outdated":
      return warn(`${shown} registers an older command for the SessionStart hook`, "claude-persist install");
    case "current":
      return ok(`the SessionStart hook is registered in ${shown}`);
  }
}

/**
 * Runs the hook's command as Claude Code does (`sh -c`, a sample input on stdin) and checks its answer: the command
 * settings.json registers, which is what Claude Code runs, or (when none is) the one install would register.
 */
async function checkHookRuns(env: NodeJS.ProcessEnv, cwd: string): Promise<CheckResult> {
  const script = path.join(configDir(env), HOOK_SCRIPT);
  if (!existsSync(script)) return fail(`the pack's runtime is not installed (no ${displayPath(script, env)})`, "claude-persist install");
  const registered = registeredHook(env);
  const command = registered.kind === "current" || registered.kind === "outdated" ? registered.command : HOOK_COMMAND;
  const sessionId = `claude-persist-doctor-${randomUUID()}`;
  const input = JSON.stringify({ session_id: sessionId, cwd, hook_event_name: "SessionStart", source: "startup" });
  const started = performance.now();
  const execa = await loadExeca();
  const run = await execa("/bin/sh", ["-c", command], { input, env, extendEnv: false, cwd, timeout: HOOK_TIMEOUT_MS, reject: false });
  const ms = Math.round(performance.now() - started);
  // The run recorded a session start like any other: doctor's is not a session.
  rmSync(path.join(statePath(env, STATE.sessionStarts), `${sessionId}.jsonl`), { force: true });
  const stderr = firstLine(run.stderr);
  if (run.timedOut) return fail(`the SessionStart hook did not answer within ${HOOK_TIMEOUT_MS / 1000} s`, "claude-persist install", stderr);
  if (run.exitCode !== 0) return fail(`the SessionStart hook exited with code ${run.exitCode}`, "claude-persist install", stderr);
  if (!run.stdout.trim() && registered.kind === "outdated") {
    return fail("the SessionStart hook command in settings.json printed nothing: it is an older command that runs no hook", "claude-persist install");
  }
  if (!run.stdout.trim()) {
    return fail("the SessionStart hook printed nothing: `node` is not on the PATH", `install Node.js ${NODE_MAJOR} or newer (https://nodejs.org)`);
  }
  if (!isHookAnswer(run.stdout)) return fail("the SessionStart hook answered something other than its JSON", "claude-persist install", firstLine(run.stdout));
  if (stderr) return warn(`the SessionStart hook runs (${ms} ms) and reports a problem`, undefined, stderr.replace(/ Run 'claude-persist doctor' for the fix\.$/, ""));
  return ok(`the SessionStart hook runs and answers (${ms} ms)`);
}

const hookAnswerSchema = z.object({ hookSpecificOutput: z.looseObject({ hookEventName: z.literal("SessionStart"), additionalContext: z.string() }) });

function isHookAnswer(stdout: string): boolean {
  try {
    return hookAnswerSchema.safeParse(JSON.parse(stdout)).success;
  } catch {
    return false;
  }
}

/**
 * Mappings of one container path to several host repos: their histories mix. Only the latest mapping of each
 * repo and config counts (an older one was replaced, e.g. by `dev-open --same-path`). Groups that include `repo`
 * are reported with the repo's own checks.
 */
function checkMappingCollisions(env: Env, repo?: string): CheckResult[] {
  let mappings: Mapping[];
  try {
    mappings = latestMappings(readMappings(env));
  } catch (error) {
    return [fail(`the project mappings cannot be read: ${describeError(error)}`, "dev-open (in each repo: it records its mapping again)")];
  }
  const results: CheckResult[] = [];
  let ownCollides = false;
  for (const [containerSlug, group] of groupBy(mappings, (m) => m.containerSlug)) {
    const hosts = [...new Set(group.map((m) => m.hostPath))];
    if (hosts.length < 2) continue;
    if (repo && hosts.includes(repo)) ownCollides = true;
    else results.push(collision(env, group[0]?.containerPath ?? containerSlug, hosts));
  }
  if (results.length > 0 || ownCollides) return results;
  return [ok(mappings.length > 0 ? `${mappings.length} project mapping(s), no two repos share a container path` : "no project mappings yet")];
}

function latestMappings(mappings: readonly Mapping[]): Mapping[] {
  const latest = new Map<string, Mapping>();
  for (const m of mappings) {
    const key = `${m.hostPath}\0${m.configPath ?? ""}`;
    const seen = latest.get(key);
    if (!seen || seen.time <= m.time) latest.set(key, m);
  }
  return [...latest.values()];
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

/** One container path mapped to several host repos: which one the link serves, and how to part the others. */
function collision(env: Env, containerPath: string, hosts: readonly string[]): CheckResult {
  const containerSlug = encodeProjectSlug(containerPath);
  const linked = readLinkQuietly(path.join(projectsDir(env), containerSlug));
  const served = hosts.find((host) => encodeProjectSlug(host) === linked);
  const others = hosts.filter((host) => host !== served);
  const gone = hosts.filter((host) => !existsSync(host));
  const fix = gone.length > 0
    ? `remove the entries of ${gone.join(", ")} (no longer there) from ${displayPath(mappingsFile(env), env)}`
    : others.map((host) => `cd ${shellWord(host)} && dev-open --same-path`).join("; ");
  return fail(
    `${containerPath} is mapped to ${hosts.length} repos: ${hosts.join(", ")}`,
    fix,
    served ? `sessions made there go into the history of ${served}` : "their histories would mix",
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Tools

async function checkNode(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const execa = await loadExeca();
  const run = await execa("node", ["-p", "process.versions.node"], { env, extendEnv: false, reject: false, timeout: PROCESS_TIMEOUT_MS });
  const fix = `install Node.js ${NODE_MAJOR} or newer (https://nodejs.org)`;
  if (run.exitCode !== 0) return fail("`node` is not on the PATH: the hook and the slash commands need it", fix);
  const version = run.stdout.trim();
  if (Number(version.split(".")[0]) < NODE_MAJOR) return fail(`node ${version} is too old: the pack needs ${NODE_MAJOR} or newer`, fix);
  return ok(`node ${version}`);
}

async function checkDevcontainerCli(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  let script: string;
  try {
    script = devcontainerScript();
  } catch {
    return fail("the devcontainers CLI is not installed with the pack", "claude-persist install");
  }
  const execa = await loadExeca();
  const run = await execa(process.execPath, [script, "--version"], { env, extendEnv: false, reject: false, timeout: PROCESS_TIMEOUT_MS });
  if (run.exitCode !== 0) return fail("the devcontainers CLI does not run", "claude-persist install", firstLine(run.stderr));
  return ok(`devcontainers CLI ${run.stdout.trim()}`);
}

/** Without Docker there is no dev container: a failure where this repo has a config, a warning elsewhere. */
function dockerCheck(probe: DockerProbe, needed: boolean): CheckResult {
  if (probe.reachable) return ok(`Docker engine ${probe.version}`);
  const make = needed ? fail : warn;
  const fix = probe.missing ? "install Docker (https://docs.docker.com/engine/install/)" : DOCKER_UNREACHABLE_FIX;
  return make(`Docker is not reachable${needed ? ", and this repo has a dev container config" : ""}`, fix, probe.reason);
}

// ---------------------------------------------------------------------------------------------------------------
// This repo's config

type RepoTarget = { readonly root: string; readonly file: string; readonly several: boolean; readonly docker: boolean };

async function repoSections(env: NodeJS.ProcessEnv, target: RepoTarget): Promise<Section[]> {
  const rel = path.relative(target.root, target.file);
  const title = `This repo (${target.root}, ${rel})`;
  const devOpen = (flag = "") => ["dev-open", flag, target.several ? `--config ${shellWord(rel)}` : ""].filter(Boolean).join(" ");
  let text: string;
  let config: DevcontainerConfig;
  let configLabel = rel;
  try {
    ({ text, config } = readDevcontainerConfig(target.file));
    // dev-open launches with a copy of the config in host-only state when the repo's lacks our lines: check that one.
    const kept = readOverride(env, target.file);
    if (kept) {
      ({ text, config } = { text: kept.text, config: parseDevcontainerConfig(kept.text, kept.file).config });
      configLabel = `dev-open's launch config (${displayPath(kept.file, env)})`;
    }
  } catch (error) {
    return [{ title, checks: tagged("repo.config", fail(describeError(error), `correct ${shellWord(rel)} by hand`)) }];
  }
  let plan: PersistencePlan;
  try {
    plan = await planPersistence(config, target.root, { env, askDocker: target.docker });
  } catch (error) {
    return [{ title, checks: tagged("repo.config-mounts", fail(describeError(error))) }];
  }
  const targets = new Set([...configMountTargets(text, target.file), ...composeTargets(target.file, config)]);
  const checks = [
    ...tagged("repo.config-mounts", checkConfigMounts(plan, targets, configLabel, devOpen("--config-only"))),
    ...tagged("repo.workspace-env", checkWorkspaceEnv(config, configLabel, devOpen("--config-only"))),
    ...tagged("repo.container-path", checkContainerPath(env, target.root, target.file, config)),
  ];
  const sections: Section[] = [{ title, checks }];
  if (target.docker) sections.push(await containerSection(env, { ...target, config, plan, devOpen }));
  return sections;
}

/** For compose-based configs the mounts are in the compose files. */
function composeTargets(file: string, config: DevcontainerConfig): string[] {
  if (config.dockerComposeFile === undefined || !config.service) return [];
  const service = config.service;
  return composeFilesOf(file, config).flatMap((compose) => {
    try {
      const text = readBoundedText(compose);
      return text === undefined ? [] : composeServiceTargets(text, service, compose);
    } catch {
      return [];
    }
  });
}

function checkConfigMounts(plan: PersistencePlan, targets: ReadonlySet<string>, rel: string, fix: string): CheckResult {
  const missing = plan.mounts.filter((mount) => !targets.has(normaliseTarget(mount.target))).map((mount) => mount.name);
  if (missing.length > 0) return fail(`${rel} lacks persistence mounts: ${missing.join(", ")}`, fix);
  return ok(`${rel} mounts the shared entries into ${plan.containerHome}/.claude`);
}

function checkWorkspaceEnv(config: DevcontainerConfig, rel: string, fix: string): CheckResult {
  if (config.containerEnv?.[HOST_WORKSPACE_ENV]) return ok(`${rel} sets ${HOST_WORKSPACE_ENV} for the hook in the container`);
  return warn(`${rel} does not set containerEnv.${HOST_WORKSPACE_ENV}: the hook in the container cannot map sessions opened from an editor`, fix);
}

/** Where the workspace lands in the container: `workspaceFolder`, else /workspaces/<basename of the repo>. */
function expectedContainerPath(root: string, config: DevcontainerConfig): string | undefined {
  const folder = config.workspaceFolder
    ?.replaceAll("${localWorkspaceFolderBasename}", path.basename(root))
    .replaceAll("${localWorkspaceFolder}", root);
  if (folder === undefined) return `/workspaces/${path.basename(root)}`;
  return folder.includes("${") ? undefined : folder;
}

/** Another repo already mapped to the same container path (two clones named alike share /workspaces/<name>). */
function checkContainerPath(env: Env, root: string, file: string, config: DevcontainerConfig): CheckResult {
  let mappings: Mapping[];
  try {
    mappings = latestMappings(readMappings(env));
  } catch (error) {
    return fail(`the project mappings cannot be read: ${describeError(error)}`);
  }
  const own = mappings.find((m) => m.hostPath === root && (m.configPath === undefined || m.configPath === file));
  const containerPath = own?.containerPath ?? expectedContainerPath(root, config);
  if (!containerPath) return ok("the container path depends on variables: checked once the container runs");
  const containerSlug = encodeProjectSlug(containerPath);
  if (containerSlug === encodeProjectSlug(root)) return ok(`the workspace has the same path in the container (${containerPath})`);
  const others = [...new Set(mappings.filter((m) => m.containerSlug === containerSlug && m.hostPath !== root).map((m) => m.hostPath))];
  if (others.length > 0) return collision(env, containerPath, [root, ...others]);
  const linked = readLinkQuietly(path.join(projectsDir(env), containerSlug));
  if (linked !== undefined && linked !== encodeProjectSlug(root)) {
    return fail(`${containerPath} is already linked to another project (projects/${containerSlug} → ${linked})`, "dev-open --same-path");
  }
  return ok(`no other repo is mapped to ${containerPath}`);
}

// ---------------------------------------------------------------------------------------------------------------
// This repo's running container

type ContainerTarget = RepoTarget & {
  readonly config: DevcontainerConfig;
  readonly plan: PersistencePlan;
  readonly devOpen: (flag?: string) => string;
};

async function containerSection(env: NodeJS.ProcessEnv, target: ContainerTarget): Promise<Section> {
  let container: Container | undefined;
  try {
    container = await findDevcontainer(target.root, target.file, env);
  } catch (error) {
    return { title: "Its dev container", checks: tagged("devcontainer.found", fail(describeError(error))) };
  }
  if (!container) return { title: "Its dev container", checks: tagged("devcontainer.found", ok("no container yet", `${target.devOpen()} starts one`)) };
  const id = container.Id.slice(0, 12);
  const title = `Its dev container (${id})`;
  const checks = tagged("devcontainer.mounts", checkContainerMounts(container, target));
  const gitDir = await worktreeGitDir(target.root).catch(() => undefined);
  if (gitDir) checks.push(...tagged("devcontainer.worktree-git", checkWorktreeGitMount(container, gitDir, target.devOpen("--rebuild"))));
  if (!container.State.Running) return { title, checks: [...checks, ...tagged("devcontainer.running", ok("the container is stopped", `${target.devOpen()} starts it`))] };
  const user = containerUser(container, target.config);
  const claudeDir = containerClaudeDir(container, target.plan);
  const singleFiles = await checkSingleFileMounts(env, container, claudeDir, target.devOpen("--rebuild"));
  checks.push(
    ...tagged("devcontainer.uid", await checkContainerUid(env, container, user, target)),
    ...tagged("devcontainer.single-file-mounts", singleFiles.checks),
    ...tagged("devcontainer.mapping", checkContainerMapping(env, container, target)),
    ...tagged("devcontainer.cleanup-period", await checkCleanupPeriod(env, container, user, claudeDir, singleFiles.stale, target.devOpen("--rebuild"))),
    ...tagged("devcontainer.node", await checkNodeInContainer(env, container.Id)),
  );
  return { title, checks };
}

/** A linked worktree's `.git` file names the main repo's `.git` by its host path: the container needs it there. */
function checkWorktreeGitMount(container: Container, gitDir: string, fix: string): CheckResult {
  if (container.Mounts.some((mount) => mount.Source === gitDir && mount.Destination === gitDir)) {
    return ok(`the main repo's ${gitDir} is mounted at the same path: git works in this worktree's container`);
  }
  return fail(`the main repo's ${gitDir} is not mounted: git fails in this worktree's container ("not a git repository")`, fix);
}

async function checkNodeInContainer(env: NodeJS.ProcessEnv, containerId: string): Promise<CheckResult> {
  const node = await checkContainerNode(containerId, env);
  if (node.problem) return fail(`${node.problem}: the SessionStart hook and /start-work cannot run there`, NODE_FIX);
  return ok(`node ${node.version ?? ""} in the container runs the hook and /start-work`);
}

/** What the container must have: every mount of the config, and the persistence mounts (the config may lack them too). */
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
      `the container lacks ${missing.length} mount(s) of the config: ${missing.map((t) => path.posix.basename(t)).join(", ")}`,
      fix,
      "it was created before they were added; --rebuild recreates it (what it holds outside the workspace and the mounts is lost)",
    );
  }
  const writable = [...expected].filter(([t, readonly]) => readonly === true && actual.get(t)?.RW === true).map(([t]) => path.posix.basename(t));
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
async function checkContainerUid(env: NodeJS.ProcessEnv, container: Container, user: string, target: ContainerTarget): Promise<CheckResult> {
  if (process.platform !== "linux") return ok(`file ownership is mapped by Docker on ${process.platform}`);
  const owner = ownerUid(projectsDir(env)) ?? ownerUid(configDir(env));
  const id = await dockerExec(env, [container.Id, "id", "-u", user]);
  const uid = Number(id.stdout.trim());
  if (!id.ok || !Number.isInteger(uid)) return warn(`cannot tell the uid of ${user} in the container`, undefined, firstLine(id.stderr));
  if (uid === 0) return ok(`${user} is root in the container: it can read the host's transcripts`);
  if (owner === undefined || owner === uid) return ok(`${user} has uid ${uid} in the container, like the owner of the host's transcripts`);
  const rel = path.relative(target.root, target.file);
  const fix =
    target.config.updateRemoteUserUID === false
      ? `set "updateRemoteUserUID": true in ${shellWord(rel)}, then: ${target.devOpen("--rebuild")}`
      : owner === 0
        ? `run Docker and Claude Code as your own user, not root (the devcontainers CLI never gives ${user} uid 0), or set "remoteUser": "root" in ${shellWord(rel)}`
        : `give ${user} uid ${owner} in the image (another user there has it, so the devcontainers CLI could not), then: ${target.devOpen("--rebuild")}`;
  return fail(`${user} is uid ${uid} in the container, but the host's transcripts belong to uid ${owner} (mode 0600): it cannot read them`, fix);
}

function ownerUid(file: string): number | undefined {
  try {
    return statSync(file).uid;
  } catch {
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
    .map((entry) => ({ name: entry.name, mount: container.Mounts.find((m) => m.Destination === `${claudeDir}/${entry.name}`) }))
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
      const linkRight = readLinkQuietly(path.join(configDir(env), HOST_FILE_LINKS_DIR, name)) === path.posix.join("..", "..", name);
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
  const checks = current.length > 0 ? [ok(`single-file mounts are current: ${current.join(", ")}`), ...problems] : problems;
  return { checks, stale };
}

/** The container's project folder links to the host's: `claude --continue` inside finds the host's sessions. */
function checkContainerMapping(env: NodeJS.ProcessEnv, container: Container, target: ContainerTarget): CheckResult {
  const containerPath =
    containerEnv(container)[CONTAINER_WORKSPACE_ENV] ?? container.Mounts.find((m) => m.Source === target.root)?.Destination ?? expectedContainerPath(target.root, target.config);
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
      return fail(`${shown} holds sessions the container made before the project was mapped`, `${target.devOpen()} (it merges them into the host's)`);
    case "elsewhere":
      return fail(`${shown} points at ${state.target}, another project`, "dev-open --same-path");
    case "ok":
      return ok(`sessions in ${containerPath} continue the host's (projects/${state.containerSlug} → ${state.hostSlug})`);
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
  if (mounted && !staleFiles.includes("settings.json")) return ok(`cleanupPeriodDays is ${hostDays} on both sides (settings.json is the host's)`);
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
  const value: unknown = text ? parseJsoncLoosely(text, [], { allowTrailingComma: true }) : undefined;
  const parsed = z.object({ cleanupPeriodDays: z.number() }).safeParse(value);
  return parsed.success ? parsed.data.cleanupPeriodDays : DEFAULT_CLEANUP_DAYS;
}

// ---------------------------------------------------------------------------------------------------------------

function readLinkQuietly(link: string): string | undefined {
  try {
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string | undefined {
  return text.split("\n").map((line) => line.trim()).find(Boolean);
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return "$(id -un)";
  }
}

/** `results` with the stable id of the check that gave them (for --json readers). */
function tagged(id: string, results: CheckResult | CheckResult[]): CheckResult[] {
  return (Array.isArray(results) ? results : [results]).map((result) => ({ id, ...result }));
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

const SYMBOLS: Record<CheckStatus, string> = { ok: "✓", warn: "⚠", fail: "✗" };

/** One line per check (`✓ label — detail`), and under each that is not ok the command that fixes it. */
export function renderReport(report: DoctorReport): string {
  // Labels name mapped paths and containers' answers: each piece goes through oneLine (text.ts) on its way out.
  const lines = [`claude-persist doctor: ${report.environment === "host" ? "on the host" : "in a dev container"}, Claude Code home ${oneLine(report.configDir)}`];
  for (const section of report.sections) {
    lines.push("", oneLine(section.title));
    for (const check of section.checks) {
      lines.push(`  ${SYMBOLS[check.status]} ${oneLine(check.label)}${check.detail ? ` — ${oneLine(check.detail)}` : ""}`);
      if (check.fix && check.status !== "ok") lines.push(`      fix: ${oneLine(check.fix)}`);
    }
  }
  const { fail: failed, warn: warned } = report.counts;
  const summary =
    failed === 0 && warned === 0
      ? "All checks passed."
      : `${failed} problem${failed === 1 ? "" : "s"}, ${warned} warning${warned === 1 ? "" : "s"}.`;
  lines.push("", summary);
  return `${lines.join("\n")}\n`;
}
