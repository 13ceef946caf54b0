// What the Stop hook does where sync is set up: Claude Code has just written a turn into the session's transcript,
// so ask the local Syncthing to scan that one file now (its watcher would wait a second or more, and a person who
// switches machines right after an answer would resume one turn behind). Nothing else is scanned, nothing printed:
// a Syncthing that is down or slow costs this turn's head start, never the session.
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod/mini";
import { startProcess } from "../child-process.ts";
import { projectsDir, type Env } from "../claude/home.ts";
import { statBeneath } from "../container-tree.ts";
import { PROJECT_IDENTITY_PREFIX, SYNC_FOLDERS } from "./folders.ts";
import { resolveSlugLink } from "./identity.ts";
import { readSyncSettings } from "./setup.ts";
import { endpointOf, rest } from "./syncthing.ts";

/** Syncthing answers a one-file scan in milliseconds; a daemon that does not is not waited for. */
const SCAN_TIMEOUT_MS = 3_000;

const stopInputSchema = z.looseObject({ transcript_path: z.string() });

/** The transcript as Syncthing's `projects` folder names it (`repo-…/<session>.jsonl`), if it travels. */
export function travellingTranscript(env: Env, transcriptPath: string): string | undefined {
  const root = projectsDir(env);
  const rel = path.relative(root, path.resolve(transcriptPath));
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel) || !rel.endsWith(".jsonl")) return undefined;
  // Through this machine's slug link to the project's travelling folder; a project not linked does not travel.
  const sub = resolveSlugLink(root, rel);
  const [top, ...rest] = sub.split("/");
  if (!top?.startsWith(PROJECT_IDENTITY_PREFIX) || rest.length === 0 || rest.includes("..")) return undefined;
  return sub;
}

/**
 * Hands the transcript the hook's input names to a detached scanner and returns at once; what it will scan, or
 * undefined for nothing. Claude Code writes to the transcript again right after its Stop hooks (it notes their run):
 * a scan asked for before that write lets the other machine pull a file that changes under it, which Syncthing
 * fails and retries a minute later. So the scan waits until the file is quiet.
 */
export function scanChangedTranscript(stdinText: string, env: Env): string | undefined {
  let input: z.infer<typeof stopInputSchema>;
  try {
    input = stopInputSchema.parse(JSON.parse(stdinText));
  } catch {
    return undefined;
  }
  const sub = travellingTranscript(env, input.transcript_path);
  if (!sub) return undefined;
  const self = fileURLToPath(import.meta.url);
  startProcess(process.execPath, [self, SCAN_WHEN_QUIET, input.transcript_path], {
    detached: true,
    stdout: "ignore",
    stderr: "ignore",
    env: { ...env },
  }).unref();
  return sub;
}

const SCAN_WHEN_QUIET = "--scan-when-quiet";
/** No change for this long: Claude Code has finished writing the turn. */
const QUIET_MS = 40;
/** A transcript that keeps changing (the next turn already) is scanned anyway after this long. */
const MAX_WAIT_MS = 2_000;

/** In the detached scanner: waits until `transcript` is quiet, then asks Syncthing to scan it. */
export async function scanWhenQuiet(env: Env, transcript: string): Promise<void> {
  const settings = readSyncSettings(env);
  const endpoint = settings && endpointOf(settings.home);
  const sub = travellingTranscript(env, transcript);
  const folder = SYNC_FOLDERS.find((candidate) => candidate.name === "projects");
  if (!endpoint || !sub || !folder) return;
  // The transcript in its travelling folder, through the gate: containers write projects/.
  const stamp = () => {
    try {
      const stats = statBeneath(projectsDir(env), sub);
      return stats ? `${stats.size}:${stats.mtimeMs}` : "gone";
    } catch {
      return "gone";
    }
  };
  const started = Date.now();
  let last = stamp();
  let quietSince = Date.now();
  while (Date.now() - quietSince < QUIET_MS && Date.now() - started < MAX_WAIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const now = stamp();
    if (now !== last) [last, quietSince] = [now, Date.now()];
  }
  const query = `folder=${encodeURIComponent(folder.id)}&sub=${encodeURIComponent(sub)}`;
  await rest(endpoint, "POST", `/rest/db/scan?${query}`, undefined, SCAN_TIMEOUT_MS);
}

if (process.argv[2] === SCAN_WHEN_QUIET && process.argv[1] === fileURLToPath(import.meta.url)) {
  scanWhenQuiet(process.env, process.argv[3] ?? "").catch(() => {
    // Detached, with no one to tell: the watcher sends the turn a second later.
  });
}
