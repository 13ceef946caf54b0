// The pack's hooks in Claude Code's settings.json (SessionStart, and Stop for sync): add them, find them, take them out.
import * as z from "zod/mini";
import { PACK_CODE_DIR, PACK_HOST_DIR, settingsPath, type Env } from "../claude/home.ts";
import { UserError } from "../errors.ts";
import { readTextIfExists } from "../fs.ts";
import { appendToJsonc, editJsonc, parseJsonc, removeFromJsonc } from "../jsonc.ts";

/** Where the bundled hook lives, relative to the config dir; also how we recognise our own entries. */
export const HOOK_SCRIPT = `${PACK_CODE_DIR}/hooks/session-start.cjs`;

/**
 * The command Claude Code runs (through `sh -c`). No absolute host path: the config dir is resolved where it
 * runs, so the same settings.json works on the host and in a container whose HOME differs; without node, or
 * without the pack's code, it exits 0 quietly.
 */
export const HOOK_COMMAND =
  `f="\${CLAUDE_CONFIG_DIR:-$HOME/.claude}/${HOOK_SCRIPT}"; ` +
  `[ -f "$f" ] && command -v node >/dev/null 2>&1 && exec node "$f"; exit 0`;

export const HOOK_MATCHER = "startup|resume|clear|compact";
const HOOK_TIMEOUT_SECONDS = 10;

/** The Stop hook's script: asks Syncthing to send the transcript that just changed (src/sync/stop-scan.ts). */
export const STOP_HOOK_SCRIPT = `${PACK_CODE_DIR}/hooks/stop.cjs`;

/**
 * Runs at the end of every turn, so where sync is not set up (no `persist-host/sync.json`: every dev container, and
 * hosts without sync) it is the shell's one stat and no node at all.
 */
export const STOP_HOOK_COMMAND =
  `d="\${CLAUDE_CONFIG_DIR:-$HOME/.claude}"; [ -f "$d/${PACK_HOST_DIR}/sync.json" ] && [ -f "$d/${STOP_HOOK_SCRIPT}" ] && ` +
  `command -v node >/dev/null 2>&1 && exec node "$d/${STOP_HOOK_SCRIPT}"; exit 0`;

/** One hook of ours: the event, how its command is recognised (whatever the bundle's extension was), the entry. */
type PackHook = {
  readonly event: "SessionStart" | "Stop";
  readonly script: string;
  readonly command: string;
  readonly matcher?: string;
};

const SESSION_START: PackHook = {
  event: "SessionStart",
  script: `${PACK_CODE_DIR}/hooks/session-start.`,
  command: HOOK_COMMAND,
  matcher: HOOK_MATCHER,
};
const STOP: PackHook = { event: "Stop", script: `${PACK_CODE_DIR}/hooks/stop.`, command: STOP_HOOK_COMMAND };

// zod/mini: the plugin's SessionStart hook reads settings.json at every session start, and the full zod costs ~40 ms to load.
const hookEntrySchema = z.looseObject({ type: z.optional(z.string()), command: z.optional(z.string()) });
const matcherGroupSchema = z.looseObject({
  matcher: z.optional(z.string()),
  hooks: z.optional(z.array(hookEntrySchema)),
});
const settingsSchema = z.looseObject({
  hooks: z.optional(
    z.looseObject({
      SessionStart: z.optional(z.array(matcherGroupSchema)),
      Stop: z.optional(z.array(matcherGroupSchema)),
    }),
  ),
});

type Settings = z.infer<typeof settingsSchema>;

function readSettings(text: string, file: string): Settings {
  const value = text.trim() ? parseJsonc(text, file) : {};
  const parsed = settingsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "the top level";
    throw new UserError(
      `${file}: ${where} is not what Claude Code expects (${issue?.message}); fix it and run again (nothing was changed)`,
    );
  }
  return parsed.data;
}

/** Where our entries for `ours` sit: [group index, hook index] pairs. */
function findOurHooks(settings: Settings, ours: PackHook = SESSION_START): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  (settings.hooks?.[ours.event] ?? []).forEach((group, g) => {
    (group.hooks ?? []).forEach((hook, h) => {
      if (hook.command?.includes(ours.script)) found.push([g, h]);
    });
  });
  return found;
}

type HookState = "none" | "outdated" | "current";

function hookState(text: string, file: string, ours: PackHook): HookState {
  const settings = readSettings(text, file);
  const [first] = findOurHooks(settings, ours);
  if (!first) return "none";
  return commandAt(settings, first, ours) === ours.command ? "current" : "outdated";
}

/** Whether settings.json's text registers our hook, and with the current command (what install writes). */
export function sessionStartHookState(text: string, file: string): HookState {
  return hookState(text, file, SESSION_START);
}

/** The same for the Stop hook. */
export function stopHookState(text: string, file: string): HookState {
  return hookState(text, file, STOP);
}

export type RegisteredHook =
  | { readonly kind: "no-file" }
  | { readonly kind: "unreadable" | "invalid"; readonly error: unknown }
  | { readonly kind: "none" }
  | { readonly kind: "outdated" | "current"; readonly command: string };

/** Our hook in the settings.json of `env`'s config dir, as Claude Code finds it there. */
export function registeredHook(env: Env): RegisteredHook {
  const file = settingsPath(env);
  let text: string | undefined;
  try {
    text = readTextIfExists(file);
  } catch (error) {
    return { kind: "unreadable", error };
  }
  if (text === undefined) return { kind: "no-file" };
  try {
    const settings = readSettings(text, file);
    const [first] = findOurHooks(settings);
    const command = first && commandAt(settings, first);
    if (command === undefined) return { kind: "none" };
    return { kind: command === HOOK_COMMAND ? "current" : "outdated", command };
  } catch (error) {
    return { kind: "invalid", error };
  }
}

function commandAt(settings: Settings, [g, h]: [number, number], ours: PackHook = SESSION_START): string | undefined {
  return settings.hooks?.[ours.event]?.[g]?.hooks?.[h]?.command;
}

/** settings.json's text with our hook registered exactly once and up to date; the same text when it already is. */
export function addSessionStartHook(text: string, file: string): string {
  return checkedEdit(text, file, addHook(text, file, SESSION_START), "current", SESSION_START);
}

/** settings.json's text without our hook; groups and keys left empty by that removal go too. */
export function removeSessionStartHook(text: string, file: string): string {
  return checkedEdit(text, file, removeHook(text, file, SESSION_START), "none", SESSION_START);
}

/** settings.json's text with each of our hooks (SessionStart, Stop) registered once and up to date. */
export function addPackHooks(text: string, file: string): string {
  const withStart = addSessionStartHook(text, file);
  return checkedEdit(withStart, file, addHook(withStart, file, STOP), "current", STOP);
}

/** settings.json's text without any hook of ours. */
export function removePackHooks(text: string, file: string): string {
  const withoutStop = checkedEdit(text, file, removeHook(text, file, STOP), "none", STOP);
  return removeSessionStartHook(withoutStop, file);
}

/**
 * The edited text, once it is sure to read back as intended: strict JSON where the user's file was strict JSON, and
 * with the hook as the edit meant to leave it. Anything else is a bug of ours, and writing it would break the file.
 */
function checkedEdit(before: string, file: string, after: string, want: HookState, ours: PackHook): string {
  if (after === before) return after;
  const strictBefore = before.trim() === "" || isStrictJson(before);
  const state = hookState(after, file, ours);
  if ((strictBefore && !isStrictJson(after)) || state !== want) {
    throw new Error(
      `${file}: the edit would not read back as intended (the hook would be ${state}); nothing was changed. Please report this.`,
    );
  }
  return after;
}

function isStrictJson(text: string): boolean {
  try {
    JSON.parse(text.replace(/^\uFEFF/, ""));
    return true;
  } catch {
    return false;
  }
}

function addHook(text: string, file: string, ours: PackHook): string {
  const settings = readSettings(text, file);
  const [first, ...extra] = findOurHooks(settings, ours);
  const event = ours.event;
  let result = text.trim() ? text : "{}\n";
  // Extra copies (from a hand edit, say) go, last first so indexes stay valid.
  for (const [g, h] of extra.reverse()) result = removeFromJsonc(result, ["hooks", event, g, "hooks", h]);
  if (first) {
    const [g, h] = first;
    if (commandAt(settings, first, ours) !== ours.command)
      result = editJsonc(result, ["hooks", event, g, "hooks", h, "command"], ours.command);
    return result;
  }
  const group = {
    ...(ours.matcher !== undefined ? { matcher: ours.matcher } : {}),
    hooks: [{ type: "command", command: ours.command, timeout: HOOK_TIMEOUT_SECONDS }],
  };
  if (settings.hooks?.[event]) return appendToJsonc(result, ["hooks", event], group);
  if (settings.hooks) return appendToJsonc(result, ["hooks"], [group], event);
  return appendToJsonc(result, [], { [event]: [group] }, "hooks");
}

function removeHook(text: string, file: string, ours: PackHook): string {
  let settings = readSettings(text, file);
  let result = text;
  const event = ours.event;
  for (const [g, h] of findOurHooks(settings, ours).reverse()) {
    const group = settings.hooks?.[event]?.[g];
    const onlyHook = (group?.hooks?.length ?? 0) === 1;
    result = removeFromJsonc(result, onlyHook ? ["hooks", event, g] : ["hooks", event, g, "hooks", h]);
    settings = readSettings(result, file);
  }
  if (settings.hooks?.[event]?.length === 0) {
    result = removeFromJsonc(result, ["hooks", event]);
    settings = readSettings(result, file);
  }
  if (settings.hooks && Object.keys(settings.hooks).length === 0) result = removeFromJsonc(result, ["hooks"]);
  return result;
}
