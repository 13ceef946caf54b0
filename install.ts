// `npx tsx install.ts [--dry-run] [--json]`: the same as `node dist/bin/claude-persist.mjs install`. It runs the
// committed runtime, so it needs nothing from npm but tsx: no `npm install`, no build.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "dist", "bin", "claude-persist.mjs");
if (existsSync(cli)) {
  process.argv.splice(2, 0, "install");
  await import(pathToFileURL(cli).href);
} else {
  process.stderr.write(
    `claude-persist: ${cli} is missing: restore it with 'git checkout -- dist' (it is committed), or run 'npm install && npm run build'.\n`,
  );
  process.exitCode = 1;
}
