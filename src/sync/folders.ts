// What travels between the user's machines, as Syncthing folders, and the ignore patterns every machine uses.
// Never travelling: credentials, `.claude.json`, `plugins/`, settings, the host-only state and everything else in
// the config dir. Each shared folder is a Syncthing folder of its own, so a machine whose ignore file went missing
// still shares nothing beyond these folders.
import path from "node:path";
import { configDir, PACK_STATE_DIR, type Env } from "../claude/home.ts";
import { STATE, statePath } from "../state/paths.ts";

export type SyncFolder = {
  /** The same Syncthing folder ID on every machine. */
  readonly id: string;
  /** Path relative to the config dir. */
  readonly name: string;
  /** Only these top-level names travel (the rest of the folder stays on this machine); all when absent. */
  readonly only?: readonly string[];
};

/** A project's folder under `projects/` that travels is named after the project (its git remote), not its path. */
export const PROJECT_IDENTITY_PREFIX = "repo-";

export const SYNC_FOLDERS: readonly SyncFolder[] = [
  // Path slugs (`-Users-ana-code-app`) are this machine's links to a project's folder: they never travel.
  { id: "claude-projects", name: "projects", only: [`${PROJECT_IDENTITY_PREFIX}*`] },
  { id: "claude-todos", name: "todos" },
  { id: "claude-tasks", name: "tasks" },
  { id: "claude-plans", name: "plans" },
  { id: "claude-file-history", name: "file-history" },
  // The session-start records say where a session was last opened: the warning about a session live elsewhere.
  { id: "claude-persist-records", name: PACK_STATE_DIR, only: ["session-starts"] },
];

/**
 * Temporary files and locks: ours (`.<name>.<pid>.<hex>.tmp`, `<file>.lock/`), editors', and the OS's. And conflict
 * copies, as with unison: the machine that made one merges it at its next session start; sent on, the copy was
 * removed while peers still fetched it, leaving a partial `.syncthing.<copy>.tmp` there for a day.
 */
export const NEVER_TRAVELLING_NAMES = [
  "*.tmp",
  "*.tmp.*",
  "*.lock",
  "*.lock.*",
  "*.stale",
  "*.swp",
  "*~",
  "*.sync-conflict-*",
];

/** Syncthing's ignores: the names above, and the OS's own files (`(?d)`: deleted with their folder). */
const NEVER_TRAVELLING = [...NEVER_TRAVELLING_NAMES, "(?d).DS_Store", "(?d)Thumbs.db"];

/** The `.stignore` lines of `folder`, the same on every machine. */
export function ignorePatterns(folder: SyncFolder): string[] {
  const lines = [
    "// Written by claude-persist sync: the same on every machine. Edit nothing here.",
    ...NEVER_TRAVELLING,
  ];
  if (folder.only) lines.push(...folder.only.map((name) => `!/${name}`), "*");
  return lines;
}

export function folderPath(env: Env, folder: SyncFolder): string {
  return path.join(configDir(env), folder.name);
}

/** Where `init` records how this machine syncs; its presence is what the SessionStart hook looks at. */
export function syncSettingsFile(env: Env): string {
  return statePath(env, STATE.syncSettings);
}

/** The home of the Syncthing instance claude-persist runs for the user, when they run none of their own. */
export function ownSyncthingHome(env: Env): string {
  return statePath(env, STATE.ownSyncthing);
}

/** The password an untrusted (encrypted-only) device's data is encrypted with: the same on every trusted machine. */
export function relayPasswordFile(env: Env): string {
  return statePath(env, STATE.syncRelayPassword);
}
