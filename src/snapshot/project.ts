// The project a snapshot is of (its host path names its snapshot folder), and what of the config dir is its data
// now: slug folders, the sessions' todos, tasks, file-history and start records, its state entries.
import { lstatSync, mkdirSync, readdirSync, realpathSync, statSync, type Stats } from "node:fs";
import path from "node:path";
import { configDir, encodeProjectSlug, hasProjectSlug, projectsDir, type Env } from "../claude/home.ts";
import { describeError, UserError } from "../errors.ts";
import { readRegularText } from "../fs.ts";
import { projectSlugFolders, sessionIdOf } from "../sessions/sessions.ts";
import { withLock } from "../state/files.ts";
import { mappingsFile, readMappings, type Mapping } from "../state/mappings.ts";
import { migrateHostState, PACK_STATE_DIR, STATE, statePath } from "../state/paths.ts";
import { workItemsPath } from "../work/work-items.ts";
import { listNames, SNAPSHOT_LOCK_WAIT_MS, type Manifest, type SnapshotProject } from "./format.ts";
import { isRecord } from "../json.ts";

export async function resolveSnapshotProject(
  env: Env,
  cwd: string,
  extraSlugs: string[] = [],
): Promise<SnapshotProject> {
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
    legacyDir: path.join(statePath(env, STATE.legacySnapshots), slug),
  };
}

type FileItem = {
  readonly rel: string;
  readonly abs: string;
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
};
type DirItem = { readonly rel: string; readonly abs: string; readonly mode: number; readonly mtimeMs: number };

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
  for (const name of listNames(path.join(config, "todos")).sort()) {
    if (name.endsWith(".json") && sessionPrefixOf(name, ids)) add(config, `todos/${name}`, data, "file");
  }
  for (const id of [...ids].sort()) {
    for (const root of ["tasks", "file-history"]) add(config, `${root}/${id}`, data, "dir");
    add(config, `${PACK_STATE_DIR}/${STATE.sessionStarts.name}/${id}.jsonl`, data, "file");
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
export function sessionPrefixOf(name: string, ids: Set<string>): boolean {
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
    let entries: string[];
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

/** One snapshot, restore or prune of a project at a time; the others wait for it, long enough for a big restore. */
export async function withSnapshotLock<T>(
  project: SnapshotProject,
  fn: () => T | Promise<T>,
  waitMs = SNAPSHOT_LOCK_WAIT_MS,
): Promise<T> {
  makeHostOnlyDir(project.dir);
  return withLock(path.join(project.dir, ".snapshots"), fn, {
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
}
