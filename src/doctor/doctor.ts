// `claude-persist doctor`: checks that sessions can follow the user between the host and dev containers, and
// for everything that is wrong says the command that fixes it. Each check is a small function that returns one
// line (or a few); nothing here changes the user's files, apart from the one session-start record that running
// the hook writes and that is removed again at once.
import { configDir, type Env } from "../claude/home.ts";
import { findRepoRoot, listDevcontainerConfigs } from "../devcontainer/config/config.ts";
import { CLAUDE_CREDENTIAL_ENV, loginAdvice, setOnHost } from "../devcontainer/launch/credentials.ts";
import { probeDocker } from "../devcontainer/launch/docker.ts";
import { projectLinkState } from "../devcontainer/project-link.ts";
import { detectEnvironment } from "../environment.ts";
import {
  containerMountChecks,
  describeProjectLink,
  displayPath,
  readMountPoints,
  workspacesOf,
} from "./container-checks.ts";
import { checkConfigDir, checkHookRegistered, checkHookRuns, checkSharedFolders } from "./host.ts";
import { checkMappingCollisions } from "./mapping-checks.ts";
import { notOpenedYet, repoSections } from "./repo.ts";
import { type CheckResult, type CheckStatus, type DoctorReport, ok, type Section, tagged, warn } from "./report.ts";
import { checkDevcontainerCli, checkNode, dockerCheck } from "./tools.ts";
import { syncDoctorLines } from "../sync/checks.ts";

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
      ...tagged("host.sync", await syncDoctorLines(env)),
    ],
  };
  const repo: Section[] = [];
  if (configs.length === 0) {
    const none = ok("no dev container config here: nothing to check for this repo", "dev-open --init writes one");
    repo.push({ title: `This repo (${root})`, checks: tagged("repo.config", none) });
  }
  for (const file of configs) {
    repo.push(...(await repoSections(env, { root, file, several: configs.length > 1, docker: docker.reachable })));
  }
  // Docker is a must once dev-open has been here; before, it is what dev-open will need (a warning).
  const dockerNeeded = repo.some((section) =>
    section.checks.some((check) => check.id === "repo.config-mounts" && !notOpenedYet(check)),
  );
  const tools: Section = {
    title: "Tools",
    checks: [
      ...tagged("tools.node", node),
      ...tagged("tools.devcontainer-cli", devcontainer),
      ...tagged("tools.docker", dockerCheck(docker, dockerNeeded)),
      ...tagged("tools.credentials", checkCredentials(env)),
    ],
  };
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
      repaired
        ? ok(`${displayPath(before.link, env)} was missing: the SessionStart hook that doctor ran has just linked it`)
        : describeProjectLink(env, cwd, before),
    ),
  ];
  const here = [
    ...tagged("container.hook-registered", checkHookRegistered(env)),
    ...tagged("container.hook-runs", hook),
    ...tagged("container.node", node),
  ];
  return [
    { title: `Inside this dev container (${displayPath(configDir(env), env)})`, checks: inside },
    { title: "Claude Code here", checks: here },
  ];
}

/** Whether Claude in a dev container can start without a login: only a credential variable reaches it. */
function checkCredentials(env: Env): CheckResult {
  const [problem, fix] = loginAdvice(env);
  if (!problem) {
    return ok(`${setOnHost(CLAUDE_CREDENTIAL_ENV, env).join(", ")} set: Claude in dev containers gets it by name`);
  }
  return warn(problem, fix);
}
