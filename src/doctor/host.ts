// Doctor's checks of the Claude Code home on the host (also run inside a container where they apply): the private
// folders, the SessionStart hook registered and answering.
import { existsSync, statSync, type Stats } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import * as z from "zod/mini";
import { once } from "../once.ts";
import { randomUuid } from "../crypto.ts";
import { configDir, settingsPath, type Env } from "../claude/home.ts";
import { READ_WRITE_ENTRIES } from "../claude/shared.ts";
import { describeError } from "../errors.ts";
import { runProcess } from "../child-process.ts";
import { HOOK_COMMAND, HOOK_SCRIPT, registeredHook } from "../install/settings.ts";
import { unlinkBeneath } from "../container-tree.ts";
import { PACK_STATE_DIR, STATE } from "../state/paths.ts";
import { displayPath } from "./container-checks.ts";
import { type CheckResult, fail, firstLine, ok, warn } from "./report.ts";
import { NODE_MAJOR } from "./tools.ts";

const HOOK_TIMEOUT_MS = 5_000;

type DirState =
  | { readonly kind: "ok" | "group-writable" | "readable"; readonly mode: number }
  | { readonly kind: "missing" | "not-a-folder" }
  | { readonly kind: "not-yours"; readonly uid: number };

/** A folder of the user's should be there, theirs, and closed to other users (Claude Code makes its folders 0700). */
function inspectPrivateDir(dir: string): DirState {
  let stats: Stats;
  try {
    stats = statSync(dir);
  } catch {
    // Not there, or not reachable through its parents: missing, as Claude Code sees it.
    return { kind: "missing" };
  }
  if (!stats.isDirectory()) return { kind: "not-a-folder" };
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) return { kind: "not-yours", uid: stats.uid };
  const mode = stats.mode & 0o777;
  if (mode & 0o022) return { kind: "group-writable", mode };
  if (mode & 0o044) return { kind: "readable", mode };
  return { kind: "ok", mode };
}

/**
 * One line per kind of problem, naming every folder that has it, with one command for all of them; `okLabel` gets
 * the folders that are fine.
 */
function privateDirResults(
  dirs: readonly string[],
  env: Env,
  options: { missingFix?: string; okLabel: (dirs: string[]) => string },
): CheckResult[] {
  const byKind = new Map<DirState["kind"], { dirs: string[]; shown: string[]; states: DirState[] }>();
  for (const dir of dirs) {
    const state = inspectPrivateDir(dir);
    const group = byKind.get(state.kind) ?? { dirs: [], shown: [], states: [] };
    group.dirs.push(dir);
    group.shown.push(displayPath(dir, env));
    group.states.push(state);
    byKind.set(state.kind, group);
  }
  const results: CheckResult[] = [];
  const uid = process.getuid?.();
  const modes = (states: DirState[]) => [...new Set(states.map((s) => ("mode" in s ? octal(s.mode) : "")))].join(", ");
  for (const [kind, { dirs: found, shown, states }] of byKind) {
    const list = shown.join(" ");
    const named = `${shown.join(", ")} ${shown.length === 1 ? "is" : "are"}`;
    switch (kind) {
      case "ok":
        results.unshift(ok(options.okLabel(found)));
        break;
      case "missing":
        results.push(fail(`${named} missing`, options.missingFix ?? `mkdir -p -m 700 ${list}`));
        break;
      case "not-a-folder":
        results.push(
          fail(`${named} not a folder`, shown.map((s) => `mv ${s} ${s}.old && mkdir -m 700 ${s}`).join("; ")),
        );
        break;
      case "not-yours": {
        const owners = [...new Set(states.map((s) => ("uid" in s ? s.uid : -1)))].join(", ");
        const fix = `sudo chown -R ${userName()}: ${list}`;
        results.push(fail(`${named} owned by uid ${owners}, not by you (uid ${uid})`, fix));
        break;
      }
      case "group-writable":
        results.push(fail(`${named} writable by other users (mode ${modes(states)})`, `chmod 700 ${list}`));
        break;
      case "readable":
        results.push(warn(`${named} readable by other users (mode ${modes(states)})`, `chmod 700 ${list}`));
        break;
    }
  }
  return results;
}

export function checkConfigDir(env: Env): CheckResult[] {
  return privateDirResults([configDir(env)], env, {
    missingFix: "claude-persist install",
    okLabel: ([dir]) => `${displayPath(dir ?? "", env)} is yours and private`,
  });
}

/** The read-write shared folders (what dev containers mount): one line when all are fine. */
export function checkSharedFolders(env: Env): CheckResult[] {
  const root = configDir(env);
  const names = READ_WRITE_ENTRIES.filter((entry) => entry.kind === "dir").map((entry) => entry.name);
  return privateDirResults(
    names.map((name) => path.join(root, name)),
    env,
    {
      okLabel: (found) =>
        `shared folders there, yours and private: ${found.map((dir) => path.basename(dir)).join(", ")}`,
    },
  );
}

/** Our SessionStart hook is in settings.json, and it is the current command. */
export function checkHookRegistered(env: Env): CheckResult {
  const file = settingsPath(env);
  const shown = displayPath(file, env);
  const hook = registeredHook(env);
  switch (hook.kind) {
    case "unreadable":
      return fail(`${shown} cannot be read (${describeError(hook.error)})`, `sudo chown ${userName()}: ${shown}`);
    case "no-file":
      return fail(`${shown} does not exist: the SessionStart hook is not registered`, "claude-persist install");
    case "invalid": {
      // The settings module's messages end with advice for install; doctor gives its own.
      const reason = describeError(hook.error)
        .replace(/; fix (?:the file|it) and run again.*$/, "")
        .replaceAll(file, shown);
      return fail(reason, `correct ${shown} by hand (Claude Code reads it too), then run: claude-persist install`);
    }
    case "none":
      return fail(`the SessionStart hook is not registered in ${shown}`, "claude-persist install");
    case "outdated":
      return warn(`${shown} registers an older command for the SessionStart hook`, "claude-persist install");
    case "current":
      return ok(`the SessionStart hook is registered in ${shown}`);
  }
}

/**
 * Runs the hook's command as Claude Code does (`sh -c`, a sample input on stdin) and checks its answer: the command
 * settings.json registers, which is what Claude Code runs, or (when none is) the one install would register.
 */
export async function checkHookRuns(env: NodeJS.ProcessEnv, cwd: string): Promise<CheckResult> {
  const script = path.join(configDir(env), HOOK_SCRIPT);
  if (!existsSync(script)) {
    return fail(`claude-persist's runtime is not installed (no ${displayPath(script, env)})`, "claude-persist install");
  }
  const registered = registeredHook(env);
  const command = registered.kind === "current" || registered.kind === "outdated" ? registered.command : HOOK_COMMAND;
  const sessionId = `claude-persist-doctor-${randomUuid()}`;
  const input = JSON.stringify({ session_id: sessionId, cwd, hook_event_name: "SessionStart", source: "startup" });
  const started = performance.now();
  const run = await runProcess("/bin/sh", ["-c", command], {
    input,
    env,
    cwd,
    timeout: HOOK_TIMEOUT_MS,
  });
  const ms = Math.round(performance.now() - started);
  forgetProbeStart(env, sessionId);
  const stderr = firstLine(run.stderr);
  if (run.timedOut) {
    const label = `the SessionStart hook did not answer within ${HOOK_TIMEOUT_MS / 1000} s`;
    return fail(label, "claude-persist install", stderr);
  }
  if (run.exitCode !== 0) {
    return fail(`the SessionStart hook exited with code ${run.exitCode}`, "claude-persist install", stderr);
  }
  if (!run.stdout.trim() && registered.kind === "outdated") {
    return fail(
      "the SessionStart hook command in settings.json printed nothing: it is an older command that runs no hook",
      "claude-persist install",
    );
  }
  if (!run.stdout.trim()) {
    return fail(
      "the SessionStart hook printed nothing: `node` is not on the PATH",
      `install Node.js ${NODE_MAJOR} or newer (https://nodejs.org)`,
    );
  }
  if (!isHookAnswer(run.stdout)) {
    const answer = firstLine(run.stdout);
    return fail("the SessionStart hook answered something other than its JSON", "claude-persist install", answer);
  }
  if (stderr) {
    const problem = stderr.replace(/ Run 'claude-persist doctor' for the fix\.$/, "");
    return warn(`the SessionStart hook runs (${ms} ms) and reports a problem`, undefined, problem);
  }
  return ok(`the SessionStart hook runs and answers (${ms} ms)`);
}

/**
 * The hook run recorded a session start like any other: doctor's is not a session. Containers write the records'
 * folder: removed through the gate, so a link put in the folder's place leads nowhere.
 */
export function forgetProbeStart(env: Env, sessionId: string): void {
  try {
    unlinkBeneath(configDir(env), path.join(PACK_STATE_DIR, STATE.sessionStarts.name, `${sessionId}.jsonl`));
  } catch {
    // A link or file where the folder should be: nothing of doctor's is there to remove.
  }
}

const hookAnswerSchema = once(() =>
  z.object({
    hookSpecificOutput: z.looseObject({ hookEventName: z.literal("SessionStart"), additionalContext: z.string() }),
  }),
);

function isHookAnswer(stdout: string): boolean {
  try {
    return hookAnswerSchema().safeParse(JSON.parse(stdout)).success;
  } catch {
    // Not JSON: not the hook's answer.
    return false;
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for this uid: let the shell name the user.
    return "$(id -un)";
  }
}
