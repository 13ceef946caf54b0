// Launching with the persistence mounts without touching the repo: dev-open keeps the config it would have
// written in the pack's host-only state and hands it to `devcontainer up --override-config`.
//
// Checked against the devcontainers CLI 0.89 (src/spec-node/configContainer.ts, imageMetadata.ts): the override
// replaces the config's content for that call only, relative paths in it still resolve against the repo's config
// (configFilePath stays the repo's file), and the container's id labels name the repo's config. The merged
// config goes into the container's `devcontainer.metadata` label with `${localEnv:…}` unresolved, so a later
// plain `devcontainer exec --workspace-folder` (or `up`, which reuses the container) still applies its remoteEnv,
// substituted from the caller's environment at that time: which is why no credential is ever written here.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { sha256Hex } from "../../crypto.ts";
import { runGit } from "../../work/git-run.ts";
import type { Env } from "../../claude/home.ts";
import { UserError } from "../../errors.ts";
import { readTextIfExists, writeFileAtomic } from "../../fs.ts";
import { editJsonc } from "../../jsonc.ts";
import { STATE, statePath } from "../../state/paths.ts";
import { parseDevcontainerConfig } from "../config/config.ts";

/** One folder per repo config: `<repo name>-<hash of the config's path>`, so two clones never share one. */
function configStateDir(env: Env, configPath: string): string {
  const hash = sha256Hex(configPath).slice(0, 12);
  // The folder holding `.devcontainer/` or `.devcontainer.json`: the repo (or worktree) the config belongs to.
  const parts = configPath.split(path.sep);
  const at = parts.findLastIndex((part) => part === ".devcontainer" || part === ".devcontainer.json");
  const name = (parts[at - 1] ?? path.basename(path.dirname(configPath))).replace(/[^A-Za-z0-9._-]/g, "-") || "repo";
  return path.join(statePath(env, STATE.overrideConfigs), `${name}-${hash}`);
}

/** Where the config that dev-open launches a repo's container with is kept. */
export function overrideConfigPath(env: Env, configPath: string): string {
  return path.join(configStateDir(env, configPath), "devcontainer.json");
}

/** The compose file with our volumes, for compose-based configs: listed last, so compose merges it in. */
function overlayComposePath(env: Env, configPath: string): string {
  return path.join(configStateDir(env, configPath), "docker-compose.claude-persist.yml");
}

export type OverrideFiles = { readonly config: string; readonly compose?: string };

/**
 * Writes the config to launch with (and for compose-based configs the compose overlay it lists) into the host
 * state; returns the override config's path.
 */
export function writeOverride(
  env: Env,
  configPath: string,
  configText: string,
  composeOverlay: string | undefined,
): string {
  const file = overrideConfigPath(env, configPath);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let text = configText;
  if (composeOverlay !== undefined) {
    const overlay = overlayComposePath(env, configPath);
    writeIfChanged(overlay, composeOverlay);
    text = withComposeFile(configText, configPath, overlay);
  }
  writeIfChanged(file, text);
  return file;
}

/** dev-open runs again and again on a running container: the same launch config is not written again. */
function writeIfChanged(file: string, text: string): void {
  if (readTextIfExists(file) !== text) writeFileAtomic(file, text, 0o600);
}

/** Forgets the override (unshare): the next launch uses the repo's config as it is. */
export function removeOverride(env: Env, configPath: string): boolean {
  const dir = configStateDir(env, configPath);
  const existed = readTextIfExists(path.join(dir, "devcontainer.json")) !== undefined;
  rmSync(dir, { recursive: true, force: true });
  return existed;
}

/** The override config dev-open keeps for this repo config, when there is one. */
export function readOverride(env: Env, configPath: string): { file: string; text: string } | undefined {
  const file = overrideConfigPath(env, configPath);
  const text = readTextIfExists(file);
  return text === undefined ? undefined : { file, text };
}

/** `dockerComposeFile` with the overlay appended (an absolute path: the others stay relative to the repo's config). */
function withComposeFile(text: string, configPath: string, overlay: string): string {
  const { config } = parseDevcontainerConfig(text, configPath);
  const listed = config.dockerComposeFile;
  const files = [...(typeof listed === "string" ? [listed] : (listed ?? [])), overlay];
  return editJsonc(text, ["dockerComposeFile"], files);
}

/**
 * The text dev-open read from `file` (bounded, checked), kept in the host state before dev-open writes into a repo's
 * config: never a file in the repo, and never a copy made by following a link the repo planted.
 */
export function backupOutsideRepo(env: Env, file: string, before: string): string {
  const hash = sha256Hex(file).slice(0, 12);
  const backup = path.join(statePath(env, STATE.configBackups), `${hash}-${path.basename(file)}`);
  mkdirSync(path.dirname(backup), { recursive: true, mode: 0o700 });
  writeFileAtomic(backup, before, 0o600);
  return backup;
}

/**
 * For a linked worktree, the main repo's `.git` folder (absolute): its `.git` file points there by the host path,
 * so the container must have it at that very path. Undefined in a main checkout or outside git.
 */
export async function worktreeGitDir(workspaceFolder: string): Promise<string | undefined> {
  const run = await runGit(workspaceFolder, ["rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir"]);
  if (run.exitCode !== 0) return undefined;
  const [gitDir, commonDir] = run.stdout.split("\n");
  if (!gitDir || !commonDir || gitDir === commonDir) return undefined;
  if (/[,"'\\$`\n]/.test(commonDir)) {
    throw new UserError(
      `the main repo's git folder ${commonDir} contains one of , " ' \\ $ \` or a line break; a mount cannot name it (open the main checkout instead)`,
    );
  }
  return commonDir;
}

/** `--mount` for the main repo's git folder at its host path: objects and refs shared, read-write, never copied. */
export function gitDirMount(commonDir: string): string {
  return `type=bind,source=${commonDir},target=${commonDir}`;
}
