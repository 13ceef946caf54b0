// What the SessionStart hook does for sync, once `claude-persist sync init` ran on this machine: link the project to
// its travelling folder the first time a session starts in it, merge conflict copies of its sessions, and warn when
// the session being resumed was opened on another machine and is still being written there.
// Without sync set up it costs one stat; with it, an lstat and a readdir of the project's folder.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { projectSlugForDir, projectsDir, type Env } from "../claude/home.ts";
import { describeError } from "../errors.ts";
import { readRegularText } from "../fs.ts";
import { STATE, statePath } from "../state/paths.ts";
import { describeMerged, mergeProjectConflicts } from "./conflicts.ts";
import { syncSettingsFile } from "./folders.ts";
import { linkProject } from "./identity.ts";

/** A transcript written this recently on another machine is taken as a session still open there. */
const LIVE_WINDOW_MS = 10 * 60_000;

export type SyncAtStart = { readonly notes: string[]; readonly problems: string[] };

export function syncAtSessionStart(
  env: Env,
  input: { session_id: string; cwd: string; source?: string | undefined; transcript_path?: string | undefined },
  machine: string,
  now: Date,
): SyncAtStart {
  const notes: string[] = [];
  const problems: string[] = [];
  if (!existsSync(syncSettingsFile(env))) return { notes, problems };
  try {
    const linked = linkProject(env, input.cwd);
    if (linked?.state === "needs-merge") {
      problems.push(
        `this project's sessions on this machine are not travelling yet: run 'claude-persist sync link' in ${input.cwd}`,
      );
    }
    const merged = mergeProjectConflicts(projectsDir(env), projectSlugForDir(input.cwd));
    if (merged.length > 0) notes.push(describeMerged(merged));
    if (input.source === "resume") {
      const elsewhere = liveElsewhere(env, input, machine, now);
      if (elsewhere) notes.push(elsewhere);
    }
  } catch (error) {
    problems.push(`sync: ${describeError(error)}`);
  }
  return { notes, problems };
}

/** A warning when the last start of this session was on another machine and its transcript changed just now. */
function liveElsewhere(
  env: Env,
  input: { session_id: string; transcript_path?: string | undefined },
  machine: string,
  now: Date,
): string | undefined {
  const records = path.join(statePath(env, STATE.sessionStarts), `${input.session_id}.jsonl`);
  let lines: string[];
  try {
    // Containers write these records: only a regular file of bounded size, never a FIFO swapped in after a check.
    const text = readRegularText(records, 1024 * 1024);
    if (text === undefined) return undefined;
    lines = text.trim().split("\n");
  } catch {
    return undefined;
  }
  // The last start other than the one this hook just recorded.
  const previous = lines
    .slice(0, -1)
    .reverse()
    .map(parseStart)
    .find((start) => start !== undefined);
  if (!previous || previous.machine === machine || !input.transcript_path) return undefined;
  let written: number;
  try {
    written = statSync(input.transcript_path).mtimeMs;
  } catch {
    return undefined;
  }
  if (now.getTime() - written > LIVE_WINDOW_MS) return undefined;
  return (
    `session ${input.session_id} may still be open on ${previous.machine} (its transcript changed ${Math.round((now.getTime() - written) / 1000)} s ago): ` +
    `lines written on both machines at once branch the session; close it there first`
  );
}

function parseStart(line: string): { machine: string } | undefined {
  try {
    const record: unknown = JSON.parse(line);
    if (record && typeof record === "object" && typeof (record as { machine?: unknown }).machine === "string") {
      return { machine: (record as { machine: string }).machine };
    }
  } catch {
    // A torn line from a start that was cut short.
  }
  return undefined;
}
