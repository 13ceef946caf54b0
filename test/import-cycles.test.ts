// The source tree has no import cycles: a module never reaches itself through what it imports, types and lazy
// `import()` included. A cycle means two modules are one concept, or a third one is missing between them.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "./support/claude.ts";

type Graph = Map<string, string[]>;

/** Every .ts file under `dir`, relative to the project's root. */
function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(rel));
    else if (entry.name.endsWith(".ts")) files.push(rel);
  }
  return files;
}

/** Each module's relative imports, as TypeScript's own pre-parser reads them (static, type-only, `import()`, re-exports). */
function importGraph(files: string[]): Graph {
  const graph: Graph = new Map();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(PROJECT_ROOT, file), "utf8"), true, true);
    const targets = importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => path.join(path.dirname(file), name));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The cycles of `graph`, each as the chain of modules that closes it (`a → b → a`), one per strongly connected part. */
function cycles(graph: Graph): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next].join(" → "));
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return found;
}

describe("import cycles", () => {
  it("src/, hooks/ and scripts/ have none (Io and Command come from src/command.ts, never from cli.ts)", () => {
    const graph = importGraph([
      ...sourceFiles("src"),
      ...sourceFiles("hooks"),
      ...sourceFiles("scripts"),
      "install.ts",
    ]);
    expect(graph.size).toBeGreaterThan(40);
    expect(cycles(graph)).toEqual([]);
  });

  it("finds a cycle through a type-only import and a lazy import()", () => {
    const graph: Graph = new Map([
      ["src/cli.ts", ["src/commands/a.ts"]],
      ["src/commands/a.ts", ["src/cli.ts"]],
      ["src/leaf.ts", []],
    ]);
    expect(cycles(graph)).toEqual(["src/cli.ts → src/commands/a.ts → src/cli.ts"]);
    const parsed = ts.preProcessFile(
      'import type { Io } from "../cli.ts";\nconst m = await import("./x.ts");\n',
      true,
      true,
    );
    expect(parsed.importedFiles.map((f) => f.fileName)).toEqual(["../cli.ts", "./x.ts"]);
  });
});
