// Builds the runtime the installer copies into `<config>/persist/`: plain JavaScript bundles run with `node`,
// plus the devcontainers CLI they launch. `dist/` is that runtime, laid out exactly as installed. It is committed,
// because the Claude Code plugin runs it straight from a clone of this repository and runs no build: the plugin's
// folder, plugins/persist/, reaches it through its link `dist -> ../../dist`, so there is one copy to keep fresh.
//
//   tsx scripts/build.ts              build into dist/
//   tsx scripts/build.ts --out DIR    build into DIR
//   tsx scripts/build.ts --check [DIR]  build into a temporary folder and fail if DIR (default dist/) differs
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build, type BuildOptions } from "esbuild";
import { PACK_RUNTIME_MARKER as RUNTIME_MARKER } from "../src/claude/home.ts";
import { cliBundleProblems, hookBundleProblems } from "./bundle-rules.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

async function buildRuntime(dist: string): Promise<void> {
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  rmSync(dist, { recursive: true, force: true });
  const common: BuildOptions = {
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    legalComments: "none",
    // jsonc-parser's UMD build loads its parts with a dynamic require that bundling cannot follow; its ESM build can.
    mainFields: ["module", "main"],
    logLevel: "warning",
    // A worktree may share node_modules through a symlink: name bundled files by that path, so dist/ is the same.
    preserveSymlinks: true,
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);",
    },
  };
  // The hooks run at every session start: minified, with nothing they do not use, and CommonJS, which node
  // loads measurably faster than an ES module (see `npm run bench`).
  // They find the runtime (and load node:crypto when they need it) from their own URL, which CommonJS spells __filename.
  const hook: BuildOptions = {
    ...common,
    format: "cjs",
    outdir: dist,
    outExtension: { ".js": ".cjs" },
    minify: true,
    metafile: true,
    define: { "import.meta.url": "__cpModuleUrl" },
    banner: { js: 'var __cpModuleUrl=require("node:url").pathToFileURL(__filename).href;' },
  };
  const hookProblems: string[] = [];
  hookProblems.push(
    ...hookBundleProblems(
      (await build({ ...hook, entryPoints: { "hooks/session-start": "hooks/session-start.ts" } })).metafile,
    ),
  );
  // The plugin's hook runs at every session start on the host but installs only once: the installer (and the full
  // zod it loads, ~40 ms) is a bundle of its own beside it, required only when there is something to set up.
  const pluginHook = hook;
  await build({ ...pluginHook, entryPoints: { "hooks/plugin-setup": "src/install/install.ts" } });
  const pluginSessionStart = await build({
    ...pluginHook,
    entryPoints: { "hooks/plugin-session-start": "hooks/plugin-session-start.ts" },
    plugins: [
      {
        name: "installer-beside",
        setup: (b) =>
          b.onResolve({ filter: /^\.\/install\.ts$/ }, () => ({ path: "./plugin-setup.cjs", external: true })),
      },
    ],
  });
  hookProblems.push(...hookBundleProblems(pluginSessionStart.metafile));
  // The Stop hook runs at the end of every turn: its entry only checks whether sync is set up; the scan (zod/mini,
  // node:http) is a bundle beside it.
  const stopScan = await build({ ...hook, entryPoints: { "hooks/stop-scan": "src/sync/stop-scan.ts" } });
  hookProblems.push(...hookBundleProblems(stopScan.metafile));
  const stop = await build({
    ...hook,
    entryPoints: { "hooks/stop": "hooks/stop.ts" },
    // A require() of the bundle beside it, not an import(): node's ES module loader would cost more than the scan.
    supported: { "dynamic-import": false },
    plugins: [
      {
        name: "scan-beside",
        setup: (b) =>
          b.onResolve({ filter: /\/sync\/stop-scan\.ts$/ }, () => ({ path: "./stop-scan.cjs", external: true })),
      },
    ],
  });
  hookProblems.push(...hookBundleProblems(stop.metafile));
  if (hookProblems.length > 0)
    throw new Error(`the hook bundles break their rules (scripts/bundle-rules.ts):\n  ${hookProblems.join("\n  ")}`);

  // The CLI: one CommonJS bundle per command module (node 20 loads one CommonJS file faster than the same code as
  // ES modules), each holding the command runner and that module alone, minified; `bin/lib/cli.cjs` holds none, for
  // `--help`. A bundle's imports of the other command modules are left out (the runner never reaches them: the
  // entry point chose the bundle by the same name the runner looks up).
  const bundleOf = await commandModules();
  // What shell completion knows of the commands (their flag and action tables), in the bundle that answers
  // `completion` (bin/lib/cli.cjs, which holds no command): the tables are read here, once, not at each completion.
  const { commandTables } = await import("../src/cli.ts");
  const tables = JSON.stringify(await commandTables());
  // The libraries loaded at first use only (string-width, for tables): CommonJS files of their own beside the
  // bundles, so that no command parses them at its start.
  const lazyLibraries = ["string-width"];
  for (const library of lazyLibraries) {
    await build({
      ...hook,
      metafile: false,
      // A bundle's import() of it becomes a require() whose module.exports is read as the default export, as node
      // does: module.exports is the library's default export where it has one (string-width), else its exports.
      stdin: {
        contents: `const lib = require(${JSON.stringify(library)});\nmodule.exports = "default" in lib ? lib.default : lib;\n`,
        resolveDir: root,
        sourcefile: `${library}.cjs`,
      },
      outfile: path.join(dist, "bin", "lib", `${library}.cjs`),
      outdir: undefined,
    });
  }
  // yaml, for compose-based configs, is imported by a module that is itself loaded on demand: CommonJS, so that the
  // bundle's lazily run module can require it.
  await build({ ...hook, metafile: false, entryPoints: { "bin/lib/yaml": "yaml" } });
  const cliProblems: string[] = [];
  for (const own of ["cli", ...new Set(Object.values(bundleOf))]) {
    const built = await build({
      ...hook,
      // import() becomes a require() in a promise: the bundles run as vm.Scripts (src/code-cache.ts), where a dynamic
      // import needs an experimental loader that warns on Node 20.
      supported: { "dynamic-import": false },
      define: { ...hook.define, CLI_TABLES: own === "cli" ? tables : "undefined" },
      entryPoints: { [`bin/lib/${own}`]: "scripts/cli-main.ts" },
      plugins: [
        {
          name: "one-command",
          setup: (b) => {
            b.onResolve({ filter: new RegExp(`^(${lazyLibraries.join("|")})$`) }, ({ path: spec, kind }) =>
              kind === "dynamic-import" ? { path: `./${spec}.cjs`, external: true } : undefined,
            );
            b.onResolve({ filter: /^yaml$/ }, () => ({ path: "./yaml.cjs", external: true }));
            b.onResolve({ filter: /^\.\/commands\/[\w-]+\.ts$/ }, ({ path: spec, importer }) => {
              const module = path.basename(spec, ".ts");
              const another = module !== own && Object.values(bundleOf).includes(module);
              if (importer !== path.join(root, "src", "cli.ts") || !another) return undefined;
              return { path: `./${module}.cjs`, external: true };
            });
          },
        },
      ],
    });
    cliProblems.push(...cliBundleProblems(built.metafile));
  }
  if (cliProblems.length > 0)
    throw new Error(`the CLI bundles break their rule (scripts/bundle-rules.ts):\n  ${cliProblems.join("\n  ")}`);
  // The entry points, CommonJS: node starts an ES module entry point ~10 ms slower (its ESM loader, and a facade for
  // each builtin it imports). The `.mjs` names of earlier versions (in READMEs, scripts, habits) still work: each
  // requires its `.cjs`.
  for (const [entry, command] of [
    ["claude-persist", ""],
    ["dev-open", "dev-open"],
    ["start-work", "start-work"],
  ]) {
    const file = path.join(dist, "bin", `${entry}.cjs`);
    await build({
      ...hook,
      metafile: false,
      // No URL of its own at each start: the one import.meta.url left (node:crypto's createRequire, for a cache
      // file's temporary name) takes the file's path as well.
      banner: { js: "#!/usr/bin/env node" },
      define: {
        ...hook.define,
        "import.meta.url": "__filename",
        CLI_BUNDLES: JSON.stringify(bundleOf),
        CLI_COMMAND: JSON.stringify(command),
      },
      entryPoints: ["scripts/cli-entry.ts"],
      outfile: file,
      outdir: undefined,
    });
    chmodSync(file, 0o755);
    writeFileSync(
      path.join(dist, "bin", `${entry}.mjs`),
      "#!/usr/bin/env node\n" +
        `// The same as ./${entry}.cjs, which the slash commands and the \`claude-persist\` command run.\n` +
        'import { createRequire } from "node:module";\n' +
        `createRequire(import.meta.url)("./${entry}.cjs");\n`,
      { mode: 0o755 },
    );
  }

  // The devcontainers CLI is one self-contained package; beside the bundles, Node's resolution finds it.
  const devcontainerCli = path.dirname(require.resolve("@devcontainers/cli/package.json"));
  const vendored = path.join(dist, "node_modules", "@devcontainers", "cli");
  mkdirSync(vendored, { recursive: true });
  cpSync(devcontainerCli, vendored, { recursive: true });
  // The installer's templates: the plugin's commands but /persist:uninstall, which undoes the plugin's own setup
  // (`claude-persist uninstall` is the command for an install).
  cpSync(path.join(root, "plugins", "persist", "commands"), path.join(dist, "commands"), {
    recursive: true,
    filter: (source) => path.basename(source) !== "uninstall.md",
  });
  // The checksum lets the plugin's hook tell, from this one small file, whether `<config>/persist/` is this build.
  const runtime = { name: "claude-persist", version, sha256: digest(dist) };
  writeFileSync(path.join(dist, RUNTIME_MARKER), `${JSON.stringify(runtime, null, 2)}\n`);
}

/** Each command's module in src/commands/, by command name, from the dynamic imports of src/cli.ts's COMMANDS. */
async function commandModules(): Promise<Record<string, string>> {
  const { COMMANDS } = await import("../src/cli.ts");
  const source = readFileSync(path.join(root, "src", "cli.ts"), "utf8");
  const found: Record<string, string> = {};
  for (const match of source.matchAll(/^ {2}"?([\w-]+)"?: \{\n[^}]*?import\("\.\/commands\/([\w-]+)\.ts"\)/gm)) {
    found[match[1] as string] = match[2] as string;
  }
  const names = Object.keys(COMMANDS).sort();
  if (JSON.stringify(Object.keys(found).sort()) !== JSON.stringify(names)) {
    throw new Error(`could not tell each command's module from src/cli.ts's COMMANDS (found ${JSON.stringify(found)})`);
  }
  return found;
}

/** Every file under `dir`, as sorted relative paths with `/` separators. */
function listFiles(dir: string, prefix = ""): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...listFiles(dir, rel));
    else if (entry.isFile()) files.push(rel);
  }
  return files.sort();
}

/** What git keeps of a file: its bytes and whether it is executable. */
function fingerprint(file: string): string {
  const executable = (statSync(file).mode & 0o111) !== 0;
  return `${executable ? "x" : "-"}${createHash("sha256").update(readFileSync(file)).digest("hex")}`;
}

function digest(dir: string): string {
  const hash = createHash("sha256");
  for (const rel of listFiles(dir))
    if (rel !== RUNTIME_MARKER) hash.update(`${rel}\0${fingerprint(path.join(dir, rel))}\n`);
  return hash.digest("hex");
}

/** The files that differ between two builds, one line each. */
function compare(expected: string, actual: string): string[] {
  const want = listFiles(expected);
  const have = existsSync(actual) ? listFiles(actual) : [];
  const problems: string[] = [];
  for (const rel of want) {
    if (!have.includes(rel)) problems.push(`missing: ${rel}`);
    else if (fingerprint(path.join(expected, rel)) !== fingerprint(path.join(actual, rel)))
      problems.push(`differs: ${rel}`);
  }
  for (const rel of have) if (!want.includes(rel)) problems.push(`not built from the sources: ${rel}`);
  return problems;
}

/**
 * The plugin's manifest says the version package.json says (the marketplace shows it, and `claude plugin update`
 * compares it): with `write`, brought in line; otherwise the line saying how they differ, or undefined.
 */
function pluginVersion(write: boolean): string | undefined {
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  const file = path.join(root, "plugins", "persist", ".claude-plugin", "plugin.json");
  const text = readFileSync(file, "utf8");
  const manifest = JSON.parse(text) as { version?: string };
  if (manifest.version === version) return undefined;
  if (!write)
    return `plugins/persist/.claude-plugin/plugin.json has version ${manifest.version}, package.json ${version}`;
  writeFileSync(file, `${JSON.stringify({ ...manifest, version }, null, 2)}\n`);
  return undefined;
}

const { values, positionals } = parseArgs({
  options: { out: { type: "string" }, check: { type: "boolean" } },
  allowPositionals: true,
});
if (values.check) {
  const target = path.resolve(positionals[0] ?? path.join(root, "dist"));
  const scratch = mkdtempSync(path.join(tmpdir(), "cp-build-"));
  try {
    await buildRuntime(path.join(scratch, "dist"));
    const problems = compare(path.join(scratch, "dist"), target);
    const version = pluginVersion(false);
    if (version) problems.push(version);
    if (problems.length > 0) {
      const shown =
        problems
          .slice(0, 10)
          .map((p) => `  ${p}\n`)
          .join("") + (problems.length > 10 ? `  … and ${problems.length - 10} more\n` : "");
      const shownTarget = path.relative(process.cwd(), target);
      process.stderr.write(
        `${shownTarget && !shownTarget.startsWith("..") ? shownTarget : target}/ is not what the sources build to:\n${shown}` +
          "Run 'npm run build' and commit dist/ with the sources (the plugin runs dist/ as committed).\n",
      );
      process.exitCode = 1;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
} else {
  pluginVersion(true);
  await buildRuntime(path.resolve(values.out ?? path.join(root, "dist")));
}
