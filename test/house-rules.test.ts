// Rules as tests: the SessionStart hooks' bundles (scripts/bundle-rules.ts), which every build checks from esbuild's
// metafile (a hook that imports full zod, another package, or grows past its budget fails the build), the global
// setup that builds dist/ before the tests, and modules of one concept each (no file over 400 lines).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { build, type Metafile } from "esbuild";
import { describe, expect, inject, it } from "vitest";
import { cliBundleProblems, HOOK_BUNDLE_RULES, hookBundleProblems } from "../scripts/bundle-rules.ts";
import { PROJECT_ROOT, tempDir } from "./support/claude.ts";

/** esbuild's metafile for `source` bundled as the runtime's `hooks/<name>.cjs`, resolved from the project's root. */
async function metafileOf(name: string, source: string): Promise<Metafile | undefined> {
  const result = await build({
    stdin: { contents: source, resolveDir: PROJECT_ROOT, sourcefile: `${name}.ts`, loader: "ts" },
    outfile: path.join(tempDir("cp-bundle-"), "hooks", `${name}.cjs`),
    bundle: true,
    platform: "node",
    format: "cjs",
    minify: true,
    mainFields: ["module", "main"],
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  return result.metafile;
}

describe("the hook bundles' rules", () => {
  it("zod/mini passes", async () => {
    const metafile = await metafileOf(
      "session-start",
      'import * as z from "zod/mini"; console.log(z.string().parse("x"));',
    );
    expect(hookBundleProblems(metafile)).toEqual([]);
  });

  it("full zod fails, with the file that brought it", async () => {
    const metafile = await metafileOf("session-start", 'import { z } from "zod"; console.log(z.string().parse("x"));');
    expect(hookBundleProblems(metafile)).toContainEqual(
      expect.stringMatching(
        /^hooks\/session-start\.cjs bundles full zod \(.*node_modules\/zod\/v4\/classic\/.*\): the hooks import zod\/mini$/,
      ),
    );
  });

  it("a CLI bundle with full zod fails; with zod/mini it passes", async () => {
    const full = await metafileOf("full", 'import { z } from "zod"; console.log(z.string().parse("x"));');
    const renamed = (metafile: Metafile | undefined): Metafile | undefined =>
      metafile && {
        ...metafile,
        outputs: Object.fromEntries(Object.values(metafile.outputs).map((out) => ["dist/bin/lib/sync.cjs", out])),
      };
    expect(cliBundleProblems(renamed(full))).toEqual([
      expect.stringMatching(
        /^bin\/lib\/sync\.cjs bundles full zod \(.*node_modules\/zod\/v4\/classic\/.*\): commands import zod\/mini$/,
      ),
    ]);
    const mini = await metafileOf("mini", 'import * as z from "zod/mini"; console.log(z.string().parse("x"));');
    expect(cliBundleProblems(renamed(mini))).toEqual([]);
  });

  it("a package the hook's rule does not name fails", async () => {
    const metafile = await metafileOf(
      "session-start",
      'import { parse } from "jsonc-parser"; console.log(parse("{}"));',
    );
    expect(hookBundleProblems(metafile)).toEqual([
      "hooks/session-start.cjs bundles jsonc-parser, which is not one of zod",
    ]);
    const plugin = await metafileOf(
      "plugin-session-start",
      'import { parse } from "jsonc-parser"; console.log(parse("{}"));',
    );
    expect(hookBundleProblems(plugin)).toEqual([]);
  });

  it("a bundle over its budget fails, and a build without a metafile is not taken as a pass", () => {
    const budget = HOOK_BUNDLE_RULES["hooks/session-start.cjs"]?.maxBytes ?? 0;
    const metafile: Metafile = {
      inputs: {},
      outputs: { "dist/hooks/session-start.cjs": { bytes: budget + 1, inputs: {}, imports: [], exports: [] } },
    };
    expect(hookBundleProblems(metafile)).toEqual([
      `hooks/session-start.cjs is ${budget + 1} bytes, over its budget of ${budget}`,
    ]);
    expect(hookBundleProblems(undefined)).toHaveLength(1);
  });
});

describe("the tests' global setup", () => {
  it("built dist/ from the sources before this run, so the tests run the runtime of the sources as they are", () => {
    expect(inject("builtRuntime")).toBe(readFileSync(path.join(PROJECT_ROOT, "dist", "runtime.json"), "utf8"));
  });
});

/** Every source file under `dir` (relative to the project's root), with its number of lines. */
function sourceLines(dir: string): Array<[string, number]> {
  return readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name))
    .map((entry) => path.relative(PROJECT_ROOT, path.join(entry.parentPath, entry.name)))
    .map((file): [string, number] => {
      const text = readFileSync(path.join(PROJECT_ROOT, file), "utf8");
      return [file, text.split("\n").length - 1];
    });
}

const MAX_MODULE_LINES = 400;

describe("one concept per module", () => {
  const files = ["src", "hooks", "scripts"].flatMap(sourceLines);

  it(`no module in src/, hooks/ or scripts/ is over ${MAX_MODULE_LINES} lines`, () => {
    const over = files.filter(([_file, lines]) => lines > MAX_MODULE_LINES);
    expect(over.map(([file, lines]) => `${file}: ${lines} lines`)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The gate (issue 22): host-side code reaches what a container can write (`projects/`, `file-history/`, `todos/`,
// `tasks/`, `persist-state/`) only through src/container-tree.ts (or fs-beneath.ts, which it builds on). A module that
// names one of those roots and calls node:fs by path must import the gate (every module does since issue 22).

/** Names a container-writable root. */
const CONTAINER_ROOTS =
  /projectsDir\(|"file-history"|"todos"|"tasks"|STATE\.sessionStarts|STATE\.legacySnapshots|packStateDir\(|mappingsFile\(|workItemsPath\(/;
/** node:fs functions that take a path (a descriptor-only import, like fstatSync, is not one). */
const PATH_CALLS =
  /\b(readdirSync|lstatSync|statSync|openSync|readFileSync|writeFileSync|appendFileSync|renameSync|rmSync|rmdirSync|unlinkSync|symlinkSync|readlinkSync|existsSync|realpathSync|mkdirSync|copyFileSync|utimesSync|chmodSync|accessSync)\b/;
const GATE_IMPORT = /from "(?:\.\/|(?:\.\.\/)+)(?:container-tree|fs-beneath)\.ts"/;
/** The modules that make the gate, or only define where the roots are. */
const GATE_ITSELF = [
  "src/container-tree.ts",
  "src/fs-beneath.ts",
  "src/fs.ts",
  "src/state/paths.ts",
  "src/claude/home.ts",
];

function offGate(file: string): boolean {
  const text = readFileSync(path.join(PROJECT_ROOT, file), "utf8");
  const fsImports = [...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"node:fs"/g)].map((m) => m[1] ?? "").join(",");
  return CONTAINER_ROOTS.test(text) && PATH_CALLS.test(fsImports) && !GATE_IMPORT.test(text);
}

describe("the gate for what containers can write", () => {
  const files = sourceLines("src")
    .map(([file]) => file)
    .filter((file) => !GATE_ITSELF.includes(file));

  it("no module touches projects/, file-history/, todos/, tasks/ or persist-state/ with plain fs calls outside the gate", () => {
    const off = files.filter(offGate);
    expect(off).toEqual([]);
  });
});
