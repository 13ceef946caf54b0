// What the Stop hook does where sync is set up: Claude Code has just written a turn into the session's transcript,
// so ask the local Syncthing to scan that one file now (its watcher would wait a second or more, and a person who
// switches machines right after an answer would resume one turn behind). Nothing else is scanned, nothing printed:
// a Syncthing that is down or slow costs this turn's head start, never the session.
import path from "node:path";
import * as z from "zod/mini";
import { projectsDir, type Env } from "../claude/home.ts";
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

/** Asks Syncthing to scan the transcript the hook's input names; what it scanned, or undefined for nothing. */
export async function scanChangedTranscript(stdinText: string, env: Env): Promise<string | undefined> {
  let input: z.infer<typeof stopInputSchema>;
  try {
    input = stopInputSchema.parse(JSON.parse(stdinText));
  } catch {
    return undefined;
  }
  const settings = readSyncSettings(env);
  const endpoint = settings && endpointOf(settings.home);
  const sub = travellingTranscript(env, input.transcript_path);
  const folder = SYNC_FOLDERS.find((candidate) => candidate.name === "projects");
  if (!endpoint || !sub || !folder) return undefined;
  const query = `folder=${encodeURIComponent(folder.id)}&sub=${encodeURIComponent(sub)}`;
  await rest(endpoint, "POST", `/rest/db/scan?${query}`, undefined, SCAN_TIMEOUT_MS);
  return sub;
}
