// `npx tsx install.ts [--dry-run] [--json]`: builds the runtime if needed, then installs the pack.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { runCli } from "./src/cli.ts";

const root = path.dirname(fileURLToPath(import.meta.url));
if (!existsSync(path.join(root, "dist", "runtime.json"))) {
  await execa(process.execPath, [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), path.join(root, "scripts", "build.ts")], { stdio: "inherit" });
}
process.exitCode = await runCli(["install", ...process.argv.slice(2)]);
