// Real repos' dev containers with the real CLIs on a real engine (issue 21): a Dockerfile that decides the user
// and gives it a home outside /home, and two repos whose containers both work in /workspace.
import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { CLAUDE_BIN, CLI } from "./support/claude.ts";
import { type DockerEngine, dockerUnavailableReason, removeDevcontainers } from "./support/docker.ts";
import { E2E_CONFIG, type HostUser, startHostUser, workspaceConfig } from "./support/host-user.ts";
import type { MessagesServer } from "./support/messages-server.ts";

// Throws when CI is set and Docker is unavailable: CI must run this, never skip it.
const skipReason = dockerUnavailableReason();

describe.skipIf(skipReason !== undefined)("the container user and colliding paths, in real containers", () => {
  let engine: DockerEngine;
  let image: string;
  let server: MessagesServer;
  let home: string;
  let host: HostUser;
  const repos: string[] = [];
  const devOpen = (args: string[], cwd: string) => host.run(process.execPath, [CLI, "dev-open", ...args], cwd);
  const claudeOnHost = (args: string[], cwd: string) => host.run(CLAUDE_BIN, args, cwd);
  const sentSince = (before: number) => JSON.stringify(server.requests.slice(before));

  beforeAll(async () => {
    ({ engine, image, server, home, host } = await startHostUser());
    const installed = await host.run(process.execPath, [CLI, "install"], home);
    expect(installed.exitCode, installed.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    for (const repo of repos) await removeDevcontainers(engine, repo).catch(() => undefined);
    await server?.close();
    await engine?.stop();
  });

  async function makeRepo(name: string, files: Record<string, string>): Promise<string> {
    const repo = await host.makeRepoWith(name, files);
    repos.push(repo);
    return repo;
  }

  it("a build config whose Dockerfile makes the user, with a home outside /home: the mounts land there, and claude --continue inside carries on", {
    timeout: 600_000,
  }, async () => {
    const config = { name: "built", build: { dockerfile: "Dockerfile" }, ...E2E_CONFIG };
    const repo = await makeRepo("built", {
      ".devcontainer/devcontainer.json": `${JSON.stringify(config, null, 2)}\n`,
      ".devcontainer/Dockerfile": `FROM ${image}\nRUN useradd -m -d /srv/dev -s /bin/bash dev\nUSER dev\n`,
    });
    const first = await claudeOnHost(["-p", "remember the word OSPREY"], repo);
    expect(first.exitCode, first.stderr).toBe(0);

    // Told a wrong home, dev-open finds the truth inside the container and does not claim sharing.
    const wrong = await devOpen(["--remote-home", "/home/dev"], repo);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toContain("whose home is /srv/dev, but the mounts went to /home/dev/.claude");
    expect(wrong.stdout).not.toMatch(/Sessions of .* are shared/);

    const opened = await devOpen(["--rebuild", "--json"], repo);
    expect(opened.exitCode, opened.stderr).toBe(0);
    const result = JSON.parse(opened.stdout);
    expect(result.containerUser).toMatchObject({ user: "dev", home: "/srv/dev", guessed: false });
    expect(result.containerUser.homeFrom).toContain("/etc/passwd");
    expect(result).toMatchObject({ remoteUser: "dev" });
    // dev-open makes ~/.claude the user's itself: the creation log does not warn about it.
    expect(opened.stderr).not.toContain("Claude Code may skip hooks");

    const owner = await host.inContainer(repo, ["stat", "-c", "%U", "/srv/dev/.claude", "/srv/dev/.claude/projects"]);
    expect(owner.stdout.trim().split("\n")).toEqual(["dev", expect.any(String)]);
    const before = server.requests.length;
    const inside = await host.inContainer(repo, ["/opt/claude/claude", "--continue", "-p", "what was the word?"]);
    expect(inside.exitCode, inside.stderr).toBe(0);
    expect(sentSince(before)).toContain("OSPREY");
  });

  it("a config that moves HOME: dev-open finds it inside the started container and recreates it with the mounts there", {
    timeout: 600_000,
  }, async () => {
    const config = {
      name: "homed",
      image,
      remoteUser: "vscode",
      containerEnv: { HOME: "/home/vscode/work" },
      ...E2E_CONFIG,
    };
    const repo = await makeRepo("homed", { ".devcontainer/devcontainer.json": `${JSON.stringify(config, null, 2)}\n` });
    const opened = await devOpen(["--json"], repo);
    expect(opened.exitCode, opened.stderr).toBe(0);
    const result = JSON.parse(opened.stdout);
    expect(result.messages[0]).toBe(
      "The mounts went to /home/vscode/.claude, but vscode's home in the container is /home/vscode/work: recreated the container with them there.",
    );
    expect(result.containerUser).toMatchObject({ user: "vscode", home: "/home/vscode/work" });
    const listed = await host.inContainer(repo, ["sh", "-c", 'ls -d "$HOME/.claude/projects" && echo "$HOME"']);
    expect(listed.stdout.trim().split("\n")).toEqual(["/home/vscode/work/.claude/projects", "/home/vscode/work"]);
  });

  it("two repos on /workspace: each container continues its own repo's conversation, whichever was opened first", {
    timeout: 600_000,
  }, async () => {
    const one = await makeRepo("one", { ".devcontainer/devcontainer.json": workspaceConfig("one", image) });
    const two = await makeRepo("two", { ".devcontainer/devcontainer.json": workspaceConfig("two", image) });
    for (const [repo, word] of [
      [one, "ALBATROSS"],
      [two, "PENGUIN"],
    ] as const) {
      const said = await claudeOnHost(["-p", `remember the word ${word}`], repo);
      expect(said.exitCode, said.stderr).toBe(0);
    }
    const openedOne = await devOpen(["--json"], one);
    expect(openedOne.exitCode, openedOne.stderr).toBe(0);
    const openedTwo = await devOpen(["--json"], two);
    expect(openedTwo.exitCode, openedTwo.stderr).toBe(0);
    expect(JSON.parse(openedTwo.stdout).mapping).toMatchObject({ link: "own-folder" });

    for (const [repo, own, other] of [
      [two, "PENGUIN", "ALBATROSS"],
      [one, "ALBATROSS", "PENGUIN"],
    ] as const) {
      const before = server.requests.length;
      const inside = await host.inContainer(repo, ["/opt/claude/claude", "--continue", "-p", "what was the word?"]);
      expect(inside.exitCode, inside.stderr).toBe(0);
      expect(sentSince(before)).toContain(own);
      expect(sentSince(before)).not.toContain(other);
    }
    // The turns went to each repo's own project folder on the host; the other repo's sessions are still listed there.
    const projects = path.join(home, ".claude", "projects");
    for (const repo of [one, two])
      expect(
        readdirSync(path.join(projects, encodeProjectSlug(repo))).filter((f) => f.endsWith(".jsonl")),
      ).toHaveLength(1);
    const listed = await host.inContainer(two, ["ls", "/home/vscode/.claude/projects"]);
    expect(listed.stdout).toContain(encodeProjectSlug(two));

    // unshare frees the path: the first repo's link goes, so another repo can be mapped there.
    const unshared = await host.run(process.execPath, [CLI, "unshare"], one);
    expect(unshared.exitCode, unshared.stderr).toBe(0);
    expect(unshared.stdout).toContain("Freed /workspace in the container");
  });
});
