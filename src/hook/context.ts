// What the SessionStart hook tells Claude about where it runs: only what is true here, in as few bytes as will do,
// since it is paid for in every session. On the host, in a folder with no dev container config and no mapping, one
// line; elsewhere the shared entries that exist here, and the container path of a mapped repo.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { configDir, PACK_CODE_DIR, PACK_STATE_DIR, type Env } from "../claude/home.ts";
import { READ_ONLY_ENTRIES, READ_WRITE_ENTRIES, type SharedEntry } from "../claude/shared.ts";
import type { Environment } from "../environment.ts";
import { readRegularText } from "../fs.ts";
import { STATE, statePath } from "../state/paths.ts";
import { oneLine } from "../text.ts";

/** Shared, but nothing the model acts on: our own folders, and Claude Code's caches. */
const UNTOLD = new Set([PACK_STATE_DIR, PACK_CODE_DIR, "session-env", "paste-cache", "cache", "stats-cache.json"]);

/** The folder holding `.git` at or above `cwd` (a repo's root, or a worktree's), if any. */
export function repoRootOf(cwd: string): string | undefined {
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, ".git"))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Whether the repo has a dev container config where the devcontainers CLI looks for one (stats only). */
export function hasDevcontainerConfig(root: string): boolean {
  if (existsSync(path.join(root, ".devcontainer.json"))) return true;
  const dir = path.join(root, ".devcontainer");
  if (existsSync(path.join(dir, "devcontainer.json"))) return true;
  try {
    return readdirSync(dir, { withFileTypes: true }).some(
      (entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, "devcontainer.json")),
    );
  } catch {
    return false;
  }
}

/**
 * The container path dev-open mapped `root` to, the newest one. mappings.json is where containers write: read as a
 * bounded regular file and checked by hand (no zod in the hook); anything unreadable is no mapping.
 */
export function mappedContainerPath(env: Env, root: string): string | undefined {
  try {
    const text = readRegularText(statePath(env, STATE.mappings));
    const all: unknown = text === undefined ? [] : JSON.parse(text);
    if (!Array.isArray(all)) return undefined;
    let found: string | undefined;
    for (const entry of all) {
      if (typeof entry !== "object" || entry === null) continue;
      const { hostPath, containerPath } = entry as Record<string, unknown>;
      if (hostPath === root && typeof containerPath === "string" && containerPath !== "") found = containerPath;
    }
    return found;
  } catch {
    return undefined;
  }
}

function existing(env: Env, entries: readonly SharedEntry[], left: readonly string[]): string {
  const names = entries
    .filter((entry) => !UNTOLD.has(entry.name) && !left.includes(entry.name))
    .filter((entry) => {
      try {
        const stats = statSync(path.join(configDir(env), entry.name));
        return entry.kind === "dir" ? stats.isDirectory() : stats.isFile();
      } catch {
        return false;
      }
    })
    .map((entry) => entry.name);
  return names.join(", ");
}

/**
 * The lines about this session's place: one where there is nothing more to say (on the host, outside a repo with a
 * dev container config or a mapping, with every shared folder in place).
 */
export function describeSession(env: Env, cwd: string, where: Environment, missing: string[]): string {
  const lines: string[] = [];
  const here = oneLine(cwd, 300);
  if (where.kind === "host") {
    const root = repoRootOf(cwd);
    const mapped = root === undefined ? undefined : mappedContainerPath(env, root);
    const quiet = !mapped && missing.length === 0 && (root === undefined || !hasDevcontainerConfig(root));
    lines.push(
      `claude-persist: this session runs on the host (${where.name}) in ${here}` +
        (mapped ? `; its dev container works in ${oneLine(mapped, 300)}.` : "."),
    );
    // No dev container here: where it runs is all there is to say. What is read-only in a container matters there.
    if (quiet) return lines[0] ?? "";
    const readWrite = existing(env, READ_WRITE_ENTRIES, missing);
    if (readWrite) lines.push(`Shared read-write with this repo's dev containers: ${readWrite}.`);
  } else {
    lines.push(
      `claude-persist: this session runs in a dev container (${where.name}) in ${here}` +
        (where.hostWorkspace ? `; on the host this folder is ${oneLine(where.hostWorkspace, 300)}.` : "."),
    );
    const readWrite = existing(env, READ_WRITE_ENTRIES, missing);
    if (readWrite) lines.push(`Shared read-write with the host and other dev containers: ${readWrite}.`);
    const readOnly = existing(env, READ_ONLY_ENTRIES, []);
    if (readOnly) lines.push(`Read-only here (change them on the host): ${readOnly}.`);
  }
  if (missing.length > 0)
    lines.push(`Not shared in this environment (missing or not writable): ${missing.join(", ")}.`);
  return lines.join("\n");
}
