// Finding the container's user and home for a config (see container-user.ts for the order): from the files alone,
// from the images the engine has, or from the image built for it (what dev-open does before it plans the mounts).
import type { DevcontainerConfig } from "../config/config.ts";
import { staticUserFacts, type RepoReader, type StaticUserFacts } from "../config/static-user.ts";
import {
  type ContainerUser,
  decideUser,
  devcontainersImageUser,
  homeWithoutPasswd,
  resolveUserField,
  type UserFacts,
} from "./container-user.ts";
import { recalled, remember } from "./container-records.ts";
import {
  type Container,
  containerMetadata,
  dockerExec,
  findDevcontainer,
  type ImageConfig,
  inspectImage,
} from "./docker.ts";
import { buildDevcontainerImage, passwdHome } from "./image-probes.ts";

/**
 * "files": read the repo only; "images": also ask the engine about images it has; "build": the container that
 * `up` would reuse, else the image built first; "rebuild": the image built first (the container is recreated).
 */
export type UserLookup = "files" | "images" | "build" | "rebuild";

export type FindUserOptions = {
  readonly config: DevcontainerConfig;
  readonly configPath: string;
  readonly workspaceFolder: string;
  readonly read: RepoReader;
  readonly env: NodeJS.ProcessEnv;
  readonly remoteHome?: string | undefined;
  readonly lookup: UserLookup;
  readonly onProgress?: (line: string) => void;
};

export async function findContainerUser(options: FindUserOptions): Promise<ContainerUser> {
  const { config, env } = options;
  const files = await staticUserFacts(config, options.configPath, options.read, env);
  if (options.remoteHome) return settledByFlag(options, files);
  const live = options.lookup === "build" ? await runningContainerUser(options) : undefined;
  if (live) return live;
  const image = options.lookup === "files" ? undefined : await engineImage(options, files);
  if (!image) return fromFiles(options, files);
  const facts: UserFacts = {
    remoteUser: resolveUserField("remoteUser", config.remoteUser, env, image.config.env),
    containerUser: resolveUserField("containerUser", config.containerUser, env, image.config.env),
    metadata: image.config.metadata,
    composeUser: files.composeUser,
    // A base image inspected in place of the one a Dockerfile builds: the Dockerfile's USER comes after its own.
    imageUser: image.final ? image.config.user : (files.dockerfileUser ?? image.config.user),
    imageUserFrom: !image.final && files.dockerfileUser ? "USER in the Dockerfile" : `USER of the image ${image.name}`,
    imageKnown: true,
    image: image.name,
  };
  const decided = decideUser(facts);
  const entry = await passwdHome(image.name, decided.user, env);
  if (entry && "home" in entry)
    return { ...decided, home: entry.home, homeFrom: `/etc/passwd in ${image.name}`, guessed: decided.guessed };
  const fallback = homeWithoutPasswd(decided.user, { homes: files.homes });
  const homeFrom = entry
    ? `${decided.user} is not in /etc/passwd of ${image.name}; ${fallback.homeFrom}`
    : fallback.homeFrom;
  // Not in the base image's passwd is expected when the Dockerfile adds the user: then its useradd line says.
  return { ...decided, home: fallback.home, homeFrom, guessed: decided.guessed || fallback.guessed };
}

/** Where $HOME came from when a running container was asked: open-launch.ts need not check it again. */
export const LIVE_HOME = "$HOME in the running container";

/** The running container a user was read from, for the same workspace and config: dev-open need not look it up again. */
const foundRunning = new WeakMap<
  ContainerUser,
  { workspaceFolder: string; configPath: string; container: Container }
>();

export function runningContainerOf(
  user: ContainerUser | undefined,
  workspaceFolder: string,
  configPath: string,
): Container | undefined {
  const found = user === undefined ? undefined : foundRunning.get(user);
  return found?.workspaceFolder === workspaceFolder && found.configPath === configPath ? found.container : undefined;
}

/**
 * The container dev-open would reuse, when it runs: its labels hold the merged metadata (config, image,
 * Features), and its user's $HOME is asked in one exec, the home Claude Code there uses (kept in host-only state
 * for that container and user: container-records.ts).
 */
async function runningContainerUser(options: FindUserOptions): Promise<ContainerUser | undefined> {
  const { env } = options;
  const container = await findDevcontainer(options.workspaceFolder, options.configPath, env).catch(() => undefined);
  if (!container?.State.Running) return undefined;
  const decided = decideUser({
    metadata: containerMetadata(container),
    imageUser: container.Config.User || undefined,
    imageKnown: true,
  });
  let home = recalled(env, container.Id, "home", decided.user);
  if (!home?.startsWith("/")) {
    const asked = await dockerExec(env, ["-u", decided.user, container.Id, "printenv", "HOME"]);
    home = asked.stdout.trim().replace(/\/+$/, "") || "/";
    if (!asked.ok || !home.startsWith("/")) return undefined;
    remember(env, container.Id, "home", decided.user, home);
  }
  const user = { ...decided, from: `${decided.from} (the running container's)`, home, homeFrom: LIVE_HOME };
  foundRunning.set(user, { workspaceFolder: options.workspaceFolder, configPath: options.configPath, container });
  return user;
}

type EngineImage = { readonly name: string; readonly config: ImageConfig; readonly final: boolean };

/**
 * The image to read: the existing container's (its labels hold the merged metadata), the one built now, the
 * config's or compose service's image, or for a Dockerfile the base image (not `final`: the Dockerfile comes on top).
 */
async function engineImage(options: FindUserOptions, files: StaticUserFacts): Promise<EngineImage | undefined> {
  const { env } = options;
  if (options.lookup === "build" || options.lookup === "rebuild") {
    // A container that `up` will recreate says nothing about the image it will be made from.
    const container =
      options.lookup === "build"
        ? await findDevcontainer(options.workspaceFolder, options.configPath, env).catch(() => undefined)
        : undefined;
    if (container?.Image) {
      const config = await inspectImage(container.Image, env);
      const metadata = containerMetadata(container);
      if (config) return { name: container.Image, config: { ...config, metadata }, final: true };
    }
    const needsBuild = files.built || Object.keys(featuresOf(options.config)).length > 0;
    if (needsBuild && options.config.dockerComposeFile === undefined) {
      const name = await buildDevcontainerImage({
        workspaceFolder: options.workspaceFolder,
        configPath: options.configPath,
        env,
        onProgress: options.onProgress ?? (() => undefined),
      });
      const config = await inspectImage(name, env);
      if (config) return { name, config, final: true };
    }
  }
  if (!files.image) return undefined;
  const config = await inspectImage(files.image, env);
  return config ? { name: files.image, config, final: !files.built } : undefined;
}

function featuresOf(config: DevcontainerConfig): Record<string, unknown> {
  const features = (config as { features?: unknown }).features;
  return features && typeof features === "object" ? (features as Record<string, unknown>) : {};
}

/** Without an engine: the Dockerfile's or compose file's word, the devcontainers images' convention, else a guess. */
function fromFiles(options: FindUserOptions, files: StaticUserFacts): ContainerUser {
  const { config, env } = options;
  const conventionUser = devcontainersImageUser(files.image);
  const decided = decideUser({
    remoteUser: resolveUserField("remoteUser", config.remoteUser, env, undefined),
    containerUser: resolveUserField("containerUser", config.containerUser, env, undefined),
    conventionUser,
    composeUser: files.composeUser,
    imageUser: files.dockerfileUser,
    imageUserFrom: "USER in the Dockerfile",
    // A Dockerfile or image that names no user, on a base image no one asked: root is the likely answer, not a sure one.
    imageKnown: false,
    image: files.image,
  });
  const home = homeWithoutPasswd(decided.user, { homes: files.homes, conventionUser });
  return { ...decided, ...home, guessed: decided.guessed || home.guessed };
}

/** `--remote-home` settles the home; the user is still named when the files tell it. */
function settledByFlag(options: FindUserOptions, files: StaticUserFacts): ContainerUser {
  let user: string;
  let from: string;
  try {
    ({ user, from } = fromFiles(options, files));
  } catch {
    // A user field the host cannot resolve: the flag is there to settle exactly that.
    ({ user, from } = { user: "the container's user", from: "not resolved here" });
  }
  return { user, from, home: options.remoteHome ?? "/root", homeFrom: "--remote-home", guessed: false };
}
