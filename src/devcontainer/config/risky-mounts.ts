// A cloned repo's config can mount the host's credentials into its container: all of ~/.claude (Claude Code's login,
// `.claude.json`, plugins), ~/.ssh, cloud and registry logins, or the whole home with them. dev-open never mounts
// these; a repo that does gets one line from dev-open and doctor naming the mount and the risk. Read from the config
// (`mounts`, `workspaceMount`, `runArgs`' -v/--volume/--mount) and every service's `volumes` in its compose files,
// with the variables the devcontainers CLI and compose resolve (`${localEnv:HOME}`, `$HOME`, `${HOME:-…}`, `~`).
import path from "node:path";
import { configDir, homeDir, type Env } from "../../claude/home.ts";
import { NEVER_SHARED } from "../../claude/shared.ts";
import { oneLine } from "../../text.ts";
import type { DevcontainerConfig } from "./config.ts";
import { parseMountString } from "./read-mounts.ts";

/** Folders and files of the host's home that hold credentials, with what a container that mounts them gets. */
const CREDENTIALS: ReadonlyArray<{ readonly rel: string; readonly what: string }> = [
  { rel: ".ssh", what: "your SSH keys" },
  { rel: ".gnupg", what: "your GPG keys" },
  { rel: ".aws", what: "your AWS credentials" },
  { rel: ".azure", what: "your Azure credentials" },
  { rel: ".config/gcloud", what: "your Google Cloud credentials" },
  { rel: ".config/gh", what: "your GitHub CLI token" },
  { rel: ".kube", what: "your Kubernetes credentials" },
  { rel: ".docker", what: "your container registry logins" },
  { rel: ".netrc", what: "your stored passwords (.netrc)" },
  { rel: ".git-credentials", what: "your stored git passwords" },
  { rel: ".claude.json", what: "Claude Code's account file" },
];

export type RiskyMount = { readonly label: string; readonly fix: string };

/** Where a mount's source was written, and the source as written. */
type Source = { readonly file: string; readonly where: string; readonly source: string; readonly base: string };

/** What the repo's files (the config and the compose files that `read` gives) mount of the host's credentials. */
export async function riskyMounts(
  env: Env,
  target: { readonly root: string; readonly configFile: string; readonly config: DevcontainerConfig },
  read: (file: string) => string | undefined,
): Promise<RiskyMount[]> {
  const { root, configFile, config } = target;
  const configName = path.relative(root, configFile);
  const sources = configSources(config, configName, path.dirname(configFile));
  if (config.dockerComposeFile !== undefined) {
    const { composeFilesOf, composeVolumeSources } = await import("./compose.ts");
    for (const file of composeFilesOf(configFile, config)) {
      let text: string | undefined;
      try {
        text = read(file);
      } catch {
        continue; // Unreadable or a link out of the repo: dev-open's own reading says so.
      }
      if (text === undefined) continue;
      for (const { service, source } of composeVolumeSources(text, file))
        sources.push({
          file: path.relative(root, file),
          where: `${path.relative(root, file)} (service ${service})`,
          source,
          base: path.dirname(file),
        });
    }
  }
  return sources.flatMap((source) => {
    const risk = riskOf(resolveSource(source, env, root), env);
    if (risk === undefined) return [];
    return [
      {
        label: `${oneLine(source.where)} mounts ${oneLine(source.source, 120)} into the container: ${risk}, for anything the repo runs there to read and change`,
        fix: `take that mount out of ${oneLine(source.file)} unless you mean the container to have it (dev-open shares only the sessions folders of ~/.claude)`,
      },
    ];
  });
}

function configSources(config: DevcontainerConfig, where: string, base: string): Source[] {
  const sources: Source[] = [];
  const add = (source: string | undefined, key: string) => {
    if (source) sources.push({ file: where, where: `${where} (${key})`, source, base });
  };
  for (const mount of config.mounts ?? [])
    add(typeof mount === "string" ? parseMountString(mount).source : mount.source, "mounts");
  const workspaceMount = (config as Record<string, unknown>).workspaceMount;
  if (typeof workspaceMount === "string") add(parseMountString(workspaceMount).source, "workspaceMount");
  const args = config.runArgs ?? [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [flag, inline] = arg.startsWith("--")
      ? [arg.split("=")[0], arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : undefined]
      : [arg.slice(0, 2), arg.length > 2 ? arg.slice(2) : undefined];
    if (flag !== "-v" && flag !== "--volume" && flag !== "--mount") continue;
    const value = inline ?? args[++i];
    if (value === undefined) continue;
    add(flag === "--mount" ? parseMountString(value).source : shortVolumeSource(value), "runArgs");
  }
  return sources;
}

/** The source of `src:dst[:mode]` (none for an anonymous volume, `dst` alone). */
function shortVolumeSource(volume: string): string | undefined {
  // A colon inside `${localEnv:HOME}` does not end it.
  let depth = 0;
  for (let i = 0; i < volume.length; i++) {
    if (volume[i] === "$" && volume[i + 1] === "{") depth++;
    else if (volume[i] === "}" && depth > 0) depth--;
    else if (volume[i] === ":" && depth === 0) return i > 0 ? volume.slice(0, i) : undefined;
  }
  return undefined;
}

/** The host path a source names, with the variables resolved; undefined for a named volume. */
function resolveSource(source: Source, env: Env, root: string): string | undefined {
  const home = homeDir(env);
  // As the devcontainers CLI resolves them (`${env:X}` is the older spelling): `${localEnv:HOME}${localEnv:USERPROFILE}`
  // is one path on every system, USERPROFILE being unset outside Windows.
  const variable = (name: string, fallback?: string) =>
    name === "HOME" ? (env.HOME ?? home) : (env[name] ?? fallback ?? "");
  const text = source.source
    .trim()
    .replace(/\$\{(?:localEnv|env):([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (_all, name: string, fallback?: string) =>
      variable(name, fallback),
    )
    .replace(/\$\{localWorkspaceFolder\}/g, root)
    .replace(/\$\{localWorkspaceFolderBasename\}/g, path.basename(root))
    // Compose's forms: ${X}, ${X:-default}, ${X-default}, $X.
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_all, name: string, fallback?: string) =>
      variable(name, fallback),
    )
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_all, name: string) => variable(name))
    .replace(/^~(?=\/|$)/, home);
  if (text === "") return undefined;
  if (path.isAbsolute(text)) return path.resolve(text);
  // Compose reads `./x` and `../x` relative to its file; a bare name is a named volume.
  return text.startsWith(".") ? path.resolve(source.base, text) : undefined;
}

/** What mounting `host` hands a container, when it is credentials; undefined otherwise. */
function riskOf(host: string | undefined, env: Env): string | undefined {
  if (host === undefined) return undefined;
  const home = homeDir(env);
  const claude = configDir(env);
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}/`) || outer === "/";
  if (within(home, host) || within(claude, host)) {
    // The folder itself or one holding it: everything in it goes along.
    const inside = [
      ...(within(claude, host) ? [`all of ${claude} (Claude Code's login and settings)`] : []),
      ...CREDENTIALS.filter((c) => within(path.join(home, c.rel), host)).map((c) => c.what),
    ];
    return host === claude ? inside[0] : `${host} and with it ${inside.slice(0, 3).join(", ")}`;
  }
  const credential = CREDENTIALS.find((c) => within(host, path.join(home, c.rel)));
  if (credential) return credential.what;
  const unshared = NEVER_SHARED.find((name) => within(host, path.join(claude, name)));
  if (unshared) return `${path.join(claude, unshared)}, which claude-persist never shares`;
  return undefined;
}
