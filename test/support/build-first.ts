// vitest's global setup: build dist/ from the sources before any test runs. Many tests run the built runtime
// (dist/bin/claude-persist.mjs, dist/hooks/*.cjs), so plain `vitest` after an edit of src/ tests that edit, never
// the last build. (`npm test` first checks that the committed dist/ is what the sources build to.)
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { TestProject } from "vitest/node";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

declare module "vitest" {
  export interface ProvidedContext {
    /** dist/runtime.json as this run's build wrote it. */
    builtRuntime: string;
  }
}

export default async function buildFirst(project: TestProject): Promise<void> {
  const tsx = path.join(root, "node_modules", "tsx", "dist", "cli.mjs");
  const result = await execa(process.execPath, [tsx, path.join(root, "scripts", "build.ts")], {
    cwd: root,
    reject: false,
    all: true,
  });
  if (result.exitCode !== 0) throw new Error(`building dist/ before the tests failed:\n${result.all}`);
  project.provide("builtRuntime", readFileSync(path.join(root, "dist", "runtime.json"), "utf8"));
}
