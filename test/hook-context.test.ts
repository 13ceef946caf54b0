// The SessionStart hook's context is paid for in tokens in every session: it says only what is true here, and one
// line where that is all there is. Each case measures the bytes of additionalContext that Claude Code adds to the
// session and asserts a ceiling; the figures in the names are what this tree gives on a host named "vm" with folders
// in /tmp/cp-XXXXXX/ (other names and paths change them by their length; the assertions are on the ceilings).
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";

const HOOK = path.join(PROJECT_ROOT, "dist", "hooks", "session-start.cjs");

const hostname = async () => (await execa("hostname")).stdout;

async function contextOf(home: string, cwd: string, env: Record<string, string> = {}) {
  const result = await execa(process.execPath, [HOOK], {
    input: JSON.stringify({ session_id: "0b7e4a8c-1111", cwd, hook_event_name: "SessionStart", source: "startup" }),
    env: { PATH: process.env.PATH ?? "", HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host", ...env },
    extendEnv: false,
    reject: false,
  });
  expect(result.exitCode).toBe(0);
  const context: string = result.stdout ? JSON.parse(result.stdout).hookSpecificOutput.additionalContext : "";
  return { context, bytes: Buffer.byteLength(context), stdout: result.stdout, stderr: result.stderr };
}

/** A folder of `name` in a fresh temporary folder; a git repo with `.git`, with a dev container config if asked. */
function folder(name: string, { git = false, devcontainer = false } = {}): string {
  const dir = path.join(tempDir(), name);
  mkdirSync(dir, { recursive: true });
  if (git) mkdirSync(path.join(dir, ".git"));
  if (devcontainer) {
    mkdirSync(path.join(dir, ".devcontainer"));
    writeFileSync(path.join(dir, ".devcontainer", "devcontainer.json"), '{ "image": "debian:bookworm" }\n');
  }
  return dir;
}

describe("the SessionStart hook's context, in bytes, per case", () => {
  let home = "";
  beforeAll(async () => {
    // A real install: the shared folders, settings.json, the slash commands and the runtime are there, as for a user.
    home = tempHome();
    const installed = await runCli(["install"], { env: { HOME: home, PATH: process.env.PATH ?? "" } });
    expect(installed.exitCode, installed.stderr).toBe(0);
  });

  it("host, a folder outside any repo: one line, 75 bytes here (≤ 120)", async () => {
    const notes = folder("notes");
    const { context, bytes, stderr } = await contextOf(home, notes);
    expect(context).toBe(`claude-persist: this session runs on the host (${await hostname()}) in ${notes}.`);
    expect(bytes).toBeLessThanOrEqual(120);
    expect(stderr).toBe("");
  });

  it("host, a git repo with no dev container config, no mapping, no work item: one line, 77 bytes here (≤ 120)", async () => {
    const repo = folder("lib", { git: true });
    mkdirSync(path.join(repo, "src"));
    const { context, bytes } = await contextOf(home, path.join(repo, "src"));
    expect(context.split("\n")).toHaveLength(1);
    expect(context).not.toContain("Shared");
    expect(bytes).toBeLessThanOrEqual(120);
  });

  it("host, a repo with a dev container config: 169 bytes here (≤ 300), naming only entries that exist", async () => {
    const repo = folder("app", { git: true, devcontainer: true });
    const { context, bytes } = await contextOf(home, repo);
    expect(context).toBe(
      `claude-persist: this session runs on the host (${await hostname()}) in ${repo}.\n` +
        "Shared read-write with this repo's dev containers: projects, todos, tasks, file-history, plans.",
    );
    expect(bytes).toBeLessThanOrEqual(300);
    // Nothing about files this host does not have (no CLAUDE.md, no agents/, no mcp.json here).
    expect(context).not.toMatch(/CLAUDE\.md|agents|mcp\.json|read-only/);
  });

  it("host, a repo dev-open mapped: 213 bytes here (≤ 300), with its container path", async () => {
    const repo = folder("api", { git: true, devcontainer: true });
    const mapping = {
      hostPath: repo,
      hostSlug: repo.replace(/[^A-Za-z0-9]/g, "-"),
      containerPath: "/workspaces/api",
      containerSlug: "-workspaces-api",
      time: new Date().toISOString(),
    };
    const mappings = path.join(home, ".claude", "persist-state", "mappings.json");
    writeFileSync(mappings, JSON.stringify([mapping]));
    try {
      const { context, bytes } = await contextOf(home, repo);
      expect(context.split("\n")[0]).toMatch(/; its dev container works in \/workspaces\/api\.$/);
      expect(bytes).toBeLessThanOrEqual(300);
    } finally {
      writeFileSync(mappings, "[]");
    }
  });

  it("host, a repo with the issue in progress: 347 bytes here (≤ 400; the issue line alone is 178): the place, then the issue", async () => {
    const repo = folder("web", { git: true, devcontainer: true });
    const item = {
      identifier: "LIN-123",
      title: "Fix the login page",
      url: "https://linear.app/acme/issue/LIN-123/fix-the-login-page",
      branch: "me/lin-123-fix-the-login-page",
      repoPath: repo,
      worktreePath: null,
      time: new Date().toISOString(),
      linearAsked: true,
    };
    const items = path.join(home, ".claude", "persist-state", "work-items.json");
    writeFileSync(items, JSON.stringify([item]));
    try {
      const { context, bytes } = await contextOf(home, repo);
      expect(context.split("\n").at(-1)).toMatch(/^Work in progress here \(started with \/start-work\): LIN-123 /);
      expect(bytes).toBeLessThanOrEqual(400);
      // A folder with nothing of its own still hears of the issue in progress elsewhere, and of nothing else.
      const elsewhere = await contextOf(home, folder("notes"));
      expect(elsewhere.context.split("\n").slice(1).join("\n")).toMatch(
        /^Work items started with \/start-work elsewhere \(newest first\):\n- LIN-123 /,
      );
      expect(elsewhere.context).not.toContain("Shared");
    } finally {
      writeFileSync(items, "[]");
    }
  });

  it("a dev container opened with dev-open: 295 bytes here (≤ 300), read-only entries only those mounted", async () => {
    const inside = tempHome();
    const claude = path.join(inside, ".claude");
    const mounted = ["projects", "todos", "tasks", "session-env", "file-history", "plans", "paste-cache", "cache"];
    for (const name of [...mounted, "persist-state", "persist", "commands"]) {
      mkdirSync(path.join(claude, name), { recursive: true });
    }
    writeFileSync(path.join(claude, "settings.json"), "{}\n");
    const { context, bytes } = await contextOf(inside, "/workspaces/app", {
      CLAUDE_PERSIST_ENVIRONMENT: "container",
      CLAUDE_PERSIST_HOST_WORKSPACE: "/Users/ana/code/app",
    });
    const lines = context.split("\n");
    expect(lines[0]).toMatch(
      /^claude-persist: this session runs in a dev container \(.+\) in \/workspaces\/app; on the host this folder is \/Users\/ana\/code\/app\.$/,
    );
    expect(lines[1]).toBe(
      "Shared read-write with the host and other dev containers: projects, todos, tasks, file-history, plans.",
    );
    expect(lines[2]).toBe("Read-only here (change them on the host): commands, settings.json.");
    expect(bytes).toBeLessThanOrEqual(300);
  });
});
