// The SessionStart hook: runs at the start of every Claude Code session, on the host and in containers.
// It checks the shared folders, records the start, and tells the model where it runs and what is shared.
// It never blocks a session: every problem becomes one line on stderr, and the exit code is always 0.
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { configDir, PACK_CODE_DIR, PACK_STATE_DIR, packStateDir, type Env } from "../claude/home.ts";
import { READ_WRITE_ENTRIES } from "../claude/shared.ts";
import { quickContainerCheck, readMountPoints, sharedEntryStates } from "../doctor/container-checks.ts";
import { detectEnvironment, type Environment } from "../environment.ts";
import { describeError } from "../errors.ts";
import { appendToFileIn, touchFolder, withDirBeneath } from "../fs-beneath.ts";
import { repairProjectLink } from "../devcontainer/project-link.ts";
import { syncAtSessionStart } from "../sync/session-start.ts";
import { describeSession } from "./context.ts";
import { migrateHostState, STATE } from "../state/paths.ts";
import { oneLine } from "../text.ts";
import { describeWorkItems, readWorkItemEntries, sessionPlaces } from "../work/work-items.ts";

/** What the hook uses of Claude Code's SessionStart input; other fields are kept as they came. */
export type HookInput = {
  readonly session_id: string;
  readonly cwd: string;
  readonly hook_event_name?: string;
  readonly source?: string;
  readonly transcript_path?: string;
  readonly [field: string]: unknown;
};

const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;
const OPTIONAL_TEXT_FIELDS = ["hook_event_name", "source", "transcript_path"] as const;

/**
 * The input checked field by field, or what is wrong with it as `field: problem`. Checked by hand, not with zod:
 * building even zod/mini's schemas cost the hook more than everything else it does (see `npm run bench -- hook`).
 */
function checkHookInput(json: unknown): HookInput | string {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "input: expected an object";
  const fields = json as Record<string, unknown>;
  if (typeof fields.session_id !== "string") return "session_id: expected a string";
  if (!SESSION_ID.test(fields.session_id)) return "session_id: session_id is not a session id";
  if (typeof fields.cwd !== "string" || fields.cwd === "") return "cwd: expected a non-empty string";
  for (const name of OPTIONAL_TEXT_FIELDS) {
    if (fields[name] !== undefined && typeof fields[name] !== "string") return `${name}: expected a string`;
  }
  return fields as HookInput;
}

export type SessionStartRecord = {
  readonly sessionId: string;
  readonly cwd: string;
  readonly environment: Environment["kind"];
  readonly machine: string;
  readonly hostWorkspace?: string;
  readonly source: string;
  readonly time: string;
};

export type HookResult = { readonly stdout: string; readonly stderr: string };

/** Folder (under the pack's state) holding one JSONL file of starts per session. */
export const SESSION_STARTS_DIR = STATE.sessionStarts.name;

export function runSessionStartHook(stdinText: string, env: Env, now: Date = new Date()): HookResult {
  const problems: string[] = [];
  const fixes: string[] = [];
  const input = parseInput(stdinText, problems);
  const where = detectEnvironment(env);
  let missing: string[];
  let linked: string | undefined;
  if (input && where.kind === "container" && where.hostWorkspace) {
    if (where.containerWorkspace) {
      const note = repairProjectLink(env, input.cwd, {
        host: where.hostWorkspace,
        container: where.containerWorkspace,
      });
      if (note?.startsWith("linked")) linked = note;
      else if (note) problems.push(note);
    }
    // A container /dev-open made: doctor's inside checks (fs calls only) name what is not shared, and how to fix it.
    const mounts = readMountPoints();
    const states = sharedEntryStates(env, mounts);
    missing = states
      .filter((s) => s.kind === "dir" && (s.state === "missing" || s.state === "not-writable"))
      .map((s) => s.name);
    const found = quickContainerCheck(env, mounts, states);
    problems.push(...found.map((result) => result.label));
    fixes.push(...found.flatMap((result) => (result.fix ? [result.fix] : [])));
  } else {
    missing = missingSharedFolders(env, where);
    if (missing.length > 0) problems.push(`shared folders missing or not writable: ${missing.join(", ")}`);
  }
  if (where.kind === "host") {
    try {
      // One stat once done: what older versions kept where containers write moves to the host-only folder.
      const migrated = migrateHostState(env);
      if (migrated?.left.length)
        problems.push(`left in place, not claude-persist's (a link?): ${migrated.left.join(", ")}`);
    } catch (error) {
      problems.push(`could not move host-only state (${describeError(error)})`);
    }
  }
  if (!input) return { stdout: "", stderr: describeProblems(env, where, problems, fixes) };
  try {
    recordSessionStart(env, {
      sessionId: input.session_id,
      cwd: input.cwd,
      environment: where.kind,
      machine: where.name,
      ...(where.hostWorkspace ? { hostWorkspace: where.hostWorkspace } : {}),
      source: input.source ?? "startup",
      time: now.toISOString(),
    });
  } catch (error) {
    problems.push(`could not record the session start in ${packStateDir(env)} (${describeError(error)})`);
  }
  const synced = syncAtSessionStart(env, input, where.name, now);
  problems.push(...synced.problems);
  let workItems = "";
  try {
    workItems = describeWorkItems(readWorkItemEntries(env), sessionPlaces(input.cwd, where));
  } catch (error) {
    problems.push(`could not read the work items in ${packStateDir(env)} (${describeError(error)})`);
  }
  // Only what is true here: on the host, in a folder with no dev container, one line.
  const context = [
    describeSession(env, input.cwd, where, missing),
    linked ? `claude-persist ${linked}.` : "",
    ...synced.notes.map((note) => `claude-persist sync: ${note}.`),
    workItems,
  ]
    .filter(Boolean)
    .join("\n");
  const answer = { hookSpecificOutput: { hookEventName: "SessionStart", additionalContext: context } };
  const told = synced.notes.map((note) => `claude-persist sync: ${oneLine(note)}.\n`).join("");
  return {
    stdout: context ? `${JSON.stringify(answer)}\n` : "",
    stderr: describeProblems(env, where, problems, fixes) + told,
  };
}

/** All problems in one stderr line, with their fixes (or where to find them). */
function describeProblems(env: Env, where: Environment, problems: string[], fixes: string[]): string {
  if (problems.length === 0) return "";
  const fix =
    fixes.length > 0 ? `Fix: ${[...new Set(fixes)].join("; ")}.` : `Run '${doctorCommand(env, where)}' for the fix.`;
  // Problems quote paths and errors from folders containers write: no escape sequence reaches the terminal.
  return `claude-persist: ${oneLine(problems.join("; "))}. ${oneLine(fix)}\n`;
}

/**
 * How to run doctor here: by name on the host (install puts the commands on PATH); in a container, where nothing puts
 * them on PATH, through node and the mounted runtime.
 */
function doctorCommand(env: Env, where: Environment): string {
  if (where.kind === "host") return "claude-persist doctor";
  const cli = path.join(configDir(env), PACK_CODE_DIR, "bin", "claude-persist.cjs");
  const home = env.HOME;
  const shown = home && cli.startsWith(`${home}/`) ? `~${cli.slice(home.length)}` : cli;
  return `node ${shown} doctor`;
}

function parseInput(stdinText: string, problems: string[]): HookInput | undefined {
  if (!stdinText.trim()) {
    problems.push("the SessionStart hook got no input from Claude Code, so nothing was recorded");
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(stdinText);
  } catch {
    problems.push("the SessionStart hook input is not JSON, so nothing was recorded");
    return undefined;
  }
  const checked = checkHookInput(json);
  if (typeof checked === "string") {
    problems.push(`the SessionStart hook input is not usable (${checked}), so nothing was recorded`);
    return undefined;
  }
  return checked;
}

/** The read-write folders this environment expects to share, which are absent or not writable. */
function missingSharedFolders(env: Env, where: Environment): string[] {
  // On the host Claude Code and install make the folders; only our state must be there. In a container each of them
  // should be there, and a missing one means sessions will not follow.
  const names =
    where.kind === "container"
      ? READ_WRITE_ENTRIES.filter((e) => e.kind === "dir").map((e) => e.name)
      : [PACK_STATE_DIR];
  return names.filter((name) => !isWritableDir(path.join(configDir(env), name)));
}

function isWritableDir(dir: string): boolean {
  try {
    if (!statSync(dir).isDirectory()) return false;
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Appends one line per start: a single small O_APPEND write, so concurrent hooks never tear a line. Containers write
 * this folder too: it is reached without following a link, and a link or FIFO in place of the file is refused.
 */
export function recordSessionStart(env: Env, record: SessionStartRecord): void {
  withDirBeneath(
    configDir(env),
    path.join(PACK_STATE_DIR, SESSION_STARTS_DIR),
    (dir) => {
      appendToFileIn(dir, `${record.sessionId}.jsonl`, `${JSON.stringify(record)}\n`);
      // `sessions` trusts the records it indexed while this folder's own times stay put (src/sessions/index-file.ts).
      touchFolder(dir);
    },
    {
      create: true,
    },
  );
}
