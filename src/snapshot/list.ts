// A project's snapshots, listed (the host-only folder's first, then the old shared folder's), and pruned.
import { existsSync, lstatSync, readdirSync, rmSync, type Stats } from "node:fs";
import path from "node:path";
import { UserError } from "../errors.ts";
import { listBeneath, readBeneath, statBeneath, withDirBeneath } from "../container-tree.ts";
import { isNotFound, isRealDirectory } from "../fs.ts";
import {
  ARCHIVE_EXT,
  MOVED_ASIDE_MANIFEST,
  movedAsideSchema,
  readSmallJson,
  SNAPSHOT_ID_PATTERN,
  SUMMARY_EXT,
  summarySchema,
  type SnapshotInfo,
  type SnapshotProject,
  type SnapshotSummary,
} from "./format.ts";
import { removeTree } from "./remove-tree.ts";
import { withSnapshotLock } from "./project.ts";

/** The project's snapshots, newest first: the host-only folder's, then those still in the old shared folder. */
export function listSnapshots(project: SnapshotProject): SnapshotInfo[] {
  const found = new Map<string, SnapshotInfo>();
  for (const name of listNames(project.dir)) {
    if (name.startsWith(".")) continue;
    const info = name.endsWith(ARCHIVE_EXT)
      ? archiveInfo(project, project.dir, name.slice(0, -ARCHIVE_EXT.length), false)
      : movedAsideInfo(project, name);
    if (info) found.set(info.id, info);
  }
  // Containers can write the old folder: its entries never take a host-only snapshot's id, and only names
  // shaped like the ids we make count (a name with escape sequences would reach the terminal).
  // Reached through the gate: the old folder (or `snapshots/` above it) swapped for a link to another project's
  // host-only snapshots is not listed, so prune cannot delete what it leads to.
  const legacy = legacyPlace(project);
  let legacyNames: string[] = [];
  try {
    legacyNames = listBeneath(legacy.root, legacy.rel) ?? [];
  } catch {
    // A link or file where the old folder was: nothing of ours there.
  }
  for (const name of legacyNames) {
    if (!SNAPSHOT_ID_PATTERN.test(name.slice(0, -ARCHIVE_EXT.length)) || !name.endsWith(ARCHIVE_EXT)) continue;
    const info = archiveInfo(project, project.legacyDir, name.slice(0, -ARCHIVE_EXT.length), true);
    if (info && !found.has(info.id)) found.set(info.id, info);
  }
  // Host-only snapshots first, whatever the dates: one from the old folder (dated 2099, say) must never be
  // "latest" nor push the user's own out of `prune --keep N`.
  const shared = (s: SnapshotInfo) => (s.archive.startsWith(`${project.legacyDir}${path.sep}`) ? 1 : 0);
  return [...found.values()].sort(
    (a, b) => shared(a) - shared(b) || b.created.localeCompare(a.created) || b.id.localeCompare(a.id),
  );
}

/**
 * An archive and its summary. The id is the archive's file name, never what a summary says; a summary that
 * claims another id or project is ignored, and in the old shared folder so is its time (the id's is used).
 */
function archiveInfo(project: SnapshotProject, dir: string, id: string, shared: boolean): SnapshotInfo | undefined {
  const archive = path.join(dir, `${id}${ARCHIVE_EXT}`);
  let stats: Pick<Stats, "size" | "isFile">;
  let summaryJson: unknown;
  try {
    if (shared) {
      const legacy = legacyPlace(project);
      const entry = statBeneath(legacy.root, `${legacy.rel}/${id}${ARCHIVE_EXT}`);
      if (entry === undefined) return undefined;
      stats = { size: entry.size, isFile: () => entry.kind === "file" };
      summaryJson = parseOrUndefined(readBeneath(legacy.root, `${legacy.rel}/${id}${SUMMARY_EXT}`, 1 << 20));
    } else {
      stats = lstatSync(archive);
      summaryJson = readSmallJson(path.join(dir, `${id}${SUMMARY_EXT}`));
    }
  } catch {
    return undefined;
  }
  if (!stats.isFile()) return undefined;
  const parsed = summarySchema.safeParse(summaryJson);
  const fallback = unknownSummary(id, project);
  const summary =
    parsed.success && parsed.data.id === id && parsed.data.project.slug === project.slug ? parsed.data : fallback;
  if (!shared) return { ...summary, stored: "archive", archive, archiveBytes: stats.size };
  const machine = /^[A-Za-z0-9._-]{1,64}$/.test(summary.environment.machine) ? summary.environment.machine : "unknown";
  return {
    ...summary,
    created: fallback.created,
    environment: { ...summary.environment, machine },
    stored: "archive",
    archive,
    archiveBytes: stats.size,
  };
}

/** The undo of a restore: a folder of the files the restore moved aside, with its manifest. */
function movedAsideInfo(project: SnapshotProject, id: string): SnapshotInfo | undefined {
  const folder = path.join(project.dir, id);
  if (!isRealDirectory(folder)) return undefined;
  const parsed = movedAsideSchema.safeParse(readSmallJson(path.join(folder, MOVED_ASIDE_MANIFEST)));
  if (!parsed.success || parsed.data.id !== id) return undefined;
  const {
    files: _files,
    added: _added,
    directories: _directories,
    sessions: _sessions,
    state: _state,
    form: _form,
    ...summary
  } = parsed.data;
  return { ...summary, stored: "moved-aside", archive: folder, archiveBytes: 0 };
}

/** A snapshot whose summary is missing: what its id says; restore still reads the manifest inside. */
export function unknownSummary(id: string, project: SnapshotProject): SnapshotSummary {
  const time = /^(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z/.exec(id);
  const created = time ? `${time[1]}T${time[2]}:${time[3]}:${time[4]}.${time[5]}Z` : new Date(0).toISOString();
  const kind = id.includes("-pre-restore") ? "pre-restore" : id.includes("-pre-merge") ? "pre-merge" : "manual";
  return {
    format: 1,
    id,
    kind,
    created,
    project: { path: project.hostPath, slug: project.slug },
    environment: { kind: "host", machine: "unknown" },
    claudePersistVersion: "unknown",
    slugs: [],
    sessionCount: -1,
    fileCount: -1,
    bytes: -1,
  };
}

/** The old shared snapshot folder as the gate reaches it: `snapshots/<slug>` below `persist-state/`. */
export function legacyPlace(project: SnapshotProject): { root: string; rel: string } {
  const snapshots = path.dirname(project.legacyDir);
  return { root: path.dirname(snapshots), rel: `${path.basename(snapshots)}/${path.basename(project.legacyDir)}` };
}

function parseOrUndefined(bytes: Buffer | undefined): unknown {
  try {
    return bytes === undefined ? undefined : JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

export type PruneResult = { readonly kept: SnapshotInfo[]; readonly removed: SnapshotInfo[] };

/**
 * Keeps the newest `keep` manual snapshots of the project, and the newest pre-restore and pre-merge ones (the
 * undo of the last restore and of the last merge); deletes the others. Automatic snapshots never push out the
 * user's own.
 */
export async function pruneSnapshots(
  project: SnapshotProject,
  keep: number,
  { dryRun = false }: { dryRun?: boolean } = {},
): Promise<PruneResult> {
  if (!Number.isInteger(keep) || keep < 1) throw new UserError(`keep at least 1 snapshot, not ${keep}`, 2);
  if (!existsSync(project.dir) && !existsSync(project.legacyDir)) return { kept: [], removed: [] };
  const choose = (): PruneResult => {
    const all = listSnapshots(project);
    const manual = all.filter((s) => s.kind === "manual").slice(0, keep);
    const newestUndos = [all.find((s) => s.kind === "pre-restore"), all.find((s) => s.kind === "pre-merge")];
    const keepIds = new Set([...manual, ...newestUndos].map((s) => s?.id));
    return { kept: all.filter((s) => keepIds.has(s.id)), removed: all.filter((s) => !keepIds.has(s.id)) };
  };
  // A preview takes no lock (which would write) and deletes nothing.
  if (dryRun) return choose();
  return withSnapshotLock(project, () => {
    const chosen = choose();
    const legacy = legacyPlace(project);
    for (const snapshot of chosen.removed) {
      if (snapshot.archive.startsWith(`${project.legacyDir}${path.sep}`)) {
        // In the folder containers write: removed by name in the folder held open, never through a link.
        withDirBeneath(legacy.root, legacy.rel, (held) => {
          rmSync(path.join(held, `${snapshot.id}${ARCHIVE_EXT}`), { force: true });
          rmSync(path.join(held, `${snapshot.id}${SUMMARY_EXT}`), { force: true });
        });
        continue;
      }
      // An undo folder may hold a snapshot's deep tree: removed level by level, not by Node's recursive rmSync.
      if (snapshot.stored === "moved-aside") removeTree(snapshot.archive);
      else rmSync(snapshot.archive, { force: true });
      if (snapshot.stored === "archive") {
        rmSync(path.join(path.dirname(snapshot.archive), `${snapshot.id}${SUMMARY_EXT}`), { force: true });
      }
    }
    return chosen;
  });
}

/** The names in the host-only snapshot folder `dir`; none when it is missing. */
function listNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
