// Taking a snapshot: `snapshot create`, and the one /dev-open takes before it merges container slug folders.
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { projectsDir, type Env } from "../claude/home.ts";
import { listBeneath, openBeneath, statBeneath } from "../container-tree.ts";
import { detectEnvironment } from "../environment.ts";
import { cleanedOnInterrupt } from "../interrupt.ts";
import { describeError, UserError } from "../errors.ts";
import { tempPathBeside, writeFileAtomic } from "../fs.ts";
import { packVersion } from "../version.ts";
import {
  ARCHIVE_EXT,
  MANIFEST_ENTRY,
  SUMMARY_EXT,
  type CreateResult,
  type Manifest,
  type SnapshotKind,
  type SnapshotProject,
  type SnapshotSummary,
} from "./format.ts";
import {
  collectProjectData,
  makeHostOnlyDir,
  resolveSnapshotProject,
  SNAPSHOT_LOCK_NAME,
  withSnapshotLock,
  type ProjectData,
} from "./project.ts";
import { writeTarGz, type TarEntry } from "./tar.ts";

/** `claude-persist snapshot create`: a snapshot of the project that holds `cwd`. */
export async function createSnapshot(env: Env, cwd: string, now: Date = new Date()): Promise<CreateResult> {
  const project = await resolveSnapshotProject(env, cwd);
  return withSnapshotLock(project, () =>
    writeSnapshot(env, project, "manual", collectProjectData(env, project.slugs), now),
  );
}

/**
 * Before /dev-open merges container-only slug folders into the host's: a snapshot of the project with those
 * folders, so that the merge can be undone. Nothing when the folders hold nothing.
 */
export async function snapshotBeforeMerge(
  env: Env,
  hostPath: string,
  slugFolders: string[],
  now: Date = new Date(),
): Promise<CreateResult | undefined> {
  const projects = projectsDir(env);
  const hasFiles = slugFolders.some(
    (slug) => statBeneath(projects, slug)?.kind === "dir" && (listBeneath(projects, slug)?.length ?? 0) > 0,
  );
  if (!hasFiles) return undefined;
  try {
    const project = await resolveSnapshotProject(env, hostPath, slugFolders);
    return await withSnapshotLock(project, () =>
      writeSnapshot(env, project, "pre-merge", collectProjectData(env, project.slugs), now),
    );
  } catch (error) {
    throw new UserError(
      `could not take a snapshot before merging ${slugFolders.join(", ")} into the host's sessions ` +
        `(${describeError(error)}); nothing was merged`,
    );
  }
}

async function writeSnapshot(
  env: Env,
  project: SnapshotProject,
  kind: SnapshotKind,
  data: ProjectData,
  now: Date,
): Promise<CreateResult> {
  const started = process.hrtime.bigint();
  makeHostOnlyDir(project.dir);
  const id = uniqueId(project.dir, now, kind);
  const where = detectEnvironment(env);
  const summary: SnapshotSummary = {
    format: 1,
    id,
    kind,
    created: now.toISOString(),
    project: { path: project.hostPath, slug: project.slug },
    environment: { kind: where.kind, machine: where.name },
    claudePersistVersion: packVersion(),
    slugs: data.slugs,
    sessionCount: data.sessions.length,
    fileCount: data.files.length,
    bytes: data.files.reduce((sum, f) => sum + f.size, 0),
  };
  const checksums = new Map<string, string>();
  const manifest = (): Manifest => ({
    ...summary,
    sessions: data.sessions,
    directories: data.dirs.map((d) => ({ path: d.rel, mode: d.mode, mtimeMs: d.mtimeMs })),
    files: data.files.map((f) => ({
      path: f.rel,
      size: f.size,
      mode: f.mode,
      mtimeMs: f.mtimeMs,
      sha256: checksums.get(f.rel) ?? "",
    })),
    state: data.state,
  });
  async function* entries(): AsyncGenerator<TarEntry> {
    for (const d of data.dirs) yield { type: "dir", path: d.rel, mode: d.mode, mtimeMs: d.mtimeMs };
    for (const f of data.files) {
      // Opened through the gate, and only if it is still the file listed: a folder swapped for a link to
      // ~/.ssh after the listing gives an error, not the host's key in the archive.
      const open = () => openBeneath(f.root, f.inRoot, f);
      yield { type: "file", path: f.rel, mode: f.mode, mtimeMs: f.mtimeMs, size: f.size, source: { open } };
    }
    // Only now are all checksums known.
    const bytes = Buffer.from(`${JSON.stringify(manifest(), null, 1)}\n`);
    const mtimeMs = now.getTime();
    yield { type: "file", path: MANIFEST_ENTRY, mode: 0o600, mtimeMs, size: bytes.length, source: { bytes } };
  }
  const archive = path.join(project.dir, `${id}${ARCHIVE_EXT}`);
  const temp = tempPathBeside(archive);
  // Cut short by Ctrl-C or SIGTERM: no temporary archive, and no lock left to make the next run wait.
  const lock = path.join(project.dir, `${SNAPSHOT_LOCK_NAME}.lock`);
  const cleanup = () => {
    rmSync(temp, { force: true });
    rmSync(lock, { recursive: true, force: true });
  };
  await cleanedOnInterrupt(cleanup, async () => {
    try {
      await writeTarGz(temp, entries(), { onFile: (f) => checksums.set(f.path, f.sha256) });
      fsyncFile(temp);
      renameSync(temp, archive);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
  });
  writeFileAtomic(path.join(project.dir, `${id}${SUMMARY_EXT}`), `${JSON.stringify(summary, null, 2)}\n`, 0o600);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const archiveBytes = statSync(archive).size;
  return { ...summary, stored: "archive", archive, archiveBytes, seconds, skipped: data.skipped };
}

/** `2026-05-01T09-30-12-345Z`, plus the kind for automatic ones; ids sort by time. Unique under the lock. */
export function uniqueId(dir: string, now: Date, kind: SnapshotKind): string {
  const base = now.toISOString().replace(/[:.]/g, "-") + (kind === "manual" ? "" : `-${kind}`);
  for (let i = 1; ; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    if (![`${id}${ARCHIVE_EXT}`, `${id}${SUMMARY_EXT}`, id].some((name) => existsSync(path.join(dir, name)))) return id;
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
