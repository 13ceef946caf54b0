// What the SessionStart hook does for sync, once `claude-persist sync init` ran on this machine: link the project to
// its travelling folder the first time a session starts in it, merge conflict copies of its sessions, and warn when
// the session being resumed was opened on another machine and is still being written there.
// Without sync set up it costs one stat; with it, an lstat and a readdir of the project's folder.
import { existsSync } from "node:fs";
import path from "node:path";
import { configDir, projectSlugForDir, projectsDir, type Env } from "../claude/home.ts";
import { projectFolderName, readBeneath, statBeneath } from "../container-tree.ts";
import { describeError } from "../errors.ts";
import { PACK_STATE_DIR, STATE } from "../state/paths.ts";
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
  const records = path.join(PACK_STATE_DIR, STATE.sessionStarts.name, `${input.session_id}.jsonl`);
  let lines: string[];
  try {
    // Containers write these records: through the gate (no link followed on the way), a regular file of bounded size.
    const text = readBeneath(configDir(env), records, 1024 * 1024)?.toString("utf8");
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
  const written = transcriptWritten(projectsDir(env), input.transcript_path);
  if (written === undefined) return undefined;
  if (now.getTime() - written > LIVE_WINDOW_MS) return undefined;
  return (
    `session ${input.session_id} may still be open on ${previous.machine} (its transcript changed ${Math.round((now.getTime() - written) / 1000)} s ago): ` +
    `lines written on both machines at once branch the session; close it there first`
  );
}

/**
 * When the transcript at `file` (`projects/<slug>/<session>.jsonl`) was last written, reached through the gate: in the
 * slug's own folder or the travelling folder sync's link names; undefined for anything else.
 */
function transcriptWritten(projects: string, file: string): number | undefined {
  const [slug, name, ...more] = path.relative(projects, path.resolve(file)).split(path.sep);
  try {
    // A name with ".." in it is refused by the gate.
    const folder = slug && name && more.length === 0 ? projectFolderName(projects, slug) : undefined;
    const stats = folder && statBeneath(projects, `${folder}/${name}`);
    return stats && stats.kind === "file" ? stats.mtimeMs : undefined;
  } catch {
    return undefined;
  }
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
