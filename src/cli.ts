// The `claude-persist` command: one subcommand per module in src/commands/, one error path.
import type { Command, Io } from "./command.ts";
import { describeError, UserError } from "./errors.ts";

// Loaded on demand so that one subcommand never pays for another's dependencies.
const COMMANDS: Record<string, () => Promise<Command>> = {
  install: async () => (await import("./commands/install.ts")).install,
  uninstall: async () => (await import("./commands/install.ts")).uninstall,
  hook: async () => (await import("./commands/hook.ts")).hook,
  sessions: async () => (await import("./commands/sessions.ts")).sessions,
  "dev-open": async () => (await import("./commands/dev-open.ts")).devOpen,
  share: async () => (await import("./commands/share.ts")).share,
  unshare: async () => (await import("./commands/share.ts")).unshare,
  snapshot: async () => (await import("./commands/snapshot.ts")).snapshot,
  doctor: async () => (await import("./commands/doctor.ts")).doctor,
  "start-work": async () => (await import("./commands/start-work.ts")).startWork,
  sync: async () => (await import("./commands/sync.ts")).sync,
};

export function processIo(): Io {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    isTTY: Boolean(process.stdout.isTTY),
  };
}

export async function runCli(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout(await usage());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr(`claude-persist: unknown command '${name}'. Run 'claude-persist --help' for the list.\n`);
    return 2;
  }
  try {
    const command = await load();
    if (command.help !== undefined && args.some((arg) => arg === "--help" || arg === "-h")) {
      io.stdout(command.help);
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    io.stderr(`claude-persist ${name}: ${describeError(error)}\n`);
    if (!(error instanceof UserError) && io.env.CLAUDE_PERSIST_DEBUG && error instanceof Error) {
      io.stderr(`${error.stack}\n`);
    }
    return error instanceof UserError ? error.exitCode : 1;
  }
}

async function usage(): Promise<string> {
  const lines = ["Usage: claude-persist <command> [options]", "", "Commands:"];
  for (const [name, load] of Object.entries(COMMANDS)) {
    lines.push(`  ${name.padEnd(12)} ${(await load()).summary}`);
  }
  return `${lines.join("\n")}\n`;
}
