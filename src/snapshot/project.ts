// The project a snapshot is of (its host path names its snapshot folder), and what of the config dir is its data
// now: slug folders, the sessions' todos, tasks, file-history and start records, its state entries.
import { lstatSync, mkdirSync } from "node:fs";
import path from "node:path";
import { configDir, encodeProjectSlug, hasProjectSlug, projectsDir, type Env } from "../claude/home.ts";
import { detectEnvironment } from "../environment.ts";
import { describeError, UserError } from "../errors.ts";
import { listBeneath, projectFolderName, type TreeEntry, type Walk, walkBeneath } from "../container-tree.ts";
import { errorCode, isNotFound, readRegularText } from "../fs.ts";
import { projectSlugFolders, sessionIdOf } from "../sessions/sessions.ts";
import { withLock } from "../state/files.ts";
import { checkedMapping, mappingsFile, readMappings, type Mapping } from "../state/mappings.ts";
import { checkHostOnly, migrateHostState, PACK_HOST_DIR, PACK_STATE_DIR, STATE, statePath } from "../state/paths.ts";
import { workItemsPath } from "../work/work-items.ts";
import { SNAPSHOT_LOCK_WAIT_MS, type Manifest, type SnapshotProject } from "./format.ts";
import { isRecord } from "../json.ts";

export async function resolveSnapshotProject(
  env: Env,
  cwd: string,
  extraSlugs: string[] = [],
): Promise<SnapshotProject> {
  const { project: here, slugs: found } = await projectSlugFolders(env, cwd);
  // In a container the folder is the container's: the mapping names the host's, which names the snapshots. On the
  // host a mapping (which containers can write) decides nothing: the project is the folder the user is in.
  const inContainer = detectEnvironment(env).kind === "container";
  const mapped = inContainer
    ? readableMappings(env).find((m) => encodeProjectSlug(m.containerPath) === encodeProjectSlug(here))
    : undefined;
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
    legacyDir: path.join(statePath(env, STATE.legacySnapshots), slug),
  };
}

/** A file to archive: `rel` under the config dir, `inRoot` below `root` (its top folder), as the gate listed it. */
export type FileItem = {
  readonly rel: string;
  readonly root: string;
  readonly inRoot: string;
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly dev: number;
  readonly ino: number;
};
type DirItem = { readonly rel: string; readonly mode: number; readonly mtimeMs: number };

/** What of the config dir belongs to the project now. */
export type ProjectData = {
  readonly slugs: string[];
  readonly sessions: Array<{ id: string; slug: string; bytes: number }>;
  readonly dirs: DirItem[];
  readonly files: FileItem[];
  readonly state: Manifest["state"];
  /** Symlinks, sockets and the like inside the project's folders: never archived. */
  readonly skipped: string[];
};

export function collectProjectData(env: Env, slugFolders: string[]): ProjectData {
  const config = configDir(env);
  const projects = projectsDir(env);
  const data: ProjectData = {
    slugs: [],
    sessions: [],
    dirs: [],
    files: [],
    state: { mappings: [], workItems: [] },
    skipped: [],
  };
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
  for (const name of (listBeneath(path.join(config, "todos"), "") ?? []).sort()) {
    if (name.endsWith(".json") && sessionPrefixOf(name, ids)) add(config, `todos/${name}`, data, "file");
  }
  for (const id of [...ids].sort()) {
    for (const root of ["tasks", "file-history"]) add(config, `${root}/${id}`, data, "dir");
    add(config, `${PACK_STATE_DIR}/${STATE.sessionStarts.name}/${id}.jsonl`, data, "file");
  }
  const slugSet = new Set(slugFolders);
  // Only entries whose claims check out: a planted `../` slug would make the snapshot one restore refuses.
  data.state.mappings.push(
    ...readStateArray(mappingsFile(env)).filter((m) => checkedMapping(m) !== undefined && isProjectMapping(m, slugSet)),
  );
  data.state.workItems.push(...readStateArray(workItemsPath(env)).filter((w) => isProjectWorkItem(w, slugSet)));
  return data;
}

/**
 * The real folders behind the slug names (a container slug's link to the host's slug stands for it), each once,
 * found through the gate: a link that leads anywhere but to a sibling folder in `projects/` stands for nothing.
 */
function realSlugFolders(projects: string, names: string[]): string[] {
  const found = new Set<string>();
  for (const name of names) {
    try {
      const folder = projectFolderName(projects, name);
      if (folder !== undefined) found.add(folder);
    } catch {
      // Not reachable (projects/ missing): nothing to keep.
    }
  }
  return [...found].sort();
}

/** `todos/<session id>-<anything>.json`: the session id is the part before one of the dashes. */
export function sessionPrefixOf(name: string, ids: Set<string>): boolean {
  for (let i = name.indexOf("-"); i > 0; i = name.indexOf("-", i + 1)) if (ids.has(name.slice(0, i))) return true;
  return false;
}

/** Larger files are left out (named in `skipped`): no Claude Code file is this big, a container's trap may be. */
export const MAX_SNAPSHOT_FILE_BYTES = 2 ** 31;
/** A file this big that occupies under 1/64 of its size on disk is sparse: a trap (1 TB of holes), left out. */
const SPARSE_MIN_BYTES = 64 << 20;

/**
 * Adds `rel` under the config dir: a file, or a folder with everything in it. `only` is what the caller looks
 * for: anything else there is left out, silently for a folder, as skipped for a file. Links, sockets and the
 * like are skipped, and so are files too large or sparse to archive, and folders nested deeper than the gate's
 * bound. The walk goes through the gate (container-tree.ts): below the top folder (`projects/`, `file-history/`...)
 * no link is followed, and each file is opened later as the very file listed here.
 */
function add(config: string, rel: string, data: ProjectData, only?: "dir" | "file"): void {
  const [top = "", ...rest] = rel.split("/");
  const root = path.join(config, top);
  let walk: Walk;
  try {
    walk = walkBeneath(root, rest.join("/"));
  } catch (error) {
    if (isNotFound(error) || errorCode(error) === "EUNSAFEFILE") return;
    throw new UserError(
      `cannot read ${path.join(config, rel)} (${describeError(error)}); fix its permissions and try again`,
    );
  }
  const [first] = walk.entries;
  if (first === undefined) return;
  if (first.kind !== "dir" && only === "dir") return;
  if (first.kind === "dir" && only === "file") {
    data.skipped.push(rel);
    return;
  }
  for (const entry of walk.entries) {
    const full = `${top}/${entry.rel}`;
    if (entry.kind === "dir") data.dirs.push({ rel: full, mode: entry.mode, mtimeMs: entry.mtimeMs });
    else if (entry.kind !== "file") data.skipped.push(full);
    else if (entry.size > MAX_SNAPSHOT_FILE_BYTES) data.skipped.push(`${full} (${entry.size} bytes: too large)`);
    else if (entry.size > SPARSE_MIN_BYTES && entry.allocated < entry.size / 64)
      data.skipped.push(`${full} (sparse: ${entry.size} bytes, ${entry.allocated} on disk)`);
    else data.files.push({ rel: full, root, inRoot: entry.rel, ...pick(entry) });
  }
  for (const deep of walk.tooDeep) data.skipped.push(`${top}/${deep} (folders nested too deep)`);
  if (walk.truncated) data.skipped.push(`${rel} (more entries than a snapshot takes)`);
}

function pick(entry: TreeEntry): Pick<FileItem, "size" | "mode" | "mtimeMs" | "dev" | "ino"> {
  return { size: entry.size, mode: entry.mode, mtimeMs: entry.mtimeMs, dev: entry.dev, ino: entry.ino };
}

export function isProjectMapping(entry: unknown, slugs: Set<string>): boolean {
  if (!isRecord(entry)) return false;
  const names = [entry.hostSlug, entry.containerSlug].filter((s) => typeof s === "string");
  const paths = [entry.hostPath, entry.containerPath].filter((p) => typeof p === "string").map(encodeProjectSlug);
  return [...names, ...paths].some((slug) => slugs.has(slug));
}

export function isProjectWorkItem(entry: unknown, slugs: Set<string>): boolean {
  if (!isRecord(entry) || typeof entry.repoPath !== "string") return false;
  return hasProjectSlug(slugs, entry.repoPath);
}

/** The lock of a project's snapshots is `<its snapshot folder>/.snapshots.lock`. */
export const SNAPSHOT_LOCK_NAME = ".snapshots";

/** One snapshot, restore or prune of a project at a time; the others wait for it, long enough for a big restore. */
export async function withSnapshotLock<T>(
  project: SnapshotProject,
  fn: () => T | Promise<T>,
  waitMs = SNAPSHOT_LOCK_WAIT_MS,
): Promise<T> {
  makeHostOnlyDir(project.dir);
  return withLock(path.join(project.dir, SNAPSHOT_LOCK_NAME), fn, {
    waitMs,
    busy: () =>
      new UserError(`a snapshot or restore of ${project.hostPath} is running; wait for it to finish, then try again`),
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

/**
 * `<config>/persist-host/snapshots/<slug>`, made 0700 where missing. Its folders must be real folders: a link
 * there is not ours (and would send staging and undo files elsewhere).
 */
export function makeHostOnlyDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let here = dir, i = 0; i < 3; here = path.dirname(here), i++) {
    if (!lstatSync(here).isDirectory()) {
      throw new UserError(`${here} is not a folder (a link?); remove it, then try again`);
    }
  }
  // persist-host/ itself (`<it>/snapshots/<slug>`): the user's own, writable by no one else.
  const hostOnly = path.dirname(path.dirname(dir));
  if (path.basename(hostOnly) === PACK_HOST_DIR) checkHostOnly(hostOnly);
}
