// The `claude-persist` command: one subcommand per module in src/commands/, one error path.
import { fstatSync, writeSync } from "node:fs";
import { type Flags, helpColumns } from "./args.ts";
import type { Command, Io } from "./command.ts";
import type { CompletionTables } from "./completion.ts";
import { describeError, EXIT, UserError } from "./errors.ts";
import { errorCode } from "./fs.ts";
import { oneLine } from "./text.ts";
import { packVersion } from "./version.ts";

// Each command is loaded on demand, from a chunk of its own in the bundle, so that one command never pays for another's
// dependencies; the summaries live here so that `--help` loads none of them.
export const COMMANDS: Record<string, { readonly summary: string; readonly load: () => Promise<Command> }> = {
  install: {
    summary: "set up Claude Code (/dev-open, /start-work, the SessionStart hook) and these commands on PATH",
    load: async () => (await import("./commands/install.ts")).install,
  },
  uninstall: {
    summary: "take out exactly what install put in (your session data stays)",
    load: async () => (await import("./commands/install.ts")).uninstall,
  },
  hook: {
    summary: "run a hook by hand: 'hook session-start' reads Claude Code's hook JSON on stdin",
    load: async () => (await import("./commands/hook.ts")).hook,
  },
  sessions: {
    summary: "list this project's sessions (host, worktrees, dev containers) and how to resume each",
    load: async () => (await import("./commands/sessions.ts")).sessions,
  },
  fork: {
    summary: "fork a session from any message into its own worktree; list, compare, drop experiments",
    load: async () => (await import("./commands/fork.ts")).fork,
  },
  usage: {
    summary: "tokens, cost and active time per issue, branch, day, project, environment, machine or model",
    load: async () => (await import("./commands/usage.ts")).usage,
  },
  statusline: {
    summary: "the line under Claude Code's prompt: where it runs, its issue, its cost ('statusline --install')",
    load: async () => (await import("./commands/statusline.ts")).statusline,
  },
  "dev-open": {
    summary: "open this repo in its dev container with Claude sessions shared (see 'dev-open --help')",
    load: async () => (await import("./commands/dev-open.ts")).devOpen,
  },
  share: {
    summary: "put this repo's persistence mounts back into its config (does not launch)",
    load: async () => (await import("./commands/share.ts")).share,
  },
  unshare: {
    summary: "take this repo's persistence mounts out of its config (the container keeps its own sessions)",
    load: async () => (await import("./commands/share.ts")).unshare,
  },
  snapshot: {
    summary: "snapshots of this project's session data: create, list, restore (roll back), prune",
    load: async () => (await import("./commands/snapshot.ts")).snapshot,
  },
  doctor: {
    summary: "check the host, this repo's dev container and its mounts; print the fix for each problem",
    load: async () => (await import("./commands/doctor.ts")).doctor,
  },
  "start-work": {
    summary: "start work on a Linear issue: its branch or worktree, In Progress, remembered (see 'start-work --help')",
    load: async () => (await import("./commands/start-work.ts")).startWork,
  },
  sync: {
    summary: "keep sessions in step between your machines (Syncthing): init, add-device, status, …",
    load: async () => (await import("./commands/sync.ts")).sync,
  },
};

export function processIo(): Io {
  return {
    stdout: standardWriter(1),
    stderr: standardWriter(2),
    env: process.env,
    // Asked when a command needs it, inside runCli's error handling: run from a folder deleted meanwhile, that is
    // one line (one JSON document with --json), not node's stack trace.
    get cwd() {
      return currentFolder();
    },
    // Read when used: process.stdin (and process.stdout, asked for isTTY) load node's stream modules on first use.
    get stdin() {
      return process.stdin;
    },
    get isTTY() {
      // A pipe or a file is no terminal, as one fstat tells without node's stream (for a pipe it loads node:net).
      return isCharacterDevice(1) && Boolean(process.stdout.isTTY);
    },
    get columns() {
      return process.stdout.columns || undefined;
    },
  };
}

function isCharacterDevice(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return false;
  }
}

function currentFolder(): string {
  try {
    return process.cwd();
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
    throw new UserError(
      "the current folder no longer exists (it was deleted or moved): cd into one that does and run again",
    );
  }
}

/**
 * Writes to stdout (1) or stderr (2) with write(2), as node's own stream does for pipes, files and terminals on Linux,
 * without creating that stream: for a pipe it loads node:net and the stream modules, a third of a command's start.
 * Where the descriptor would block (a full pipe someone made non-blocking), the rest, and all that follows, goes
 * through the stream, which waits for the reader. A reader that goes away early (`claude-persist sessions | head`) is
 * no failure: stop quietly, exit 0, rather than die of the EPIPE with a stack trace.
 */
function standardWriter(fd: 1 | 2): (text: string | Uint8Array) => void {
  let stream: NodeJS.WriteStream | undefined;
  return (text) => {
    if (stream) {
      stream.write(text);
      return;
    }
    const bytes = typeof text === "string" ? Buffer.from(text) : text;
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(fd, bytes, written);
    } catch (error) {
      if (errorCode(error) === "EPIPE") process.exit(EXIT.ok);
      if (errorCode(error) !== "EAGAIN") throw error;
      stream = fd === 1 ? process.stdout : process.stderr;
      stream.on("error", (streamError: NodeJS.ErrnoException) => {
        if (streamError.code === "EPIPE") process.exit(EXIT.ok);
        throw streamError;
      });
      stream.write(bytes.subarray(written));
    }
  };
}

export async function runCli(argv: string[], io: Io = processIo()): Promise<number> {
  // `help sessions` is `sessions --help`, as in git, cargo and gh (scripts/cli-entry.ts does the same for the bundles).
  const [name, ...args] = argv[0] === "help" && argv[1] !== undefined ? [argv[1], "--help"] : argv;
  if (name === "--help" || name === "-h" || name === "help") {
    io.stdout(usage());
    return EXIT.ok;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    io.stdout(`claude-persist ${packVersion()}\n`);
    return EXIT.ok;
  }
  if (!name) {
    io.stderr(usage());
    return EXIT.usage;
  }
  if (name === "completion") {
    const { runCompletion } = await import("./completion.ts");
    try {
      return runCompletion(args, io, typeof CLI_TABLES === "undefined" ? await commandTables() : CLI_TABLES);
    } catch (error) {
      io.stderr(`${await failurePrefix(io, "claude-persist completion:")} ${describeError(error)}\n`);
      return error instanceof UserError ? error.exitCode : EXIT.failed;
    }
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    const { didYouMean } = await import("./suggest.ts");
    const shown = oneLine(name, 40);
    io.stderr(
      `${await failurePrefix(io, "claude-persist:")} unknown command '${shown}'${didYouMean(name, [...Object.keys(COMMANDS), "help", "completion"])}; ` +
        "see 'claude-persist --help'\n",
    );
    return EXIT.usage;
  }
  const options = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  // Every command answers --version, wherever it stands (dev-open and start-work are entry points of their own).
  if (options.includes("--version")) {
    io.stdout(`claude-persist ${packVersion()}\n`);
    return EXIT.ok;
  }
  const json = options.includes("--json");
  try {
    const command = await entry.load();
    if (command.help !== undefined && options.some((arg) => arg === "--help" || arg === "-h")) {
      io.stdout(command.help);
      return EXIT.ok;
    }
    return await command.run(args, io);
  } catch (error) {
    io.stderr(`${await failurePrefix(io, `claude-persist ${name}:`, json)} ${describeError(error)}\n`);
    if (!(error instanceof UserError) && io.env.CLAUDE_PERSIST_DEBUG && error instanceof Error) {
      io.stderr(`${error.stack}\n`);
    }
    // --json promises one document on stdout, failure included.
    if (json) io.stdout(`${JSON.stringify((await import("./commands/output.ts")).jsonFailure(error), null, 2)}\n`);
    return error instanceof UserError ? error.exitCode : EXIT.failed;
  }
}

/** A failure's `claude-persist <command>:`, red on a terminal, never with --json (colour.ts, loaded for a failure). */
async function failurePrefix(io: Io, prefix: string, json = false): Promise<string> {
  const { colourOn, paint } = await import("./colour.ts");
  return paint(!json && (await colourOn(io, 2)), ["bold", "red"], prefix);
}

/** The tables of the build this runs from (scripts/build.ts defines them in the bundle), for completion. */
declare const CLI_TABLES: CompletionTables | undefined;

/** What completion knows of every command, from their flag and action tables: each command module is loaded. */
export async function commandTables(): Promise<CompletionTables> {
  const flagsOf = (flags: Flags = {}) =>
    Object.entries(flags).map(([flag, { value, help }]) =>
      value ? { name: flag, value, help } : { name: flag, help },
    );
  const commands = await Promise.all(
    Object.entries(COMMANDS).map(async ([name, { summary, load }]) => {
      const command = await load();
      const actions = Object.entries(command.actions ?? {})
        .filter(([, action]) => !action.hidden)
        .map(([action, { help, flags }]) => ({ name: action, help: help ?? "", flags: flagsOf(flags) }));
      return { name, summary, flags: flagsOf(command.flags), actions };
    }),
  );
  return { commands };
}

function usage(): string {
  const commands = Object.entries(COMMANDS).map(([name, { summary }]): [string, string] => [name, summary]);
  const lines = ["Usage: claude-persist <command> [options]", "", "Commands:", helpColumns(commands, 13).trimEnd()];
  lines.push(
    "",
    "Options: <command> --help (or -h) for its own, or 'help <command>'; --version (-V) prints the version.",
    "Shell completion: 'claude-persist completion bash|zsh|fish' (see 'completion --help' to enable it).",
    '--json (where a command takes it) prints exactly one JSON document on stdout, {"ok": false, "error": {...}} on failure.',
    "Exit codes: 0 done, 1 failed, 2 usage error, 3 needs a login or credential (LINEAR_API_KEY).",
  );
  return `${lines.join("\n")}\n`;
}
