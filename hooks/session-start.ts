// Entry point of the SessionStart hook, bundled to plain JavaScript (dist/hooks/session-start.cjs) and run with
// `node` at every session start. Whatever happens, it exits 0: a hook must never block a session.
import { runSessionStartHook } from "../src/hook/session-start.ts";
import { readHookInput, writeAll } from "./io.ts";

// Output goes through fd writes only (hooks/io.ts): a reader that closed early (Claude Code gave up, `| head`) costs
// the answer, not the exit code. Touching process.stdout would load node's stream modules for nothing.

try {
  const result = runSessionStartHook(readHookInput(), process.env);
  if (result.stdout) writeAll(1, result.stdout);
  if (result.stderr) writeAll(2, result.stderr);
} catch (error) {
  writeAll(
    2,
    `claude-persist: the SessionStart hook failed (${error instanceof Error ? error.message : String(error)}).\n`,
  );
}
process.exitCode = 0;
