// A verified snapshot (or undo) put in place: what it replaces moved aside into a new undo folder first, every write
// through folders held open (ConfigTree), however deep the snapshot's folders go.
import {
  copyFileSync,
  constants as fsConstants,
  lstatSync,
  mkdirSync,
  renameSync,
  unlinkSync,
  type Stats,
} from "node:fs";
import path from "node:path";
import { configDir, type Env } from "../claude/home.ts";
import { ConfigTree } from "../container-tree.ts";
import { detectEnvironment } from "../environment.ts";
import { errorCode, isNotFound, writeFileAtomic } from "../fs.ts";
import { pausePoint } from "../interrupt.ts";
import { packVersion } from "../version.ts";
import { MOVED_ASIDE_FILES, MOVED_ASIDE_MANIFEST, type MovedAside, type SnapshotProject } from "./format.ts";
import type { ProjectData } from "./project.ts";
import { restoreStateEntries } from "./state-entries.ts";
import { describeType, type Restorable } from "./verify.ts";

export type UndoInfo = {
  readonly id: string;
  readonly folder: string;
  readonly movedAside: number;
  readonly added: number;
};

/**
 * Puts the verified files in place; with `exact`, moves away the project's files the snapshot lacks. Whatever it
 * replaces or removes is moved aside (a rename, on the host's own filesystem) into the undo folder, whose
 * manifest is written first, so that even a restore that stops half-way can be undone. Every write goes through
 * folders opened without following links (ConfigTree); files get 0600 and new folders 0700, whatever the
 * snapshot says.
 */
export async function applyRestore(
  env: Env,
  project: SnapshotProject,
  source: Restorable,
  before: ProjectData,
  exact: boolean,
  undoId: string,
  now: Date,
): Promise<{ removed: number; undo: UndoInfo }> {
  const tree = new ConfigTree(configDir(env));
  // Where the verified copies wait (none to place: an undo that moved nothing aside may have no folder).
  const staged = source.files.length > 0 ? new ConfigTree(source.stagedIn) : undefined;
  let aside: ConfigTree | undefined;
  try {
    const placing = new Set(source.files.map((f) => f.path));
    // An undo lists only what its restore moved: --exact means nothing more for it.
    const lacking = exact && source.complete ? before.files.map((f) => f.rel) : [];
    const removing = [...new Set([...lacking, ...source.removes])].filter((rel) => !placing.has(rel));
    // What is there now (a first look: each write checks again). Under a slug link that becomes a folder, nothing.
    const linked = source.slugs
      .filter((slug) => tree.lstat(`projects/${slug}`)?.isSymbolicLink())
      .map((slug) => `projects/${slug}/`);
    const sizes = new Map<string, number>();
    for (const rel of [...placing, ...removing]) {
      if (linked.some((link) => rel.startsWith(link))) continue;
      const stats = tree.lstat(rel);
      if (stats?.isFile()) sizes.set(rel, stats.size);
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
    const undoFiles = new ConfigTree(path.join(undoFolder, MOVED_ASIDE_FILES));
    aside = undoFiles;
    const moveAside = (rel: string): boolean => {
      const target = tree.file(rel, false);
      if (!target) return false;
      const into = undoFiles.file(rel, true);
      if (!into) throw new Error(`cannot reach the undo's folder for ${rel}`);
      return moveFile(target, into, "regular");
    };
    // A slug folder the snapshot held as a real folder and that is now a link (a merge since) becomes the folder
    // again, with or without --exact: writing through the link would overwrite the host's files (its MEMORY.md)
    // with the container's old copies. This way nothing of the host's folder changes; the next /dev-open links
    // the folder again, merging it without overwriting, after a pre-merge snapshot.
    for (const slug of source.slugs) tree.replaceLinkWithFolder(`projects/${slug}`);
    let removed = 0;
    for (const rel of removing) if (moveAside(rel)) removed++;
    for (const dir of source.directories) tree.folder(dir.path, true);
    for (const [i, file] of source.files.entries()) {
      if (sizes.has(file.path)) moveAside(file.path);
      const target = tree.file(file.path, true);
      const from = staged?.file(file.staged, false);
      if (!target || !from) throw new Error(`cannot reach the folder of ${file.path}`);
      moveFile(from, target, "absent");
      // Tests stop here, half-way, to send a signal (see interrupt.ts).
      if (i === 0) await pausePoint("restore-placing");
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
    staged?.close();
    aside?.close();
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
