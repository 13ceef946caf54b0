// `claude-persist completion bash|zsh|fish`: a shell completion script generated from the command tables (the
// commands in cli.ts, each command's flag table or action tables in src/commands/): commands, actions, flags, files
// for a PATH, and snapshot ids for `snapshot restore`, asked of `claude-persist snapshot list --json` when completed.
import type { Io } from "./command.ts";
import { UserError } from "./errors.ts";

/** A flag as completion needs it: its name, and the name of its value when it takes one (`PATH`, `N`). */
export type CompletionFlag = { readonly name: string; readonly value?: string; readonly help: string };

/** What completion knows of the CLI, built from the tables (at build time into the bundle; see scripts/build.ts). */
export type CompletionTables = {
  readonly commands: readonly {
    readonly name: string;
    readonly summary: string;
    readonly flags: readonly CompletionFlag[];
    readonly actions: readonly {
      readonly name: string;
      readonly help: string;
      readonly flags: readonly CompletionFlag[];
    }[];
  }[];
};

const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];

/** The entry points a user types: `dev-open` and `start-work` are their command's first word. */
const ENTRY_POINTS = ["claude-persist", "dev-open", "start-work"] as const;

/** Values completed as file names. */
const FILE_VALUES = new Set(["PATH", "FILE"]);

export const COMPLETION_HELP = `Usage: claude-persist completion bash|zsh|fish

Prints a completion script for your shell: commands, their actions and flags, files for a PATH, and snapshot ids
for 'snapshot restore'. It completes claude-persist, dev-open and start-work. To enable it:

  bash   add to ~/.bashrc:                 eval "$(claude-persist completion bash)"
  zsh    add to ~/.zshrc:                  eval "$(claude-persist completion zsh)"
  fish   run once:                         claude-persist completion fish > ~/.config/fish/completions/claude-persist.fish
`;

/** Runs `completion` with `args`: the script on stdout, or its help. */
export function runCompletion(args: string[], io: Io, tables: CompletionTables): number {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(COMPLETION_HELP);
    return 0;
  }
  const [shell, ...rest] = args;
  if (shell === undefined) {
    io.stderr(COMPLETION_HELP);
    return 2;
  }
  if (!(SHELLS as readonly string[]).includes(shell) || rest.length > 0) {
    throw new UserError("give one shell: bash, zsh or fish; see 'claude-persist completion --help'", 2);
  }
  io.stdout(completionScript(shell as Shell, tables));
  return 0;
}

export function completionScript(shell: Shell, tables: CompletionTables): string {
  if (shell === "fish") return fishScript(tables);
  const bash = bashScript(tables);
  if (shell === "bash") return bash;
  // zsh runs bash's completion functions through bashcompinit, which needs compinit loaded first.
  return (
    "#compdef claude-persist dev-open start-work\n" +
    "(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }\n" +
    "autoload -U +X bashcompinit && bashcompinit\n" +
    bash
  );
}

/** The words a list completes to, for a shell: names of ours are plain words (letters, digits and '-'). */
function words(names: readonly string[]): string {
  return names.filter((name) => /^[A-Za-z0-9-]+$/.test(name)).join(" ");
}

const flagWords = (flags: readonly CompletionFlag[]) => words([...flags.map((f) => `--${f.name}`), "--help"]);

function valueFlags(tables: CompletionTables): { files: string[]; others: string[] } {
  const all = tables.commands.flatMap((command) => [
    ...command.flags,
    ...command.actions.flatMap((action) => action.flags),
  ]);
  const named = (test: (flag: CompletionFlag) => boolean) =>
    [...new Set(all.filter(test).map((flag) => `--${flag.name}`))].sort();
  return {
    files: named((flag) => flag.value !== undefined && FILE_VALUES.has(flag.value)),
    others: named((flag) => flag.value !== undefined && !FILE_VALUES.has(flag.value)),
  };
}

function bashScript(tables: CompletionTables): string {
  const commands = words([...tables.commands.map((c) => c.name), "help", "completion"]);
  const grouped = tables.commands.filter((command) => command.actions.length > 0);
  const actionCases = grouped.map((c) => `    ${c.name}) actions="${words(c.actions.map((a) => a.name))}" ;;`);
  const flagCases = tables.commands.flatMap((command) =>
    command.actions.length > 0
      ? command.actions.map((a) => `    "${command.name} ${a.name}") flags="${flagWords(a.flags)}" ;;`)
      : [`    "${command.name} ") flags="${flagWords(command.flags)}" ;;`],
  );
  const { files, others } = valueFlags(tables);
  const lines = [
    "# claude-persist completion for bash, generated from its command tables by 'claude-persist completion bash'.",
    '# Enable it: add to ~/.bashrc   eval "$(claude-persist completion bash)"',
    "_claude_persist() {",
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  local first=1 cmd="${COMP_WORDS[0]##*/}" action="" actions="" flags=""',
    '  case "$cmd" in',
    "    dev-open | start-work) ;;",
    '    *) first=2; cmd="${COMP_WORDS[1]}" ;;',
    "  esac",
    "  COMPREPLY=()",
    "  if (( COMP_CWORD < first )); then",
    `    COMPREPLY=($(compgen -W "${commands}" -- "$cur")); return 0`,
    "  fi",
    '  case "$cmd" in',
    `    help) (( COMP_CWORD == first )) && COMPREPLY=($(compgen -W "${words(tables.commands.map((c) => c.name))}" -- "$cur")); return 0 ;;`,
    '    completion) (( COMP_CWORD == first )) && COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return 0 ;;',
    "  esac",
    '  case "$cmd" in',
    ...actionCases,
    "  esac",
    '  if [[ -n "$actions" ]]; then',
    "    if (( COMP_CWORD == first )); then",
    '      COMPREPLY=($(compgen -W "$actions" -- "$cur")); return 0',
    "    fi",
    '    action="${COMP_WORDS[first]}"',
    "  fi",
    '  case "$prev" in',
    ...(files.length > 0 ? [`    ${files.join(" | ")}) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;`] : []),
    ...(others.length > 0 ? [`    ${others.join(" | ")}) return 0 ;;`] : []),
    "  esac",
    '  case "$cmd $action" in',
    ...flagCases,
    "  esac",
    '  if [[ "$cur" == -* ]]; then',
    '    COMPREPLY=($(compgen -W "$flags" -- "$cur")); return 0',
    "  fi",
    '  case "$cmd $action" in',
    '    "snapshot restore")',
    '      local ids; ids="$("${COMP_WORDS[0]}" snapshot list --json 2>/dev/null | sed -n \'s/^      "id": "\\([A-Za-z0-9._:-]*\\)",\\{0,1\\}$/\\1/p\')"',
    '      COMPREPLY=($(compgen -W "latest $ids" -- "$cur")) ;;',
    '    "dev-open " | "share " | "unshare " | "sync link") COMPREPLY=($(compgen -d -- "$cur")) ;;',
    "  esac",
    "  return 0",
    "}",
    `complete -F _claude_persist ${ENTRY_POINTS.join(" ")}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** A description for fish, in single quotes: its first line. */
function fishText(text: string): string {
  const line = (text.split("\n")[0] ?? "").replace(/\s+/g, " ").trim();
  return `'${line.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function fishScript(tables: CompletionTables): string {
  const lines = [
    "# claude-persist completion for fish, generated from its command tables by 'claude-persist completion fish'.",
    "# Enable it: claude-persist completion fish > ~/.config/fish/completions/claude-persist.fish",
  ];
  const flagLine = (entry: string, condition: string, flag: CompletionFlag) => {
    const value = flag.value === undefined ? "" : FILE_VALUES.has(flag.value) ? " -r -F" : " -x";
    const when = condition ? ` -n '${condition}'` : "";
    return `complete -c ${entry}${when} -l ${flag.name}${value} -d ${fishText(flag.help)}`;
  };
  const names = tables.commands.map((c) => c.name);
  lines.push("complete -c claude-persist -f");
  for (const command of tables.commands) {
    lines.push(
      `complete -c claude-persist -n __fish_use_subcommand -a ${command.name} -d ${fishText(command.summary)}`,
    );
  }
  lines.push("complete -c claude-persist -n __fish_use_subcommand -a help -d 'help for a command'");
  lines.push("complete -c claude-persist -n __fish_use_subcommand -a completion -d 'a shell completion script'");
  lines.push(`complete -c claude-persist -n '__fish_seen_subcommand_from help' -a '${words(names)}'`);
  lines.push("complete -c claude-persist -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'");
  for (const command of tables.commands) {
    const inCommand = `__fish_seen_subcommand_from ${command.name}`;
    const actionNames = words(command.actions.map((a) => a.name));
    for (const action of command.actions) {
      lines.push(
        `complete -c claude-persist -n '${inCommand}; and not __fish_seen_subcommand_from ${actionNames}' -a ${action.name} -d ${fishText(action.help)}`,
      );
      for (const flag of action.flags) {
        lines.push(flagLine("claude-persist", `${inCommand}; and __fish_seen_subcommand_from ${action.name}`, flag));
      }
    }
    for (const flag of command.flags) lines.push(flagLine("claude-persist", inCommand, flag));
    if (command.name === "dev-open" || command.name === "start-work") {
      lines.push(`complete -c ${command.name} -f`);
      for (const flag of command.flags) lines.push(flagLine(command.name, "", flag));
    }
  }
  lines.push(
    "complete -c claude-persist -n '__fish_seen_subcommand_from snapshot; and __fish_seen_subcommand_from restore' " +
      '-a \'(claude-persist snapshot list --json 2>/dev/null | string match -rg "^      \\"id\\": \\"([^\\"]+)\\"") latest\'',
  );
  return `${lines.join("\n")}\n`;
}
