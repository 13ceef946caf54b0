// Builds the runtime the installer copies into `<config>/persist/`: plain JavaScript bundles run with `node`,
// plus the devcontainers CLI they launch. `dist/` is that runtime, laid out exactly as installed.
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
const require = createRequire(import.meta.url);
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };

rmSync(dist, { recursive: true, force: true });
const common: BuildOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  legalComments: "none",
  // jsonc-parser's UMD build loads its parts with a dynamic require that bundling cannot follow; its ESM build can.
  mainFields: ["module", "main"],
  logLevel: "warning",
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);" },
};
await build({ ...common, entryPoints: { "bin/claude-persist": "scripts/claude-persist.ts" }, outdir: dist, outExtension: { ".js": ".mjs" } });
// The hook runs at every session start: minified, with nothing it does not use, and CommonJS, which node
// loads measurably faster than an ES module (see `npm run bench`).
await build({ ...common, format: "cjs", entryPoints: { "hooks/session-start": "hooks/session-start.ts" }, outdir: dist, outExtension: { ".js": ".cjs" }, minify: true, banner: {} });

for (const alias of ["dev-open", "start-work"]) {
  writeFileSync(
    path.join(dist, "bin", `${alias}.mjs`),
    `#!/usr/bin/env node\nprocess.argv.splice(2, 0, ${JSON.stringify(alias)});\nawait import("./claude-persist.mjs");\n`,
    { mode: 0o755 },
  );
}
const cli = path.join(dist, "bin", "claude-persist.mjs");
writeFileSync(cli, `#!/usr/bin/env node\n${readFileSync(cli, "utf8")}`);
chmodSync(cli, 0o755);

// The devcontainers CLI is one self-contained package; beside the bundles, Node's resolution finds it.
const devcontainerCli = path.dirname(require.resolve("@devcontainers/cli/package.json"));
const vendored = path.join(dist, "node_modules", "@devcontainers", "cli");
mkdirSync(vendored, { recursive: true });
cpSync(devcontainerCli, vendored, { recursive: true });
cpSync(path.join(root, "commands"), path.join(dist, "commands"), { recursive: true });
writeFileSync(path.join(dist, "runtime.json"), `${JSON.stringify({ name: "claude-persist", version }, null, 2)}\n`);
