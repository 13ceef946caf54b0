// The last `sessions --all` output, kept beside what it was made from: the projects folder's layout, every session
// file's size, mtime and inode, the start records folder's times, the mappings and work items, where the listing ran
// and how it was printed. A listing whose inputs are all the same prints it again without reading the index or
// building a session (10,000 sessions: the stats, one read, one write). It lives in the host-only state folder, which
// only this user writes; it is still read only as a regular file of bounded size, never through a link.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Env, projectsDir } from "../claude/home.ts";
import { readRegularFile, replaceFileIn } from "../fs.ts";
import { STATE, statePath } from "../state/paths.ts";
import { packBuild } from "../version.ts";
import type { FolderKey } from "./index-file.ts";
import type { Layout, WorkItem } from "./model.ts";
import type { ScannedFolder } from "./scan.ts";

/** The kept file's layout. The build's hash is in the key: an output is never printed by another build of the pack. */
const FORMAT = 1;
/** 10,000 sessions print about 8 MB: a larger file is not ours, and the listing is made again. */
const MAX_BYTES = 256 * 1024 * 1024;

/** What the last output was made from (see `listingKey`). */
export type ListingKey = Buffer;

/** Each project folder's place and the repo it belongs to when the output was made: checked again before reuse. */
export type Places = ReadonlyArray<readonly [place: string, repo: string]>;

/** Everything a listing of every project is made from, as `listingKey` spells it. */
export type ListingInputs = {
  readonly env: Env;
  readonly here: string;
  /** How it is printed: JSON, or a table for a terminal's width and a time zone. */
  readonly printedAs: { readonly kind: ListingKind; readonly details: string };
  readonly layout: Layout;
  readonly workItems: readonly WorkItem[];
  readonly startsKey: FolderKey | "none";
  readonly scanned: ReadonlyMap<string, ScannedFolder>;
};

/**
 * Everything the output depends on but the places' repos (checked on reuse), as bytes: equal bytes, equal outputs.
 * The texts as one JSON document, then each session file's size, mtime, ctime and inode as 64-bit numbers, in the order its
 * name has in the document: about 70 bytes a session, made in a few milliseconds for 10,000.
 */
export function listingKey(inputs: ListingInputs): ListingKey {
  const { env, here, printedAs, layout, workItems, startsKey, scanned } = inputs;
  const files = layout.folders.map((folder) => scanned.get(folder.key)?.files ?? []);
  const texts = [FORMAT, packBuild(), printedAs, here, projectsDir(env), layout, workItems, startsKey];
  const names = layout.folders.map((folder, i) => [folder.dir, files[i]?.map((file) => file.name)]);
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
  return Buffer.concat([Buffer.from(JSON.stringify([...texts, names])), new Uint8Array(numbers.buffer)]);
}

/** Where the last output printed as `kind` is kept: JSON and tables each have their own. */
function listingCachePath(env: Env, kind: ListingKind): string {
  return path.join(statePath(env, STATE.sessionsListings), kind);
}

export type ListingKind = "json" | "table";

/** The last output when it was made from `key`, with the places it grouped projects by; else undefined. */
export function readCachedListing(
  env: Env,
  kind: ListingKind,
  key: ListingKey,
): { output: Buffer; places: Places } | undefined {
  let bytes: Buffer | undefined;
  try {
    bytes = readRegularFile(listingCachePath(env, kind), MAX_BYTES);
  } catch {
    return undefined; // Not a file we could have written: the listing is made afresh, and replaces it.
  }
  if (bytes === undefined) return undefined;
  const headerEnd = bytes.indexOf(0x0a);
  if (headerEnd < 0) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(bytes.toString("utf8", 0, headerEnd));
  } catch {
    return undefined;
  }
  if (!isHeader(header)) return undefined;
  const keyStart = headerEnd + 1;
  const keyEnd = keyStart + header.keyBytes;
  if (keyEnd > bytes.length || key.length !== header.keyBytes || !key.equals(bytes.subarray(keyStart, keyEnd))) {
    return undefined;
  }
  return { output: bytes.subarray(keyEnd), places: header.places };
}

/** Keeps `output` as the listing made from `key` (replacing the file, never writing through what is there). */
export function saveListing(env: Env, kind: ListingKind, key: ListingKey, places: Places, output: string): void {
  const file = listingCachePath(env, kind);
  const header = JSON.stringify({ format: FORMAT, keyBytes: key.length, places });
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  replaceFileIn(path.dirname(file), path.basename(file), [`${header}\n`, key, output], 0o600, { cache: true });
}

function isHeader(value: unknown): value is { format: number; keyBytes: number; places: Places } {
  if (typeof value !== "object" || value === null) return false;
  const { format, keyBytes, places } = value as Record<string, unknown>;
  return (
    format === FORMAT &&
    typeof keyBytes === "number" &&
    Number.isSafeInteger(keyBytes) &&
    keyBytes >= 0 &&
    Array.isArray(places) &&
    places.every(
      (entry) =>
        Array.isArray(entry) && entry.length === 2 && typeof entry[0] === "string" && typeof entry[1] === "string",
    )
  );
}
