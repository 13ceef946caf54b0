// What dev-open launches with besides the repo's config. For a compose-based repo, the launch config in host-only
// state: the repo's compose files stay as they are, and one more compose file, listed last, holds only our volumes
// (no compose engine here: the files are checked as compose reads them). For a linked worktree, the main .git.
import { cpSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { parse as parseYaml } from "yaml";
import { parse as parseJsonc } from "jsonc-parser";
import { describe, expect, it } from "vitest";
import { preparePersistenceEdit } from "../src/devcontainer/config/persistence.ts";
import { packHostDir } from "../src/claude/home.ts";
import { worktreeGitDir, writeOverride } from "../src/devcontainer/launch/override.ts";
import { PROJECT_ROOT, tempDir, tempHome } from "./support/claude.ts";

const FIXTURES = path.join(PROJECT_ROOT, "test", "fixtures", "devcontainers");

describe("the launch config for a compose-based repo", () => {
  it("lists the repo's compose files as written, then an overlay with only our volumes, read-only where they must be", async () => {
    const repo = path.join(tempDir(), "compose-override");
    cpSync(path.join(FIXTURES, "compose-override"), repo, { recursive: true });
    const env = { HOME: tempHome(), DOCKER_HOST: "unix:///nonexistent/docker.sock" };
    const edit = await preparePersistenceEdit({
      folder: repo,
      configPath: undefined,
      init: false,
      samePath: false,
      remoteHome: "/home/vscode",
      remove: false,
      env,
    });

    const file = writeOverride(env, edit.configPath, edit.files[0]?.after ?? "", edit.composeOverlay);
    expect(path.dirname(path.dirname(file))).toBe(path.join(packHostDir(env), "configs"));
    expect(path.basename(path.dirname(file))).toMatch(/^compose-override-[0-9a-f]{12}$/);
    const config = parseJsonc(readFileSync(file, "utf8")) as {
      dockerComposeFile: string[];
      containerEnv: Record<string, string>;
    };
    const overlay = path.join(path.dirname(file), "docker-compose.claude-persist.yml");
    expect(config.dockerComposeFile).toEqual(["../docker-compose.yml", "docker-compose.devcontainer.yml", overlay]);
    expect(config.containerEnv.CLAUDE_PERSIST_HOST_WORKSPACE).toBe("${localWorkspaceFolder}");

    const volumes = (
      parseYaml(readFileSync(overlay, "utf8")) as { services: { app: { volumes: Array<Record<string, unknown>> } } }
    ).services.app.volumes;
    expect(volumes).toContainEqual({
      type: "bind",
      source: "${HOME}/.claude/projects",
      target: "/home/vscode/.claude/projects",
    });
    expect(volumes).toContainEqual({
      type: "bind",
      source: "${HOME}/.claude/persist",
      target: "/home/vscode/.claude/persist",
      read_only: true,
    });

    // The repo's files are only read.
    for (const name of [
      ".devcontainer/devcontainer.json",
      ".devcontainer/docker-compose.devcontainer.yml",
      "docker-compose.yml",
    ]) {
      expect(readFileSync(path.join(repo, name), "utf8")).toBe(
        readFileSync(path.join(FIXTURES, "compose-override", name), "utf8"),
      );
    }
  });
});

describe("a linked worktree's git folder", () => {
  async function repoWithWorktree(parentName: string): Promise<{ main: string; worktree: string }> {
    const parent = path.join(tempDir(), parentName);
    const main = path.join(parent, "app");
    mkdirSync(main, { recursive: true });
    const git = (cwd: string, ...args: string[]) =>
      execa("git", ["-c", "user.name=Ana", "-c", "user.email=ana@example.com", ...args], { cwd });
    await git(main, "init", "-q", "-b", "main");
    await git(main, "commit", "-q", "--allow-empty", "-m", "first");
    const worktree = path.join(parent, "app.worktrees", "lin-1");
    await git(main, "worktree", "add", "-q", "-b", "lin-1", worktree);
    return { main, worktree };
  }

  it("is the main repo's .git for a worktree, and nothing for the main checkout or a folder outside git", async () => {
    const { main, worktree } = await repoWithWorktree("plain");
    expect(await worktreeGitDir(worktree)).toBe(path.join(main, ".git"));
    expect(await worktreeGitDir(main)).toBeUndefined();
    expect(await worktreeGitDir(tempDir())).toBeUndefined();
  });

  it("refuses, in one line, a main repo whose path a mount cannot name", async () => {
    const { worktree } = await repoWithWorktree("a,b");
    await expect(worktreeGitDir(worktree)).rejects.toThrow(
      /^the main repo's git folder .*a,b\/app\/\.git contains one of , .* a mount cannot name it \(open the main checkout instead\)$/,
    );
  });
});
