// The last `sessions --all` output, kept per project, so that a listing after one transcript changed makes only that
// project's part again. Kept in the host-only state folder (which only this user writes), per way of printing it
// (`json`, `table`):
// - `<kind>.listing`: what every project shares (where the listing ran, how it printed, the projects folder's layout,
//   the mappings and work items, the start records folder's times), a generation, and each project: how its folders
//   were grouped (each folder's place and repo), its newest session, what its part needs of the layout, then its key
//   (each of its session files' size, mtime, ctime and inode) and its part of the output;
// - `<kind>.<group>.rows`, one per project: what was read from its files, to make its part again without the
//   sessions index (read only then).
// A part whose key matches the files as they are now is printed as kept. A file that is damaged, of another
// generation, too large or not a regular file (never read through a link) makes the listing afresh, which replaces
// them all.
import { mkdirSync, readdirSync, unlinkSync } from "node:fs";
import path from "node:path";
import * as z from "zod/mini";
import type { Env } from "../claude/home.ts";
import { isRealDirectory, readRegularFile, replaceFileIn } from "../fs.ts";
import { isRecord } from "../json.ts";
import { STATE, statePath } from "../state/paths.ts";
import { packBuild } from "../version.ts";
import type { FolderKey } from "./index-file.ts";
import type { Layout, ProjectSessions, SlugFolder, WorkItem } from "./model.ts";
import type { ScannedFolder } from "./scan.ts";

/** The kept files' layout. The build's hash is in what projects share: no other build of the pack prints a part. */
const FORMAT = 2;
/** 10,000 sessions print about 8 MB and key 0.7 MB: a larger file is not ours, and the listing is made again. */
const MAX_LISTING_BYTES = 256 * 1024 * 1024;
/** A project's rows: about 150 bytes a session. */
const MAX_ROWS_BYTES = 64 * 1024 * 1024;
/** No text we keep is longer: paths, labels, times and ids. */
const MAX_TEXT = 1 << 16;

export type ListingKind = "json" | "table";

/**
 * How a listing of every project prints, a project at a time: its part depends only on its sessions and the layout
 * (a table's columns are as wide as the widest cell of all projects), the whole output is the parts joined.
 */
export type ProjectPrinter = {
  readonly kind: ListingKind;
  /** What else the output depends on (a table: the terminal's width and the time zone). */
  readonly details: string;
  /** What the layout needs of this project (a table: each column's widest cell). */
  measure(project: ProjectSessions): Promise<number[]>;
  /** The layout of the whole output, from every project's measure. */
  layout(measures: ReadonlyArray<readonly number[]>): number[];
  print(project: ProjectSessions, layout: readonly number[]): Promise<string>;
  /** The output: `open`, the parts (newest project first) between `separator`s, `close`. */
  readonly open: string;
  readonly separator: string;
  readonly close: string;
  /** The output when there is no session at all. */
  none(): string;
};

/** What every project's part depends on besides its own files: equal texts, equal inputs. */
export function sharedKey(inputs: {
  readonly printer: ProjectPrinter;
  readonly here: string;
  readonly projects: string;
  readonly layout: Layout;
  readonly workItems: readonly WorkItem[];
  readonly startsKey: FolderKey | "none";
}): string {
  const { printer, here, projects, layout, workItems, startsKey } = inputs;
  const printedAs = { kind: printer.kind, details: printer.details };
  return JSON.stringify([FORMAT, packBuild(), printedAs, here, projects, layout, workItems, startsKey]);
}

/**
 * A project's key: its folders' session file names, then each file's size, mtime, ctime and inode as 64-bit numbers,
 * in that order (about 70 bytes a session).
 */
export function projectKey(folders: readonly SlugFolder[], scanned: ReadonlyMap<string, ScannedFolder>): Buffer {
  const files = folders.map((folder) => scanned.get(folder.key)?.files ?? []);
  const names = files.map((list) => list.map((file) => file.name));
  const numbers = new Float64Array(4 * files.reduce((sum, list) => sum + list.length, 0));
  let at = 0;
  for (const list of files) {
    for (const file of list) {
      numbers[at++] = file.size;
      numbers[at++] = file.mtimeMs;
      numbers[at++] = file.ctimeMs;
      numbers[at++] = file.ino;
    }
  }
  return Buffer.concat([Buffer.from(JSON.stringify(names)), new Uint8Array(numbers.buffer)]);
}

/** Whether `stored` is the key `projectKey` makes of `folders` now: compared in place, without making it. */
export function sameProjectKey(
  folders: readonly SlugFolder[],
  scanned: ReadonlyMap<string, ScannedFolder>,
  stored: Buffer,
): boolean {
  const files = folders.map((folder) => scanned.get(folder.key)?.files ?? []);
  const names = JSON.stringify(files.map((list) => list.map((file) => file.name)));
  const count = files.reduce((sum, list) => sum + list.length, 0);
  const namesBytes = Buffer.byteLength(names);
  if (stored.length !== namesBytes + 32 * count || stored.toString("utf8", 0, namesBytes) !== names) return false;
  let at = namesBytes;
  for (const list of files) {
    for (const file of list) {
      if (
        stored.readDoubleLE(at) !== file.size ||
        stored.readDoubleLE(at + 8) !== file.mtimeMs ||
        stored.readDoubleLE(at + 16) !== file.ctimeMs ||
        stored.readDoubleLE(at + 24) !== file.ino
      )
        return false;
      at += 32;
    }
  }
  return true;
}

// The listing's header is checked with zod down to its list of projects; each project (300 of them for 10,000
// sessions) by hand, as the index's rows are: zod over them costs 10-18 ms, more than reading the whole file.
const listingSchema = z.object({
  format: z.literal(FORMAT),
  shared: z.string(),
  generation: z.string().check(z.regex(/^[0-9a-z]{1,40}$/)),
  projects: z.array(z.unknown()),
});
const rowsHeaderSchema = z.object({ format: z.literal(FORMAT), generation: z.string() });

/** A kept project as stored: its part's header, with the sizes of its key and part. */
type StoredProject = KeptGroup &
  PartHeader & { readonly keyBytes: number; readonly partOffset: number; readonly partBytes: number };

function checkProject(value: unknown): StoredProject | undefined {
  if (!isRecord(value)) return undefined;
  const { id, label, folders, first, measure, layout, keyBytes, partOffset, partBytes } = value;
  if (
    typeof id !== "string" ||
    !/^[0-9]+-[0-9]+$/.test(id) ||
    !isText(label) ||
    !Array.isArray(folders) ||
    !folders.every(isKeptFolder) ||
    !(first === null || isFirst(first)) ||
    !isCounts(measure) ||
    !isCounts(layout) ||
    !isCount(keyBytes) ||
    !isCount(partOffset) ||
    !isCount(partBytes)
  ) {
    return undefined;
  }
  return { id, label, folders, first, measure, layout, keyBytes, partOffset, partBytes };
}

function isKeptFolder(value: unknown): value is KeptFolder {
  if (!isRecord(value)) return false;
  const { key, place, repo } = value;
  return isText(key) && (place === null || isText(place)) && (repo === null || isText(repo));
}

function isFirst(value: unknown): value is NonNullable<PartHeader["first"]> {
  return isRecord(value) && isText(value.lastActivity) && isText(value.id) && isText(value.project);
}

function isText(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_TEXT;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isCounts(value: unknown): value is number[] {
  return Array.isArray(value) && value.every(isCount);
}

/** A folder of a project as it was grouped: where its sessions resume, and the repo that place belongs to. */
export type KeptFolder = { readonly key: string; readonly place: string | null; readonly repo: string | null };
/** A project as it was grouped: its folders (by key), in the order the listing read them. */
export type KeptGroup = { readonly id: string; readonly label: string; readonly folders: readonly KeptFolder[] };
/** What the output needs of a project besides its part: its newest session, and what the layout needs of it. */
export type PartHeader = {
  /** The project's newest session (the projects are printed newest first), null when it has none. */
  readonly first: { readonly lastActivity: string; readonly id: string; readonly project: string } | null;
  readonly measure: readonly number[];
  readonly layout: readonly number[];
};

/** A project's kept part: its group, header, key and part (of the output), and where its rows are. */
export type KeptPart = KeptGroup & PartHeader & { readonly key: Buffer; readonly part: string | Uint8Array };

/** An output in chunks, with where each project's part starts in it (in bytes). */
export type PrintedOutput = {
  readonly chunks: ReadonlyArray<string | Uint8Array>;
  readonly offsets: ReadonlyMap<string, number>;
};

export type KeptListing = {
  readonly generation: string;
  readonly projects: readonly KeptPart[];
  /** How many projects' parts are kept beside the listing (see `saveKeptListing`). */
  readonly patches: number;
};

function keptDir(env: Env): string {
  return statePath(env, STATE.sessionsListings);
}

/** The kept listing made with `shared` as every project's shared inputs; else undefined. */
export function readKeptListing(env: Env, kind: ListingKind, shared: string): KeptListing | undefined {
  const dir = keptDir(env);
  try {
    if (!isRealDirectory(dir)) return undefined;
    const bytes = readRegularFile(path.join(dir, `${kind}.listing`), MAX_LISTING_BYTES);
    const headerEnd = bytes?.indexOf(0x0a) ?? -1;
    if (bytes === undefined || headerEnd < 0) return undefined;
    const kept = listingSchema.safeParse(JSON.parse(bytes.toString("utf8", 0, headerEnd)));
    if (!kept.success || kept.data.shared !== shared) return undefined;
    // The keys, one after another; then the output as it was printed, each part where it was in it.
    const checked = kept.data.projects.map(checkProject);
    let at = headerEnd + 1;
    const blockStart = at + checked.reduce((sum, project) => sum + (project?.keyBytes ?? 0), 0);
    const projects: KeptPart[] = [];
    for (const project of checked) {
      if (project === undefined) return undefined;
      const { keyBytes, partOffset, partBytes, ...rest } = project;
      const partStart = blockStart + partOffset;
      if (partStart + partBytes > bytes.length) return undefined;
      projects.push({
        ...rest,
        key: bytes.subarray(at, at + keyBytes),
        part: bytes.subarray(partStart, partStart + partBytes),
      });
      at += keyBytes;
    }
    at = bytes.length;
    if (at !== bytes.length) return undefined;
    const patches = readPatches(dir, kind, kept.data.generation, projects);
    return { generation: kept.data.generation, projects, patches };
  } catch {
    return undefined; // Not what we write: the listing is made afresh, and replaces it.
  }
}

/**
 * Puts each project's newer part (`<kind>.<id>.part`, written by a listing that made only it again) in place of the
 * one in the listing; returns how many such files there are. One that is damaged or of another listing is not used:
 * whichever part is used, its key is checked against the files as they are now.
 */
function readPatches(dir: string, kind: ListingKind, generation: string, projects: KeptPart[]): number {
  const names = readdirSync(dir).filter((name) => name.startsWith(`${kind}.`) && name.endsWith(".part"));
  for (const name of names) {
    const at = projects.findIndex((project) => name === `${kind}.${project.id}.part`);
    const project = projects[at];
    if (project === undefined) continue;
    try {
      const bytes = readRegularFile(path.join(dir, name), MAX_ROWS_BYTES);
      const headerEnd = bytes?.indexOf(0x0a) ?? -1;
      if (bytes === undefined || headerEnd < 0) continue;
      const header: unknown = JSON.parse(bytes.toString("utf8", 0, headerEnd));
      const checked = isRecord(header) && header.generation === generation ? checkProject(header) : undefined;
      if (checked === undefined || headerEnd + 1 + checked.keyBytes + checked.partBytes !== bytes.length) continue;
      // A part kept beside the listing follows its key.
      const { first, measure, layout, keyBytes } = checked;
      const key = bytes.subarray(headerEnd + 1, headerEnd + 1 + keyBytes);
      projects[at] = { ...project, first, measure, layout, key, part: bytes.subarray(headerEnd + 1 + keyBytes) };
    } catch {
      // The listing's own part is used (and made again if its key no longer matches).
    }
  }
  return names.length;
}

/** The rows kept with project `id` of listing `generation` (JSON), or undefined. */
export function readKeptRows(env: Env, kind: ListingKind, id: string, generation: string): Buffer | undefined {
  const dir = keptDir(env);
  try {
    const bytes = isRealDirectory(dir)
      ? readRegularFile(path.join(dir, `${kind}.${id}.rows`), MAX_ROWS_BYTES)
      : undefined;
    const headerEnd = bytes?.indexOf(0x0a) ?? -1;
    if (bytes === undefined || headerEnd < 0) return undefined;
    const header = rowsHeaderSchema.safeParse(JSON.parse(bytes.toString("utf8", 0, headerEnd)));
    return header.success && header.data.generation === generation ? bytes.subarray(headerEnd + 1) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The rows kept with every project of the last listings printed as `kind`, whatever their generation: true of each
 * transcript whose key matches (their start records are not used), for a listing made afresh.
 */
export function readAllKeptRows(env: Env, kind: ListingKind): Buffer[] {
  const dir = keptDir(env);
  try {
    if (!isRealDirectory(dir)) return [];
    return readdirSync(dir)
      .filter((name) => name.startsWith(`${kind}.`) && name.endsWith(".rows"))
      .flatMap((name) => {
        const bytes = readRegularFile(path.join(dir, name), MAX_ROWS_BYTES);
        const headerEnd = bytes?.indexOf(0x0a) ?? -1;
        return bytes && headerEnd >= 0 ? [bytes.subarray(headerEnd + 1)] : [];
      });
  } catch {
    return [];
  }
}

/**
 * Keeps a listing: the rows of the projects in `rows` (by id) first, then the parts. `afresh`: the whole listing, and
 * every other file of this kind (older listings' rows and parts, what the first format kept) is removed; `fold`: the
 * whole listing, and the parts kept beside it are removed; `beside`: only the parts of the projects in `rows`, each in
 * a file of its own beside the listing (a few kilobytes instead of the whole listing's megabytes). Each file is
 * replaced whole, never written through what is there.
 */
export function saveKeptListing(
  env: Env,
  kind: ListingKind,
  listing: { readonly shared: string; readonly generation: string; readonly projects: readonly KeptPart[] },
  rows: ReadonlyMap<string, string>,
  how: "afresh" | "fold" | "beside",
  output: PrintedOutput,
): void {
  const dir = keptDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!isRealDirectory(dir)) return; // Not the folder we made: nothing is kept, and each listing is made afresh.
  const { shared, generation, projects } = listing;
  for (const [id, text] of rows) {
    const header = JSON.stringify({ format: FORMAT, generation });
    replaceFileIn(dir, `${kind}.${id}.rows`, [`${header}\n`, text], 0o600, { cache: true });
  }
  const entry = ({ key, part, ...project }: KeptPart, partOffset: number) => ({
    ...project,
    keyBytes: key.length,
    partOffset,
    partBytes: typeof part === "string" ? Buffer.byteLength(part) : part.length,
  });
  if (how === "beside") {
    for (const project of projects.filter((p) => rows.has(p.id))) {
      const header = JSON.stringify({ format: FORMAT, generation, ...entry(project, 0) });
      replaceFileIn(dir, `${kind}.${project.id}.part`, [`${header}\n`, project.key, project.part], 0o600, {
        cache: true,
      });
    }
    return;
  }
  // The output as printed, so that printing it again unchanged is one write of the bytes read.
  const entries = projects.map((project) => entry(project, output.offsets.get(project.id) ?? 0));
  const header = JSON.stringify({ format: FORMAT, shared, generation, projects: entries });
  const content = [`${header}\n`, ...projects.map(({ key }) => key), ...output.chunks];
  replaceFileIn(dir, `${kind}.listing`, content, 0o600, { cache: true });
  const named = new Set([`${kind}.listing`, ...projects.map((project) => `${kind}.${project.id}.rows`)]);
  for (const name of readdirSync(dir)) {
    // Parts kept beside the listing are in it now; with `afresh`, also older listings' rows, and the first format's.
    const stale = how === "afresh" ? name === kind || name.startsWith(`${kind}.`) : name.endsWith(".part");
    if (stale && name.startsWith(kind) && !named.has(name)) unlinkSync(path.join(dir, name));
  }
}

/** A group's id, as its rows file is named: its first folder's key (`dev:ino`), which no other group has. */
export function groupId(folders: readonly SlugFolder[]): string {
  return (folders[0]?.key ?? "0:0").replace(":", "-");
}
