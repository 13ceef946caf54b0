// What a dev container config needs so that Claude Code's session data is shared with the host, and the edits
// that add it to a devcontainer.json (and take exactly that back out for `--isolated`).
//
// What gets added, each part recognisable again so that a second run changes nothing and removal is exact:
// - `mounts`: one bind mount per shared entry, string form (the object form ignores `readonly`).
// - `containerEnv.CLAUDE_PERSIST_HOST_WORKSPACE`: the host path of the workspace, for the hook in the container.
// - no `remoteEnv`: forwarding by name from a shared config blanks the variable for whoever lacks it (see
//   credentials.ts); the host-only launch config carries it, and an older version's entries are taken out.
// - `onCreateCommand`: makes the remote user own `~/.claude` (Docker creates mount parents root-owned).
// - `initializeCommand`: creates the missing source folders on the host, so that `up` works for a teammate
//   without the pack (a bind mount of a missing folder fails). Single files are never created.
// Blocks added inside existing arrays/objects, and new top-level properties, follow a `// claude-persist:` comment.
import { existsSync } from "node:fs";
import path from "node:path";
import { parse as parseJsonc, type Edit, type Node, applyEdits } from "jsonc-parser";
import { configDir, homeDir, type Env } from "../claude/home.ts";
import { HOST_FILE_LINKS_DIR, SHARED_ENTRIES, WORKSPACE_ENV, type SharedEntry } from "../claude/shared.ts";
import { UserError } from "../errors.ts";
import { seedCopyCommand } from "./claude-state.ts";
import { FORWARDED_ENV } from "./credentials.ts";
import { readBoundedText } from "../fs.ts";
import {
  appendEntries,
  detectLayout,
  innermostContainer,
  lineComments,
  blockLineStart,
  nodeValue,
  outermostEdits,
  parseDevcontainerConfig,
  parseJsoncObject,
  pathOf,
  removeEntries,
  type BlockEntry,
  type JsonValue,
  type MountObject,
  type TextLayout,
} from "./config.ts";


/** The comment that precedes what the pack adds; removal looks for it. */
export const JSON_MARKER = "// claude-persist: Claude Code session sharing with the host (`dev-open --isolated` removes it)";
const JSON_MARKER_PREFIX = "// claude-persist:";
/** The key of the pack's command in an object-form lifecycle command. */
export const LIFECYCLE_KEY = "claude-persist";
/** The key the user's own command moves to when a string or array lifecycle command becomes an object. */
export const ORIGINAL_KEY = "original";
/** Ends every shell command the pack adds (a shell comment), so that it is recognisable. */
const COMMAND_TAG = "# claude-persist";

// ---------------------------------------------------------------------------------------------------------------
// The plan: which mounts, from where to where

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
  const remoteEnvNames = [...new Set([...FORWARDED_ENV, ...[...(options.mcpEnvNames ?? [])].filter(isForwardableEnvName).sort()])];
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
    throw new UserError(`The Claude config path ${value} contains one of , " ' \\ $ \` or a line break; a mount cannot name it.`);
  }
}

const DEVCONTAINERS_IMAGE = /^mcr\.microsoft\.com\/(?:vscode\/)?devcontainers\/([^:@]+)/;

/** The container user's home: `--remote-home`, else from the first user we know, else the image's usual default. */
export function resolveContainerHome(hints: ContainerUserHints): string {
  if (hints.remoteHome) return checkContainerPath(hints.remoteHome.replace(/\/+$/, "") || "/");
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

function checkContainerPath(home: string): string {
  if (!/^\/[A-Za-z0-9._/-]*$/.test(home)) {
    throw new UserError(`--remote-home ${home}: use an absolute path of letters, digits, '.', '_', '-' and '/'.`);
  }
  return home;
}

/** The string form of a mount, as devcontainer.json writes it. */
export function mountString(mount: PersistenceMount): string {
  return `source=${mount.source},target=${mount.target},type=bind${mount.readonly ? ",readonly" : ""}`;
}

// ---------------------------------------------------------------------------------------------------------------
// MCP: which variables the user's servers need

/** Variables a container must never take from the host, even when an MCP config mentions them. */
const HOST_ONLY_ENV = new Set([
  "HOME", "PATH", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "TMPDIR", "TMP", "TEMP", "HOSTNAME", "TERM",
  "LANG", "DISPLAY", "SSH_AUTH_SOCK", "USERPROFILE", "APPDATA", "CLAUDE_CONFIG_DIR",
]);

export function isForwardableEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !HOST_ONLY_ENV.has(name) && !/^(?:LC_|XDG_)/.test(name);
}

/**
 * Names of the environment variables that MCP server configs reference, never their values: keys of `env`
 * objects, and `${VAR}`, `${VAR:-default}` and `$VAR` in any string of a server's config. Reads `mcp.json` and
 * `.mcp.json` (`mcpServers`) and `.claude.json` (`mcpServers`, and each project's, or only those of `projectDir`
 * and the folders under it when given). Missing or unreadable files count as empty.
 */
export function collectMcpEnvNames(files: readonly string[], options: { projectDir?: string } = {}): string[] {
  const names = new Set<string>();
  for (const file of files) {
    const value = readJsonLoosely(file);
    for (const server of mcpServersOf(value, options.projectDir)) collectServerEnvNames(server, names);
  }
  return [...names].filter(isForwardableEnvName).sort();
}

function readJsonLoosely(file: string): unknown {
  try {
    return parseJsonc(readBoundedText(file) ?? "", [], { allowTrailingComma: true });
  } catch {
    return undefined;
  }
}

function mcpServersOf(value: unknown, projectDir: string | undefined): unknown[] {
  if (!isRecord(value)) return [];
  const servers = recordValues(value.mcpServers);
  if (!isRecord(value.projects)) return servers;
  for (const [project, settings] of Object.entries(value.projects)) {
    if (projectDir && !isWithin(project, projectDir)) continue;
    if (isRecord(settings)) servers.push(...recordValues(settings.mcpServers));
  }
  return servers;
}

function collectServerEnvNames(server: unknown, names: Set<string>): void {
  if (!isRecord(server)) return;
  if (isRecord(server.env)) for (const key of Object.keys(server.env)) names.add(key);
  for (const text of stringsIn(server)) {
    for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
      const name = match[1] ?? match[2];
      if (name) names.add(name);
    }
  }
}

function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (isRecord(value)) return Object.values(value).flatMap(stringsIn);
  return [];
}

function isWithin(child: string, parent: string): boolean {
  const relative = path.relative(path.resolve(parent), path.resolve(child));
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function recordValues(value: unknown): unknown[] {
  return isRecord(value) ? Object.values(value) : [];
}

// ---------------------------------------------------------------------------------------------------------------
// Reading mounts back

/** The target of a mount in string or object form, normalised (`dst`/`destination` count, `/a/b/` = `/a/b`). */
export function mountTarget(mount: string | MountObject): string | undefined {
  const target = typeof mount === "string" ? parseMountString(mount).target : mount.target;
  return target ? normaliseTarget(target) : undefined;
}

export function normaliseTarget(target: string): string {
  const normalised = path.posix.normalize(target.trim());
  return normalised.length > 1 ? normalised.replace(/\/+$/, "") : normalised;
}

/** `type=bind,src=/a,dst=/b,readonly` → `{ type: "bind", source: "/a", target: "/b", readonly: "" }`. */
export function parseMountString(mount: string): Record<string, string> {
  const aliases: Record<string, string> = { src: "source", dst: "target", destination: "target", ro: "readonly" };
  const fields: Record<string, string> = {};
  for (const part of mount.split(",")) {
    const equals = part.indexOf("=");
    const key = (equals === -1 ? part : part.slice(0, equals)).trim();
    if (key) fields[aliases[key] ?? key] = equals === -1 ? "" : part.slice(equals + 1);
  }
  return fields;
}

/** Normalised targets of every mount in a devcontainer.json text. */
export function configMountTargets(text: string, file = "devcontainer.json"): string[] {
  const { config } = parseDevcontainerConfig(text, file);
  return (config.mounts ?? []).map(mountTarget).filter((target): target is string => target !== undefined);
}

/** A mount the pack writes: a bind of `<root>/<entry>` on `<home>/.claude/<entry>`, nothing else. */
function isPackMount(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const fields = parseMountString(value);
  const keys = Object.keys(fields);
  if (fields.type !== "bind" || !keys.every((key) => ["source", "target", "type", "readonly"].includes(key))) return false;
  return SHARED_ENTRIES.some(
    (entry) =>
      fields.source?.endsWith(`/${entry.name}`) === true &&
      fields.target?.endsWith(`/.claude/${entry.name}`) === true &&
      ("readonly" in fields) === (entry.access === "read-only"),
  );
}

function isPackEnvEntry(key: string, value: JsonValue): boolean {
  return value === `\${localEnv:${key}}` || WORKSPACE_ENV[key] === value;
}

function isPackCommand(value: JsonValue): boolean {
  return typeof value === "string" && value.endsWith(COMMAND_TAG);
}

/** True when a lifecycle command is absent or holds nothing but what the pack added. */
export function isOnlyPackCommand(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value === "string") return isPackCommand(value);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.keys(value).every((key) => key === LIFECYCLE_KEY);
}

// ---------------------------------------------------------------------------------------------------------------
// The lifecycle commands the pack adds

/**
 * Runs once when the container is created, as the remote user, before an editor attaches. Docker creates
 * `~/.claude` root-owned when it mounts its subfolders; Claude Code then cannot create its own folders there and
 * silently skips hooks. `sudo -n` works on the devcontainers images (and wherever the user has sudo without a
 * password); when the user cannot, it says so in the creation log instead of failing the container. Then the
 * host user's first-run choices are copied in (see claude-state.ts), so that `claude` there does not start over.
 */
export function ownershipCommand(containerHome: string): string {
  const dir = `${containerHome}/.claude`;
  const steps = [seedCopyCommand(containerHome)];
  if (containerHome !== "/root") {
    steps.unshift(
      `test -O ${dir} || sudo -n chown $(id -u):$(id -g) ${dir} 2>/dev/null || ` +
        `echo "claude-persist: ${dir} is not owned by $(id -un) and sudo is not available; Claude Code may skip hooks" >&2`,
    );
  }
  return `${steps.join("; ")} ${COMMAND_TAG}`;
}

/**
 * Runs on the host before every `up`: creates the missing source folders (mode 0700, as Claude Code does) and
 * points each single file's link at the file, or at /dev/null where this host has none (see HOST_FILE_LINKS_DIR).
 */
export function sourceFoldersCommand(plan: PersistencePlan): string | undefined {
  const folders = plan.mounts.filter((mount) => mount.kind === "dir").map((mount) => mount.name);
  const files = plan.mounts.filter((mount) => mount.kind === "file").map((mount) => mount.name);
  if (folders.length === 0 && files.length === 0) return undefined;
  const root = `"${plan.sourceRoot}"`;
  const steps = [`mkdir -p -m 700 ${root}`, `cd ${root}`];
  if (folders.length > 0) steps.push(`mkdir -p -m 700 ${folders.join(" ")}`);
  if (files.length > 0) {
    const up = HOST_FILE_LINKS_DIR.split("/").map(() => "..").join("/");
    steps.push(
      `mkdir -p -m 700 ${path.posix.dirname(HOST_FILE_LINKS_DIR)} ${HOST_FILE_LINKS_DIR}`,
      `for f in ${files.join(" ")}; do if [ -e "$f" ]; then ln -sfn "${up}/$f" "${HOST_FILE_LINKS_DIR}/$f"; else ln -sfn /dev/null "${HOST_FILE_LINKS_DIR}/$f"; fi; done`,
    );
  }
  return `${steps.join(" && ")} ${COMMAND_TAG}`;
}

const LIFECYCLE_PROPERTIES = ["initializeCommand", "onCreateCommand"] as const;
type LifecycleProperty = (typeof LIFECYCLE_PROPERTIES)[number];

function desiredCommands(plan: PersistencePlan): Partial<Record<LifecycleProperty, string>> {
  const commands: Partial<Record<LifecycleProperty, string>> = {};
  const folders = sourceFoldersCommand(plan);
  if (folders) commands.initializeCommand = folders;
  commands.onCreateCommand = ownershipCommand(plan.containerHome);
  return commands;
}

// ---------------------------------------------------------------------------------------------------------------
// ensurePersistenceMounts

export type EnsureOptions = {
  /** For messages. */
  readonly file?: string;
  /** False for compose-based configs: their mounts go into the compose file (see compose.ts). */
  readonly includeMounts?: boolean;
};

export type EditResult = {
  readonly text: string;
  readonly added: string[];
  readonly skipped: Skipped[];
  readonly changed: boolean;
};

type Part = { edits: Edit[]; newProperties: BlockEntry[]; added: string[]; skipped: Skipped[] };

/** Adds what the plan needs to a devcontainer.json text; leaves everything already there as it is. */
export function ensurePersistenceMounts(text: string, plan: PersistencePlan, options: EnsureOptions = {}): EditResult {
  const file = options.file ?? "devcontainer.json";
  const { tree, config } = parseDevcontainerConfig(text, file);
  const layout = detectLayout(text);
  const parts: Part[] = [
    options.includeMounts === false ? emptyPart() : mountsPart(text, tree, config.mounts ?? [], plan, layout),
    envPart(text, tree, "containerEnv", WORKSPACE_ENV, layout),
    ...Object.entries(desiredCommands(plan)).map(([property, command]) => lifecyclePart(text, tree, property, command, layout)),
  ];
  const edits = parts.flatMap((part) => part.edits);
  const newProperties = parts.flatMap((part) => part.newProperties);
  if (newProperties.length > 0) {
    edits.push(...appendEntries(text, tree, [{ kind: "comment", text: JSON_MARKER }, ...newProperties], layout));
  }
  const result = withoutPackRemoteEnv(applyEdits(text, edits), file);
  parseJsoncObject(result, `${file} (as edited)`);
  return {
    text: result,
    added: parts.flatMap((part) => part.added),
    skipped: [...(options.includeMounts === false ? [] : plan.skipped), ...parts.flatMap((part) => part.skipped)],
    changed: result !== text,
  };
}

/**
 * An earlier version forwarded credentials with `remoteEnv: {X: "${localEnv:X}"}` in the repo's config, which
 * gives X="" to everyone who has not set it (see credentials.ts). Takes out exactly those entries: the ones in a
 * block the pack marked, or a whole remoteEnv the pack added; the user's own entries stay.
 */
function withoutPackRemoteEnv(text: string, file: string): string {
  const tree = parseJsoncObject(text, file);
  const object = propertyValueNode(tree, "remoteEnv");
  const property = object?.parent;
  if (!object || !property) return text;
  const isOurs = (child: Node) => isPackProperty(child, (key, value) => value === `\${localEnv:${key}}`);
  const children = object.children ?? [];
  const rootChildren = tree.children ?? [];
  const at = rootChildren.indexOf(property);
  const markerBefore = lineComments(text).some((comment) => {
    if (!comment.text.startsWith(JSON_MARKER_PREFIX) || comment.offset > property.offset || innermostContainer(tree, comment.offset) !== tree) return false;
    const between = rootChildren.slice(0, at).filter((child) => child.offset > comment.offset);
    return between.every((child) => ["mounts", "containerEnv"].includes(String(child.children?.[0]?.value)));
  });
  if (markerBefore && children.length > 0 && children.every(isOurs)) {
    return applyEdits(text, removeEntries(text, property.offset, property, rootChildren[at - 1]));
  }
  const edits: Edit[] = [];
  for (const comment of lineComments(text)) {
    if (!comment.text.startsWith(JSON_MARKER_PREFIX) || innermostContainer(tree, comment.offset) !== object) continue;
    const start = children.findIndex((child) => child.offset > comment.offset);
    let end = start;
    while (end !== -1 && end < children.length && isOurs(children[end] as Node)) end++;
    if (start === -1 || end === start) continue;
    edits.push(...removeEntries(text, comment.offset, children[end - 1] as Node, children[start - 1]));
  }
  return edits.length === 0 ? text : applyEdits(text, edits);
}

function emptyPart(): Part {
  return { edits: [], newProperties: [], added: [], skipped: [] };
}

function propertyValueNode(container: Node, key: string): Node | undefined {
  const property = container.children?.find((child) => child.children?.[0]?.value === key);
  return property?.children?.[1];
}

function mountsPart(
  text: string,
  tree: Node,
  existing: readonly (string | MountObject)[],
  plan: PersistencePlan,
  layout: TextLayout,
): Part {
  const part = emptyPart();
  const mounted = new Set(existing.map(mountTarget));
  const wanted: string[] = [];
  for (const mount of plan.mounts) {
    if (mounted.has(normaliseTarget(mount.target))) {
      const ours = existing.some((item) => mountTarget(item) === normaliseTarget(mount.target) && isPackMount(item));
      if (!ours) part.skipped.push({ name: mount.name, reason: `${mount.target} is already mounted by the config` });
      continue;
    }
    wanted.push(mountString(mount));
    part.added.push(mount.name);
  }
  if (wanted.length === 0) return part;
  const array = propertyValueNode(tree, "mounts");
  if (!array) {
    part.newProperties.push({ kind: "property", key: "mounts", value: wanted });
    return part;
  }
  const entries: BlockEntry[] = wanted.map((value) => ({ kind: "value", value }));
  part.edits.push(...appendEntries(text, array, [{ kind: "comment", text: JSON_MARKER }, ...entries], layout));
  return part;
}

function envPart(text: string, tree: Node, property: "containerEnv" | "remoteEnv", wanted: Record<string, string>, layout: TextLayout): Part {
  const part = emptyPart();
  const object = propertyValueNode(tree, property);
  const present = new Set((object?.children ?? []).map((child) => String(child.children?.[0]?.value)));
  const missing = Object.entries(wanted).filter(([key]) => !present.has(key));
  if (missing.length === 0) return part;
  part.added.push(...missing.map(([key]) => `${property}.${key}`));
  if (!object) {
    part.newProperties.push({ kind: "property", key: property, value: Object.fromEntries(missing) });
    return part;
  }
  const entries: BlockEntry[] = missing.map(([key, value]) => ({ kind: "property", key, value }));
  part.edits.push(...appendEntries(text, object, [{ kind: "comment", text: JSON_MARKER }, ...entries], layout));
  return part;
}

/**
 * Adds the pack's command to a lifecycle property without breaking what is there: absent → our string; a string
 * or array (one command) → an object of parallel commands holding ours and the original, verbatim; an object →
 * one more key. Our own command, when present, is updated in place if the plan changed.
 */
function lifecyclePart(text: string, tree: Node, property: string, command: string, layout: TextLayout): Part {
  const part = emptyPart();
  const value = propertyValueNode(tree, property);
  if (!value) {
    part.newProperties.push({ kind: "property", key: property, value: command });
    part.added.push(property);
    return part;
  }
  const current = nodeValue(value);
  if (isPackCommand(current)) {
    if (current !== command) part.edits.push(replaceNode(value, JSON.stringify(command)));
    return part;
  }
  if (value.type === "string" || value.type === "array") {
    part.edits.push(replaceNode(value, wrappedCommand(text, value, command, layout)));
    part.added.push(property);
    return part;
  }
  if (value.type !== "object") {
    part.skipped.push({ name: property, reason: `${property} is neither a command nor an object of commands` });
    return part;
  }
  const ours = propertyValueNode(value, LIFECYCLE_KEY);
  if (ours) {
    if (nodeValue(ours) !== command) part.edits.push(replaceNode(ours, JSON.stringify(command)));
    return part;
  }
  part.edits.push(...appendEntries(text, value, [{ kind: "property", key: LIFECYCLE_KEY, value: command }], layout));
  part.added.push(property);
  return part;
}

function wrappedCommand(text: string, value: Node, command: string, layout: TextLayout): string {
  const indent = /^[ \t]*/.exec(text.slice(text.lastIndexOf("\n", value.offset - 1) + 1))?.[0] ?? "";
  const inner = indent + layout.indentUnit;
  const original = text.slice(value.offset, value.offset + value.length);
  return (
    `{${layout.eol}${inner}${JSON.stringify(LIFECYCLE_KEY)}: ${JSON.stringify(command)},` +
    `${layout.eol}${inner}${JSON.stringify(ORIGINAL_KEY)}: ${original}${layout.eol}${indent}}`
  );
}

function replaceNode(node: Node, content: string): Edit {
  return { offset: node.offset, length: node.length, content };
}

// ---------------------------------------------------------------------------------------------------------------
// removePersistenceMounts

export type RemoveResult = { readonly text: string; readonly removed: string[]; readonly changed: boolean };

/** Takes out exactly what ensurePersistenceMounts added; every other byte stays as it is. */
export function removePersistenceMounts(text: string, options: { file?: string } = {}): RemoveResult {
  const file = options.file ?? "devcontainer.json";
  const tree = parseJsoncObject(text, file);
  const removed: string[] = [];
  const edits = [...markedBlockEdits(text, tree, removed), ...lifecycleRemovalEdits(text, tree, removed)];
  const result = applyEdits(text, outermostEdits(edits));
  parseJsoncObject(result, `${file} (as edited)`);
  return { text: result, removed: [...new Set(removed)], changed: result !== text };
}

/**
 * Every block that follows a marker comment: the run of siblings after it that the pack wrote. A property the pack
 * created that the user has since added to (a `mounts` list with their own mount) loses only the pack's entries.
 */
function markedBlockEdits(text: string, tree: Node, removed: string[]): Edit[] {
  const edits: Edit[] = [];
  for (const comment of lineComments(text)) {
    if (!comment.text.startsWith(JSON_MARKER_PREFIX)) continue;
    const container = innermostContainer(tree, comment.offset);
    const children = container.children ?? [];
    const location = pathOf(container);
    const isOurs = packEntryTest(location);
    let index = children.findIndex((child) => child.offset > comment.offset);
    if (index === -1) index = children.length;
    let runStart = index;
    let firstOffset = comment.offset;
    const flush = (end: number) => {
      const last = children[end - 1];
      if (end > runStart && last) {
        edits.push(...removeEntries(text, firstOffset, last, children[runStart - 1]));
        removed.push(...children.slice(runStart, end).map((child) => describeEntry(location, child)));
      } else if (firstOffset === comment.offset) {
        const start = blockLineStart(text, comment.offset);
        edits.push({ offset: start, length: comment.offset + comment.text.length - start, content: "" });
      }
    };
    for (; index < children.length; index++) {
      const child = children[index] as Node;
      if (isOurs(child)) continue;
      const value = location.length === 0 && isPackRootKey(child) ? child.children?.[1] : undefined;
      if (!value) break;
      flush(index);
      edits.push(...packRunEdits(text, value, removed));
      runStart = index + 1;
      firstOffset = children[runStart]?.offset ?? 0;
    }
    flush(index);
  }
  return edits;
}

/** Removes the runs of pack entries inside a container the user has also written to. */
function packRunEdits(text: string, container: Node, removed: string[]): Edit[] {
  const children = container.children ?? [];
  const location = pathOf(container);
  const isOurs = packEntryTest(location);
  const edits: Edit[] = [];
  for (let start = 0; start < children.length; start++) {
    if (!isOurs(children[start] as Node)) continue;
    let end = start;
    while (end + 1 < children.length && isOurs(children[end + 1] as Node)) end++;
    const first = children[start] as Node;
    edits.push(...removeEntries(text, first.offset, children[end] as Node, children[start - 1]));
    removed.push(...children.slice(start, end + 1).map((child) => describeEntry(location, child)));
    start = end;
  }
  return edits;
}

function isPackRootKey(child: Node): boolean {
  const key = String(child.children?.[0]?.value);
  return key === "mounts" || key === "containerEnv" || key === "remoteEnv";
}

function describeEntry(location: (string | number)[], child: Node): string {
  const where = location.join(".");
  if (child.type === "property") return [where, String(child.children?.[0]?.value)].filter(Boolean).join(".");
  const target = parseMountString(String(child.value ?? "")).target;
  return target ? path.posix.basename(target) : where;
}

/** Which children of the container at `location` the pack writes. */
function packEntryTest(location: (string | number)[]): (child: Node) => boolean {
  const where = location.join(".");
  if (where === "mounts") return (child) => isPackMount(nodeValue(child));
  if (where === "containerEnv" || where === "remoteEnv") return (child) => isPackProperty(child, isPackEnvEntry);
  if (where === "") return (child) => isPackProperty(child, isPackRootProperty);
  return () => false;
}

function isPackProperty(child: Node, test: (key: string, value: JsonValue) => boolean): boolean {
  const [key, value] = child.children ?? [];
  return child.type === "property" && key !== undefined && value !== undefined && test(String(key.value), nodeValue(value));
}

function isPackRootProperty(key: string, value: JsonValue): boolean {
  if (key === "mounts") return Array.isArray(value) && value.length > 0 && value.every(isPackMount);
  if (key === "containerEnv" || key === "remoteEnv") {
    const entries = value !== null && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [];
    return entries.length > 0 && entries.every(([name, item]) => isPackEnvEntry(name, item));
  }
  return (LIFECYCLE_PROPERTIES as readonly string[]).includes(key) && isPackCommand(value);
}

/** Lifecycle commands the pack merged into the user's: unwrap `{claude-persist, original}`, drop our key. */
function lifecycleRemovalEdits(text: string, tree: Node, removed: string[]): Edit[] {
  const edits: Edit[] = [];
  for (const property of LIFECYCLE_PROPERTIES) {
    const value = propertyValueNode(tree, property);
    if (!value || value.type !== "object") continue;
    const children = value.children ?? [];
    const index = children.findIndex((child) => child.children?.[0]?.value === LIFECYCLE_KEY);
    const ours = children[index];
    if (!ours || !isPackCommand(nodeValue(ours.children?.[1] as Node))) continue;
    const original = propertyValueNode(value, ORIGINAL_KEY);
    if (children.length === 2 && index === 0 && original) {
      edits.push(replaceNode(value, text.slice(original.offset, original.offset + original.length)));
    } else {
      edits.push(...removeEntries(text, ours.offset, ours, children[index - 1]));
    }
    removed.push(property);
  }
  return edits;
}
