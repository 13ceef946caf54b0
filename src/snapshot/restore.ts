// Putting a snapshot (or a restore's undo) back: verified first, live sessions refused, what it replaces moved
// aside into a new undo folder.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { configDir, hasProjectSlug, type Env } from "../claude/home.ts";
import { runningSessions, type RunningSession } from "../claude/running-sessions.ts";
import { describeError, UserError } from "../errors.ts";
import { openBeneath, racePoint } from "../container-tree.ts";
import { fileError } from "../fs.ts";
import { cleanedOnInterrupt, finishedBeforeInterrupt, pausePoint } from "../interrupt.ts";
import { applyRestore, type UndoInfo } from "./apply.ts";
import { uniqueId } from "./create.ts";
import { ARCHIVE_EXT, type SnapshotInfo, type SnapshotProject } from "./format.ts";
import { legacyPlace, listSnapshots, unknownSummary } from "./list.ts";
import { collectProjectData, resolveSnapshotProject, SNAPSHOT_LOCK_NAME, withSnapshotLock } from "./project.ts";
import { removeTree } from "./remove-tree.ts";
import { blockedTarget, extractVerified, foreignEntry, readMovedAside, type Restorable } from "./verify.ts";

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
    // Ctrl-C or SIGTERM before the files are put in place: nothing changed, and no staging or lock is left behind.
    const lock = path.join(project.dir, `${SNAPSHOT_LOCK_NAME}.lock`);
    const cleanup = () => {
      removeTree(staging);
      rmSync(lock, { recursive: true, force: true });
    };
    return cleanedOnInterrupt(cleanup, async () => {
      try {
        let source: Restorable;
        try {
          source =
            snapshot.stored === "moved-aside"
              ? readMovedAside(snapshot.archive)
              : await extractVerified(snapshot.archive, staging, openerOf(project, snapshot));
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
        await pausePoint("restore-verified");
        // Once files move, a signal waits for the last one: the project's data is the old or the new, never a mix.
        const applied = await finishedBeforeInterrupt(
          async () => {
            let done: { removed: number; undo: UndoInfo };
            try {
              done = await applyRestore(env, project, source, before, Boolean(options.exact), undoId, now);
            } catch (error) {
              throw new UserError(
                `the restore of ${snapshot.id} stopped half-way (${describeError(error)}); ` +
                  `put everything back as it was with 'claude-persist snapshot restore ${undoId}'`,
              );
            }
            // An undo put back is used up: its files are in place again, and the new undo holds what it replaced.
            if (snapshot.stored === "moved-aside") removeTree(snapshot.archive);
            return done;
          },
          stoppedAfter(snapshot.id, undoId),
        );
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
        removeTree(staging);
      }
    });
  });
}

/**
 * How an archive in the old shared folder (containers write it) is opened: through the gate, no link followed at
 * any component, so that one swapped for a link after the listing leads nowhere else. Others: by their path.
 */
function openerOf(project: SnapshotProject, snapshot: SnapshotInfo): (() => number) | undefined {
  racePoint("restore-open-archive");
  if (!snapshot.archive.startsWith(`${project.legacyDir}${path.sep}`)) return undefined;
  const legacy = legacyPlace(project);
  return () => openBeneath(legacy.root, `${legacy.rel}/${path.basename(snapshot.archive)}`);
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

/** Said when a signal waited for the restore to finish: the command's report, with its undo, is not printed then. */
function stoppedAfter(id: string, undoId: string): () => string {
  return () =>
    `claude-persist snapshot: stopped once the restore of ${id} had finished; ` +
    `undo it with 'claude-persist snapshot restore ${undoId}'`;
}
