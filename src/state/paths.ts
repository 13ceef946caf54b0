// Every file and folder the pack keeps, and who can write it. Two folders under the config dir (and one folder in the
// pack's code, `persist/seeds/`, which containers mount read-only):
// - `persist-state/`: shared read-write with every dev container, so anything in it may have been written by a
//   process in a container. Host-side code reads it as hostile input (see SECURITY.md).
// - `persist-host/`: the host's alone (0700, never mounted). What the host must be able to trust lives here.
// Nothing else builds these paths; code that reads or writes pack state asks here. This module says where each
// thing is and who can write it (and makes the folders); state/files.ts says how files are read and written.
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
} from "node:fs";
import path from "node:path";
import { PACK_HOST_DIR, PACK_STATE_DIR, packCodeDir, packHostDir, packStateDir, type Env } from "../claude/home.ts";
import { HOST_FILE_LINKS_DIR } from "../claude/shared.ts";
import { detectEnvironment } from "../environment.ts";
import { UserError } from "../errors.ts";
import { isNotFound } from "../fs.ts";

export { PACK_HOST_DIR, PACK_STATE_DIR, packHostDir, packStateDir };

export type StateEntry = {
  /** Relative to its folder (`persist-state/`, `persist-host/` or `persist/`). */
  readonly name: string;
  readonly kind: "file" | "dir";
  /**
   * "containers": every dev container can write it (hostile input on the host); "host": the host user alone;
   * "host, read by containers": the host user alone, in the pack's code folder, which containers mount read-only.
   */
  readonly writers: "containers" | "host" | "host, read by containers";
};

/** The pack's state, each entry once (what each holds: SECURITY.md). Paths: `statePath(env, STATE.x)`. */
export const STATE = {
  /** One JSONL file of starts per session, from the SessionStart hook. */
  sessionStarts: { name: "session-starts", kind: "dir", writers: "containers" },
  /** Container paths mapped onto host paths. */
  mappings: { name: "mappings.json", kind: "file", writers: "containers" },
  /** The work items /start-work remembers. */
  workItems: { name: "work-items.json", kind: "file", writers: "containers" },
  /** What install wrote, so that uninstall takes out exactly that. */
  installRecord: { name: "install.json", kind: "file", writers: "host" },
  /** Snapshot archives and summaries, and restore's staging. */
  snapshots: { name: "snapshots", kind: "dir", writers: "host" },
  /** The devcontainers CLI's log and answer of each launch. */
  launchLogs: { name: "logs", kind: "dir", writers: "host" },
  /** The links single files are mounted through: a container re-pointing one would choose what the next start mounts. */
  hostFileLinks: { name: path.posix.basename(HOST_FILE_LINKS_DIR), kind: "dir", writers: "host" },
  /** Dev container configs dev-open keeps outside the repo. */
  overrideConfigs: { name: "configs", kind: "dir", writers: "host" },
  /** What dev-open read from a repo's config before it wrote into it. */
  configBackups: { name: "backups", kind: "dir", writers: "host" },
  /** What `sessions` read from each transcript, keyed by size, time and inode. */
  sessionsIndex: { name: "sessions-index.json", kind: "file", writers: "host" },
  /** Every API response `usage` counted, kept after Claude Code deletes old transcripts, and how far each was read. */
  usageLedger: { name: "usage-ledger", kind: "dir", writers: "host" },
  /** The last `sessions --all` outputs (one as JSON, one as a table), each with what it was made from. */
  sessionsListings: { name: "sessions-listings", kind: "dir", writers: "host" },
  /** How this machine syncs (`sync init`); the hook looks for it. */
  syncSettings: { name: "sync.json", kind: "file", writers: "host" },
  /** The home of the Syncthing instance the pack runs when the user runs none. */
  ownSyncthing: { name: "syncthing", kind: "dir", writers: "host" },
  /** The password an encrypted-only device's data is encrypted with. */
  syncRelayPassword: { name: "sync-relay-password", kind: "file", writers: "host" },
  /** Unison's archives (its UNISON folder). */
  unisonArchives: { name: "unison", kind: "dir", writers: "host" },
  /** Which seed of first-run choices each container's `.claude.json` last got (dev-open skips merging it again). */
  seededContainers: { name: "seeded-containers", kind: "dir", writers: "host" },
  /** V8's compiled code of the CLI's bundles (src/code-cache.ts): code, so no one else may write it. */
  codeCache: { name: "code-cache", kind: "dir", writers: "host" },
  /** On a remote Docker engine's machine: the pack's runtime another machine's dev-open sent, until installed. */
  incomingRuntime: { name: "incoming-runtime", kind: "dir", writers: "host" },
  /** The first-run choices an editor-created container's onCreateCommand copies: no container may change them. */
  containerSeeds: { name: "seeds", kind: "dir", writers: "host, read by containers" },
  /** Where older versions kept snapshots: read (as hostile input) until migrated, never written. */
  legacySnapshots: { name: "snapshots", kind: "dir", writers: "containers" },
} satisfies Record<string, StateEntry>;

export const STATE_ENTRIES: readonly StateEntry[] = Object.values(STATE);

/** The folder an entry lives in: shared with containers, the host's alone, or the pack's code (read-only there). */
export function stateRoot(env: Env, entry: StateEntry): string {
  if (entry.writers === "host, read by containers") return packCodeDir(env);
  return entry.writers === "host" ? packHostDir(env) : packStateDir(env);
}

export function statePath(env: Env, entry: StateEntry): string {
  return path.join(stateRoot(env, entry), entry.name);
}

/** The host-only folder, made (0700) if missing, after moving into it what older versions kept in `persist-state/`. */
export function ensurePackHostDir(env: Env): string {
  migrateHostState(env);
  const dir = packHostDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkHostOnly(dir);
  return dir;
}

/**
 * What the host trusts lives here, so it must be the user's own real folder that no one else can write (a link, or
 * another user's folder, would let them choose the install record, snapshots, sync settings): refused with the fix.
 */
export function checkHostOnly(dir: string): void {
  const stats = lstatSync(dir);
  const uid = process.getuid?.();
  const problem = !stats.isDirectory()
    ? "is not a folder (a link?)"
    : uid !== undefined && stats.uid !== uid
      ? `belongs to another user (uid ${stats.uid})`
      : (stats.mode & 0o022) !== 0
        ? `can be written by other users (mode ${(stats.mode & 0o777).toString(8)})`
        : undefined;
  if (problem)
    throw new UserError(
      `${dir} ${problem}: the host-only state must be your own folder, mode 700; fix it (chmod 700, or move it away) and run again (nothing was changed)`,
    );
}

/**
 * Removes the host-only folder when nothing but what can go with it (the migration's marker, the code cache) is in it
 * (uninstall, a failed install).
 */
export function removeHostDirIfUnused(env: Env): void {
  const dir = packHostDir(env);
  const disposable = [MIGRATED_MARKER, STATE.codeCache.name];
  if (!existsSync(dir) || readdirSync(dir).some((name) => !disposable.includes(name))) return;
  for (const name of disposable) rmSync(path.join(dir, name), { recursive: true, force: true });
  rmdirSync(dir);
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

/** Beside a record moved from `persist-state/`: it was writable by containers, so what it says is not trusted. */
export const FROM_SHARED_SUFFIX = ".from-shared";

/** In the host-only folder once the migration is done: its one stat is all a session start pays afterwards. */
const MIGRATED_MARKER = ".migrated";

/**
 * Moves what the host alone must trust out of `persist-state/` into `persist-host/`, on the host (never in a
 * container: its `persist-state/` is the host's, shared). Only a regular file or a real folder moves: a link a
 * container planted stays behind, unread, and is named. Nothing is lost: an entry that cannot move (the host-only
 * folder has one of that name already) stays where it was and is named too. Undefined when there was nothing to do.
 */
export function migrateHostState(env: Env): Migration | undefined {
  const hostDir = packHostDir(env);
  const marker = path.join(hostDir, MIGRATED_MARKER);
  try {
    lstatSync(marker);
    return undefined;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  // In a container `persist-state/` is the host's: what is in it stays for the host to move.
  if (detectEnvironment(env).kind === "container") return undefined;
  const moved: string[] = [];
  const left: string[] = [];
  const shared = packStateDir(env);
  mkdirSync(hostDir, { recursive: true, mode: 0o700 });
  for (const entry of MOVED_TO_HOST) {
    const from = path.join(shared, entry.name);
    const to = path.join(hostDir, entry.name);
    let kind: "file" | "dir" | "other" | undefined;
    try {
      const stats = lstatSync(from);
      kind = stats.isFile() ? "file" : stats.isDirectory() ? "dir" : "other";
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (kind === undefined) continue;
    if (kind !== entry.kind || existsSync(to)) {
      left.push(`${PACK_STATE_DIR}/${entry.name}`);
      continue;
    }
    try {
      renameSync(from, to);
      moved.push(entry.name);
      // A record that lay where containers write is a claim: marked, so that uninstall never acts on what it says
      // of settings.json (a container could have set it to "install made it": uninstall would delete it).
      if (entry === STATE.installRecord) closeSync(openSync(`${to}${FROM_SHARED_SUFFIX}`, "a", 0o600));
    } catch (error) {
      // Another process moved it first.
      if (!isNotFound(error)) throw error;
    }
  }
  closeSync(openSync(marker, "a", 0o600));
  return { moved, left };
}
