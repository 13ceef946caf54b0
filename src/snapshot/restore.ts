// Putting a snapshot (or a restore's undo) back: verified first, live sessions refused, what it replaces moved
// aside into a new undo folder.
import {
  copyFileSync,
  constants as fsConstants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  type Stats,
} from "node:fs";
import path from "node:path";
import { configDir, hasProjectSlug, type Env } from "../claude/home.ts";
import { runningSessions, type RunningSession } from "../claude/running-sessions.ts";
import { detectEnvironment } from "../environment.ts";
import { describeError, UserError } from "../errors.ts";
import { errorCode, fileError, isNotFound, writeFileAtomic } from "../fs.ts";
import { packVersion } from "../version.ts";
import { ConfigTree } from "./config-tree.ts";
import { uniqueId } from "./create.ts";
import {
  ARCHIVE_EXT,
  MOVED_ASIDE_FILES,
  MOVED_ASIDE_MANIFEST,
  type MovedAside,
  type SnapshotInfo,
  type SnapshotProject,
} from "./format.ts";
import { listSnapshots, unknownSummary } from "./list.ts";
import { collectProjectData, resolveSnapshotProject, withSnapshotLock, type ProjectData } from "./project.ts";
import { restoreStateEntries } from "./state-entries.ts";
import {
  blockedTarget,
  describeType,
  extractVerified,
  foreignEntry,
  readMovedAside,
  type Restorable,
} from "./verify.ts";

export type RestoreResult = {
  readonly id: string;
  readonly project: string;
  readonly sessions: number;
  readonly files: number;
  readonly bytes: number;
  /** Files of the project that the snapshot did not have, moved into the undo with --exact. */
  readonly removed: number;
  /** The snapshot made on the way, which undoes this restore: the files it replaced or removed, moved aside. */
  readonly undo: UndoInfo;
  readonly seconds: number;
};

export type UndoInfo = {
  readonly id: string;
  readonly folder: string;
  readonly movedAside: number;
  readonly added: number;
};

/**
 * Puts back what snapshot `ref` (an id, a unique start of one, "latest", or an archive's path) held. The whole
 * archive is extracted and verified, into a folder only the host can write, before anything changes; a live
 * Claude session of the project stops it. What it replaces is moved aside into an undo folder. Files the
 * snapshot lacks stay, unless `exact`.
 */
export async function restoreSnapshot(
  env: Env,
  cwd: string,
  ref: string,
  options: { exact?: boolean } = {},
  now: Date = new Date(),
): Promise<RestoreResult> {
  const started = process.hrtime.bigint();
  const project = await resolveSnapshotProject(env, cwd);
  findSnapshot(project, ref, cwd); // Before the lock, which would create the snapshot folder.
  return withSnapshotLock(project, async () => {
    const snapshot = findSnapshot(project, ref, cwd);
    // Before a long extraction: a session running in the project's folders is seen without reading them.
    refuseWhileLive(env, project, []);
    const staging = mkdtempSync(path.join(project.dir, ".restore-"));
    try {
      let source: Restorable;
      try {
        source =
          snapshot.stored === "moved-aside"
            ? readMovedAside(snapshot.archive)
            : await extractVerified(snapshot.archive, staging);
      } catch (error) {
        // A full disk or a folder we may not write is the machine's trouble, not the archive's.
        const local = fileError(staging, error);
        if (local instanceof UserError) {
          throw new UserError(`${local.message.replace(/ and run again$/, "")}; nothing was restored or changed`);
        }
        throw new UserError(
          `snapshot ${snapshot.id} is damaged (${describeError(error)}); nothing was restored or changed`,
        );
      }
      if (source.project.slug !== project.slug) {
        throw new UserError(
          `snapshot ${snapshot.id} is of ${source.project.path}, not of ${project.hostPath}; run the restore there`,
        );
      }
      // An archive may come from a folder containers write: a well-formed one may still reach for other data.
      const foreign = foreignEntry(source, new Set([project.slug, ...project.slugs]));
      if (foreign) {
        throw new UserError(
          `snapshot ${snapshot.id} holds ${foreign}, which is not this project's data; nothing was restored or changed`,
        );
      }
      // A restore that stopped half-way would leave a mix of both: what could stop it is looked for first.
      const blocked = blockedTarget(configDir(env), source);
      if (blocked) {
        throw new UserError(`${blocked}; move it away and restore again; nothing was restored or changed`);
      }
      const before = collectProjectData(env, [...new Set([...project.slugs, ...source.slugs])]);
      // Again, now that the snapshot's sessions are known too, and as close to the change as can be.
      refuseWhileLive(env, project, [...before.sessions, ...source.sessions]);
      const undoId = uniqueId(project.dir, now, "pre-restore");
      let applied: { removed: number; undo: UndoInfo };
      try {
        applied = await applyRestore(env, project, source, before, Boolean(options.exact), undoId, now);
      } catch (error) {
        throw new UserError(
          `the restore of ${snapshot.id} stopped half-way (${describeError(error)}); ` +
            `put everything back as it was with 'claude-persist snapshot restore ${undoId}'`,
        );
      }
      // An undo put back is used up: its files are in place again, and the new undo holds what it replaced.
      if (snapshot.stored === "moved-aside") rmSync(snapshot.archive, { recursive: true, force: true });
      return {
        id: snapshot.id,
        project: project.hostPath,
        sessions: source.sessions.length,
        files: source.files.length,
        bytes: source.bytes,
        removed: applied.removed,
        undo: applied.undo,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      };
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  });
}

function findSnapshot(project: SnapshotProject, ref: string, cwd: string): SnapshotInfo {
  const all = listSnapshots(project);
  if (ref === "latest") {
    // A restore's own undo snapshot is not "latest": restoring latest twice must not undo the first.
    const latest = all.find((s) => s.kind !== "pre-restore");
    if (!latest) {
      throw new UserError(`${project.path} has no snapshots yet; take one with 'claude-persist snapshot create'`);
    }
    return latest;
  }
  const id = ref.endsWith(ARCHIVE_EXT) ? path.basename(ref, ARCHIVE_EXT) : ref;
  const exact = all.find((s) => s.id === id);
  if (exact) return exact;
  if (ref.includes("/") || ref.endsWith(ARCHIVE_EXT)) {
    const file = path.resolve(cwd, ref);
    if (existsSync(file)) {
      const name = path.basename(file).replace(/\.tar\.gz$/, "");
      return { ...unknownSummary(name, project), stored: "archive", archive: file, archiveBytes: statSync(file).size };
    }
  }
  const matches = all.filter((s) => s.id.startsWith(id));
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length > 1) {
    throw new UserError(
      `'${ref}' matches ${matches.length} snapshots; give more of the id ('claude-persist snapshot list' shows them)`,
    );
  }
  throw new UserError(`no snapshot '${ref}' of ${project.path}; 'claude-persist snapshot list' shows them`);
}

/** Stops while a Claude session of the project runs: it would write into what is being put back. */
function refuseWhileLive(env: Env, project: SnapshotProject, sessions: Array<{ id: string }>): void {
  const live = liveSessionsOf(env, project, sessions);
  const first = live[0];
  if (!first) return;
  const session = first.sessionId ? `, session ${first.sessionId}` : "";
  const what = `pid ${first.pid}${session}${first.cwd ? `, in ${first.cwd}` : ""}`;
  const more = live.length > 1 ? ` and ${live.length - 1} more` : "";
  if (first.state === "unknown") {
    throw new UserError(
      `a Claude session of this project may be running elsewhere ` +
        `(${what}${more}, recorded in another container or machine); ` +
        `exit it first, or delete ${first.file} if it has ended`,
    );
  }
  throw new UserError(`a Claude session of this project is running (${what}${more}); exit it first, then restore`);
}

/** Live sessions whose folder is the project's (or inside it), or whose session is one of the project's. */
function liveSessionsOf(env: Env, project: SnapshotProject, sessions: Array<{ id: string }>): RunningSession[] {
  const slugs = new Set(project.slugs);
  const ids = new Set(sessions.map((s) => s.id));
  const roots = [project.path, project.hostPath];
  return runningSessions(env).filter((session) => {
    if (session.sessionId && ids.has(session.sessionId)) return true;
    const cwd = session.cwd;
    if (!cwd) return false;
    return hasProjectSlug(slugs, cwd) || roots.some((root) => cwd.startsWith(`${root}/`));
  });
}

/**
 * Puts the verified files in place; with `exact`, moves away the project's files the snapshot lacks. Whatever it
 * replaces or removes is moved aside (a rename, on the host's own filesystem) into the undo folder, whose
 * manifest is written first, so that even a restore that stops half-way can be undone. Every write goes through
 * folders opened without following links (ConfigTree); files get 0600 and new folders 0700, whatever the
 * snapshot says.
 */
async function applyRestore(
  env: Env,
  project: SnapshotProject,
  source: Restorable,
  before: ProjectData,
  exact: boolean,
  undoId: string,
  now: Date,
): Promise<{ removed: number; undo: UndoInfo }> {
  const tree = new ConfigTree(configDir(env));
  try {
    const config = configDir(env);
    const placing = new Set(source.files.map((f) => f.path));
    // An undo lists only what its restore moved: --exact means nothing more for it.
    const lacking = exact && source.complete ? before.files.map((f) => f.rel) : [];
    const removing = [...new Set([...lacking, ...source.removes])].filter((rel) => !placing.has(rel));
    // What is there now (a first look: each write checks again). Under a slug link that becomes a folder, nothing.
    const linked = source.slugs
      .filter((slug) => isSymlink(path.join(config, "projects", slug)))
      .map((slug) => `projects/${slug}/`);
    const sizes = new Map<string, number>();
    for (const rel of [...placing, ...removing]) {
      if (linked.some((link) => rel.startsWith(link))) continue;
      const size = regularFileSize(path.join(config, rel));
      if (size !== undefined) sizes.set(rel, size);
    }
    const moved = [...sizes.keys()];
    const added = source.files.map((f) => f.path).filter((rel) => !sizes.has(rel));
    const undoFolder = path.join(project.dir, undoId);
    const where = detectEnvironment(env);
    const undoManifest: MovedAside = {
      format: 1,
      form: "moved-aside",
      id: undoId,
      kind: "pre-restore",
      created: now.toISOString(),
      project: { path: project.hostPath, slug: project.slug },
      environment: { kind: where.kind, machine: where.name },
      claudePersistVersion: packVersion(),
      // Both sides' sessions and slugs: what it moves aside or adds may belong to either, and must pass as the
      // project's when the undo is restored.
      slugs: [...new Set([...before.slugs, ...source.slugs])].sort(),
      sessionCount: before.sessions.length,
      fileCount: moved.length,
      bytes: [...sizes.values()].reduce((sum, size) => sum + size, 0),
      sessions: [...new Map([...source.sessions, ...before.sessions].map((session) => [session.id, session])).values()],
      directories: before.dirs.map((d) => d.rel),
      files: moved.map((rel) => ({ path: rel, size: sizes.get(rel) ?? 0 })),
      added,
      state: before.state,
    };
    mkdirSync(path.join(undoFolder, MOVED_ASIDE_FILES), { recursive: true, mode: 0o700 });
    writeFileAtomic(path.join(undoFolder, MOVED_ASIDE_MANIFEST), `${JSON.stringify(undoManifest, null, 1)}\n`, 0o600);
    const moveAside = (rel: string): boolean => {
      const target = tree.file(rel, false);
      if (!target) return false;
      const aside = path.join(undoFolder, MOVED_ASIDE_FILES, rel);
      mkdirSync(path.dirname(aside), { recursive: true, mode: 0o700 });
      return moveFile(target, aside, "regular");
    };
    // A slug folder the snapshot held as a real folder and that is now a link (a merge since) becomes the folder
    // again, with or without --exact: writing through the link would overwrite the host's files (its MEMORY.md)
    // with the container's old copies. This way nothing of the host's folder changes; the next /dev-open links
    // the folder again, merging it without overwriting, after a pre-merge snapshot.
    for (const slug of source.slugs) tree.replaceLinkWithFolder(`projects/${slug}`);
    let removed = 0;
    for (const rel of removing) if (moveAside(rel)) removed++;
    for (const dir of source.directories) tree.folder(dir.path, true);
    for (const file of source.files) {
      if (sizes.has(file.path)) moveAside(file.path);
      const target = tree.file(file.path, true);
      if (!target) throw new Error(`cannot reach the folder of ${file.path}`);
      moveFile(file.staged, target, "absent");
    }
    if (exact && source.complete) {
      const keepDirs = new Set(source.directories.map((d) => d.path));
      for (const dir of [...before.dirs].sort((a, b) => b.rel.length - a.rel.length)) {
        if (!keepDirs.has(dir.rel)) tree.removeIfEmpty(dir.rel);
      }
    }
    // Folders last: placing files changed their times.
    for (const dir of [...source.directories].sort((a, b) => b.path.length - a.path.length)) {
      if (dir.mtimeMs !== undefined) tree.setTimes(dir.path, dir.mtimeMs);
    }
    await restoreStateEntries(env, source, exact || source.exactState, new Set(project.slugs));
    return { removed, undo: { id: undoId, folder: undoFolder, movedAside: moved.length, added: added.length } };
  } finally {
    tree.close();
  }
}

/**
 * Renames `from` onto `to`, which must be missing ("absent"), or moves a regular file `from` to a missing `to`
 * ("regular"; false when there is no such file). Across mounts (a container's separate bind mounts) it copies
 * to a new file (never through a link) and removes the original.
 */
function moveFile(from: string, to: string, expect: "absent" | "regular"): boolean {
  if (expect === "regular") {
    let stats: Stats;
    try {
      stats = lstatSync(from);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    if (!stats.isFile()) throw new Error(`${describeType(stats)} stands where a file was`);
  }
  // rename() replaces a link or file at `to` silently: make sure nothing is there (a racer can still plant one,
  // but a rename never writes through it).
  if (existsOrLink(to)) throw new Error(`something appeared where a file goes`);
  try {
    renameSync(from, to);
    return true;
  } catch (error) {
    if (errorCode(error) !== "EXDEV") throw error;
  }
  copyFileSync(from, to, fsConstants.COPYFILE_EXCL);
  unlinkSync(from);
  return true;
}

function existsOrLink(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The size of `file` if it is a regular file itself (not a link); undefined when missing or anything else. */
function regularFileSize(file: string): number | undefined {
  try {
    const stats = lstatSync(file);
    return stats.isFile() ? stats.size : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
