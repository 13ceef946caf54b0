// docs/install.md's ways to install from a clone: `node dist/bin/claude-persist.mjs install` (no npm at all)
// and `npx tsx install.ts`, which must stay as light: the committed runtime, nothing from node_modules.
import { cpSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { treeOf } from "./support/checks.ts";
import { CLI, PROJECT_ROOT, tempDir, tempHome } from "./support/claude.ts";

const TSX = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");

describe("installing from a clone", () => {
  it("docs/install.md's clone line installs with node alone", () => {
    const page = readFileSync(path.join(PROJECT_ROOT, "docs", "install.md"), "utf8");
    const cloneBlock = /## From a clone\n\n```sh\n([^\n]*)\n/.exec(page)?.[1] ?? "";
    expect(cloneBlock).toMatch(/&& node claude-persist\/dist\/bin\/claude-persist\.mjs install$/);
  });

  it("install.ts imports nothing that `npm install` would have to fetch", () => {
    const { importedFiles } = ts.preProcessFile(
      readFileSync(path.join(PROJECT_ROOT, "install.ts"), "utf8"),
      true,
      true,
    );
    expect(importedFiles.map((f) => f.fileName).filter((name) => !name.startsWith("node:"))).toEqual([]);
  });

  it("`npx tsx install.ts` and `node dist/bin/claude-persist.mjs install` leave the same files, from a copy of the clone without node_modules", async () => {
    const clone = tempDir("cp-clone-");
    for (const file of ["install.ts", "package.json"]) cpSync(path.join(PROJECT_ROOT, file), path.join(clone, file));
    cpSync(path.join(PROJECT_ROOT, "dist"), path.join(clone, "dist"), { recursive: true });
    const env = (home: string) => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home });
    const viaTsx = tempHome();
    const tsx = await execa(process.execPath, [TSX, "install.ts"], {
      cwd: clone,
      env: env(viaTsx),
      extendEnv: false,
      reject: false,
    });
    expect(tsx.exitCode, tsx.stderr).toBe(0);
    const viaNode = tempHome();
    const node = await execa(process.execPath, [path.join("dist", "bin", "claude-persist.mjs"), "install"], {
      cwd: clone,
      env: env(viaNode),
      extendEnv: false,
      reject: false,
    });
    expect(node.exitCode, node.stderr).toBe(0);
    expect(tsx.stdout).toBe(node.stdout.replaceAll(viaNode, viaTsx));
    expect(treeOf(path.join(viaTsx, ".claude"))).toEqual(treeOf(path.join(viaNode, ".claude")));
    expect(readFileSync(path.join(viaTsx, ".claude", "persist", "runtime.json"), "utf8")).toBe(
      readFileSync(path.join(path.dirname(CLI), "..", "runtime.json"), "utf8"),
    );
  });
});
