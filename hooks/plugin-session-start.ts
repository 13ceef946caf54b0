// Entry point of the plugin's SessionStart hook (hooks/hooks.json), bundled to dist/hooks/plugin-session-start.cjs
// and run with `node` from the plugin's folder. Whatever happens, it exits 0: a hook must never block a session.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runPluginSessionStart } from "../src/install/plugin.ts";
import { readHookInput, writeAll } from "./io.ts";

/** The runtime this bundle is part of: it runs as `<runtime>/hooks/plugin-session-start.cjs`. */
const runtime = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// Output goes through fd writes only (hooks/io.ts): a reader that closed early (Claude Code gave up, `| head`) costs
// the answer, not the exit code. Touching process.stdout would load node's stream modules for nothing.

async function main(): Promise<void> {
  const result = await runPluginSessionStart(readHookInput(), process.env, runtime);
  if (result.stdout) writeAll(1, result.stdout);
  if (result.stderr) writeAll(2, result.stderr);
}

main()
  .catch((error: unknown) => {
    writeAll(
      2,
      `claude-persist: the plugin's SessionStart hook failed (${error instanceof Error ? error.message : String(error)}).\n`,
    );
  })
  .finally(() => {
    process.exitCode = 0;
  });
