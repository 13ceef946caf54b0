// The SessionStart hook of the Claude Code plugin (plugins/persist/hooks/hooks.json). The plugin's folder is a host
// path that containers never see, so on the host this hook sets up what the installer sets up for containers: the
// runtime in `<config>/persist/` and the hook entry in settings.json, both mounted read-only into containers by
// /dev-open.
// From then on that settings.json hook runs at every session start, on the host too, so this hook does the hook's
// work only when the settings.json hook did not run in this session (the first one, before the setup): a session
// start is recorded once, and its context reaches the model once.
import { existsSync } from "node:fs";
import path from "node:path";
import { configDir, PACK_RUNTIME_MARKER, packCodeDir, type Env } from "../claude/home.ts";
import { detectEnvironment } from "../environment.ts";
import { describeError } from "../errors.ts";
import { readTextIfExists } from "../fs.ts";
import type { HookResult } from "../hook/session-start.ts";
import type { InstallResult } from "./install.ts";
import { HOOK_SCRIPT, registeredHook } from "./settings.ts";

/** `runtime`: the plugin's built runtime (its `dist/`), which `<config>/persist/` should be a copy of. */
export async function runPluginSessionStart(stdinText: string, env: Env, runtime: string): Promise<HookResult> {
  // Claude Code read settings.json before it started the hooks: what is there now is what it ran.
  const settingsHookRan = settingsHookRuns(env);
  // In a container opened by /dev-open, persist/ and settings.json are the host's, mounted read-only.
  const isDevOpenContainer = detectEnvironment(env).hostWorkspace !== undefined;
  let problem = "";
  let setUp: InstallResult | undefined;
  if (!isDevOpenContainer && !(settingsHookRan && isInstalledRuntime(env, runtime))) {
    try {
      // Loaded only when there is something to set up: the installer's dependencies cost more than the check.
      const { install } = await import("./install.ts");
      setUp = await install(env, { runtime, parts: "runtime-and-hook" });
    } catch (error) {
      problem =
        `claude-persist: could not set up ${packCodeDir(env)} and the settings.json hook (${describeError(error)}), ` +
        `so the hook will not run in dev containers; 'node ${path.join(runtime, "bin", "claude-persist.mjs")} install' shows why.\n`;
    }
  }
  if (settingsHookRan) return { stdout: "", stderr: problem };
  const { runSessionStartHook } = await import("../hook/session-start.ts");
  const result = runSessionStartHook(stdinText, env);
  // The first setup is told to the user once, in Claude Code's own UI (the hook answer's systemMessage): from the
  // next session on, the settings.json hook runs and this one sets nothing up.
  const told = setUp && setUp.changes.length > 0 ? firstSetupMessage(env, setUp) : undefined;
  return { stdout: told ? withSystemMessage(result.stdout, told) : result.stdout, stderr: result.stderr + problem };
}

/** What the plugin's first session set up, and how to take it out: one message the user sees. */
export function firstSetupMessage(env: Env, result: InstallResult): string {
  const home = env.HOME ?? "";
  const shown = (dir: string) => (home && dir.startsWith(`${home}/`) ? `~${dir.slice(home.length)}` : dir);
  const folders = result.changes.filter((change) => change.action === "create" && !change.path.includes("/")).length;
  return (
    `claude-persist set up what dev containers need: its runtime in ${shown(packCodeDir(env))}, a SessionStart hook ` +
    `in ${shown(path.join(configDir(env), "settings.json"))}${folders > 0 ? ` and ${folders} folders in ${shown(configDir(env))}` : ""}. ` +
    "/persist:uninstall takes them out again (your sessions stay)."
  );
}

/** The hook's answer with `message` for the user added: its JSON object, or one of its own when it had none. */
function withSystemMessage(stdout: string, message: string): string {
  let answer: Record<string, unknown> = {};
  try {
    const parsed: unknown = stdout.trim() ? JSON.parse(stdout) : {};
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) answer = parsed as Record<string, unknown>;
  } catch {
    // Plain text is context for the model: keep it as that.
    answer = { hookSpecificOutput: { hookEventName: "SessionStart", additionalContext: stdout } };
  }
  return `${JSON.stringify({ ...answer, systemMessage: message })}\n`;
}

/** True when `<config>/persist/` is a complete copy of the build in `runtime` (runtime.json, copied last, names the build). */
function isInstalledRuntime(env: Env, runtime: string): boolean {
  const installed = readTextIfExists(path.join(packCodeDir(env), PACK_RUNTIME_MARKER));
  return installed !== undefined && installed === readTextIfExists(path.join(runtime, PACK_RUNTIME_MARKER));
}

/**
 * True when settings.json registers our current hook command and the script it runs is there (else its command
 * exits quietly). An older command may be one that never ran (an install that mangled it): setup replaces it.
 */
function settingsHookRuns(env: Env): boolean {
  if (!existsSync(path.join(configDir(env), HOOK_SCRIPT))) return false;
  // Unreadable or invalid settings: Claude Code ran no hook from them either.
  return registeredHook(env).kind === "current";
}
