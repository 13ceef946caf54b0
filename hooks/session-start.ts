// Entry point of the SessionStart hook, bundled to plain JavaScript (dist/hooks/session-start.cjs) and run with
// `node` at every session start. Whatever happens, it exits 0: a hook must never block a session.
import { readFileSync } from "node:fs";
import { isatty } from "node:tty";
import { runSessionStartHook } from "../src/hook.ts";

// A reader that closed early (Claude Code gave up, `| head`): the answer is lost, but the hook still exits 0.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

try {
  const input = isatty(0) ? "" : readFileSync(0, "utf8");
  const result = runSessionStartHook(input, process.env);
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr);
} catch (error) {
  process.stderr.write(`claude-persist: the SessionStart hook failed (${error instanceof Error ? error.message : String(error)}).\n`);
}
process.exitCode = 0;
