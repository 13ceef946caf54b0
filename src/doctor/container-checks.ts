// What `claude-persist doctor` checks from inside a dev container, and the cheap subset the SessionStart hook can
// run: plain fs calls and one read of /proc/self/mountinfo, no processes, no heavy imports (a few ms).
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { configDir, homeDir, PACK_CODE_DIR, realpathOrSelf, type Env } from "../claude/home.ts";
import { shellWord } from "../text.ts";
import {
  CONTAINER_WORKSPACE_ENV,
  HOST_WORKSPACE_ENV,
  READ_ONLY_ENTRIES,
  READ_WRITE_ENTRIES,
} from "../claude/shared.ts";
import { projectLinkState, type ProjectLinkState, type Workspaces } from "../devcontainer/project-link.ts";
import { type CheckResult, fail, ok, warn } from "./report.ts";

/** A path as a person types it: `~/…` under HOME, shell-quoted where it must be. */
export function displayPath(file: string, env: Env): string {
  const home = homeDir(env);
  const relative = path.relative(home, file);
  if (relative === "") return "~";
  if (!relative.startsWith("..") && !path.isAbsolute(relative)) return `~/${shellWord(relative)}`;
  return shellWord(file);
}

/** Mount points of this process's mount namespace, with whether each is mounted read-only. */
export function readMountPoints(file = "/proc/self/mountinfo"): Map<string, { readonly readOnly: boolean }> {
  const mounts = new Map<string, { readOnly: boolean }>();
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    // No mountinfo (not Linux, no /proc): no mount is known.
    return mounts;
  }
  for (const line of text.split("\n")) {
    // id parent major:minor root mount-point options …
    const fields = line.split(" ");
    const point = fields[4];
    if (!point) continue;
    const decoded = point.replace(/\\([0-7]{3})/g, (_, octal: string) =>
      String.fromCharCode(Number.parseInt(octal, 8)),
    );
    mounts.set(decoded, { readOnly: (fields[5] ?? "").split(",").includes("ro") });
  }
  return mounts;
}

type Mounts = ReturnType<typeof readMountPoints>;

function isWritable(file: string): boolean {
  try {
    accessSync(file, constants.W_OK);
    return true;
  } catch {
    // Any refusal means: not writable by this user.
    return false;
  }
}

function currentUid(): number {
  return process.getuid?.() ?? 0;
}

const ON_HOST_REBUILD = "on the host, in this repo: dev-open --rebuild";

/** `~/.claude` must belong to the container user: else Claude Code cannot create its folders and skips hooks. */
function checkClaudeHomeOwner(env: Env): CheckResult {
  const dir = configDir(env);
  const shown = displayPath(dir, env);
  let owner: number;
  try {
    owner = statSync(dir).uid;
  } catch {
    // Not there, or not reachable: missing, for Claude Code as for us.
    return fail(`${shown} is missing`, ON_HOST_REBUILD);
  }
  const uid = currentUid();
  if (owner === uid) return ok(`${shown} is yours`);
  if (uid === 0) return ok(`${shown} belongs to uid ${owner}; you are root`);
  return fail(
    `${shown} belongs to uid ${owner}, not to you (uid ${uid})`,
    `sudo chown ${uid}:${process.getgid?.() ?? uid} ${shown}`,
    "Claude Code cannot create its own folders there and silently skips the SessionStart hook",
  );
}

/** Where a read-write shared entry stands in this container. */
export type SharedEntryState = {
  readonly name: string;
  readonly kind: "dir" | "file";
  readonly state: "shared" | "missing" | "not-mounted" | "not-writable";
  readonly owner?: number;
};

/**
 * Each read-write shared entry: a mount (shared with the host) that this user can write, or what it is instead.
 * A single file the host does not have is left out: it is not mounted, and there is nothing to share yet.
 */
export function sharedEntryStates(env: Env, mounts: Mounts): SharedEntryState[] {
  const root = configDir(env);
  const states: SharedEntryState[] = [];
  for (const { name, kind } of READ_WRITE_ENTRIES) {
    const file = path.join(root, name);
    let owner: number;
    try {
      owner = statSync(file).uid;
    } catch {
      // Not there: a folder must be, a single file may be absent.
      if (kind === "dir") states.push({ name, kind, state: "missing" });
      continue;
    }
    if (!mounts.has(realpathOrSelf(file))) states.push({ name, kind, state: "not-mounted" });
    else if (!isWritable(file)) states.push({ name, kind, state: "not-writable", owner });
    else states.push({ name, kind, state: "shared" });
  }
  return states;
}

/** The shared entries' states as doctor's lines: one line per kind of problem. */
function checkSharedMounts(env: Env, states: readonly SharedEntryState[]): CheckResult[] {
  const names = (state: SharedEntryState["state"], kind?: SharedEntryState["kind"]) =>
    states.filter((s) => s.state === state && (kind === undefined || s.kind === kind)).map((s) => s.name);
  const shown = (list: string[]) =>
    `${displayPath(configDir(env), env)}/{${list.join(",")}}`.replace(/\{([^,{}]*)\}$/, "$1");
  const are = (list: string[]) => (list.length === 1 ? "is" : "are");
  const good = names("shared");
  const missing = names("missing");
  const unmountedDirs = names("not-mounted", "dir");
  // A single file the host lacked when the container was made is the container's own: a smaller loss.
  const unmountedFiles = names("not-mounted", "file");
  const readOnly = names("not-writable");
  const results: CheckResult[] = good.length > 0 ? [ok(`shared with the host and writable: ${good.join(", ")}`)] : [];
  if (missing.length > 0)
    results.push(fail(`${shown(missing)} ${are(missing)} missing: not shared with the host`, ON_HOST_REBUILD));
  if (unmountedDirs.length > 0) {
    results.push(
      fail(
        `${shown(unmountedDirs)} ${are(unmountedDirs)} not mounted: what is written there stays in this container`,
        ON_HOST_REBUILD,
      ),
    );
  }
  if (unmountedFiles.length > 0) {
    results.push(
      warn(
        `${shown(unmountedFiles)} ${are(unmountedFiles)} not mounted: what is written there stays in this container`,
        ON_HOST_REBUILD,
      ),
    );
  }
  if (readOnly.length > 0) {
    const owners = [...new Set(states.flatMap((s) => (s.state === "not-writable" ? [s.owner] : [])))].join(", ");
    results.push(
      fail(
        `${shown(readOnly)} ${are(readOnly)} not writable by you (uid ${currentUid()}; owned by uid ${owners})`,
        `on the host: set "updateRemoteUserUID": true in devcontainer.json, then dev-open --rebuild`,
      ),
    );
  }
  return results;
}

/** Configuration and the pack's code are mounted read-only: a container must not change the host's. */
function checkReadOnlyMounts(env: Env, mounts: Mounts): CheckResult[] {
  const root = configDir(env);
  const results: CheckResult[] = [];
  const good: string[] = [];
  for (const entry of READ_ONLY_ENTRIES) {
    const file = path.join(root, entry.name);
    const shown = displayPath(file, env);
    const mounted = mounts.has(realpathOrSelf(file));
    if (mounted && isWritable(file)) {
      results.push(fail(`${shown} is writable here: this container can change the host's copy`, ON_HOST_REBUILD));
    } else if (mounted) good.push(entry.name);
    else if (entry.name === "settings.json" && existsSync(file)) {
      results.push(
        warn(
          `${shown} is this container's own, not the host's (its cleanupPeriodDays and hooks apply here)`,
          ON_HOST_REBUILD,
        ),
      );
    } else if (entry.name === PACK_CODE_DIR && !existsSync(file)) {
      results.push(warn(`${shown} is missing: the SessionStart hook does not run here`, ON_HOST_REBUILD));
    }
  }
  return good.length > 0 ? [ok(`read-only from the host: ${good.join(", ")}`), ...results] : results;
}

/** The workspace's paths from the environment /dev-open gives the container, when it gave them. */
export function workspacesOf(env: Env): Workspaces | undefined {
  const host = env[HOST_WORKSPACE_ENV];
  const container = env[CONTAINER_WORKSPACE_ENV];
  return host && container ? { host, container } : undefined;
}

/** The working directory's project folder links to the host's (what /dev-open and the hook set up). */
export function checkProjectLink(env: Env, cwd: string): CheckResult {
  const workspaces = workspacesOf(env);
  return describeProjectLink(env, cwd, workspaces && projectLinkState(env, cwd, workspaces));
}

/** That check's line for a state already read; undefined when the container has no workspace variables. */
export function describeProjectLink(env: Env, cwd: string, state: ProjectLinkState | undefined): CheckResult {
  if (!state) {
    return warn(
      `${HOST_WORKSPACE_ENV} is not set: this container was not made from a config that /dev-open prepared`,
      "on the host, in this repo: dev-open --rebuild",
    );
  }
  if (state.kind === "outside")
    return ok(`${cwd} is outside the workspace ${env[CONTAINER_WORKSPACE_ENV]}: nothing to map`);
  const shownLink = displayPath(state.link, env);
  switch (state.kind) {
    case "same-path":
      return ok("the workspace has the same path as on the host: no mapping needed");
    case "missing":
      return fail(
        `${shownLink} is missing: sessions here do not continue the host's`,
        `ln -s -- ${shellWord(state.hostSlug)} ${shownLink}`,
      );
    case "not-a-link":
      return fail(
        `${shownLink} holds sessions made here before the project was mapped`,
        "on the host, in this repo: dev-open (it merges them into the host's)",
      );
    case "elsewhere":
      return fail(
        `${shownLink} points at ${state.target}, another project`,
        "on the host, in this repo: dev-open --same-path",
        `this folder's host project is ${state.hostSlug}`,
      );
    case "ok":
      return ok(`sessions here continue the host's (projects/${state.containerSlug} → ${state.hostSlug})`);
  }
}

/** The checks of the container's mounts, fs only: what doctor runs from the inside, before the project link. */
export function containerMountChecks(env: Env, mounts: Mounts, states = sharedEntryStates(env, mounts)): CheckResult[] {
  return [checkClaudeHomeOwner(env), ...checkSharedMounts(env, states), ...checkReadOnlyMounts(env, mounts)];
}

/**
 * The problems (warnings and failures) of those checks, for the SessionStart hook: no processes, one read of
 * /proc/self/mountinfo and a few stat calls. Empty when all is well. The project link is not among them: the hook
 * repairs that itself (project-link.ts).
 */
export function quickContainerCheck(
  env: Env,
  mounts: Mounts = readMountPoints(),
  states = sharedEntryStates(env, mounts),
): CheckResult[] {
  return containerMountChecks(env, mounts, states).filter((result) => result.status !== "ok");
}
