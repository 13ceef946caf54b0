// Every file and folder the pack keeps, and who can write it. Two folders under the config dir:
// - `persist-state/`: shared read-write with every dev container, so anything in it may have been written by a
//   process in a container. Host-side code reads it as hostile input (see SECURITY.md).
// - `persist-host/`: the host's alone (0700, never mounted). What the host must be able to trust lives here.
// Nothing else builds these paths; code that reads or writes pack state asks here.
import { lstatSync, mkdirSync, renameSync, rmdirSync } from "node:fs";
import path from "node:path";
import { PACK_HOST_DIR, PACK_STATE_DIR, packHostDir, packStateDir, type Env } from "./claude/home.ts";
import { HOST_FILE_LINKS_DIR } from "./claude/shared.ts";
import { detectEnvironment } from "./environment.ts";
import { errorCode, isNotFound } from "./fs.ts";

export { PACK_HOST_DIR, PACK_STATE_DIR, packHostDir, packStateDir };

export type StateEntry = {
  /** Relative to its folder (`persist-state/` or `persist-host/`). */
  readonly name: string;
  readonly kind: "file" | "dir";
  /** "containers": every dev container can write it (hostile input on the host); "host": the host user alone. */
  readonly writers: "containers" | "host";
  readonly what: string;
};

/** The pack's state, each entry once. Paths: `statePath(env, STATE.x)`. */
export const STATE = {
  sessionStarts: { name: "session-starts", kind: "dir", writers: "containers", what: "one JSONL file of starts per session, from the SessionStart hook" },
  mappings: { name: "mappings.json", kind: "file", writers: "containers", what: "container paths mapped onto host paths" },
  workItems: { name: "work-items.json", kind: "file", writers: "containers", what: "the work items /start-work remembers" },
  installRecord: { name: "install.json", kind: "file", writers: "host", what: "what install wrote, so that uninstall takes out exactly that" },
  snapshots: { name: "snapshots", kind: "dir", writers: "host", what: "snapshot archives and summaries, and restore's staging" },
  launchLogs: { name: "logs", kind: "dir", writers: "host", what: "the devcontainers CLI's log and answer of each launch" },
  hostFileLinks: {
    name: path.posix.basename(HOST_FILE_LINKS_DIR),
    kind: "dir",
    writers: "host",
    what: "the links single files (settings.json, mcp.json) are mounted through; a container re-pointing one would choose what the next start mounts",
  },
  overrideConfigs: { name: "configs", kind: "dir", writers: "host", what: "dev container configs dev-open keeps outside the repo" },
} satisfies Record<string, StateEntry>;

export const STATE_ENTRIES: readonly StateEntry[] = Object.values(STATE);

/** The folder an entry lives in: shared with containers, or the host's alone. */
export function stateRoot(env: Env, entry: StateEntry): string {
  return entry.writers === "host" ? packHostDir(env) : packStateDir(env);
}

export function statePath(env: Env, entry: StateEntry): string {
  return path.join(stateRoot(env, entry), entry.name);
}

/**
 * The host-only folder, made (0700) if missing, after moving into it what older versions kept in `persist-state/`:
 * every writer of this folder comes through here, so that its existence means the migration is done.
 */
export function ensurePackHostDir(env: Env): string {
  migrateHostState(env);
  const dir = packHostDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** `statePath` of a folder entry, made (0700, with the host-only folder) if missing. */
export function ensureStateDir(env: Env, entry: StateEntry): string {
  if (entry.writers === "host") ensurePackHostDir(env);
  const dir = statePath(env, entry);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** What `persist-state/` held before the host-only folder existed, and moves into it. Launch logs and host-files links are remade, not moved. */
const MOVED_TO_HOST: readonly StateEntry[] = [STATE.installRecord, STATE.snapshots];

export type Migration = {
  readonly moved: string[];
  /** Entries left where they were: not a regular file or folder (a link a container planted), or already there. */
  readonly left: string[];
};

/**
 * Moves what the host alone must trust out of `persist-state/` into `persist-host/`, on the host (never in a
 * container: its `persist-state/` is the host's, shared). Once `persist-host/` exists there is nothing to do, so the
 * SessionStart hook pays one stat for it. Only a regular file or a real folder moves: a link a container planted
 * stays behind, unread. Nothing is lost: an entry that cannot move is left in place and named.
 */
export function migrateHostState(env: Env): Migration | undefined {
  const hostDir = packHostDir(env);
  // In a container `persist-state/` is the host's: what is in it stays for the host to move.
  try {
    lstatSync(hostDir);
    return undefined;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (detectEnvironment(env).kind === "container") return undefined;
  const moved: string[] = [];
  const left: string[] = [];
  const shared = packStateDir(env);
  // A temporary name first, so that a half-done migration (two hooks at once) is redone, not skipped.
  const building = `${hostDir}.${process.pid}.migrating`;
  mkdirSync(building, { recursive: true, mode: 0o700 });
  for (const entry of MOVED_TO_HOST) {
    const from = path.join(shared, entry.name);
    let kind: "file" | "dir" | "other" | undefined;
    try {
      const stats = lstatSync(from);
      kind = stats.isFile() ? "file" : stats.isDirectory() ? "dir" : "other";
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (kind === undefined) continue;
    if (kind !== entry.kind) {
      left.push(`${PACK_STATE_DIR}/${entry.name}`);
      continue;
    }
    renameSync(from, path.join(building, entry.name));
    moved.push(entry.name);
  }
  try {
    renameSync(building, hostDir);
  } catch (error) {
    // Another process finished first: give back what this one moved, so nothing is lost between the two.
    if (errorCode(error) !== "EEXIST" && errorCode(error) !== "ENOTEMPTY") throw error;
    for (const name of moved) {
      try {
        renameSync(path.join(building, name), path.join(hostDir, name));
      } catch {
        renameSync(path.join(building, name), path.join(shared, name));
      }
    }
    rmdirSync(building);
    return { moved, left };
  }
  return { moved, left };
}
