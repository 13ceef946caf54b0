// The user's story of /dev-open, end to end, with everything real: a Docker engine, a base image built from
// Debian packages, the devcontainers CLI, the pinned `claude` binary inside the container, and the host side
// run as an ordinary (non-root) user.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { CLAUDE_BIN, CLI } from "./support/claude.ts";
import type { MessagesServer } from "./support/messages-server.ts";
import { DEVCONTAINER_BIN, type DockerEngine, dockerUnavailableReason, removeDevcontainers } from "./support/docker.ts";
import { type HostUser, startHostUser } from "./support/host-user.ts";
import { asUser, makeUserTempDir, type TestUser } from "./support/users.ts";

// Throws when CI is set and Docker is unavailable: CI must run this, never skip it.
const skipReason = dockerUnavailableReason();

/** The user and assistant lines of a transcript (it also holds bookkeeping lines without a cwd). */
function conversation(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.type === "user" || line.type === "assistant");
}

describe.skipIf(skipReason !== undefined)("dev-open in a real container", () => {
  let engine: DockerEngine;
  let image: string;
  let user: TestUser;
  let server: MessagesServer;
  let home: string;
  const repos: string[] = [];

  let host: HostUser;
  const onHost = (file: string, args: string[], cwd: string) => host.run(file, args, cwd);
  const claudeOnHost = (args: string[], cwd: string) => host.run(CLAUDE_BIN, args, cwd);
  const devOpen = (args: string[], cwd: string) => host.run(process.execPath, [CLI, "dev-open", ...args], cwd);
  const inContainer = (repo: string, command: string[]) => host.inContainer(repo, command);
  async function makeRepo(name: string): Promise<string> {
    const repo = await host.makeRepo(name, image);
    repos.push(repo);
    return repo;
  }

  beforeAll(async () => {
    ({ engine, image, user, server, home, host } = await startHostUser());
    const installed = await host.run(process.execPath, [CLI, "install"], home);
    expect(installed.exitCode, installed.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const repo of repos) await removeDevcontainers(engine, repo).catch(() => undefined);
    await server?.close();
    await engine?.stop();
  });

  // Two launches and three claude runs: alone it takes about 50 s here, more on a loaded CI machine.
  it("host session → dev-open → the container continues the same transcript → the host continues it again", {
    timeout: 300_000,
  }, async () => {
    const repo = await makeRepo("app");
    const projects = path.join(home, ".claude", "projects");
    const hostSlug = encodeProjectSlug(repo);

    const first = await claudeOnHost(["-p", "remember the word PELICAN"], repo);
    expect(first.exitCode, first.stderr).toBe(0);
    const [transcript, ...others] = readdirSync(path.join(projects, hostSlug)).filter((f) => f.endsWith(".jsonl"));
    expect(others).toEqual([]);
    const sessionId = path.basename(transcript ?? "", ".jsonl");
    const transcriptFile = path.join(projects, hostSlug, transcript ?? "");
    const linesAfterHost = conversation(transcriptFile).length;

    const opened = await devOpen(["--json"], repo);
    expect(opened.exitCode, opened.stderr).toBe(0);
    const result = JSON.parse(opened.stdout);
    expect(result).toMatchObject({ remoteUser: "vscode", remoteWorkspaceFolder: "/workspaces/app" });
    expect(result.mountsAdded).toEqual(
      expect.arrayContaining(["projects", "todos", "tasks", "settings.json", "persist", "persist-state"]),
    );
    const containerSlug = encodeProjectSlug("/workspaces/app");
    expect(lstatSync(path.join(projects, containerSlug)).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(projects, containerSlug))).toBe(hostSlug);

    // Again, on the running container: the same container, the same launch config, the same mapping, the repo unchanged.
    const configBefore = readFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), "utf8");
    const again = await devOpen(["--json"], repo);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      containerId: result.containerId,
      remoteUser: "vscode",
      remoteWorkspaceFolder: "/workspaces/app",
      mountsAdded: result.mountsAdded,
      mapping: { link: "already" },
    });
    expect(readFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), "utf8")).toBe(configBefore);

    // Inside: the remote user owns ~/.claude (else Claude Code silently skips hooks).
    const owner = await inContainer(repo, ["stat", "-c", "%U", "/home/vscode/.claude"]);
    expect(owner.stdout.trim()).toBe("vscode");

    const before = server.requests.length;
    const inside = await inContainer(repo, ["/opt/claude/claude", "--continue", "-p", "what was the word?"]);
    expect(inside.exitCode, inside.stderr).toBe(0);
    expect(inside.stdout).toContain("Hello from the test server.");
    const sentInside = JSON.stringify(server.requests.slice(before));
    expect(sentInside).toContain("PELICAN");
    expect(sentInside).toContain("claude-persist: this session runs in a dev container");
    expect(sentInside).toContain(`on the host this folder is ${repo}`);

    // The same file grew; no other transcript appeared.
    expect(readdirSync(path.join(projects, hostSlug)).filter((f) => f.endsWith(".jsonl"))).toEqual([transcript]);
    const lines = conversation(transcriptFile);
    expect(lines.length).toBeGreaterThan(linesAfterHost);
    expect(lines.at(-1)).toMatchObject({ sessionId, cwd: "/workspaces/app" });

    const back = await claudeOnHost(["--continue", "-p", "and now?"], repo);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(conversation(transcriptFile).at(-1)).toMatchObject({ sessionId, cwd: repo });
    expect(readdirSync(path.join(projects, hostSlug)).filter((f) => f.endsWith(".jsonl"))).toEqual([transcript]);

    // Configuration and the pack's code are read-only inside.
    for (const file of ["/home/vscode/.claude/settings.json", "/home/vscode/.claude/persist/runtime.json"]) {
      const write = await inContainer(repo, ["sh", "-c", `echo x >> ${file}`]);
      expect(write.exitCode, `${file} was writable`).not.toBe(0);
    }
  });

  it("a todo written in one container is visible in another repo's container", async () => {
    const a = await makeRepo("alpha");
    const b = await makeRepo("beta");
    for (const repo of [a, b]) {
      const opened = await devOpen([], repo);
      expect(opened.exitCode, opened.stderr).toBe(0);
    }
    const write = await inContainer(a, [
      "sh",
      "-c",
      "echo '[{\"content\":\"ship it\"}]' > /home/vscode/.claude/todos/e2e-todo.json && mkdir -p /home/vscode/.claude/tasks/e2e && echo '{}' > /home/vscode/.claude/tasks/e2e/1.json",
    ]);
    expect(write.exitCode, write.stderr).toBe(0);
    const read = await inContainer(b, [
      "cat",
      "/home/vscode/.claude/todos/e2e-todo.json",
      "/home/vscode/.claude/tasks/e2e/1.json",
    ]);
    expect(read.stdout).toContain("ship it");
    expect(existsSync(path.join(home, ".claude", "todos", "e2e-todo.json"))).toBe(true);
  });

  // Its plain `devcontainer up` once took over 60 s in a CI run (2 workers, other containers starting; a rerun took
  // 1.4 s): the test allows what the command is allowed, so a slow engine is not a failure and a hang still is.
  it("a teammate without the pack and without those folders still gets a working container", {
    timeout: 300_000,
  }, async () => {
    const repo = await makeRepo("shared");
    expect((await devOpen(["--config-only"], repo)).exitCode).toBe(0);
    const teammateHome = await makeUserTempDir(user, "cp-teammate-");
    const up = await asUser(user, process.execPath, [DEVCONTAINER_BIN, "up", "--workspace-folder", repo], {
      home: teammateHome,
      cwd: repo,
      env: { ...engine.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` },
      reject: false,
      timeout: 300_000,
    });
    expect(up.exitCode, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout.trim().split("\n").at(-1) ?? "{}")).toMatchObject({ outcome: "success" });
  });

  it("a container already running without the mounts is reported, and recreated only with --rebuild", async () => {
    const repo = await makeRepo("plain");
    const up = await onHost(process.execPath, [DEVCONTAINER_BIN, "up", "--workspace-folder", repo], repo);
    expect(up.exitCode, up.stderr).toBe(0);
    const refused = await devOpen([], repo);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/running without the persistence mounts.*--rebuild/);
    const rebuilt = await devOpen(["--rebuild", "--json"], repo);
    expect(rebuilt.exitCode, rebuilt.stderr).toBe(0);
    const ls = await inContainer(repo, ["ls", "/home/vscode/.claude/projects"]);
    expect(ls.exitCode).toBe(0);
  });

  it('`claude -p "/dev-open --dry-run"` puts dev-open\'s output in front of the model', async () => {
    const repo = await makeRepo("viaclaude");
    const before = server.requests.length;
    const result = await claudeOnHost(["-p", "/dev-open --dry-run"], repo);
    expect(result.exitCode, result.stderr).toBe(0);
    const sent = JSON.stringify(server.requests.slice(before));
    expect(sent).toContain("dry run");
    expect(sent).toContain("source=${localEnv:HOME}/.claude/projects,target=/home/vscode/.claude/projects,type=bind");
  });
});
