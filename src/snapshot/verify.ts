// What a restore may put in place: an archive extracted and checked against its manifest, or an undo folder;
// then checked to hold only the project's data, and that nothing stands where it goes.
import { createHash } from "node:crypto";
import { closeSync, openSync, utimesSync, writeSync, type Stats } from "node:fs";
import path from "node:path";
import { encodeProjectSlug } from "../claude/home.ts";
import { isRealDirectory } from "../fs.ts";
import { ConfigTree } from "../container-tree.ts";
import { mappingSchema, type Mapping } from "../state/mappings.ts";
import { PACK_STATE_DIR, STATE } from "../state/paths.ts";
import { parseWorkItem } from "../work/work-items.ts";
import {
  MANIFEST_ENTRY,
  manifestSchema,
  MOVED_ASIDE_FILES,
  MOVED_ASIDE_MANIFEST,
  movedAsideSchema,
  readSmallJson,
  SLUG_PATTERN,
  SNAPSHOT_ROOTS,
  type Manifest,
} from "./format.ts";
import { isProjectWorkItem, sessionPrefixOf } from "./project.ts";
import { type FileSink, type ReadEntry, readTarGz } from "./tar-read.ts";

/** What a restore puts in place, verified: from an archive extracted into staging, or from an undo folder. */
export type Restorable = {
  readonly id: string;
  readonly project: { readonly path: string; readonly slug: string };
  readonly slugs: string[];
  readonly sessions: Array<{ id: string; slug: string; bytes: number }>;
  readonly directories: Array<{ path: string; mtimeMs?: number }>;
  /** The folder (only the host can write it) where the verified copies wait. */
  readonly stagedIn: string;
  /** Each file and where its verified copy waits: `staged` is relative to `stagedIn`. */
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
 * Reads the whole archive once into `staging`, hashing each file as it is written, then checks it all against
 * the manifest (its last entry): the same files and folders, each listed once, sizes and sha256. Rejects with
 * the reason on the first difference. Staging is flat (files numbered in archive order, folders only listed): an
 * archive's folders may be deeper than any path can name, and a flat folder is removed in one listing.
 */
export async function extractVerified(
  archive: string,
  staging: string,
  openArchive?: () => number,
): Promise<Restorable> {
  const got = new Map<string, { size: number; sha256: string; staged: string }>();
  const dirs = new Set<string>();
  const manifestChunks: Buffer[] = [];
  let manifestSeen = false;
  let open: { fd: number } | undefined;
  let stagedCount = 0;
  try {
    const onEntry = (entry: ReadEntry): FileSink | undefined => {
      if (manifestSeen) throw new Error(`entry '${entry.path}' follows the manifest`);
      if (entry.path === MANIFEST_ENTRY) {
        if (entry.type !== "file" || entry.size > 256 * 1024 * 1024) throw new Error("the manifest entry is malformed");
        manifestSeen = true;
        return { write: (chunk) => manifestChunks.push(Buffer.from(chunk)), end: () => undefined };
      }
      if (!SNAPSHOT_ROOTS.some((root) => entry.path.startsWith(`${root}/`))) {
        throw new Error(`entry '${entry.path}' is outside what a snapshot holds`);
      }
      if (entry.type === "dir") {
        dirs.add(entry.path);
        return undefined;
      }
      const staged = String(++stagedCount);
      const file = { fd: openSync(path.join(staging, staged), "wx", 0o600) };
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
          got.set(entry.path, { size, sha256: hash.digest("hex"), staged });
        },
      };
    };
    await readTarGz(archive, onEntry, openArchive);
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
  const twice =
    firstRepeated([...manifest.files.map((f) => f.path), ...manifest.directories.map((d) => d.path)]) ??
    firstRepeated(manifest.sessions.map((s) => s.id)) ??
    firstRepeated(manifest.slugs);
  if (twice !== undefined) throw new Error(`its manifest lists '${twice}' twice`);
  for (const file of manifest.files) {
    const seen = got.get(file.path);
    if (!seen) throw new Error(`${file.path} is missing`);
    if (seen.size !== file.size || seen.sha256 !== file.sha256) {
      throw new Error(`${file.path} does not match its checksum`);
    }
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const name of got.keys()) {
    if (!listed.has(name)) throw new Error(`it holds ${name}, which its manifest does not list`);
  }
  const listedDirs = new Set(manifest.directories.map((d) => d.path));
  for (const dir of manifest.directories) if (!dirs.has(dir.path)) throw new Error(`folder ${dir.path} is missing`);
  for (const dir of dirs) {
    if (!listedDirs.has(dir)) throw new Error(`it holds folder ${dir}, which its manifest does not list`);
  }
  // Times are the snapshot's; modes never are (see applyRestore). Staging is the host's own folder.
  const stagedOf = (rel: string): string => got.get(rel)?.staged ?? "";
  for (const file of manifest.files) {
    utimesSync(path.join(staging, stagedOf(file.path)), new Date(file.mtimeMs), new Date(file.mtimeMs));
  }
  return {
    id: manifest.id,
    project: manifest.project,
    slugs: manifest.slugs,
    sessions: manifest.sessions,
    directories: manifest.directories,
    stagedIn: staging,
    files: manifest.files.map((f) => ({ path: f.path, size: f.size, staged: stagedOf(f.path) })),
    removes: [],
    state: manifest.state,
    bytes: manifest.bytes,
    exactState: false,
    complete: true,
  };
}

/**
 * An undo folder (host-only, ours): its files that are there; one missing was never moved aside. Its files/ keeps
 * their paths, so it is read through held folders (ConfigTree), whatever their depth.
 */
export function readMovedAside(folder: string): Restorable {
  const parsed = movedAsideSchema.safeParse(readSmallJson(path.join(folder, MOVED_ASIDE_MANIFEST)));
  if (!parsed.success) throw new Error("its manifest is unreadable");
  const m = parsed.data;
  const twice = firstRepeated([...m.files.map((f) => f.path), ...m.added]);
  if (twice !== undefined) throw new Error(`its manifest lists '${twice}' twice`);
  const files: Restorable["files"] = [];
  const stagedIn = path.join(folder, MOVED_ASIDE_FILES);
  // Made with the undo; one without it moved nothing aside.
  const tree = m.files.length > 0 && isRealDirectory(stagedIn) ? new ConfigTree(stagedIn) : undefined;
  try {
    for (const file of tree ? m.files : []) {
      const stats = tree?.lstat(file.path);
      if (stats === undefined) continue;
      if (!stats.isFile()) throw new Error(`${file.path} in it is not a regular file`);
      files.push({ path: file.path, size: stats.size, staged: file.path });
    }
  } finally {
    tree?.close();
  }
  return {
    id: m.id,
    project: m.project,
    slugs: m.slugs,
    sessions: m.sessions,
    directories: m.directories.map((d) => ({ path: d })),
    stagedIn,
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
export function foreignEntry(contents: Contents, projectSlugs: Set<string>): string | undefined {
  for (const slug of contents.slugs) {
    if (!SLUG_PATTERN.test(slug) || !projectSlugs.has(slug)) return `the slug folder '${slug}'`;
  }
  const slugs = new Set(contents.slugs);
  for (const session of contents.sessions) {
    if (!slugs.has(session.slug)) return `session ${session.id} in '${session.slug}'`;
  }
  const ids = new Set(contents.sessions.map((s) => s.id));
  for (const dir of contents.directories) if (!isProjectPath(dir.path, "dir", slugs, ids)) return `'${dir.path}'`;
  for (const rel of [...contents.files.map((f) => f.path), ...contents.removes]) {
    if (!isProjectPath(rel, "file", slugs, ids)) return `'${rel}'`;
  }
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
    case PACK_STATE_DIR: {
      const [file = "", ...deeper] = rest;
      return (
        type === "file" &&
        name === STATE.sessionStarts.name &&
        deeper.length === 0 &&
        file.endsWith(".jsonl") &&
        ids.has(file.slice(0, -".jsonl".length))
      );
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
 * contents are not looked at. (Checked again at each write: see ConfigTree.) Each folder is looked at once, in
 * its parent held open (no path is built from the root), so a tree thousands of folders deep costs a look a level.
 */
export function blockedTarget(config: string, contents: Contents): string | undefined {
  const replacedLinks = new Set(contents.slugs.map((slug) => `projects/${slug}`));
  const tree = new ConfigTree(config);
  /** Folders seen to be folders, and where the look stops (missing, or a slug link to be replaced). */
  const folders = new Set<string>();
  const stops = new Set<string>();
  const check = (rel: string, type: "dir" | "file"): string | undefined => {
    const parts = rel.split("/");
    let here = parts[0] ?? "";
    for (let i = 1; i < parts.length; i++) {
      here = `${here}/${parts[i]}`;
      const wanted = i < parts.length - 1 || type === "dir" ? "dir" : "file";
      if (wanted === "dir" && folders.has(here)) continue;
      if (stops.has(here)) return undefined;
      const stats = tree.lstat(here);
      if (stats === undefined || (stats.isSymbolicLink() && replacedLinks.has(here))) {
        stops.add(here);
        return undefined;
      }
      if (wanted === "dir" ? !stats.isDirectory() : !stats.isFile()) {
        const what = wanted === "dir" ? "folder" : "file";
        return `${path.join(config, here)} is ${describeType(stats)} where the snapshot has a ${what}`;
      }
      if (wanted === "dir") folders.add(here);
    }
    return undefined;
  };
  try {
    for (const dir of contents.directories) {
      const found = check(dir.path, "dir");
      if (found) return found;
    }
    for (const file of contents.files) {
      const found = check(file.path, "file");
      if (found) return found;
    }
    return undefined;
  } finally {
    tree?.close();
  }
}

export function describeType(stats: Stats): string {
  if (stats.isDirectory()) return "a folder";
  if (stats.isFile()) return "a file";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "a special file";
}
