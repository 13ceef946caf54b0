// Snapshots of one project's session data, to roll it back: its transcripts (every slug folder that maps to it),
// the todos, tasks and file-history of those sessions, the hook's records of their starts, and the project's
// entries in mappings.json and work-items.json. One gzip-compressed tar per snapshot under
// `persist-host/snapshots/<host project slug>/`, a folder no container mounts, with a manifest (sizes, sha256)
// as its last entry and a small summary beside it for listing. A restore's undo is a folder there of the files
// it replaced, moved aside. Snapshots taken before sit in the old shared `persist-state/snapshots/`: they are
// still listed and restored, as the hostile input anything a container writes is.
import { createHash } from "node:crypto";
import {
  closeSync,
  constants as fsConstants,
  copyFileSync,
  existsSync,
  fstatSync,
  fsyncSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
  type Stats,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod";
import { configDir, encodeProjectSlug, hasProjectSlug, packStateDir, projectsDir, type Env } from "../claude/home.ts";
import { runningSessions, type RunningSession } from "../claude/running-sessions.ts";
import { detectEnvironment } from "../environment.ts";
import { describeError, UserError } from "../errors.ts";
import { errorCode, fileError, isNotFound, isRealDirectory, readRegularText, tempPathBeside, writeFileAtomic } from "../fs.ts";
import { SESSION_STARTS_DIR } from "../hook/session-start.ts";
import { mappingKey, mappingSchema, mappingsFile, readMappings, type Mapping } from "../state/mappings.ts";
import { projectSlugFolders, sessionIdOf } from "../sessions/sessions.ts";
import { updateJsonState, withLock } from "../state/files.ts";
import { migrateHostState, STATE, statePath } from "../state/paths.ts";
import { readTarGz, writeTarGz, type FileSink, type TarEntry } from "./tar.ts";
import { parseWorkItem, workItemKey, workItemsPath } from "../work/work-items.ts";

/** Where older versions kept snapshots, in the shared state that containers can write. */
const SNAPSHOTS_DIR = "snapshots";
/** An undo folder holds its manifest and the moved files under `files/`, by their path in the config dir. */
const MOVED_ASIDE_MANIFEST = "manifest.json";
const MOVED_ASIDE_FILES = "files";
/** Summaries and undo manifests are small; a bigger (or endless) one is not ours. */
const SMALL_JSON_MAX = 64 * 1024 * 1024;
/** The manifest's path inside an archive: the last entry, written once every file's checksum is known. */
const MANIFEST_ENTRY = ".claude-persist/manifest.json";
const ARCHIVE_EXT = ".tar.gz";
const SUMMARY_EXT = ".json";
/** What a snapshot may hold, relative to the config dir; an archive entry anywhere else is refused. */
const SNAPSHOT_ROOTS = ["projects", "todos", "tasks", "file-history", `persist-state/${SESSION_STARTS_DIR}`] as const;
/** An id as uniqueId makes them: `2026-05-01T09-30-12-345Z`, maybe `-pre-restore` or `-pre-merge`, maybe `-2`. */
const SNAPSHOT_ID_PATTERN = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z(-pre-restore|-pre-merge)?(-\d{1,6})?$/;
/** A slug folder name as Claude Code makes them: one path part, never `..`. */
const SLUG_PATTERN = /^[A-Za-z0-9-]{1,255}$/;
/** Snapshots and restores of one project wait this long for each other: a 1 GB restore takes about a minute. */
const SNAPSHOT_LOCK_WAIT_MS = 10 * 60_000;

export type SnapshotKind = "manual" | "pre-restore" | "pre-merge";

const fileRecordSchema = z.object({ path: z.string(), size: z.number().int().nonnegative(), mode: z.number().int(), mtimeMs: z.number(), sha256: z.string() });
const dirRecordSchema = z.object({ path: z.string(), mode: z.number().int(), mtimeMs: z.number() });
const sessionRecordSchema = z.object({ id: z.string(), slug: z.string(), bytes: z.number() });

const summarySchema = z.object({
  format: z.literal(1),
  id: z.string(),
  kind: z.enum(["manual", "pre-restore", "pre-merge"]),
  created: z.string(),
  project: z.object({ path: z.string(), slug: z.string() }),
  environment: z.object({ kind: z.enum(["host", "container"]), machine: z.string() }),
  claudePersistVersion: z.string(),
  slugs: z.array(z.string()),
  sessionCount: z.number().int(),
  fileCount: z.number().int(),
  /** The files' bytes, uncompressed. */
  bytes: z.number(),
});

const manifestSchema = summarySchema.extend({
  sessions: z.array(sessionRecordSchema),
  directories: z.array(dirRecordSchema),
  files: z.array(fileRecordSchema),
  /** The project's entries of the pack's shared state files, as they were. */
  state: z.object({ mappings: z.array(z.unknown()), workItems: z.array(z.unknown()) }),
});

/** A restore's undo: what it moved aside (files/), what it added (moved aside again on undo), the state before. */
const movedAsideSchema = summarySchema.extend({
  form: z.literal("moved-aside"),
  sessions: z.array(sessionRecordSchema),
  directories: z.array(z.string()),
  files: z.array(z.object({ path: z.string(), size: z.number().int().nonnegative() })),
  added: z.array(z.string()),
  state: z.object({ mappings: z.array(z.unknown()), workItems: z.array(z.unknown()) }),
});

export type SnapshotSummary = z.infer<typeof summarySchema>;
type Manifest = z.infer<typeof manifestSchema>;
type MovedAside = z.infer<typeof movedAsideSchema>;

/** A project as snapshots see it: the host's path names its snapshot folder, wherever the command runs. */
export type SnapshotProject = {
  /** The project's folder here (on the host, or in the container). */
  readonly path: string;
  readonly hostPath: string;
  readonly slug: string;
  /** Every slug folder name that holds (or points at) its sessions. */
  readonly slugs: string[];
  /** Its snapshots, host-only. */
  readonly dir: string;
  /** Where they were before: read until migrated, never written. */
  readonly legacyDir: string;
};

/** `archive` is the .tar.gz, or for an undo ("moved-aside") its folder. */
export type SnapshotInfo = SnapshotSummary & { readonly stored: "archive" | "moved-aside"; readonly archive: string; readonly archiveBytes: number };

export type CreateResult = SnapshotInfo & { readonly seconds: number; readonly skipped: string[] };

// ---------------------------------------------------------------------------------------------------------------
// The project and its data

export async function resolveSnapshotProject(env: Env, cwd: string, extraSlugs: string[] = []): Promise<SnapshotProject> {
  const { project: here, slugs: found } = await projectSlugFolders(env, cwd);
  // In a container the folder is the container's: the mapping names the host's, which names the snapshots.
  const mapped = readableMappings(env).find((m) => encodeProjectSlug(m.containerPath) === encodeProjectSlug(here));
  const hostPath = mapped?.hostPath ?? here;
  const slug = encodeProjectSlug(hostPath);
  const slugs = [...new Set([...found, ...extraSlugs])].sort();
  // Snapshots of older versions move to the host-only folder before anything is made there.
  migrateHostState(env);
  return {
    path: here,
    hostPath,
    slug,
    slugs,
    dir: path.join(statePath(env, STATE.snapshots), slug),
    legacyDir: path.join(packStateDir(env), SNAPSHOTS_DIR, slug),
  };
}

type FileItem = { readonly rel: string; readonly abs: string; readonly size: number; readonly mode: number; readonly mtimeMs: number };
type DirItem = { readonly rel: string; readonly abs: string; readonly mode: number; readonly mtimeMs: number };

/** What of the config dir belongs to the project now. */
type ProjectData = {
  readonly slugs: string[];
  readonly sessions: Array<{ id: string; slug: string; bytes: number }>;
  readonly dirs: DirItem[];
  readonly files: FileItem[];
  readonly state: Manifest["state"];
  /** Symlinks, sockets and the like inside the project's folders: never archived. */
  readonly skipped: string[];
};

function collectProjectData(env: Env, slugFolders: string[]): ProjectData {
  const config = configDir(env);
  const projects = projectsDir(env);
  const data: ProjectData = { slugs: [], sessions: [], dirs: [], files: [], state: { mappings: [], workItems: [] }, skipped: [] };
  for (const slug of realSlugFolders(projects, slugFolders)) {
    data.slugs.push(slug);
    const first = data.files.length;
    add(config, `projects/${slug}`, data, "dir");
    // Sessions are the folder's own files, not those deeper down.
    for (const file of data.files.slice(first)) {
      const name = file.rel.slice(`projects/${slug}/`.length);
      const id = name.includes("/") ? undefined : sessionIdOf(name);
      if (id !== undefined) data.sessions.push({ id, slug, bytes: file.size });
    }
  }
  const ids = new Set(data.sessions.map((s) => s.id));
  for (const name of listNames(path.join(config, "todos")).sort()) {
    if (name.endsWith(".json") && sessionPrefixOf(name, ids)) add(config, `todos/${name}`, data, "file");
  }
  for (const id of [...ids].sort()) {
    for (const root of ["tasks", "file-history"]) add(config, `${root}/${id}`, data, "dir");
    add(config, `persist-state/${SESSION_STARTS_DIR}/${id}.jsonl`, data, "file");
  }
  const slugSet = new Set(slugFolders);
  data.state.mappings.push(...readStateArray(mappingsFile(env)).filter((m) => isProjectMapping(m, slugSet)));
  data.state.workItems.push(...readStateArray(workItemsPath(env)).filter((w) => isProjectWorkItem(w, slugSet)));
  return data;
}

/** The real folders behind the slug names (a symlinked container slug stands for its target), each once. */
function realSlugFolders(projects: string, names: string[]): string[] {
  let projectsReal: string;
  try {
    projectsReal = realpathSync(projects);
  } catch {
    return [];
  }
  const found = new Set<string>();
  for (const name of names) {
    const dir = path.join(projects, name);
    try {
      if (lstatSync(dir).isDirectory()) found.add(name);
      else if (statSync(dir).isDirectory()) {
        const real = realpathSync(dir);
        if (path.dirname(real) === projectsReal) found.add(path.basename(real));
      }
    } catch {
      // Not there, or a dangling link: nothing to keep.
    }
  }
  return [...found].sort();
}

/** `todos/<session id>-<anything>.json`: the session id is the part before one of the dashes. */
function sessionPrefixOf(name: string, ids: Set<string>): boolean {
  for (let i = name.indexOf("-"); i > 0; i = name.indexOf("-", i + 1)) if (ids.has(name.slice(0, i))) return true;
  return false;
}

/**
 * Adds `rel` under the config dir: a file, or a folder with everything in it. `only` is what the caller looks
 * for: anything else there is left out, silently for a folder, as skipped for a file. Links, sockets and the
 * like are skipped.
 */
function add(config: string, rel: string, data: ProjectData, only?: "dir" | "file"): void {
  const abs = path.join(config, rel);
  let stats: Stats;
  try {
    stats = lstatSync(abs);
  } catch {
    return;
  }
  if (stats.isDirectory() && only !== "file") {
    data.dirs.push({ rel, abs, mode: stats.mode & 0o7777, mtimeMs: stats.mtimeMs });
    let entries;
    try {
      entries = readdirSync(abs);
    } catch (error) {
      throw new UserError(`cannot read ${abs} (${describeError(error)}); fix its permissions and try again`);
    }
    for (const name of entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) add(config, `${rel}/${name}`, data);
  } else if (stats.isFile() && only !== "dir") {
    data.files.push({ rel, abs, size: stats.size, mode: stats.mode & 0o7777, mtimeMs: stats.mtimeMs });
  } else if (only !== "dir") {
    data.skipped.push(rel);
  }
}

function isProjectMapping(entry: unknown, slugs: Set<string>): boolean {
  if (!isRecord(entry)) return false;
  const names = [entry.hostSlug, entry.containerSlug].filter((s) => typeof s === "string");
  const paths = [entry.hostPath, entry.containerPath].filter((p) => typeof p === "string").map(encodeProjectSlug);
  return [...names, ...paths].some((slug) => slugs.has(slug));
}

function isProjectWorkItem(entry: unknown, slugs: Set<string>): boolean {
  if (!isRecord(entry) || typeof entry.repoPath !== "string") return false;
  return hasProjectSlug(slugs, entry.repoPath);
}

// ---------------------------------------------------------------------------------------------------------------
// Create

/** `claude-persist snapshot create`: a snapshot of the project that holds `cwd`. */
export async function createSnapshot(env: Env, cwd: string, now: Date = new Date()): Promise<CreateResult> {
  const project = await resolveSnapshotProject(env, cwd);
  return withSnapshotLock(project, () => writeSnapshot(env, project, "manual", collectProjectData(env, project.slugs), now));
}

/**
 * Before /dev-open merges container-only slug folders into the host's: a snapshot of the project with those
 * folders, so that the merge can be undone. Nothing when the folders hold nothing.
 */
export async function snapshotBeforeMerge(env: Env, hostPath: string, slugFolders: string[], now: Date = new Date()): Promise<CreateResult | undefined> {
  const projects = projectsDir(env);
  const hasFiles = slugFolders.some((slug) => isRealDirectory(path.join(projects, slug)) && listNames(path.join(projects, slug)).length > 0);
  if (!hasFiles) return undefined;
  try {
    const project = await resolveSnapshotProject(env, hostPath, slugFolders);
    return await withSnapshotLock(project, () => writeSnapshot(env, project, "pre-merge", collectProjectData(env, project.slugs), now));
  } catch (error) {
    throw new UserError(`could not take a snapshot before merging ${slugFolders.join(", ")} into the host's sessions (${describeError(error)}); nothing was merged`);
  }
}

async function writeSnapshot(env: Env, project: SnapshotProject, kind: SnapshotKind, data: ProjectData, now: Date): Promise<CreateResult> {
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
    files: data.files.map((f) => ({ path: f.rel, size: f.size, mode: f.mode, mtimeMs: f.mtimeMs, sha256: checksums.get(f.rel) ?? "" })),
    state: data.state,
  });
  async function* entries(): AsyncGenerator<TarEntry> {
    for (const d of data.dirs) yield { type: "dir", path: d.rel, mode: d.mode, mtimeMs: d.mtimeMs };
    for (const f of data.files) yield { type: "file", path: f.rel, mode: f.mode, mtimeMs: f.mtimeMs, size: f.size, source: { file: f.abs } };
    // Only now are all checksums known.
    const bytes = Buffer.from(`${JSON.stringify(manifest(), null, 1)}\n`);
    yield { type: "file", path: MANIFEST_ENTRY, mode: 0o600, mtimeMs: now.getTime(), size: bytes.length, source: { bytes } };
  }
  const archive = path.join(project.dir, `${id}${ARCHIVE_EXT}`);
  const temp = tempPathBeside(archive);
  try {
    await writeTarGz(temp, entries(), { onFile: (f) => checksums.set(f.path, f.sha256) });
    fsyncFile(temp);
    renameSync(temp, archive);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  writeFileAtomic(path.join(project.dir, `${id}${SUMMARY_EXT}`), `${JSON.stringify(summary, null, 2)}\n`, 0o600);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ...summary, stored: "archive", archive, archiveBytes: statSync(archive).size, seconds, skipped: data.skipped };
}

/** `2026-05-01T09-30-12-345Z`, plus the kind for automatic ones; ids sort by time. Unique under the lock. */
function uniqueId(dir: string, now: Date, kind: SnapshotKind): string {
  const base = now.toISOString().replace(/[:.]/g, "-") + (kind === "manual" ? "" : `-${kind}`);
  for (let i = 1; ; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    if (![`${id}${ARCHIVE_EXT}`, `${id}${SUMMARY_EXT}`, id].some((name) => existsSync(path.join(dir, name)))) return id;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// List and prune

/** The project's snapshots, newest first: the host-only folder's, then those still in the old shared folder. */
export function listSnapshots(project: SnapshotProject): SnapshotInfo[] {
  const found = new Map<string, SnapshotInfo>();
  for (const name of listNames(project.dir)) {
    if (name.startsWith(".")) continue;
    const info = name.endsWith(ARCHIVE_EXT) ? archiveInfo(project, project.dir, name.slice(0, -ARCHIVE_EXT.length), false) : movedAsideInfo(project, name);
    if (info) found.set(info.id, info);
  }
  // Containers can write the old folder: its entries never take a host-only snapshot's id, and only names
  // shaped like the ids we make count (a name with escape sequences would reach the terminal).
  for (const name of listNames(project.legacyDir)) {
    if (!SNAPSHOT_ID_PATTERN.test(name.slice(0, -ARCHIVE_EXT.length)) || !name.endsWith(ARCHIVE_EXT)) continue;
    const info = archiveInfo(project, project.legacyDir, name.slice(0, -ARCHIVE_EXT.length), true);
    if (info && !found.has(info.id)) found.set(info.id, info);
  }
  // Host-only snapshots first, whatever the dates: one from the old folder (dated 2099, say) must never be
  // "latest" nor push the user's own out of `prune --keep N`.
  const shared = (s: SnapshotInfo) => (s.archive.startsWith(`${project.legacyDir}${path.sep}`) ? 1 : 0);
  return [...found.values()].sort((a, b) => shared(a) - shared(b) || b.created.localeCompare(a.created) || b.id.localeCompare(a.id));
}

/**
 * An archive and its summary. The id is the archive's file name, never what a summary says; a summary that
 * claims another id or project is ignored, and in the old shared folder so is its time (the id's is used).
 */
function archiveInfo(project: SnapshotProject, dir: string, id: string, shared: boolean): SnapshotInfo | undefined {
  const archive = path.join(dir, `${id}${ARCHIVE_EXT}`);
  let stats: Stats;
  try {
    stats = lstatSync(archive);
  } catch {
    return undefined;
  }
  if (!stats.isFile()) return undefined;
  const parsed = summarySchema.safeParse(readSmallJson(path.join(dir, `${id}${SUMMARY_EXT}`)));
  const fallback = unknownSummary(id, project);
  const summary = parsed.success && parsed.data.id === id && parsed.data.project.slug === project.slug ? parsed.data : fallback;
  if (!shared) return { ...summary, stored: "archive", archive, archiveBytes: stats.size };
  const machine = /^[A-Za-z0-9._-]{1,64}$/.test(summary.environment.machine) ? summary.environment.machine : "unknown";
  return { ...summary, created: fallback.created, environment: { ...summary.environment, machine }, stored: "archive", archive, archiveBytes: stats.size };
}

/** The undo of a restore: a folder of the files the restore moved aside, with its manifest. */
function movedAsideInfo(project: SnapshotProject, id: string): SnapshotInfo | undefined {
  const folder = path.join(project.dir, id);
  if (!isRealDirectory(folder)) return undefined;
  const parsed = movedAsideSchema.safeParse(readSmallJson(path.join(folder, MOVED_ASIDE_MANIFEST)));
  if (!parsed.success || parsed.data.id !== id) return undefined;
  const { files: _files, added: _added, directories: _directories, sessions: _sessions, state: _state, form: _form, ...summary } = parsed.data;
  return { ...summary, stored: "moved-aside", archive: folder, archiveBytes: 0 };
}

/** A snapshot whose summary is missing: what its id says; restore still reads the manifest inside. */
function unknownSummary(id: string, project: SnapshotProject): SnapshotSummary {
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

export type PruneResult = { readonly kept: SnapshotInfo[]; readonly removed: SnapshotInfo[] };

/**
 * Keeps the newest `keep` manual snapshots of the project, and the newest pre-restore and pre-merge ones (the
 * undo of the last restore and of the last merge); deletes the others. Automatic snapshots never push out the
 * user's own.
 */
export async function pruneSnapshots(project: SnapshotProject, keep: number): Promise<PruneResult> {
  if (!Number.isInteger(keep) || keep < 1) throw new UserError(`keep at least 1 snapshot, not ${keep}`, 2);
  if (!existsSync(project.dir) && !existsSync(project.legacyDir)) return { kept: [], removed: [] };
  return withSnapshotLock(project, () => {
    const all = listSnapshots(project);
    const manual = all.filter((s) => s.kind === "manual").slice(0, keep);
    const keepIds = new Set([...manual, all.find((s) => s.kind === "pre-restore"), all.find((s) => s.kind === "pre-merge")].map((s) => s?.id));
    const removed = all.filter((s) => !keepIds.has(s.id));
    for (const snapshot of removed) {
      rmSync(snapshot.archive, { recursive: snapshot.stored === "moved-aside", force: true });
      if (snapshot.stored === "archive") rmSync(path.join(path.dirname(snapshot.archive), `${snapshot.id}${SUMMARY_EXT}`), { force: true });
    }
    return { kept: all.filter((s) => keepIds.has(s.id)), removed };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Restore

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

export type UndoInfo = { readonly id: string; readonly folder: string; readonly movedAside: number; readonly added: number };

/** What a restore puts in place, verified: from an archive extracted into staging, or from an undo folder. */
type Restorable = {
  readonly id: string;
  readonly project: { readonly path: string; readonly slug: string };
  readonly slugs: string[];
  readonly sessions: Array<{ id: string; slug: string; bytes: number }>;
  readonly directories: Array<{ path: string; mtimeMs?: number }>;
  /** Each file and where its verified copy waits, in a folder only the host can write. */
  readonly files: Array<{ path: string; size: number; staged: string }>;
  /** Files to move aside although the snapshot lacks them (an undo's: those its restore added). */
  readonly removes: string[];
  readonly state: Manifest["state"];
  readonly bytes: number;
  /** The project's state entries become the snapshot's, not merged (an undo). */
  readonly exactState: boolean;
  /** It holds all of the project's data (an archive), not only what one restore moved (an undo). */
  readonly complete: boolean;
};

/**
 * Puts back what snapshot `ref` (an id, a unique start of one, "latest", or an archive's path) held. The whole
 * archive is extracted and verified, into a folder only the host can write, before anything changes; a live
 * Claude session of the project stops it. What it replaces is moved aside into an undo folder. Files the
 * snapshot lacks stay, unless `exact`.
 */
export async function restoreSnapshot(env: Env, cwd: string, ref: string, options: { exact?: boolean } = {}, now: Date = new Date()): Promise<RestoreResult> {
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
        source = snapshot.stored === "moved-aside" ? readMovedAside(snapshot.archive) : await extractVerified(snapshot.archive, staging);
      } catch (error) {
        // A full disk or a folder we may not write is the machine's trouble, not the archive's.
        const local = fileError(staging, error);
        if (local instanceof UserError) throw new UserError(`${local.message.replace(/ and run again$/, "")}; nothing was restored or changed`);
        throw new UserError(`snapshot ${snapshot.id} is damaged (${describeError(error)}); nothing was restored or changed`);
      }
      if (source.project.slug !== project.slug) {
        throw new UserError(`snapshot ${snapshot.id} is of ${source.project.path}, not of ${project.hostPath}; run the restore there`);
      }
      // An archive may come from a folder containers write: a well-formed one may still reach for other data.
      const foreign = foreignEntry(source, new Set([project.slug, ...project.slugs]));
      if (foreign) {
        throw new UserError(`snapshot ${snapshot.id} holds ${foreign}, which is not this project's data; nothing was restored or changed`);
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
    if (!latest) throw new UserError(`${project.path} has no snapshots yet; take one with 'claude-persist snapshot create'`);
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
  if (matches.length > 1) throw new UserError(`'${ref}' matches ${matches.length} snapshots; give more of the id ('claude-persist snapshot list' shows them)`);
  throw new UserError(`no snapshot '${ref}' of ${project.path}; 'claude-persist snapshot list' shows them`);
}

/** Stops while a Claude session of the project runs: it would write into what is being put back. */
function refuseWhileLive(env: Env, project: SnapshotProject, sessions: Array<{ id: string }>): void {
  const live = liveSessionsOf(env, project, sessions);
  const first = live[0];
  if (!first) return;
  const what = `pid ${first.pid}${first.sessionId ? `, session ${first.sessionId}` : ""}${first.cwd ? `, in ${first.cwd}` : ""}`;
  const more = live.length > 1 ? ` and ${live.length - 1} more` : "";
  if (first.state === "unknown") {
    throw new UserError(
      `a Claude session of this project may be running elsewhere (${what}${more}, recorded in another container or machine); ` +
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
 * Reads the whole archive once into `staging`, hashing each file as it is written, then checks it all against
 * the manifest (its last entry): the same files and folders, each listed once, sizes and sha256. Rejects with
 * the reason on the first difference.
 */
async function extractVerified(archive: string, staging: string): Promise<Restorable> {
  const got = new Map<string, { size: number; sha256: string }>();
  const dirs = new Set<string>();
  const manifestChunks: Buffer[] = [];
  let manifestSeen = false;
  let open: { fd: number } | undefined;
  try {
    await readTarGz(archive, (entry): FileSink | undefined => {
      if (manifestSeen) throw new Error(`entry '${entry.path}' follows the manifest`);
      if (entry.path === MANIFEST_ENTRY) {
        if (entry.type !== "file" || entry.size > 256 * 1024 * 1024) throw new Error("the manifest entry is malformed");
        manifestSeen = true;
        return { write: (chunk) => manifestChunks.push(Buffer.from(chunk)), end: () => undefined };
      }
      if (!SNAPSHOT_ROOTS.some((root) => entry.path.startsWith(`${root}/`))) throw new Error(`entry '${entry.path}' is outside what a snapshot holds`);
      const target = path.join(staging, entry.path);
      if (entry.type === "dir") {
        dirs.add(entry.path);
        mkdirSync(target, { recursive: true, mode: 0o700 });
        return undefined;
      }
      mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      const file = { fd: openSync(target, "wx", 0o600) };
      open = file;
      const hash = createHash("sha256");
      let size = 0;
      return {
        write(chunk) {
          hash.update(chunk);
          size += chunk.length;
          for (let offset = 0; offset < chunk.length; ) offset += writeSync(file.fd, chunk, offset);
        },
        end() {
          closeSync(file.fd);
          open = undefined;
          got.set(entry.path, { size, sha256: hash.digest("hex") });
        },
      };
    });
  } finally {
    if (open) closeSync(open.fd);
  }
  if (!manifestSeen) throw new Error("it has no manifest");
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(Buffer.concat(manifestChunks).toString("utf8")));
  } catch {
    throw new Error("its manifest is unreadable");
  }
  const twice = firstRepeated([...manifest.files.map((f) => f.path), ...manifest.directories.map((d) => d.path)]) ?? firstRepeated(manifest.sessions.map((s) => s.id)) ?? firstRepeated(manifest.slugs);
  if (twice !== undefined) throw new Error(`its manifest lists '${twice}' twice`);
  for (const file of manifest.files) {
    const seen = got.get(file.path);
    if (!seen) throw new Error(`${file.path} is missing`);
    if (seen.size !== file.size || seen.sha256 !== file.sha256) throw new Error(`${file.path} does not match its checksum`);
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const name of got.keys()) if (!listed.has(name)) throw new Error(`it holds ${name}, which its manifest does not list`);
  const listedDirs = new Set(manifest.directories.map((d) => d.path));
  for (const dir of manifest.directories) if (!dirs.has(dir.path)) throw new Error(`folder ${dir.path} is missing`);
  for (const dir of dirs) if (!listedDirs.has(dir)) throw new Error(`it holds folder ${dir}, which its manifest does not list`);
  // Times are the snapshot's; modes never are (see applyRestore). Staging is the host's own folder.
  for (const file of manifest.files) utimesSync(path.join(staging, file.path), new Date(file.mtimeMs), new Date(file.mtimeMs));
  return {
    id: manifest.id,
    project: manifest.project,
    slugs: manifest.slugs,
    sessions: manifest.sessions,
    directories: manifest.directories,
    files: manifest.files.map((f) => ({ path: f.path, size: f.size, staged: path.join(staging, f.path) })),
    removes: [],
    state: manifest.state,
    bytes: manifest.bytes,
    exactState: false,
    complete: true,
  };
}

/** An undo folder (host-only, ours): its files that are there; one missing was never moved aside. */
function readMovedAside(folder: string): Restorable {
  const parsed = movedAsideSchema.safeParse(readSmallJson(path.join(folder, MOVED_ASIDE_MANIFEST)));
  if (!parsed.success) throw new Error("its manifest is unreadable");
  const m = parsed.data;
  const twice = firstRepeated([...m.files.map((f) => f.path), ...m.added]);
  if (twice !== undefined) throw new Error(`its manifest lists '${twice}' twice`);
  const files: Restorable["files"] = [];
  for (const file of m.files) {
    const staged = path.join(folder, MOVED_ASIDE_FILES, file.path);
    let stats: Stats;
    try {
      stats = lstatSync(staged);
    } catch (error) {
      if (isNotFound(error)) continue;
      throw error;
    }
    if (!stats.isFile()) throw new Error(`${file.path} in it is not a regular file`);
    files.push({ path: file.path, size: stats.size, staged });
  }
  return {
    id: m.id,
    project: m.project,
    slugs: m.slugs,
    sessions: m.sessions,
    directories: m.directories.map((d) => ({ path: d })),
    files,
    removes: m.added,
    state: m.state,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    exactState: true,
    complete: false,
  };
}

function firstRepeated(values: string[]): string | undefined {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) return value;
    seen.add(value);
  }
  return undefined;
}

type Contents = Pick<Restorable, "slugs" | "sessions" | "directories" | "files" | "removes" | "state">;

/**
 * The first thing the snapshot names that is not this project's, described for the user; undefined when all
 * is. Slugs must be the project's; files and folders under its slug folders, or under the sessions' own entries
 * of todos/, tasks/, file-history/ and session-starts/; state entries readable and the project's.
 */
function foreignEntry(contents: Contents, projectSlugs: Set<string>): string | undefined {
  for (const slug of contents.slugs) if (!SLUG_PATTERN.test(slug) || !projectSlugs.has(slug)) return `the slug folder '${slug}'`;
  const slugs = new Set(contents.slugs);
  for (const session of contents.sessions) if (!slugs.has(session.slug)) return `session ${session.id} in '${session.slug}'`;
  const ids = new Set(contents.sessions.map((s) => s.id));
  for (const dir of contents.directories) if (!isProjectPath(dir.path, "dir", slugs, ids)) return `'${dir.path}'`;
  for (const rel of [...contents.files.map((f) => f.path), ...contents.removes]) if (!isProjectPath(rel, "file", slugs, ids)) return `'${rel}'`;
  for (const entry of contents.state.mappings) {
    const mapping = mappingSchema.safeParse(entry);
    if (!mapping.success || !isSnapshotMapping(mapping.data, projectSlugs)) return `the mapping ${brief(entry)}`;
  }
  for (const entry of contents.state.workItems) {
    if (!parseWorkItem(entry) || !isProjectWorkItem(entry, projectSlugs)) return `the work item ${brief(entry)}`;
  }
  return undefined;
}

/** Whose a path is; it must also be a plain relative path (no `..`, `.` or empty parts), as the tar reader checks. */
function isProjectPath(rel: string, type: "dir" | "file", slugs: Set<string>, ids: Set<string>): boolean {
  const parts = rel.split("/");
  if (parts.some((part) => part === "" || part === "." || part === ".." || part.includes("\u0000"))) return false;
  const [root = "", name = "", ...rest] = parts;
  // A file sits inside its slug or session folder, never in the folder's place.
  const deepEnough = type === "dir" || rest.length > 0;
  switch (root) {
    case "projects":
      return slugs.has(name) && deepEnough;
    case "tasks":
    case "file-history":
      return ids.has(name) && deepEnough;
    case "todos":
      return type === "file" && rest.length === 0 && name.endsWith(".json") && sessionPrefixOf(name, ids);
    case "persist-state": {
      const [file = "", ...deeper] = rest;
      return type === "file" && name === SESSION_STARTS_DIR && deeper.length === 0 && file.endsWith(".jsonl") && ids.has(file.slice(0, -".jsonl".length));
    }
    default:
      return false;
  }
}

/** A mapping of one of the project's slug folders, whose slugs are what its paths make. */
function isSnapshotMapping(m: Mapping, projectSlugs: Set<string>): boolean {
  return (
    projectSlugs.has(m.hostSlug) &&
    SLUG_PATTERN.test(m.containerSlug) &&
    m.hostSlug === encodeProjectSlug(m.hostPath) &&
    m.containerSlug === encodeProjectSlug(m.containerPath)
  );
}

function brief(entry: unknown): string {
  const text = JSON.stringify(entry) ?? String(entry);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/**
 * What stands where the restore must put a folder or a file, described; undefined when nothing does. Every
 * target and every folder above it (below the config dir's own folders) must be missing or of the right type:
 * a folder for folders, a regular file for files. A slug folder that became a link is replaced, so its
 * contents are not looked at. (Checked again at each write: see ConfigTree.)
 */
function blockedTarget(config: string, contents: Contents): string | undefined {
  const replacedLinks = new Set(contents.slugs.map((slug) => `projects/${slug}`));
  const check = (rel: string, type: "dir" | "file"): string | undefined => {
    const parts = rel.split("/");
    for (let i = 2; i <= parts.length; i++) {
      const here = parts.slice(0, i).join("/");
      let stats: Stats;
      try {
        stats = lstatSync(path.join(config, here));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      if (stats.isSymbolicLink() && replacedLinks.has(here)) return undefined;
      const wanted = i < parts.length || type === "dir" ? "dir" : "file";
      if (wanted === "dir" ? !stats.isDirectory() : !stats.isFile()) {
        return `${path.join(config, here)} is ${describeType(stats)} where the snapshot has a ${wanted === "dir" ? "folder" : "file"}`;
      }
    }
    return undefined;
  };
  for (const dir of contents.directories) {
    const found = check(dir.path, "dir");
    if (found) return found;
  }
  for (const file of contents.files) {
    const found = check(file.path, "file");
    if (found) return found;
  }
  return undefined;
}

function describeType(stats: Stats): string {
  if (stats.isDirectory()) return "a folder";
  if (stats.isFile()) return "a file";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "a special file";
}

/**
 * Puts the verified files in place; with `exact`, moves away the project's files the snapshot lacks. Whatever it
 * replaces or removes is moved aside (a rename, on the host's own filesystem) into the undo folder, whose
 * manifest is written first, so that even a restore that stops half-way can be undone. Every write goes through
 * folders opened without following links (ConfigTree); files get 0600 and new folders 0700, whatever the
 * snapshot says.
 */
async function applyRestore(env: Env, project: SnapshotProject, source: Restorable, before: ProjectData, exact: boolean, undoId: string, now: Date): Promise<{ removed: number; undo: UndoInfo }> {
  const tree = new ConfigTree(configDir(env));
  try {
    const config = configDir(env);
    const placing = new Set(source.files.map((f) => f.path));
    // An undo lists only what its restore moved: --exact means nothing more for it.
    const removing = [...new Set([...(exact && source.complete ? before.files.map((f) => f.rel) : []), ...source.removes])].filter((rel) => !placing.has(rel));
    // What is there now (a first look: each write checks again). Under a slug link that becomes a folder, nothing.
    const linked = source.slugs.filter((slug) => isSymlink(path.join(config, "projects", slug))).map((slug) => `projects/${slug}/`);
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
      for (const dir of [...before.dirs].sort((a, b) => b.rel.length - a.rel.length)) if (!keepDirs.has(dir.rel)) tree.removeIfEmpty(dir.rel);
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

/**
 * The config dir's folders, opened one path part at a time with O_NOFOLLOW and kept open: a write goes to a
 * name inside a folder we hold (through /proc/self/fd on Linux, which is openat by another name), so a folder
 * swapped for a link after it was checked cannot redirect it. Where /proc is missing (macOS), each write first
 * checks again that every part of the path is still the real folder that was opened.
 */
class ConfigTree {
  private readonly folders = new Map<string, { fd: number; dev: number; ino: number }>();
  private readonly viaProc: boolean;

  constructor(private readonly root: string) {
    const fd = openSync(root, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    const stats = fstatSync(fd);
    this.folders.set("", { fd, dev: stats.dev, ino: stats.ino });
    this.viaProc = existsSync(`/proc/self/fd/${fd}/.`);
  }

  /** The folder `rel` (made 0700 where missing, when `create`), as an open descriptor; undefined when missing. */
  folder(rel: string, create: boolean): number | undefined {
    const known = this.folders.get(rel);
    if (known) return known.fd;
    const parent = rel.includes("/") ? path.posix.dirname(rel) : "";
    const parentFd = this.folder(parent, create);
    if (parentFd === undefined) return undefined;
    const name = path.posix.basename(rel);
    const at = this.at(parentFd, parent, name);
    if (create) {
      try {
        mkdirSync(at, { mode: 0o700 });
      } catch (error) {
        if (errorCode(error) !== "EEXIST") throw error;
      }
    }
    // The config dir's own folders (projects/, tasks/ …) are the user's: one may be a link to another disk. No
    // container can replace them (it only sees inside them), so only the parts below are opened without links.
    const noFollow = parent === "" ? 0 : fsConstants.O_NOFOLLOW;
    let fd: number;
    try {
      fd = openSync(at, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | noFollow);
    } catch (error) {
      if (isNotFound(error) && !create) return undefined;
      const code = errorCode(error);
      if (code === "ELOOP" || code === "ENOTDIR") throw new Error(`${path.join(this.root, rel)} is no longer a folder (a link or file took its place)`);
      throw error;
    }
    // Many folders (one per session): keep the descriptors few.
    if (this.folders.size > 256) this.closeAllBut(parent);
    const stats = fstatSync(fd);
    this.folders.set(rel, { fd, dev: stats.dev, ino: stats.ino });
    return fd;
  }

  /** A path for the file `rel` that resolves inside its held folder; undefined when its folder is missing. */
  file(rel: string, create: boolean): string | undefined {
    const parent = path.posix.dirname(rel);
    const fd = this.folder(parent, create);
    return fd === undefined ? undefined : this.at(fd, parent, path.posix.basename(rel));
  }

  /** `rel`, a link, becomes an empty real folder. */
  replaceLinkWithFolder(rel: string): void {
    const target = this.file(rel, false);
    if (target === undefined) return;
    try {
      if (!lstatSync(target).isSymbolicLink()) return;
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    unlinkSync(target);
    mkdirSync(target, { mode: 0o700 });
  }

  removeIfEmpty(rel: string): void {
    const target = this.file(rel, false);
    if (target === undefined) return;
    this.forget(rel);
    try {
      rmdirSync(target);
    } catch {
      // Not empty (files the snapshot puts back, or another project's), a link, or gone: it stays.
    }
  }

  setTimes(rel: string, mtimeMs: number): void {
    const fd = this.folder(rel, false);
    if (fd !== undefined) futimesSync(fd, new Date(mtimeMs), new Date(mtimeMs));
  }

  close(): void {
    this.closeAllBut(undefined);
  }

  private at(fd: number, rel: string, name: string): string {
    if (this.viaProc) return `/proc/self/fd/${fd}/${name}`;
    // No openat here: look at every part again, right before the write.
    let dir = this.root;
    const parts = rel === "" ? [] : rel.split("/");
    for (let i = 0; i < parts.length; i++) {
      dir = path.join(dir, parts[i] ?? "");
      const held = this.folders.get(parts.slice(0, i + 1).join("/"));
      const stats = i === 0 ? statSync(dir) : lstatSync(dir);
      if (!stats.isDirectory() || (held && (held.dev !== stats.dev || held.ino !== stats.ino))) {
        throw new Error(`${dir} is no longer the folder it was (a link or another folder took its place)`);
      }
    }
    return path.join(dir, name);
  }

  private forget(rel: string): void {
    for (const [key, held] of this.folders) {
      if (key === rel || key.startsWith(`${rel}/`)) {
        closeSync(held.fd);
        this.folders.delete(key);
      }
    }
  }

  private closeAllBut(keep: string | undefined): void {
    for (const [key, held] of this.folders) {
      if (key === keep || (keep !== undefined && key === "")) continue;
      closeSync(held.fd);
      this.folders.delete(key);
    }
  }
}

/** The project's entries of mappings.json and work-items.json as the snapshot had them; others' entries stay. */
async function restoreStateEntries(env: Env, manifest: Pick<Restorable, "slugs" | "state">, exact: boolean, projectSlugs: Set<string>): Promise<void> {
  const slugs = new Set([...projectSlugs, ...manifest.slugs]);
  const files = [
    { file: mappingsFile(env), saved: manifest.state.mappings, mine: (e: unknown) => isProjectMapping(e, slugs), key: (e: unknown) => (isRecord(e) ? mappingKey(e) : undefined) },
    { file: workItemsPath(env), saved: manifest.state.workItems, mine: (e: unknown) => isProjectWorkItem(e, slugs), key: workItemKey },
  ];
  for (const { file, saved, mine, key } of files) {
    if (!exact && saved.length === 0) continue; // Nothing to put back, and nothing to remove.
    await updateJsonState(file, z.array(z.unknown()), [], (current) => (exact ? [...current.filter((e) => !mine(e)), ...saved] : mergeEntries(current, saved, key)));
  }
}

/** Entries with the same key are replaced where they stand; the snapshot's others are added at the end. */
function mergeEntries(current: unknown[], saved: unknown[], key: (entry: unknown) => string | undefined): unknown[] {
  const byKey = new Map<string, unknown>();
  const unkeyed: unknown[] = [];
  for (const entry of saved) {
    const k = key(entry);
    if (k === undefined) unkeyed.push(entry);
    else byKey.set(k, entry);
  }
  const next = current.map((entry) => {
    const k = key(entry);
    const replacement = k === undefined ? undefined : byKey.get(k);
    if (k === undefined || replacement === undefined) return entry;
    byKey.delete(k);
    return replacement;
  });
  return [...next, ...byKey.values(), ...unkeyed];
}


// ---------------------------------------------------------------------------------------------------------------
// Small helpers

/** One snapshot, restore or prune of a project at a time; the others wait for it, long enough for a big restore. */
export async function withSnapshotLock<T>(project: SnapshotProject, fn: () => T | Promise<T>, waitMs = SNAPSHOT_LOCK_WAIT_MS): Promise<T> {
  makeHostOnlyDir(project.dir);
  return withLock(path.join(project.dir, ".snapshots"), fn, {
    waitMs,
    busy: () => new UserError(`a snapshot or restore of ${project.hostPath} is running; wait for it to finish, then try again`),
  });
}

/** The mappings this version can read; none when mappings.json is broken (doctor reports that). */
function readableMappings(env: Env): Mapping[] {
  try {
    return readMappings(env);
  } catch {
    return [];
  }
}

function readStateArray(file: string): unknown[] {
  try {
    // Containers write these files: a FIFO or link planted there is refused, not waited on.
    const text = readRegularText(file);
    const value: unknown = text === undefined ? [] : JSON.parse(text);
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}


function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * `<config>/persist-host/snapshots/<slug>`, made 0700 where missing. Its folders must be real folders: a link
 * there is not ours (and would send staging and undo files elsewhere).
 */
function makeHostOnlyDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let here = dir, i = 0; i < 3; here = path.dirname(here), i++) {
    if (!lstatSync(here).isDirectory()) throw new UserError(`${here} is not a folder (a link?); remove it, then try again`);
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

/**
 * A small JSON file, read only if it is a regular file itself (no link, FIFO or device: those would lead
 * elsewhere or hang) of bounded size; undefined when missing or unreadable.
 */
function readSmallJson(file: string): unknown {
  try {
    const text = readRegularText(file, SMALL_JSON_MAX);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function listNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
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

/** The pack's version: `runtime.json` beside the built code (installed or in dist/), else package.json. */
function packVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    for (const name of ["runtime.json", "package.json"]) {
      try {
        const parsed = z.object({ name: z.literal("claude-persist"), version: z.string() }).safeParse(JSON.parse(readFileSync(path.join(dir, name), "utf8")));
        if (parsed.success) return parsed.data.version;
      } catch {
        // Not here: look further up.
      }
    }
    if (path.dirname(dir) === dir) return "unknown";
  }
}
