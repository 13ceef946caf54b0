// What /dev-open changes in a repo: the config (and, for compose-based configs, the compose file) with the
// persistence mounts added — or, with `remove`, taken out again. Planned in memory; the caller writes.
import path from "node:path";
import { configDir, globalStatePath, type Env } from "../../claude/home.ts";
import type { ContainerUser } from "../launch/container-user.ts";
import { findContainerUser, type UserLookup } from "../launch/find-user.ts";
import { readTextToEditInside } from "../../fs-beneath.ts";
import {
  findDevcontainerConfig,
  findRepoRoot,
  listDevcontainerConfigs,
  parseDevcontainerConfig,
  planInitialConfig,
  type DevcontainerConfig,
} from "./config.ts";
import { collectMcpEnvNames } from "./mcp-env.ts";
import { planPersistenceMounts, type PersistencePlan, type Skipped } from "./mount-plan.ts";
import { ensurePersistenceMounts, removePersistenceMounts } from "./mounts.ts";
import { configMountTargets } from "./read-mounts.ts";
import { type RiskyMount, riskyMounts } from "./risky-mounts.ts";
import { ensureSamePath } from "./same-path.ts";

export type FileEdit = { readonly path: string; readonly before: string | undefined; readonly after: string };

export type PersistenceEdit = {
  readonly workspaceFolder: string;
  readonly configPath: string;
  readonly containerHome: string;
  /** Who the container runs as, its home, and where both came from (absent when the mounts are taken out). */
  readonly containerUser?: ContainerUser;
  readonly files: FileEdit[];
  readonly added: string[];
  readonly skipped: Skipped[];
  /** Where the persistence mounts land in the container: what a running container must have. */
  readonly targets: string[];
  /** For compose-based configs launched without editing the repo: a compose file holding only our volumes. */
  readonly composeOverlay?: string;
  /** Variables the launch forwards by name when this host has them set (never written into the repo). */
  readonly forwardedNames: readonly string[];
  /** The workspace's path in a container made from this config (before one exists: from the config). */
  readonly containerWorkspace: string;
  /** Mounts of the host's credentials in the repo's own config or compose files (dev-open names them; absent on unshare). */
  readonly riskyMounts?: readonly RiskyMount[];
};

export type PersistenceEditOptions = {
  readonly folder: string;
  readonly configPath: string | undefined;
  readonly init: boolean;
  readonly samePath: boolean;
  readonly remoteHome: string | undefined;
  readonly remove: boolean;
  readonly env: Env;
  /** How far to go to find the container's user: the files, the engine's images, or a build first. */
  readonly lookup?: UserLookup;
  readonly onProgress?: (line: string) => void;
};

export async function preparePersistenceEdit(options: PersistenceEditOptions): Promise<PersistenceEdit> {
  const workspaceFolder = await findRepoRoot(path.resolve(options.folder));
  // --init plans the file in memory like any other edit: a dry run writes nothing, a real run writes it once.
  const initial =
    options.init && !options.configPath && listDevcontainerConfigs(workspaceFolder).length === 0
      ? planInitialConfig(workspaceFolder)
      : undefined;
  const configPath =
    initial?.file ?? findDevcontainerConfig(workspaceFolder, { config: options.configPath, cwd: options.folder });
  // The repo is anyone's: a config or compose file that links outside it is neither read nor edited.
  const read = (file: string) => readTextToEditInside(workspaceFolder, file);
  const text = initial?.text ?? read(configPath) ?? "";
  const { config } = parseDevcontainerConfig(text, configPath);
  // The compose edits (and yaml, the largest module dev-open would load) only for a compose-based config.
  const yamlEdits = config.dockerComposeFile !== undefined ? await import("./compose.ts") : undefined;
  const compose = yamlEdits?.chooseComposeFile(configPath, config, read);

  if (options.remove) {
    const files: FileEdit[] = [
      {
        path: configPath,
        before: initial ? undefined : text,
        after: removePersistenceMounts(text, { file: configPath }).text,
      },
    ];
    if (compose && yamlEdits) {
      files.push({
        path: compose.file,
        before: compose.text,
        after: yamlEdits.removeComposeMounts(compose.text, { file: compose.file }).text,
      });
    }
    return {
      workspaceFolder,
      configPath,
      containerHome: "",
      files,
      added: [],
      skipped: [],
      targets: [],
      forwardedNames: [],
      containerWorkspace: "",
    };
  }

  const containerUser = await findContainerUser({
    config,
    configPath,
    workspaceFolder,
    read: readQuietly(read),
    env: options.env as NodeJS.ProcessEnv,
    remoteHome: options.remoteHome,
    lookup: options.lookup ?? "images",
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const plan = planWithUser(workspaceFolder, options.env, containerUser);
  const risky = await riskyMounts(options.env, { root: workspaceFolder, configFile: configPath, config }, read);
  const edited = ensurePersistenceMounts(text, plan, { file: configPath, includeMounts: !compose });
  let configText = edited.text;
  if (options.samePath) configText = ensureSamePath(configText, configPath, Boolean(compose));
  const files: FileEdit[] = [{ path: configPath, before: initial ? undefined : text, after: configText }];
  let added = edited.added;
  let composeOverlay: string | undefined;
  if (compose && yamlEdits) {
    const { composeServiceTargets, ensureComposeMounts } = yamlEdits;
    const overlay = ensureComposeMounts(
      `services:\n  ${JSON.stringify(compose.service)}:\n    volumes:\n`,
      compose.service,
      plan,
      {
        file: "the compose overlay",
        alreadyMounted: [
          ...configMountTargets(text, configPath),
          ...composeServiceTargets(compose.text, compose.service, compose.file),
        ],
      },
    );
    if (overlay.changed) composeOverlay = overlay.text;
    const composed = ensureComposeMounts(compose.text, compose.service, plan, {
      file: compose.file,
      alreadyMounted: configMountTargets(text, configPath),
    });
    files.push({ path: compose.file, before: compose.text, after: composed.text });
    added = [...added, ...composed.added];
  }
  return {
    workspaceFolder,
    configPath,
    containerHome: plan.containerHome,
    containerUser,
    files,
    added,
    skipped: edited.skipped,
    targets: plan.mounts.map((m) => m.target),
    ...(composeOverlay !== undefined ? { composeOverlay } : {}),
    forwardedNames: plan.remoteEnvNames,
    containerWorkspace: (
      parseDevcontainerConfig(configText, configPath).config.workspaceFolder ??
      `/workspaces/${path.basename(workspaceFolder)}`
    )
      .replaceAll("${localWorkspaceFolderBasename}", path.basename(workspaceFolder))
      .replaceAll("${localWorkspaceFolder}", workspaceFolder),
    riskyMounts: risky,
  };
}

/** A reader of the repo's files that says "not there" rather than throwing: a Dockerfile outside the repo is not read. */
function readQuietly(read: (file: string) => string | undefined): (file: string) => string | undefined {
  return (file) => {
    try {
      return read(file);
    } catch {
      return undefined;
    }
  };
}

/**
 * The persistence mounts and environment that `config` should have: what dev-open adds and doctor checks. The
 * container's user is found as the Dev Containers CLI finds it (launch/find-user.ts); with `askDocker` the
 * engine's images are read too (doctor does not ask where Docker is unreachable).
 */
export async function planPersistence(
  config: DevcontainerConfig,
  workspaceFolder: string,
  options: {
    readonly env: Env;
    readonly remoteHome?: string | undefined;
    readonly askDocker: boolean;
    readonly configPath: string;
  },
): Promise<PersistencePlan & { readonly containerUser: ContainerUser }> {
  const containerUser = await findContainerUser({
    config,
    configPath: options.configPath,
    workspaceFolder,
    read: readQuietly((file) => readTextToEditInside(workspaceFolder, file)),
    env: options.env as NodeJS.ProcessEnv,
    remoteHome: options.remoteHome,
    lookup: options.askDocker ? "images" : "files",
  });
  return { ...planWithUser(workspaceFolder, options.env, containerUser), containerUser };
}

function planWithUser(workspaceFolder: string, env: Env, user: ContainerUser): PersistencePlan {
  return planPersistenceMounts({
    container: { home: user.home },
    env,
    mcpEnvNames: collectMcpEnvNames(
      [path.join(configDir(env), "mcp.json"), globalStatePath(env), path.join(workspaceFolder, ".mcp.json")],
      { projectDir: workspaceFolder },
    ),
  });
}
