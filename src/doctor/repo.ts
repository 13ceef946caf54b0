// Doctor's checks of this repo's dev container config: the persistence mounts, the workspace variable, the
// container path; then, with Docker, those of its container (container.ts).
import path from "node:path";
import { encodeProjectSlug, projectsDir, type Env } from "../claude/home.ts";
import { HOST_WORKSPACE_ENV } from "../claude/shared.ts";
import {
  parseDevcontainerConfig,
  readDevcontainerConfig,
  type DevcontainerConfig,
} from "../devcontainer/config/config.ts";
import type { PersistencePlan } from "../devcontainer/config/mount-plan.ts";
import { readOverride } from "../devcontainer/launch/override.ts";
import { resolveEngine } from "../devcontainer/remote/engine.ts";
import { planPersistence } from "../devcontainer/config/persistence.ts";
import { configMountTargets, normaliseTarget } from "../devcontainer/config/read-mounts.ts";
import { riskyMounts } from "../devcontainer/config/risky-mounts.ts";
import { describePlanted, hostProjectFolder } from "../devcontainer/host-project.ts";
import { describeError } from "../errors.ts";
import { readBoundedText } from "../fs.ts";
import { readMappings, type Mapping } from "../state/mappings.ts";
import { shellWord } from "../text.ts";
import { containerSection, expectedContainerPath } from "./container.ts";
import { displayPath } from "./container-checks.ts";
import { collision, latestMappings } from "./mapping-checks.ts";
import { type CheckResult, fail, ok, readLinkQuietly, type Section, tagged, warn } from "./report.ts";

export type RepoTarget = {
  readonly root: string;
  readonly file: string;
  readonly several: boolean;
  readonly docker: boolean;
};

export async function repoSections(env: NodeJS.ProcessEnv, target: RepoTarget): Promise<Section[]> {
  const rel = path.relative(target.root, target.file);
  const title = `This repo (${target.root}, ${rel})`;
  const devOpen = (flag = "") =>
    ["dev-open", flag, target.several ? `--config ${shellWord(rel)}` : ""].filter(Boolean).join(" ");
  const share = () =>
    ["claude-persist share", target.several ? `--config ${shellWord(rel)}` : ""].filter(Boolean).join(" ");
  let text: string;
  let config: DevcontainerConfig;
  let configLabel = rel;
  let kept: ReturnType<typeof readOverride>;
  try {
    ({ text, config } = readDevcontainerConfig(target.file));
    // dev-open launches with a copy of the config in host-only state when the repo's lacks our lines: check that one.
    kept = readOverride(env, target.file);
    if (kept) {
      ({ text, config } = { text: kept.text, config: parseDevcontainerConfig(kept.text, kept.file).config });
      configLabel = `dev-open's launch config (${displayPath(kept.file, env)})`;
    }
  } catch (error) {
    return [{ title, checks: tagged("repo.config", fail(describeError(error), `correct ${shellWord(rel)} by hand`)) }];
  }
  let plan: PersistencePlan;
  try {
    plan = await planPersistence(config, target.root, { env, askDocker: target.docker, configPath: target.file });
  } catch (error) {
    return [{ title, checks: tagged("repo.config-mounts", fail(describeError(error))) }];
  }
  const targets = new Set([...configMountTargets(text, target.file), ...(await composeTargets(target.file, config))]);
  const containerPathCheck = [
    ...tagged("repo.container-path", checkContainerPath(env, target.root, target.file, config)),
    ...(await hostSafetyChecks(env, target, config)),
  ];
  // A repo dev-open never touched lacks nothing yet: that is where everyone starts, not a problem.
  if (!kept && !openedHere(env, target.root, plan, targets, config)) {
    const notYet = ok(`${NOT_OPENED} ${devOpen()}`);
    return [{ title, checks: [...tagged("repo.config-mounts", notYet), ...containerPathCheck] }];
  }
  // With the engine on another machine, dev-open launches with a config of that machine's folders: share (for an
  // editor here) is refused there.
  const fix = (await engineIsLocal(env)) ? share() : devOpen();
  const checks = [
    ...tagged("repo.config-mounts", checkConfigMounts(plan, targets, configLabel, fix)),
    ...tagged("repo.workspace-env", checkWorkspaceEnv(config, configLabel, fix)),
    ...containerPathCheck,
  ];
  const sections: Section[] = [{ title, checks }];
  if (target.docker) sections.push(await containerSection(env, { ...target, config, plan, devOpen }));
  return sections;
}

/** For compose-based configs the mounts are in the compose files (compose.ts and yaml load only for those). */
async function composeTargets(file: string, config: DevcontainerConfig): Promise<string[]> {
  if (config.dockerComposeFile === undefined || !config.service) return [];
  const service = config.service;
  const { composeFilesOf, composeServiceTargets } = await import("../devcontainer/config/compose.ts");
  return composeFilesOf(file, config).flatMap((compose) => {
    try {
      const text = readBoundedText(compose);
      return text === undefined ? [] : composeServiceTargets(text, service, compose);
    } catch {
      // An unreadable compose file adds no mount: the check then names the missing ones.
      return [];
    }
  });
}

const NOT_OPENED = "not opened with dev-open yet: run";

/** True for the line that says this repo's config has not been opened with dev-open yet. */
export function notOpenedYet(check: CheckResult): boolean {
  return check.label.startsWith(NOT_OPENED);
}

/** Whether dev-open has been here: a mapping of this repo, or any of its entries in the repo's config. */
function openedHere(
  env: Env,
  root: string,
  plan: PersistencePlan,
  targets: ReadonlySet<string>,
  config: DevcontainerConfig,
): boolean {
  if (config.containerEnv?.[HOST_WORKSPACE_ENV]) return true;
  if (plan.mounts.some((mount) => targets.has(normaliseTarget(mount.target)))) return true;
  try {
    return readMappings(env).some((mapping) => mapping.hostPath === root);
  } catch {
    return true; // Unreadable mappings: the checks below say so.
  }
}

function checkConfigMounts(plan: PersistencePlan, targets: ReadonlySet<string>, rel: string, fix: string): CheckResult {
  const missing = plan.mounts.filter((mount) => !targets.has(normaliseTarget(mount.target))).map((mount) => mount.name);
  if (missing.length > 0) return fail(`${rel} lacks persistence mounts: ${missing.join(", ")}`, fix);
  return ok(`${rel} mounts the shared entries into ${plan.containerHome}/.claude`);
}

function checkWorkspaceEnv(config: DevcontainerConfig, rel: string, fix: string): CheckResult {
  if (config.containerEnv?.[HOST_WORKSPACE_ENV]) {
    return ok(`${rel} sets ${HOST_WORKSPACE_ENV} for the hook in the container`);
  }
  return warn(
    `${rel} does not set containerEnv.${HOST_WORKSPACE_ENV}: ` +
      "the hook in the container cannot map sessions opened from an editor",
    fix,
  );
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
  if (containerSlug === encodeProjectSlug(root)) {
    return ok(`the workspace has the same path in the container (${containerPath})`);
  }
  const sharing = mappings.filter((m) => m.containerSlug === containerSlug && m.hostPath !== root);
  const others = [...new Set(sharing.map((m) => m.hostPath))];
  if (others.length > 0) return collision(env, containerPath, [root, ...others]);
  const linked = readLinkQuietly(path.join(projectsDir(env), containerSlug));
  if (linked !== undefined && linked !== encodeProjectSlug(root)) {
    return fail(
      `${containerPath} is already linked to another project (projects/${containerSlug} → ${linked})`,
      "dev-open --same-path",
    );
  }
  return ok(`no other repo is mapped to ${containerPath}`);
}

/**
 * The host's credentials that the repo's config mounts (warnings); a link planted at the host's own project folder
 * of the repo (a failure: dev-open refuses to write through it, and the host's sessions go where it leads).
 */
async function hostSafetyChecks(env: Env, target: RepoTarget, config: DevcontainerConfig): Promise<CheckResult[]> {
  const risky = await riskyMounts(env, { root: target.root, configFile: target.file, config }, readBoundedText);
  const found = hostProjectFolder(env, target.root);
  const planted = found.kind === "planted" ? describePlanted(found) : undefined;
  return [
    ...tagged(
      "repo.risky-mounts",
      risky.map((mount) => warn(mount.label, mount.fix)),
    ),
    ...(planted ? tagged("repo.host-project-folder", fail(planted.label, planted.fix)) : []),
  ];
}

async function engineIsLocal(env: Env): Promise<boolean> {
  try {
    return (await resolveEngine(env)).kind === "local";
  } catch {
    return true; // A DOCKER_HOST docker itself refuses: the Docker checks say so.
  }
}
