// Command-line options: each command declares every flag once, in a table from which Node's parseArgs config, the
// checks of the values (zod, once, where the arguments enter) and the options part of its help are derived.
import { parseArgs, type ParseArgsConfig } from "node:util";
import * as z from "zod/mini";
import { describeError, UserError } from "./errors.ts";
import { didYouMean } from "./suggest.ts";
import { oneLine } from "./text.ts";
import "./zod-messages.ts";

/** One flag of a command. */
export type Flag = {
  readonly type: "boolean" | "string";
  /** Given more than once, it gathers its values: `--listen A --listen B`. */
  readonly multiple?: boolean;
  /** The value's name in help: `--config PATH`. */
  readonly value?: string;
  /** What it does, for help: one line; a "\n" goes on under the same column. */
  readonly help: string;
  /** Checks (and may convert) a value given, each one when `multiple`. A function: no schema is built at load. */
  readonly check?: () => z.core.$ZodType;
  /** The value when the flag is not given. */
  readonly default?: unknown;
  /** Another flag this one cannot go with, and the message when both are given. */
  readonly excludes?: { readonly flag: string; readonly message: string };
};

export type Flags = { readonly [name: string]: Flag };

type Checked<F extends Flag> = F extends { check: () => infer S extends z.core.$ZodType }
  ? z.output<S>
  : F extends { type: "boolean" }
    ? boolean
    : string;
type Given<F extends Flag> = F extends { multiple: true } ? Checked<F>[] : Checked<F>;

/** What parseOptions returns for a flag table: each flag's checked value, or undefined unless it has a default. */
export type FlagValues<T extends Flags> = {
  -readonly [K in keyof T]: T[K] extends { default: unknown } ? Given<T[K]> : Given<T[K]> | undefined;
};

/** Parses `args` for `command`; unknown options, stray arguments and invalid values are one clear line. */
export function parseOptions<T extends Flags>(
  command: string,
  args: string[],
  flags: T,
  { positionals = 0 }: { positionals?: number } = {},
): { values: FlagValues<T>; positionals: string[] } {
  const fail = (reason: string) => new UserError(`${reason}; see '${command} --help'`, 2);
  const problem = tokenProblem(args, flags);
  if (problem) throw fail(problem);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: parseArgsOptions(flags), allowPositionals: positionals > 0, strict: true });
  } catch (error) {
    // What the checks above did not catch, in the same form: lowercase, one clause, no trailing period.
    const reason = describeError(error).split(". ")[0] ?? "";
    throw fail(reason.charAt(0).toLowerCase() + reason.slice(1).replace(/\.$/, ""));
  }
  if (parsed.positionals.length > positionals) {
    throw fail(`unexpected argument '${parsed.positionals[positionals]}'`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(flags)) {
    const given = parsed.values[name];
    if (given === undefined) {
      values[name] = flag.default;
      continue;
    }
    if (!flag.check) {
      values[name] = given;
      continue;
    }
    const schema = flag.check();
    const check = (value: unknown): unknown => {
      const result = z.safeParse(schema, value);
      if (result.success) return result.data;
      throw fail(`--${name}: ${result.error.issues[0]?.message}`);
    };
    values[name] = Array.isArray(given) ? given.map(check) : check(given);
  }
  for (const [name, flag] of Object.entries(flags)) {
    if (flag.excludes && values[name] && values[flag.excludes.flag]) throw fail(`--${name}: ${flag.excludes.message}`);
  }
  return { values: values as FlagValues<T>, positionals: parsed.positionals };
}

/**
 * What is wrong with the options in `args`, in the project's own words rather than node's parser's: an unknown option
 * (with the nearest known one), a value missing, or a value given to a flag that takes none.
 */
function tokenProblem(args: string[], flags: Flags): string | undefined {
  const { tokens } = parseArgs({
    args,
    options: parseArgsOptions(flags),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const flag = Object.hasOwn(flags, token.name) ? flags[token.name] : undefined;
    if (!flag || token.rawName !== `--${token.name}`) {
      const known = Object.keys(flags);
      return `unknown option '${oneLine(token.rawName, 40)}'${didYouMean(token.name, known, "--")}`;
    }
    const usage = `--${token.name}${flag.value ? ` ${flag.value}` : ""}`;
    if (flag.type === "boolean" && token.inlineValue) return `option '--${token.name}' takes no value`;
    if (flag.type === "string" && token.value === undefined) return `option '--${token.name}' needs a value (${usage})`;
    if (flag.type === "string" && !token.inlineValue && token.value?.startsWith("-")) {
      return `option '--${token.name}' needs a value (${usage}; a value that starts with '-' as --${token.name}=VALUE)`;
    }
  }
  return undefined;
}

function parseArgsOptions(flags: Flags): NonNullable<ParseArgsConfig["options"]> {
  return Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => [name, { type: flag.type, multiple: flag.multiple ?? false }]),
  );
}

/** The options part of a command's help: `  --name VALUE  what it does`, one flag a line, the texts aligned. */
export function flagHelp(flags: Flags): string {
  const entries = Object.entries(flags).map(([name, flag]): [string, string] => [
    flag.value ? `--${name} ${flag.value}` : `--${name}`,
    flag.help,
  ]);
  return helpColumns(entries, Math.max(0, ...entries.map(([left]) => left.length)) + 2);
}

/** The flags as a usage line shows them: `[--config PATH] [--dry-run] [--listen ADDRESS]...`. */
export function flagSynopsis(flags: Flags): string {
  return Object.entries(flags)
    .map(([name, flag]) => `[--${name}${flag.value ? ` ${flag.value}` : ""}]${flag.multiple ? "..." : ""}`)
    .join(" ");
}

/** One action of a command that has several (`snapshot create`, `sync init`): its arguments, flags and help. */
export type Action = {
  /** Its arguments as help shows them, before the flags: `<id|latest>`, `[DIR]`. */
  readonly args?: string;
  readonly flags: Flags;
  /** What it does; an action without help of its own shares the next one's line (`pause | resume`). */
  readonly help?: string;
  /** Run by the pack itself, not listed in help. */
  readonly hidden?: boolean;
};

/**
 * The actions part of a command's help: each action's usage (from its flag table) and what it does, the texts from
 * column `width` + 2; a usage as wide as that goes on a line of its own.
 */
export function actionHelp(actions: { readonly [name: string]: Action }, width: number): string {
  const entries: [string, string][] = [];
  let names: string[] = [];
  for (const [name, action] of Object.entries(actions)) {
    if (action.hidden) continue;
    names.push(name);
    if (action.help === undefined) continue;
    const usage = [names.join(" | "), action.args, flagSynopsis(action.flags)].filter(Boolean).join(" ");
    entries.push([usage, action.help]);
    names = [];
  }
  return helpColumns(entries, width);
}

/** Help's two columns: each name, then its text from column `width` + 2 (under it when the name is that wide). */
export function helpColumns(entries: readonly (readonly [string, string])[], width: number): string {
  const indent = `\n${" ".repeat(width + 2)}`;
  const lines = entries.map(([left, text]) => {
    const body = text.split("\n").join(indent);
    return left.length >= width ? `  ${left}${indent}${body}` : `  ${left.padEnd(width)}${body}`;
  });
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}
