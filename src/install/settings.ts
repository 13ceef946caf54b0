// The pack's SessionStart hook in Claude Code's settings.json: add it, find it, take it out again.
import * as z from "zod/mini";
import { PACK_CODE_DIR, settingsPath, type Env } from "../claude/home.ts";
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

// zod/mini: the plugin's SessionStart hook reads settings.json at every session start, and the full zod costs ~40 ms to load.
const hookEntrySchema = z.looseObject({ type: z.optional(z.string()), command: z.optional(z.string()) });
const matcherGroupSchema = z.looseObject({
  matcher: z.optional(z.string()),
  hooks: z.optional(z.array(hookEntrySchema)),
});
const settingsSchema = z.looseObject({
  hooks: z.optional(z.looseObject({ SessionStart: z.optional(z.array(matcherGroupSchema)) })),
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

/** Ours, whatever the bundle's extension was when it was installed. */
function isOurCommand(command: string | undefined): boolean {
  return command?.includes(`${PACK_CODE_DIR}/hooks/session-start.`) ?? false;
}

/** Where our hook entries sit: [group index, hook index] pairs. */
function findOurHooks(settings: Settings): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  (settings.hooks?.SessionStart ?? []).forEach((group, g) => {
    (group.hooks ?? []).forEach((hook, h) => {
      if (isOurCommand(hook.command)) found.push([g, h]);
    });
  });
  return found;
}

/** Whether settings.json's text registers our hook, and with the current command (what install writes). */
export function sessionStartHookState(text: string, file: string): "none" | "outdated" | "current" {
  const settings = readSettings(text, file);
  const [first] = findOurHooks(settings);
  if (!first) return "none";
  return commandAt(settings, first) === HOOK_COMMAND ? "current" : "outdated";
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

function commandAt(settings: Settings, [g, h]: [number, number]): string | undefined {
  return settings.hooks?.SessionStart?.[g]?.hooks?.[h]?.command;
}

/** settings.json's text with our hook registered exactly once and up to date; the same text when it already is. */
export function addSessionStartHook(text: string, file: string): string {
  return checkedEdit(text, file, addHook(text, file), "current");
}

/** settings.json's text without our hook; groups and keys left empty by that removal go too. */
export function removeSessionStartHook(text: string, file: string): string {
  return checkedEdit(text, file, removeHook(text, file), "none");
}

/**
 * The edited text, once it is sure to read back as intended: strict JSON where the user's file was strict JSON, and
 * with the hook as the edit meant to leave it. Anything else is a bug of ours, and writing it would break the file.
 */
function checkedEdit(before: string, file: string, after: string, want: "current" | "none"): string {
  if (after === before) return after;
  const strictBefore = before.trim() === "" || isStrictJson(before);
  const state = sessionStartHookState(after, file);
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

function addHook(text: string, file: string): string {
  const settings = readSettings(text, file);
  const ours = findOurHooks(settings);
  const [first, ...extra] = ours;
  let result = text.trim() ? text : "{}\n";
  // Extra copies (from a hand edit, say) go, last first so indexes stay valid.
  for (const [g, h] of extra.reverse()) result = removeFromJsonc(result, ["hooks", "SessionStart", g, "hooks", h]);
  if (first) {
    const [g, h] = first;
    if (commandAt(settings, first) !== HOOK_COMMAND)
      result = editJsonc(result, ["hooks", "SessionStart", g, "hooks", h, "command"], HOOK_COMMAND);
    return result;
  }
  const group = {
    matcher: HOOK_MATCHER,
    hooks: [{ type: "command", command: HOOK_COMMAND, timeout: HOOK_TIMEOUT_SECONDS }],
  };
  if (settings.hooks?.SessionStart) return appendToJsonc(result, ["hooks", "SessionStart"], group);
  if (settings.hooks) return appendToJsonc(result, ["hooks"], [group], "SessionStart");
  return appendToJsonc(result, [], { SessionStart: [group] }, "hooks");
}

function removeHook(text: string, file: string): string {
  let settings = readSettings(text, file);
  let result = text;
  for (const [g, h] of findOurHooks(settings).reverse()) {
    const group = settings.hooks?.SessionStart?.[g];
    const onlyHook = (group?.hooks?.length ?? 0) === 1;
    result = removeFromJsonc(
      result,
      onlyHook ? ["hooks", "SessionStart", g] : ["hooks", "SessionStart", g, "hooks", h],
    );
    settings = readSettings(result, file);
  }
  if (settings.hooks?.SessionStart?.length === 0) {
    result = removeFromJsonc(result, ["hooks", "SessionStart"]);
    settings = readSettings(result, file);
  }
  if (settings.hooks && Object.keys(settings.hooks).length === 0) result = removeFromJsonc(result, ["hooks"]);
  return result;
}
