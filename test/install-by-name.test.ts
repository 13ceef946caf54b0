// Installing by name, as a newcomer does: the `npm pack` tarball installed globally into an empty prefix with no
// network gives the three commands on PATH; from a clone, `claude-persist install` links them into ~/.local/bin (or
// --bin-dir) and says plainly when that folder is not on PATH. And what install prints: three lines.
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, tempDir, tempHome } from "./support/claude.ts";

const NODE_DIR = path.dirname(process.execPath);
const CLONE_CLI = path.join(PROJECT_ROOT, "dist", "bin", "claude-persist.cjs");
const VERSION = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")).version as string;

/** A PATH with node and the system's tools, and nothing of ours. */
const basePath = (...first: string[]) => [...first, NODE_DIR, "/usr/bin", "/bin"].join(path.delimiter);

/** install's first line: what went where (the count of changes is whatever the build holds). */
function installedLine(home: string, commandsWhere: string): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return new RegExp(
    `^${literal(`claude-persist installed in ${path.join(home, ".claude")} (${VERSION}, `)}\\d+ changes${literal(
      `): /dev-open, /start-work, the SessionStart hook and its runtime (persist/); the commands ${commandsWhere}.`,
    )}$`,
  );
}

function run(file: string, args: string[], env: Record<string, string>, cwd?: string) {
  return execa(file, args, { env, extendEnv: false, reject: false, cwd: cwd ?? env.HOME, stdin: "ignore" });
}

describe("npm install -g of the packed tarball, offline", () => {
  let prefix = "";
  let home = "";
  let files: string[] = [];
  const env = () => ({ PATH: basePath(path.join(prefix, "bin")), HOME: home });

  beforeAll(async () => {
    const out = tempDir("cp-pack-");
    home = tempHome();
    prefix = tempDir("cp-prefix-");
    // An empty cache as well as --offline: anything the tarball needed from the registry would fail the install.
    const npmEnv = { PATH: basePath(), HOME: home, npm_config_cache: path.join(home, ".npm") };
    const pack = await run("npm", ["pack", "--json", "--pack-destination", out], npmEnv, PROJECT_ROOT);
    expect(pack.exitCode, pack.stderr).toBe(0);
    const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed?.files.map((file) => file.path) ?? [];
    const tarball = path.join(out, packed?.filename ?? "");
    const installed = await run(
      "npm",
      ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", tarball],
      npmEnv,
    );
    expect(installed.exitCode, installed.stderr).toBe(0);
  }, 120_000);

  it("holds the runtime and the docs, not the sources, tests or tooling", () => {
    expect(files).toContain("dist/bin/claude-persist.cjs");
    expect(files).toContain("dist/node_modules/@devcontainers/cli/devcontainer.js");
    expect(files).toEqual(expect.arrayContaining(["README.md", "LICENSE", "CHANGELOG.md", "docs/dev-open.md"]));
    expect(files.filter((file) => /^(src|test|scripts)\//.test(file))).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
    // Everything the runtime needs is bundled in dist/: nothing for npm to fetch, nothing installed twice.
    expect(manifest.dependencies ?? {}).toEqual({});
  });

  it("claude-persist --version and dev-open --help work from PATH", async () => {
    const version = await run("claude-persist", ["--version"], env());
    expect(version.exitCode, version.stderr).toBe(0);
    expect(version.stdout).toBe(`claude-persist ${VERSION}`);
    const help = await run("dev-open", ["--help"], env());
    expect(help.exitCode, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: dev-open /);
    const startWork = await run("start-work", ["--help"], env());
    expect(startWork.stdout).toMatch(/^Usage: start-work /);
  });

  it("claude-persist install from PATH sets up ~/.claude and adds no links: npm's commands are on PATH", async () => {
    const result = await run("claude-persist", ["install"], env());
    expect(result.exitCode, result.stderr).toBe(0);
    expect(existsSync(path.join(home, ".claude", "persist", "hooks", "session-start.cjs"))).toBe(true);
    expect(existsSync(path.join(home, ".local", "bin"))).toBe(false);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      installedLine(home, "claude-persist, dev-open and start-work on your PATH (installed by npm)"),
    );
    expect(lines.slice(1)).toEqual([
      "Next: in a repo with a dev container, run dev-open (or /dev-open in Claude Code).",
      "Undo: claude-persist uninstall, then npm uninstall -g claude-persist",
    ]);
  });
});

describe("claude-persist install from a clone: the commands on PATH, as uv and cargo do", () => {
  it("links the three commands into ~/.local/bin, says that it is not on PATH and how to add it; they then work", async () => {
    const home = tempHome();
    const result = await run(process.execPath, [CLONE_CLI, "install"], { PATH: basePath(), HOME: home });
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    // devcontainer too: PATH has none, and dev-open prints `devcontainer exec …` to enter the container.
    expect(lines[0]).toMatch(
      /; the commands claude-persist, dev-open, start-work and devcontainer in ~\/\.local\/bin\.$/,
    );
    expect(lines[1]).toBe(
      `~/.local/bin is not on your PATH, so these commands are not found by name yet: add export PATH="$HOME/.local/bin:$PATH" to your shell's startup file (~/.bashrc, ~/.zshrc) and open a new terminal.`,
    );
    const bin = path.join(home, ".local", "bin");
    for (const name of ["claude-persist", "dev-open", "start-work"]) {
      expect(readlinkSync(path.join(bin, name))).toBe(path.join(home, ".claude", "persist", "bin", `${name}.cjs`));
    }
    // What the line says to do, done: the commands are found by name and run.
    const env = { PATH: basePath(bin), HOME: home };
    expect((await run("claude-persist", ["--version"], env)).stdout).toBe(`claude-persist ${VERSION}`);
    expect((await run("dev-open", ["--help"], env)).stdout).toMatch(/^Usage: dev-open /);
    expect((await run("devcontainer", ["--version"], env)).stdout).toBe("0.89.0");
    // Run again from PATH: nothing to change, and no warning now that the folder is on PATH.
    const again = await run("claude-persist", ["install"], env);
    expect(again.stdout.trimEnd().split("\n")).toHaveLength(3);
    expect(again.stdout).toContain("already installed, nothing changed");
    expect(again.stdout).toContain("in ~/.local/bin.");
  });

  it("--bin-dir DIR on PATH: linked there, no warning; a file of the user's there is left as it was, and uninstall takes out only our links", async () => {
    const home = tempHome();
    const bin = path.join(tempDir("cp-bin-"), "bin");
    mkdirSync(bin);
    writeFileSync(path.join(bin, "start-work"), "#!/bin/sh\necho mine\n", { mode: 0o755 });
    const env = { PATH: basePath(bin), HOME: home };
    const result = await run(process.execPath, [CLONE_CLI, "install", "--bin-dir", bin], env);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toContain("not on your PATH");
    expect(result.stdout).toContain(
      `Left ${path.join(bin, "start-work")} as it was (not claude-persist's): run start-work as ~/.claude/persist/bin/start-work.cjs, or move that file away and install again.`,
    );
    expect(readFileSync(path.join(bin, "start-work"), "utf8")).toBe("#!/bin/sh\necho mine\n");
    expect((await run("dev-open", ["--help"], env)).exitCode).toBe(0);
    const fix = await run(
      process.execPath,
      [path.join(home, ".claude", "persist", "bin", "start-work.cjs"), "--help"],
      env,
    );
    expect(fix.stdout).toMatch(/^Usage: start-work /);

    const removed = await run("claude-persist", ["uninstall"], env);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(existsSync(path.join(bin, "dev-open"))).toBe(false);
    expect(existsSync(path.join(bin, "claude-persist"))).toBe(false);
    expect(lstatSync(path.join(bin, "start-work")).isFile()).toBe(true);
  });
});

describe("what install prints", () => {
  it("three lines: what went where, the next step, how to undo; the file list only with --verbose", async () => {
    const home = tempHome();
    const bin = path.join(home, "bin");
    const env = { PATH: basePath(bin), HOME: home };
    const result = await run(process.execPath, [CLONE_CLI, "install", "--bin-dir", bin], env);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(installedLine(home, "claude-persist, dev-open, start-work and devcontainer in ~/bin"));
    expect(lines.slice(1)).toEqual([
      "Next: in a repo with a dev container, run dev-open (or /dev-open in Claude Code).",
      "Undo: claude-persist uninstall",
    ]);
    expect(result.stdout).not.toMatch(/the pack|note:/);
    const verbose = await run(process.execPath, [CLONE_CLI, "install", "--verbose"], { ...env, HOME: tempHome() });
    expect(verbose.stdout).toContain("create persist/hooks/session-start.cjs\n");
    expect(verbose.stdout).toContain("create settings.json\n");
    expect(verbose.stdout.split("\n").length).toBeGreaterThan(40);
  });
});
