// Entry point of the plugin's SessionStart hook (hooks/hooks.json), bundled to dist/hooks/plugin-session-start.cjs
// and run with `node` from the plugin's folder. Whatever happens, it exits 0: a hook must never block a session.
import { readFileSync } from "node:fs";
import path from "node:path";
import { isatty } from "node:tty";
import { fileURLToPath } from "node:url";
import { runPluginSessionStart } from "../src/plugin.ts";

/** The runtime this bundle is part of: it runs as `<runtime>/hooks/plugin-session-start.cjs`. */
const runtime = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// A reader that closed early (Claude Code gave up, `| head`): the answer is lost, but the hook still exits 0.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

async function main(): Promise<void> {
  const input = isatty(0) ? "" : readFileSync(0, "utf8");
  const result = await runPluginSessionStart(input, process.env, runtime);
  if (result.stdout) process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`claude-persist: the plugin's SessionStart hook failed (${error instanceof Error ? error.message : String(error)}).\n`);
  })
  .finally(() => {
    process.exitCode = 0;
  });
