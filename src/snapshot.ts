// Snapshots of one project's session data, to roll it back: its transcripts (every slug folder that maps to it),
// the todos, tasks and file-history of those sessions, the hook's records of their starts, and the project's
// entries in mappings.json and work-items.json. One gzip-compressed tar per snapshot under
// `persist-state/snapshots/<host project slug>/`, shared with the project's dev containers, with a manifest
// (sizes, modes, sha256) as its last entry and a small summary beside it for listing.
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
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
import { z } from "zod";
import { configDir, encodeProjectSlug, hasProjectSlug, projectsDir, type Env } from "./claude/home.ts";
import { runningSessions, type RunningSession } from "./claude/running-sessions.ts";
import { detectEnvironment } from "./environment.ts";
import { describeError, UserError } from "./errors.ts";
import { errorCode, isNotFound, isRealDirectory, readRegularText, tempPathBeside, writeFileAtomic } from "./fs.ts";
import { SESSION_STARTS_DIR } from "./hook.ts";
import { mappingKey, mappingSchema, mappingsFile, readMappings, type Mapping } from "./mappings.ts";
import { projectSlugFolders, sessionIdOf } from "./sessions.ts";
import { updateJsonState, withLock } from "./state.ts";
import { migrateHostState, STATE, statePath } from "./state-paths.ts";
import { readTarGz, writeTarGz, type FileSink, type TarEntry } from "./tar.ts";
import { parseWorkItem, workItemKey, workItemsPath } from "./work-items.ts";

/** A summary is a few hundred bytes. */
const MAX_SUMMARY_BYTES = 64 * 1024;
/** The manifest's path inside an archive: the last entry, written once every file's checksum is known. */
const MANIFEST_ENTRY = ".claude-persist/manifest.json";
const ARCHIVE_EXT = ".tar.gz";
const SUMMARY_EXT = ".json";
/** What a snapshot may hold, relative to the config dir; an archive entry anywhere else is refused. */
const SNAPSHOT_ROOTS = ["projects", "todos", "tasks", "file-history", `persist-state/${SESSION_STARTS_DIR}`] as const;
/** A slug folder name as Claude Code makes them: one path part, never `..`. */
const SLUG_PATTERN = /^[A-Za-z0-9-]{1,255}$/;
/** Snapshots and restores of one project wait this long for each other: a 1 GB restore takes about a minute. */
const SNAPSHOT_LOCK_WAIT_MS = 10 * 60_000;
/** Permission bits only: an archive may be crafted, and setuid, setgid or sticky bits have no place here. */
const PERMISSION_BITS = 0o777;

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

export type SnapshotSummary = z.infer<typeof summarySchema>;
type Manifest = z.infer<typeof manifestSchema>;

/** A project as snapshots see it: the host's path names its snapshot folder, wherever the command runs. */
export type SnapshotProject = {
  /** The project's folder here (on the host, or in the container). */
  readonly path: string;
  readonly hostPath: string;
  readonly slug: string;
  /** Every slug folder name that holds (or points at) its sessions. */
  readonly slugs: string[];
  readonly dir: string;
};

export type SnapshotInfo = SnapshotSummary & { readonly archive: string; readonly archiveBytes: number };

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
  return { path: here, hostPath, slug, slugs, dir: path.join(statePath(env, STATE.snapshots), slug) };
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
  mkdirSync(project.dir, { recursive: true, mode: 0o700 });
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
  return { ...summary, archive, archiveBytes: statSync(archive).size, seconds, skipped: data.skipped };
}

/** `2026-05-01T09-30-12-345Z`, plus the kind for automatic ones; ids sort by time. Unique under the lock. */
function uniqueId(dir: string, now: Date, kind: SnapshotKind): string {
  const base = now.toISOString().replace(/[:.]/g, "-") + (kind === "manual" ? "" : `-${kind}`);
  for (let i = 1; ; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    if (!existsSync(path.join(dir, `${id}${ARCHIVE_EXT}`)) && !existsSync(path.join(dir, `${id}${SUMMARY_EXT}`))) return id;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// List and prune

/** The project's snapshots, newest first. */
export function listSnapshots(project: SnapshotProject): SnapshotInfo[] {
  const found: SnapshotInfo[] = [];
  for (const name of listNames(project.dir)) {
    if (!name.endsWith(ARCHIVE_EXT) || name.startsWith(".")) continue;
    const id = name.slice(0, -ARCHIVE_EXT.length);
    const archive = path.join(project.dir, name);
    let archiveBytes: number;
    try {
      archiveBytes = statSync(archive).size;
    } catch {
      continue;
    }
    const summary = readSummary(path.join(project.dir, `${id}${SUMMARY_EXT}`));
    found.push({ ...(summary ?? unknownSummary(id, project)), archive, archiveBytes });
  }
  return found.sort((a, b) => b.created.localeCompare(a.created) || b.id.localeCompare(a.id));
}

function readSummary(file: string): SnapshotSummary | undefined {
  try {
    const text = readRegularText(file, MAX_SUMMARY_BYTES);
    const parsed = summarySchema.safeParse(text === undefined ? undefined : JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
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
  if (!existsSync(project.dir)) return { kept: [], removed: [] };
  return withSnapshotLock(project, () => {
    const all = listSnapshots(project);
    const manual = all.filter((s) => s.kind === "manual").slice(0, keep);
    const keepIds = new Set([...manual, all.find((s) => s.kind === "pre-restore"), all.find((s) => s.kind === "pre-merge")].map((s) => s?.id));
    const removed = all.filter((s) => !keepIds.has(s.id));
    for (const snapshot of removed) {
      rmSync(snapshot.archive, { force: true });
      rmSync(path.join(project.dir, `${snapshot.id}${SUMMARY_EXT}`), { force: true });
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
  /** Files of the project that the snapshot did not have, removed with --exact (they are in the undo snapshot). */
  readonly removed: number;
  /** The snapshot taken right before, which undoes this restore. */
  readonly undo: CreateResult;
  readonly seconds: number;
};

/**
 * Puts back what snapshot `ref` (an id, a unique start of one, "latest", or an archive's path) held. The whole
 * archive is read and verified before anything changes; a live Claude session of the project stops it. Files
 * the snapshot lacks stay, unless `exact`.
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
      let manifest: Manifest;
      try {
        manifest = await extractVerified(snapshot.archive, staging);
      } catch (error) {
        throw new UserError(`snapshot ${snapshot.id} is damaged (${describeError(error)}); nothing was restored or changed`);
      }
      if (manifest.project.slug !== project.slug) {
        throw new UserError(`snapshot ${snapshot.id} is of ${manifest.project.path}, not of ${project.hostPath}; run the restore there`);
      }
      // persist-state/ is writable from every container: a well-formed archive may still reach for other data.
      const foreign = foreignEntry(manifest, new Set([project.slug, ...project.slugs]));
      if (foreign) {
        throw new UserError(`snapshot ${snapshot.id} holds ${foreign}, which is not this project's data; nothing was restored or changed`);
      }
      // A restore that stopped half-way would leave a mix of both: what could stop it is looked for first.
      const blocked = blockedTarget(configDir(env), manifest);
      if (blocked) {
        throw new UserError(`${blocked}; move it away and restore again; nothing was restored or changed`);
      }
      // The undo snapshot holds everything the restore may overwrite or remove, the snapshot's folders included.
      const before = collectProjectData(env, [...new Set([...project.slugs, ...manifest.slugs])]);
      // Again, now that the snapshot's sessions are known too, and as close to the change as can be.
      refuseWhileLive(env, project, [...before.sessions, ...manifest.sessions]);
      const undo = await writeSnapshot(env, project, "pre-restore", before, now);
      let removed: number;
      try {
        removed = await applyManifest(env, manifest, staging, before, Boolean(options.exact), new Set(project.slugs));
      } catch (error) {
        throw new UserError(
          `the restore of ${snapshot.id} stopped half-way (${describeError(error)}); ` +
            `put everything back as it was with 'claude-persist snapshot restore ${undo.id} --exact'`,
        );
      }
      return {
        id: snapshot.id,
        project: project.hostPath,
        sessions: manifest.sessions.length,
        files: manifest.files.length,
        bytes: manifest.bytes,
        removed,
        undo,
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
      return { ...unknownSummary(name, project), archive: file, archiveBytes: statSync(file).size };
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
 * Reads the whole archive once into `staging`, checking each file against the manifest (its last entry): the
 * same set of files and folders, sizes and sha256. Rejects with the reason on the first difference.
 */
async function extractVerified(archive: string, staging: string): Promise<Manifest> {
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
      if (got.has(entry.path) || dirs.has(entry.path)) throw new Error(`entry '${entry.path}' appears twice`);
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
  for (const file of manifest.files) {
    const seen = got.get(file.path);
    if (!seen) throw new Error(`${file.path} is missing`);
    if (seen.size !== file.size || seen.sha256 !== file.sha256) throw new Error(`${file.path} does not match its checksum`);
  }
  if (got.size !== manifest.files.length) throw new Error("it holds files its manifest does not list");
  for (const dir of manifest.directories) if (!dirs.has(dir.path)) throw new Error(`folder ${dir.path} is missing`);
  return manifest;
}

/**
 * The first thing the manifest names that is not this project's, described for the user; undefined when all is.
 * Slugs must be the project's; files and folders under its slug folders, or under the sessions' own entries of
 * todos/, tasks/, file-history/ and session-starts/; state entries readable and the project's.
 */
function foreignEntry(manifest: Manifest, projectSlugs: Set<string>): string | undefined {
  for (const slug of manifest.slugs) if (!SLUG_PATTERN.test(slug) || !projectSlugs.has(slug)) return `the slug folder '${slug}'`;
  const slugs = new Set(manifest.slugs);
  for (const session of manifest.sessions) if (!slugs.has(session.slug)) return `session ${session.id} in '${session.slug}'`;
  const ids = new Set(manifest.sessions.map((s) => s.id));
  for (const dir of manifest.directories) if (!isProjectPath(dir.path, "dir", slugs, ids)) return `'${dir.path}'`;
  for (const file of manifest.files) if (!isProjectPath(file.path, "file", slugs, ids)) return `'${file.path}'`;
  for (const entry of manifest.state.mappings) {
    const mapping = mappingSchema.safeParse(entry);
    if (!mapping.success || !isSnapshotMapping(mapping.data, projectSlugs)) return `the mapping ${brief(entry)}`;
  }
  for (const entry of manifest.state.workItems) {
    if (!parseWorkItem(entry) || !isProjectWorkItem(entry, projectSlugs)) return `the work item ${brief(entry)}`;
  }
  return undefined;
}

/** Paths have passed the tar checks already (relative, no `..`): only whose they are is left to see. */
function isProjectPath(rel: string, type: "dir" | "file", slugs: Set<string>, ids: Set<string>): boolean {
  const [root = "", name = "", ...rest] = rel.split("/");
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
 * contents are not looked at.
 */
function blockedTarget(config: string, manifest: Manifest): string | undefined {
  const replacedLinks = new Set(manifest.slugs.map((slug) => `projects/${slug}`));
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
  for (const dir of manifest.directories) {
    const found = check(dir.path, "dir");
    if (found) return found;
  }
  for (const file of manifest.files) {
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

/** Moves the verified files into place; with `exact`, removes the project's files the snapshot lacks. */
async function applyManifest(env: Env, manifest: Manifest, staging: string, current: ProjectData, exact: boolean, projectSlugs: Set<string>): Promise<number> {
  const config = configDir(env);
  const projects = projectsDir(env);
  let removed = 0;
  if (exact) {
    const keep = new Set(manifest.files.map((f) => f.path));
    for (const file of current.files) {
      if (keep.has(file.rel)) continue;
      rmSync(file.abs, { force: true });
      removed++;
    }
    const keepDirs = new Set(manifest.directories.map((d) => d.path));
    for (const dir of [...current.dirs].sort((a, b) => b.rel.length - a.rel.length)) {
      if (!keepDirs.has(dir.rel)) removeIfEmpty(dir.abs);
    }
  }
  // A slug folder the snapshot held as a real folder and that is now a link (a merge since) becomes the folder
  // again, with or without --exact: writing through the link would overwrite the host's files (its MEMORY.md)
  // with the container's old copies. This way nothing of the host's folder changes; the next /dev-open links
  // the folder again, merging it without overwriting, after a pre-merge snapshot.
  for (const slug of manifest.slugs) {
    const dir = path.join(projects, slug);
    if (isSymlink(dir)) {
      unlinkSync(dir);
      mkdirSync(dir, { mode: 0o700 });
    }
  }
  for (const dir of manifest.directories) mkdirSync(path.join(config, dir.path), { recursive: true, mode: 0o700 });
  for (const file of manifest.files) {
    const target = path.join(config, file.path);
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    placeFile(path.join(staging, file.path), target, file.mode & PERMISSION_BITS, file.mtimeMs);
  }
  // Folders last: placing files changed their times.
  for (const dir of [...manifest.directories].sort((a, b) => b.path.length - a.path.length)) {
    const target = path.join(config, dir.path);
    chmodSync(target, dir.mode & PERMISSION_BITS);
    utimesSync(target, new Date(dir.mtimeMs), new Date(dir.mtimeMs));
  }
  await restoreStateEntries(env, manifest, exact, projectSlugs);
  return removed;
}

/** Renames `from` over `to` (atomic); across mounts (a container's separate bind mounts), copies beside it first. */
function placeFile(from: string, to: string, mode: number, mtimeMs: number): void {
  chmodSync(from, mode);
  utimesSync(from, new Date(mtimeMs), new Date(mtimeMs));
  try {
    renameSync(from, to);
    return;
  } catch (error) {
    if (errorCode(error) !== "EXDEV") throw error;
  }
  const temp = tempPathBeside(to);
  try {
    copyFileSync(from, temp);
    chmodSync(temp, mode);
    utimesSync(temp, new Date(mtimeMs), new Date(mtimeMs));
    renameSync(temp, to);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  unlinkSync(from);
}

/** The project's entries of mappings.json and work-items.json as the snapshot had them; others' entries stay. */
async function restoreStateEntries(env: Env, manifest: Manifest, exact: boolean, projectSlugs: Set<string>): Promise<void> {
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
  mkdirSync(project.dir, { recursive: true, mode: 0o700 });
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

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty (files the snapshot puts back, or another project's), or gone: it stays.
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
