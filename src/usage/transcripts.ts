// Which files under projects/ hold usage: each slug folder's session transcripts and their subagents' (under
// `<session>/subagents/`, or `agent-*.jsonl` beside them in older versions). Not counted: links (a container can plant
// one pointing anywhere), sync's copies (`.stversions/`, Syncthing's and unison's conflict and temporary files), and
// anything not a regular file. A folder reached by several names (a container's slug linked to the host's) is one.
import { type Dirent, lstatSync, readdirSync } from "node:fs";
import { fileIn } from "../fs.ts";
import type { SlugFolder } from "../sessions/model.ts";

export type TranscriptFile = {
  readonly path: string;
  /** The folder's real name under projects/. */
  readonly folder: string;
  readonly agent: boolean;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
};

/** Names sync tools give their copies and half-written files: the same lines again, never new usage. */
const SYNC_COPY = /\.sync-conflict-|^\.syncthing\.|\.tmp$|^\.unison\.|\.unison\.tmp$|~$|\.orig$|\(conflict/i;
const SESSION_DIR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function findTranscripts(folders: readonly SlugFolder[], notes: string[]): TranscriptFile[] {
  const found: TranscriptFile[] = [];
  for (const folder of folders) {
    const name = folder.names[0] ?? folder.dir;
    // Syncthing's `.stversions/` (and any hidden folder) under projects/ holds old copies, not sessions.
    if (folder.names.every((n) => n.startsWith("."))) continue;
    let entries: Dirent[];
    try {
      entries = readdirSync(folder.dir, { withFileTypes: true });
    } catch {
      notes.push(`could not read ${folder.dir}, so its usage was left out`);
      continue;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".") || SYNC_COPY.test(entry.name)) continue;
      const file = fileIn(folder.dir, entry.name);
      if (entry.isFile() && entry.name.endsWith(".jsonl")) {
        add(found, file, name, entry.name.startsWith("agent-"));
      } else if (entry.isDirectory() && SESSION_DIR.test(entry.name)) {
        addSubagents(found, fileIn(file, "subagents"), name);
      }
    }
  }
  return found;
}

function addSubagents(found: TranscriptFile[], dir: string, folder: string): void {
  let entries: Dirent[];
  try {
    // A link named so is not followed.
    if (!lstatSync(dir).isDirectory()) return;
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // No subagents.
  }
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith(".jsonl") && !SYNC_COPY.test(entry.name) && !entry.name.startsWith("."))
      add(found, fileIn(dir, entry.name), folder, true);
  }
}

function add(found: TranscriptFile[], path: string, folder: string, agent: boolean): void {
  try {
    const stats = lstatSync(path);
    if (stats.isFile()) found.push({ path, folder, agent, size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino });
  } catch {
    // Gone since the folder was listed.
  }
}
