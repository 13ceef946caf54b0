// The first-run choices a person already made on the host, carried into a dev container's `.claude.json`, so that
// interactive `claude` there carries on at once instead of showing Claude Code's first-run flow (theme, login
// method, key approval, folder trust): the container's `.claude.json` is new in every container.
//
// By explicit allowlist only: onboarding done and its version, the theme, the approved API-key suffixes, and for
// the opened workspace its folder trust and project onboarding, carried from the host path to the container path;
// plus the user-scope MCP servers whose secrets are environment references. Never `oauthAccount`, `userID`,
// tokens, other projects, or a literal secret.
//
// Two ways in: dev-open merges it into the container's file over `docker exec` when it launches or finds the
// container (the file's other keys stay), and for a container an editor creates from the config, the config's
// onCreateCommand copies the seed dev-open left in the pack's code folder (read-only in containers, so that no
// container changes what the next one is seeded with), with plain `sh` (the image may have no node).
import { rmSync, statSync } from "node:fs";
import path from "node:path";
import { runProcess } from "../../child-process.ts";
import * as z from "zod/mini";
import { encodeProjectSlug, globalStatePath, PACK_CODE_DIR, packStateDir, type Env } from "../../claude/home.ts";
import { UserError } from "../../errors.ts";
import { readRegularText, replaceFileIn } from "../../fs.ts";
import { withDirBeneath } from "../../fs-beneath.ts";
import { once } from "../../once.ts";
import { STATE, statePath, stateRoot } from "../../state/paths.ts";
import { type McpServer, type NotShared, shareableMcpServers } from "./mcp-sharing.ts";
import { rememberSeeded, seededAlready, seedFingerprint } from "./seed-record.ts";
import { isRecord } from "../../json.ts";

/** Larger than any `.claude.json` seen in use (they hold every project's settings), small enough to read at once. */
const MAX_STATE_BYTES = 32 * 1024 * 1024;
const DOCKER_TIMEOUT_MS = 20_000;

// Built at first use, not at the command's start.
const projectSchema = once(() =>
  z.looseObject({
    hasTrustDialogAccepted: z.optional(z.boolean()),
    hasCompletedProjectOnboarding: z.optional(z.boolean()),
    projectOnboardingSeenCount: z.optional(z.number().check(z.int(), z.nonnegative())),
  }),
);

const hostStateSchema = once(() =>
  z.looseObject({
    hasCompletedOnboarding: z.optional(z.boolean()),
    lastOnboardingVersion: z.optional(z.string()),
    theme: z.optional(z.string()),
    customApiKeyResponses: z.optional(z.looseObject({ approved: z.optional(z.array(z.string())) })),
    projects: z.optional(z.record(z.string(), z.unknown())),
    mcpServers: z.optional(z.record(z.string(), z.unknown())),
  }),
);

type ProjectChoices = z.infer<ReturnType<typeof projectSchema>>;

/** What goes into the container's `.claude.json`: nothing but these keys. */
export type ClaudeStateSeed = {
  hasCompletedOnboarding?: boolean;
  lastOnboardingVersion?: string;
  theme?: string;
  customApiKeyResponses?: { approved: string[] };
  projects?: Record<string, ProjectChoices>;
  mcpServers?: Record<string, McpServer>;
};

export type SeedPlan = { readonly seed: ClaudeStateSeed; readonly mcpNotShared: NotShared[] };

/** The host's `.claude.json`, parsed loosely; undefined when it is missing, not a regular file, too big or not JSON. */
export function readHostClaudeState(env: Env): unknown {
  let text: string | undefined;
  try {
    text = readRegularText(globalStatePath(env), MAX_STATE_BYTES);
  } catch {
    // A link, a FIFO, too big or unreadable: nothing to seed from, as for a missing file.
    return undefined;
  }
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON: nothing to seed from (see above).
    return undefined;
  }
}

/**
 * The seed for a container whose workspace `containerWorkspace` is `hostWorkspace` on the host. Folder trust counts
 * when the host trusted the workspace or a folder above it (Claude Code asks once for a parent).
 */
export function planClaudeStateSeed(
  hostState: unknown,
  where: { hostWorkspace: string; containerWorkspace: string },
): SeedPlan {
  const parsed = hostStateSchema().safeParse(hostState);
  if (!parsed.success) return { seed: {}, mcpNotShared: [] };
  const host = parsed.data;
  const seed: ClaudeStateSeed = {};
  if (host.hasCompletedOnboarding !== undefined) seed.hasCompletedOnboarding = host.hasCompletedOnboarding;
  if (host.lastOnboardingVersion !== undefined) seed.lastOnboardingVersion = host.lastOnboardingVersion;
  if (host.theme !== undefined) seed.theme = host.theme;
  const approved = host.customApiKeyResponses?.approved;
  if (approved && approved.length > 0) seed.customApiKeyResponses = { approved: [...approved] };
  const project = projectChoices(host.projects ?? {}, where.hostWorkspace);
  if (Object.keys(project).length > 0) seed.projects = { [where.containerWorkspace]: project };
  const { shared, notShared } = shareableMcpServers(host.mcpServers ?? {});
  if (Object.keys(shared).length > 0) seed.mcpServers = shared;
  return { seed, mcpNotShared: notShared };
}

function projectChoices(projects: Record<string, unknown>, hostWorkspace: string): ProjectChoices {
  const own = projectSchema().safeParse(projects[hostWorkspace]);
  const choices: ProjectChoices = {};
  if (own.success) {
    if (own.data.hasTrustDialogAccepted !== undefined) choices.hasTrustDialogAccepted = own.data.hasTrustDialogAccepted;
    if (own.data.hasCompletedProjectOnboarding !== undefined)
      choices.hasCompletedProjectOnboarding = own.data.hasCompletedProjectOnboarding;
    if (own.data.projectOnboardingSeenCount !== undefined)
      choices.projectOnboardingSeenCount = own.data.projectOnboardingSeenCount;
  }
  if (!choices.hasTrustDialogAccepted) {
    const trustedAbove = Object.entries(projects).some(
      ([folder, value]) =>
        isAncestor(folder, hostWorkspace) && projectSchema().safeParse(value).data?.hasTrustDialogAccepted === true,
    );
    if (trustedAbove) choices.hasTrustDialogAccepted = true;
  }
  return choices;
}

function isAncestor(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return path.isAbsolute(parent) && relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

/**
 * The container's `.claude.json` with the seed merged in: every key it has stays; onboarding is marked done, the
 * theme and version are filled in only where missing, approvals are added to, the workspace's project gains the
 * host's trust, and MCP servers it lacks are added.
 */
export function mergeClaudeState(existing: Record<string, unknown>, seed: ClaudeStateSeed): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...existing };
  if (seed.hasCompletedOnboarding) merged.hasCompletedOnboarding = true;
  if (seed.lastOnboardingVersion && typeof merged.lastOnboardingVersion !== "string")
    merged.lastOnboardingVersion = seed.lastOnboardingVersion;
  if (seed.theme && typeof merged.theme !== "string") merged.theme = seed.theme;
  if (seed.customApiKeyResponses) {
    const responses = isRecord(merged.customApiKeyResponses) ? merged.customApiKeyResponses : {};
    const approved = Array.isArray(responses.approved)
      ? responses.approved.filter((item) => typeof item === "string")
      : [];
    merged.customApiKeyResponses = {
      ...responses,
      approved: [...new Set([...approved, ...seed.customApiKeyResponses.approved])],
    };
  }
  if (seed.projects) {
    const projects = isRecord(merged.projects) ? { ...merged.projects } : {};
    for (const [folder, choices] of Object.entries(seed.projects)) {
      const current = isRecord(projects[folder]) ? projects[folder] : {};
      const added: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(choices))
        if (key === "hasTrustDialogAccepted" ? value === true : current[key] === undefined) added[key] = value;
      projects[folder] = { ...current, ...added };
    }
    merged.projects = projects;
  }
  if (seed.mcpServers) {
    const servers = isRecord(merged.mcpServers) ? { ...merged.mcpServers } : {};
    for (const [name, server] of Object.entries(seed.mcpServers)) if (!(name in servers)) servers[name] = server;
    merged.mcpServers = servers;
  }
  return merged;
}

// ---------------------------------------------------------------------------------------------------------------
// Into a running container

/** Claude Code's state file as the container's user sees it (CLAUDE_CONFIG_DIR moves it, as the anchors set it). */
const CONTAINER_STATE_FILE = '"${CLAUDE_CONFIG_DIR:-$HOME}/.claude.json"';

export type SeedOutcome =
  | { readonly kind: "written" | "unchanged" }
  | { readonly kind: "left-alone"; readonly reason: string };

/**
 * Merges the seed into the container's `.claude.json` as its user, through `docker exec` (no node needed there).
 * A file that is not a JSON object is left as it is, and said so. Skipped when this container already got this seed.
 */
export async function seedRunningContainer(
  containerId: string,
  user: string,
  seed: ClaudeStateSeed,
  env: NodeJS.ProcessEnv,
): Promise<SeedOutcome> {
  const fingerprint = seedFingerprint(user, seed);
  if (seededAlready(env, containerId, fingerprint)) return { kind: "unchanged" };
  const outcome = await mergeIntoContainer(containerId, user, seed, env);
  if (outcome.kind !== "left-alone") rememberSeeded(env, containerId, fingerprint);
  return outcome;
}

async function mergeIntoContainer(
  containerId: string,
  user: string,
  seed: ClaudeStateSeed,
  env: NodeJS.ProcessEnv,
): Promise<SeedOutcome> {
  const dockerEnv = { env, timeout: DOCKER_TIMEOUT_MS } as const;
  const read = await runProcess(
    "docker",
    [
      "exec",
      "-u",
      user,
      containerId,
      "sh",
      "-c",
      `f=${CONTAINER_STATE_FILE}; if [ -f "$f" ]; then head -c ${MAX_STATE_BYTES + 1} "$f"; fi`,
    ],
    dockerEnv,
  );
  if (read.exitCode !== 0)
    return {
      kind: "left-alone",
      reason: `could not read it (${read.stderr.trim().split("\n")[0] ?? `exit ${read.exitCode}`})`,
    };
  let existing: Record<string, unknown> = {};
  if (read.stdout.trim() !== "") {
    if (read.stdout.length > MAX_STATE_BYTES) return { kind: "left-alone", reason: "it is larger than 32 MB" };
    let parsed: unknown;
    try {
      parsed = JSON.parse(read.stdout);
    } catch {
      return { kind: "left-alone", reason: "it is not valid JSON" };
    }
    if (!isRecord(parsed)) return { kind: "left-alone", reason: "it is not a JSON object" };
    existing = parsed;
  }
  const merged = mergeClaudeState(existing, seed);
  if (JSON.stringify(merged) === JSON.stringify(existing)) return { kind: "unchanged" };
  const write = await runProcess(
    "docker",
    [
      "exec",
      "-i",
      "-u",
      user,
      containerId,
      "sh",
      "-c",
      `f=${CONTAINER_STATE_FILE}; umask 077; cat > "$f.claude-persist.tmp" && mv -f "$f.claude-persist.tmp" "$f"`,
    ],
    { ...dockerEnv, input: `${JSON.stringify(merged, null, 2)}\n` },
  );
  if (write.exitCode !== 0)
    return {
      kind: "left-alone",
      reason: `could not write it (${write.stderr.trim().split("\n")[0] ?? `exit ${write.exitCode}`})`,
    };
  return { kind: "written" };
}

// ---------------------------------------------------------------------------------------------------------------
// For a container an editor creates: a seed file in the pack's code folder, copied by the config's onCreateCommand

/** The seed's file name for a container workspace, in `persist/seeds/` (mounted read-only into containers). */
export function seedFileName(containerWorkspace: string): string {
  return `container-claude-${encodeProjectSlug(containerWorkspace)}.json`;
}

/**
 * Writes the seed where the container's onCreateCommand finds it: in the pack's code folder, which containers mount
 * read-only, so that one container cannot choose what the next new one is seeded with. The file is replaced by a
 * rename, through folders reached without following links.
 */
export function writeSeedFile(env: Env, containerWorkspace: string, seed: ClaudeStateSeed): string {
  const root = stateRoot(env, STATE.containerSeeds);
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UserError(`${root} is not a folder: run 'claude-persist install' again`);
  }
  const name = seedFileName(containerWorkspace);
  const text = `${JSON.stringify(seed, null, 2)}\n`;
  withDirBeneath(root, STATE.containerSeeds.name, (dir) => replaceFileIn(dir, name, text, 0o600), { create: true });
  // Older versions left it in the shared state, where containers can change it; nothing reads it there any more.
  rmSync(path.join(packStateDir(env), name), { force: true });
  return path.join(statePath(env, STATE.containerSeeds), name);
}

/**
 * The shell step of onCreateCommand: when the container has no `.claude.json` yet, copy the seed dev-open left for
 * this workspace (found by the slug of CLAUDE_PERSIST_CONTAINER_WORKSPACE). Plain sh and coreutils; a teammate
 * without the pack has no seed, and nothing happens.
 */
export function seedCopyCommand(containerHome: string): string {
  const seedDir = `${containerHome}/.claude/${PACK_CODE_DIR}/${STATE.containerSeeds.name}`;
  return (
    `f=${CONTAINER_STATE_FILE}; ` +
    `s="${seedDir}/container-claude-$(printf %s "$CLAUDE_PERSIST_CONTAINER_WORKSPACE" | tr -c 'A-Za-z0-9' '-').json"; ` +
    `if [ ! -e "$f" ] && [ -f "$s" ]; then (umask 077; cp "$s" "$f"); fi`
  );
}

// ---------------------------------------------------------------------------------------------------------------
// What dev-open calls

/**
 * Plans the seed for a workspace and leaves its file for containers an editor creates; returns the seed and one
 * line per MCP server that is not shared, for the person to read.
 */
export function prepareClaudeStateSeed(
  env: Env,
  hostWorkspace: string,
  containerWorkspace: string,
): { seed: ClaudeStateSeed; messages: string[] } {
  const { seed, mcpNotShared } = planClaudeStateSeed(readHostClaudeState(env), { hostWorkspace, containerWorkspace });
  writeSeedFile(env, containerWorkspace, seed);
  const messages = mcpNotShared.map(
    (server) => `MCP server '${server.name}' is not shared with the container: ${server.reason}.`,
  );
  return { seed, messages };
}

/** One line on what the container's `.claude.json` now holds. */
export function describeSeedOutcome(outcome: SeedOutcome, seed: ClaudeStateSeed): string {
  const carried = [
    seed.hasCompletedOnboarding ? "onboarding" : undefined,
    seed.theme ? "theme" : undefined,
    seed.customApiKeyResponses ? "API key approval" : undefined,
    seed.projects && Object.values(seed.projects).some((p) => p.hasTrustDialogAccepted) ? "folder trust" : undefined,
    seed.mcpServers ? `${Object.keys(seed.mcpServers).length} MCP server(s)` : undefined,
  ].filter((item): item is string => item !== undefined);
  if (outcome.kind === "left-alone")
    return `Left the container's .claude.json as it is (${outcome.reason}): Claude there may show its first-run screens.`;
  if (carried.length === 0) return "Claude Code on this host has no first-run choices to carry into the container yet.";
  return `Claude Code in the container has your ${carried.join(", ")} from this host${outcome.kind === "unchanged" ? " (already there)" : ""}.`;
}
