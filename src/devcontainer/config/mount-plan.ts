// The persistence plan: which of the Claude home's entries a dev container mounts, from where on the host to where
// in the container, and which variables the launch forwards.
import { existsSync } from "node:fs";
import path from "node:path";
import { configDir, homeDir, type Env } from "../../claude/home.ts";
import { HOST_FILE_LINKS_DIR, SHARED_ENTRIES, type SharedEntry } from "../../claude/shared.ts";
import { UserError } from "../../errors.ts";
import { FORWARDED_ENV } from "../launch/credentials.ts";
import { isForwardableEnvName } from "./mcp-env.ts";

export type PersistenceMount = {
  readonly name: string;
  readonly kind: SharedEntry["kind"];
  readonly readonly: boolean;
  /** The source on this host. */
  readonly hostPath: string;
  /** The source as devcontainer.json writes it (`${localEnv:HOME}/…`). */
  readonly source: string;
  /** The source as a compose file writes it (`${HOME}/…`, compose interpolation). */
  readonly composeSource: string;
  readonly target: string;
};

export type Skipped = { readonly name: string; readonly reason: string };

export type PersistencePlan = {
  readonly containerHome: string;
  /** The folder holding the sources, as devcontainer.json / compose write it. */
  readonly sourceRoot: string;
  readonly composeSourceRoot: string;
  readonly mounts: readonly PersistenceMount[];
  readonly skipped: readonly Skipped[];
  /** Variables the launch forwards by name when the host has them set (credentials first, then sorted). */
  readonly remoteEnvNames: readonly string[];
};

/** What the caller knows about the container's user; the config's fields first, then the image's metadata. */
export type ContainerUserHints = {
  /** `--remote-home`: wins over everything. */
  readonly remoteHome?: string;
  /** The home found for the container's user (launch/find-user.ts): wins over the naming rules below. */
  readonly home?: string;
  readonly remoteUser?: string;
  readonly containerUser?: string;
  /** From the image's `devcontainer.metadata` label: its remoteUser, else its containerUser. */
  readonly imageRemoteUser?: string;
  /** The image name, for the usual defaults of the devcontainers images. */
  readonly image?: string;
};

export type PlanOptions = {
  readonly container: ContainerUserHints;
  /** The host's environment: HOME and CLAUDE_CONFIG_DIR decide the sources. */
  readonly env?: Env;
  readonly fileExists?: (file: string) => boolean;
  /** Variables referenced by MCP server configs (see collectMcpEnvNames). */
  readonly mcpEnvNames?: readonly string[];
};

export function planPersistenceMounts(options: PlanOptions): PersistencePlan {
  const env = options.env ?? process.env;
  const fileExists = options.fileExists ?? existsSync;
  const hostRoot = configDir(env);
  const { sourceRoot, composeSourceRoot } = sourceRoots(hostRoot, homeDir(env));
  const containerHome = resolveContainerHome(options.container);
  const mounts: PersistenceMount[] = [];
  const skipped: Skipped[] = [];
  for (const entry of SHARED_ENTRIES) {
    const hostPath = path.join(hostRoot, entry.name);
    if (entry.kind === "file" && !fileExists(hostPath)) {
      skipped.push({ name: entry.name, reason: `${hostPath} does not exist on this host, so it is not mounted` });
      continue;
    }
    mounts.push({
      name: entry.name,
      kind: entry.kind,
      readonly: entry.access === "read-only",
      hostPath,
      source: `${sourceRoot}/${mountedName(entry)}`,
      composeSource: `${composeSourceRoot}/${mountedName(entry)}`,
      target: `${containerHome}/.claude/${entry.name}`,
    });
  }
  const mcpEnvNames = [...(options.mcpEnvNames ?? [])].filter(isForwardableEnvName).sort();
  const remoteEnvNames = [...new Set([...FORWARDED_ENV, ...mcpEnvNames])];
  return { containerHome, sourceRoot, composeSourceRoot, mounts, skipped, remoteEnvNames };
}

/** Where a shared entry's mount source is, relative to the config dir: single files through their link. */
function mountedName(entry: SharedEntry): string {
  return entry.kind === "file" ? `${HOST_FILE_LINKS_DIR}/${entry.name}` : entry.name;
}

/**
 * The host folder holding the sources, as the config writes it. `${localEnv:HOME}` (or compose's `${HOME}`) keeps
 * the file portable across the team. With CLAUDE_CONFIG_DIR the path is written relative to HOME when it lies
 * under it, else literally: the variable itself cannot be used, since a GUI editor often does not inherit it
 * (the source would become `/projects`), and `${localEnv:CLAUDE_CONFIG_DIR:${localEnv:HOME}/.claude}` does not
 * nest (the CLI's `${…}` match is lazy and the default is cut at the next `:`).
 */
export function sourceRoots(hostConfigDir: string, home: string): { sourceRoot: string; composeSourceRoot: string } {
  const relative = path.relative(home, hostConfigDir);
  const underHome = relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
  if (underHome) {
    const rest = relative.split(path.sep).join("/");
    checkMountPath(rest);
    return { sourceRoot: `\${localEnv:HOME}/${rest}`, composeSourceRoot: `\${HOME}/${rest}` };
  }
  const absolute = hostConfigDir.split(path.sep).join("/");
  checkMountPath(absolute);
  return { sourceRoot: absolute, composeSourceRoot: absolute };
}

/** A mount string splits on commas, and the folder also appears in a double-quoted shell word. */
function checkMountPath(value: string): void {
  if (/[,"'\\$`\n]/.test(value)) {
    throw new UserError(
      `The Claude config path ${value} contains one of , " ' \\ $ \` or a line break; a mount cannot name it.`,
    );
  }
}

const DEVCONTAINERS_IMAGE = /^mcr\.microsoft\.com\/(?:vscode\/)?devcontainers\/([^:@]+)/;

/** The container user's home: `--remote-home`, else from the first user we know, else the image's usual default. */
export function resolveContainerHome(hints: ContainerUserHints): string {
  if (hints.remoteHome) return checkContainerPath(hints.remoteHome.replace(/\/+$/, "") || "/");
  if (hints.home) return checkContainerPath(hints.home, "the container user's home");
  const users = [hints.remoteUser, hints.imageRemoteUser, hints.containerUser];
  for (const user of users) {
    const home = user ? homeOfUser(user) : undefined;
    if (home) return home;
  }
  const devcontainersImage = hints.image ? DEVCONTAINERS_IMAGE.exec(hints.image)?.[1] : undefined;
  if (devcontainersImage) return `/home/${defaultUserOfDevcontainersImage(devcontainersImage)}`;
  return "/root";
}

/** `root` → /root, a name → /home/<name>; a numeric UID other than 0 says nothing about the home. */
function homeOfUser(user: string): string | undefined {
  const name = user.split(":")[0] ?? "";
  if (name === "root" || name === "0") return "/root";
  if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) return `/home/${name}`;
  return undefined;
}

function defaultUserOfDevcontainersImage(name: string): string {
  if (/(?:^|\/)(?:javascript-node|typescript-node)$/.test(name)) return "node";
  if (/(?:^|\/)universal$/.test(name)) return "codespace";
  return "vscode";
}

function checkContainerPath(home: string, what = "--remote-home"): string {
  if (!/^\/[A-Za-z0-9._/-]*$/.test(home)) {
    throw new UserError(
      `${what} ${home}: use an absolute path of letters, digits, '.', '_', '-' and '/'${what === "--remote-home" ? "" : " (pass --remote-home DIR)"}.`,
    );
  }
  return home;
}

/** The string form of a mount, as devcontainer.json writes it. */
export function mountString(mount: PersistenceMount): string {
  return `source=${mount.source},target=${mount.target},type=bind${mount.readonly ? ",readonly" : ""}`;
}
