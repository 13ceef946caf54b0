// `claude-persist hook session-start`: the same hook as the bundled file, for running and testing it by hand.
import { text } from "node:stream/consumers";
import type { Command } from "../command.ts";
import { UserError } from "../errors.ts";
import { runSessionStartHook } from "../hook/session-start.ts";

export const hook: Command = {
  // It takes no flags: `session-start` and the JSON on stdin.
  flags: {},
  help: `Usage: claude-persist hook session-start

Runs the SessionStart hook as Claude Code does: reads the hook's JSON ({"session_id", "cwd", "source", …}) on
stdin and prints its answer (the context for the session) on stdout. It always exits 0: a hook never blocks a session.
`,
  async run(args, io) {
    if (args.length === 0) {
      io.stderr(hook.help ?? "");
      return 2;
    }
    if (args[0] !== "session-start" || args.length > 1) {
      throw new UserError("usage: claude-persist hook session-start  (reads the hook's JSON on stdin)", 2);
    }
    const input = io.stdin === process.stdin && process.stdin.isTTY ? "" : await text(io.stdin);
    const result = runSessionStartHook(input, io.env);
    if (result.stdout) io.stdout(result.stdout);
    if (result.stderr) io.stderr(result.stderr);
    return 0;
  },
};
