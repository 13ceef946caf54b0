// The brief's second scenario in real containers: /dev-open leaves the repo as it was, /start-work right after it
// (on the host and inside), a worktree's container with working git, and an image without node.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "./support/claude.ts";
import {
  DEVCONTAINER_BIN,
  docker,
  type DockerEngine,
  dockerUnavailableReason,
  removeDevcontainers,
} from "./support/docker.ts";
import { type HostUser, startHostUser } from "./support/host-user.ts";
import type { MessagesServer } from "./support/messages-server.ts";

const skipReason = dockerUnavailableReason();

/** The pack's CLI as installed in the container (read-only mount of the host's ~/.claude/persist). */
const PACK_IN_CONTAINER = "/home/vscode/.claude/persist/bin/claude-persist.mjs";
const GIT_AS_ANA = ["git", "-c", "user.name=Ana", "-c", "user.email=ana@example.com"];

describe.skipIf(skipReason !== undefined)("the second scenario in real containers", () => {
  let engine: DockerEngine;
  let image: string;
  let home: string;
  let host: HostUser;
  let server: MessagesServer;
  const folders: string[] = [];

  const onHost = (file: string, args: string[], cwd: string) => host.run(file, args, cwd);
  const cli = (args: string[], cwd: string) => host.run(process.execPath, [CLI, ...args], cwd);
  const gitStatus = async (repo: string) =>
    (await onHost("git", ["status", "--porcelain", "--untracked-files=all"], repo)).stdout;
  async function makeRepo(name: string, withImage = image): Promise<string> {
    const repo = await host.makeRepo(name, withImage);
    folders.push(repo);
    return repo;
  }

  beforeAll(async () => {
    ({ engine, image, home, host, server } = await startHostUser());
    const installed = await cli(["install"], home);
    expect(installed.exitCode, installed.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const folder of folders) await removeDevcontainers(engine, folder).catch(() => undefined);
    await server?.close();
    await engine?.stop();
  });

  it("dev-open leaves git status as it was; the printed entry command hands over the key, a key given at exec time always wins, and a later plain `up` still gets the mounts", async () => {
    const repo = await makeRepo("clean");
    const configBefore = readFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), "utf8");
    expect(await gitStatus(repo)).toBe("");

    const opened = await cli(["dev-open", "--json"], repo);
    expect(opened.exitCode, opened.stderr).toBe(0);
    const result = JSON.parse(opened.stdout);
    expect(result.status).toBe("running");
    expect(result.overrideConfig).toMatch(
      new RegExp(`^${home}/\\.claude/persist-host/configs/clean-[0-9a-f]{12}/devcontainer\\.json$`),
    );
    expect(await gitStatus(repo)).toBe("");
    expect(readFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), "utf8")).toBe(configBefore);
    expect(result.messages.at(-1)).toBe(
      `Enter with: devcontainer exec --workspace-folder ${repo} --remote-env ANTHROPIC_API_KEY="$ANTHROPIC_API_KEY" claude --continue`,
    );
    // No config the container keeps names a credential: its metadata label has no ${localEnv:…} to blank one later.
    const label = await docker(engine, [
      "inspect",
      "--format",
      '{{index .Config.Labels "devcontainer.metadata"}}',
      result.containerId,
    ]);
    expect(label.stdout).not.toContain("localEnv:ANTHROPIC_API_KEY");
    expect(readFileSync(result.overrideConfig, "utf8")).not.toContain("ANTHROPIC_API_KEY");

    // The entry command as printed, typed into a shell that has the key: the shared folders and the key are there.
    const probe = 'ls -d ~/.claude/projects && echo "key=${ANTHROPIC_API_KEY}"';
    const typed = (result.messages.at(-1) as string)
      .replace(/^Enter with: /, "")
      .replace(/ claude --continue$/, ` sh -c '${probe}'`);
    // `devcontainer` as the person's shell finds it: the pinned CLI.
    const script = `node="$0"; cli="$1"; devcontainer() { "$node" "$cli" "$@"; }; ${typed}`;
    const inside = await onHost("sh", ["-c", script, process.execPath, DEVCONTAINER_BIN], repo);
    expect(inside.exitCode, inside.stderr).toBe(0);
    expect(inside.stdout).toContain("/home/vscode/.claude/projects");
    expect(inside.stdout).toContain("key=sk-ant-test-key-0000000000000000000000");

    // From a shell without the variable, a key given at exec time is the one the container gets (it was blanked
    // by the launch config's ${localEnv:ANTHROPIC_API_KEY} before).
    const other = await onHost(
      "env",
      [
        "-u",
        "ANTHROPIC_API_KEY",
        process.execPath,
        DEVCONTAINER_BIN,
        "exec",
        "--workspace-folder",
        repo,
        "--remote-env",
        "ANTHROPIC_API_KEY=sk-ant-given-at-exec",
        "sh",
        "-c",
        'echo "key=${ANTHROPIC_API_KEY}"',
      ],
      repo,
    );
    expect(other.exitCode, other.stderr).toBe(0);
    expect(other.stdout).toContain("key=sk-ant-given-at-exec");

    // A plain `devcontainer up` later (an editor, a teammate's habit) reuses that container, mounts and all.
    const up = await onHost(process.execPath, [DEVCONTAINER_BIN, "up", "--workspace-folder", repo], repo);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout.trim().split("\n").at(-1) ?? "{}")).toMatchObject({
      outcome: "success",
      containerId: result.containerId,
    });
    expect(await gitStatus(repo)).toBe("");

    // Opening it again: the same container, nothing written into the repo.
    const again = await cli(["dev-open", "--json"], repo);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ containerId: result.containerId });
    expect(await gitStatus(repo)).toBe("");
  });

  it("--write-config puts our lines into the repo's config (its backup in host-only state); a repo that has them launches as it is; unshare takes them out byte for byte", async () => {
    const repo = await makeRepo("team");
    const file = path.join(repo, ".devcontainer", "devcontainer.json");
    const original = readFileSync(file, "utf8");
    const opened = await cli(["dev-open", "--write-config", "--json"], repo);
    expect(opened.exitCode, opened.stderr).toBe(0);
    const result = JSON.parse(opened.stdout);
    // The repo's config gets our mounts; the host's credentials only ever go into the launch config in host-only state.
    const launchConfigs = `${home}/.claude/persist-host/configs/`;
    if (result.overrideConfig !== undefined) expect(result.overrideConfig.startsWith(launchConfigs)).toBe(true);
    expect(readFileSync(file, "utf8")).not.toContain("localEnv:ANTHROPIC_API_KEY");
    const backup = new RegExp(
      `^Updated \\.devcontainer/devcontainer\\.json \\(backup: (${home}/\\.claude/persist-host/backups/[^)]+)\\)\\.$`,
    );
    const backupFile = result.messages.map((line: string) => backup.exec(line)?.[1]).find(Boolean);
    expect(readFileSync(backupFile, "utf8")).toBe(original);
    expect(await gitStatus(repo)).toBe(" M .devcontainer/devcontainer.json");

    // The team commits it: the next dev-open uses the config as it is, on the same container.
    expect(
      (await onHost(GIT_AS_ANA[0] ?? "git", [...GIT_AS_ANA.slice(1), "commit", "-qam", "share Claude sessions"], repo))
        .exitCode,
    ).toBe(0);
    const again = await cli(["dev-open", "--json"], repo);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      containerId: result.containerId,
      messages: expect.arrayContaining(["The config already has the persistence mounts."]),
    });
    const launchedAgain = JSON.parse(again.stdout).overrideConfig;
    if (launchedAgain !== undefined) expect(launchedAgain.startsWith(launchConfigs)).toBe(true);
    expect(await gitStatus(repo)).toBe("");

    expect((await cli(["unshare"], repo)).exitCode).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(original);
  });

  it("/start-work right after /dev-open works without --carry, on the host and then in the container", async () => {
    const repo = await makeRepo("work");
    expect((await cli(["dev-open"], repo)).exitCode).toBe(0);

    const onTheHost = await cli(["start-work", "LIN-7", "--title", "Fix the login page"], repo);
    expect(onTheHost.exitCode, onTheHost.stderr).toBe(0);
    expect((await onHost("git", ["branch", "--show-current"], repo)).stdout).toBe("lin-7-fix-the-login-page");

    const inside = await host.inContainer(repo, [
      "node",
      PACK_IN_CONTAINER,
      "start-work",
      "LIN-8",
      "--title",
      "Second thing",
    ]);
    expect(inside.exitCode, `${inside.stdout}\n${inside.stderr}`).toBe(0);
    expect((await onHost("git", ["branch", "--show-current"], repo)).stdout).toBe("lin-8-second-thing");
    // The work item recorded inside names the host's path, as every other session sees it.
    const items = JSON.parse(
      readFileSync(path.join(home, ".claude", "persist-state", "work-items.json"), "utf8"),
    ) as Array<{ identifier: string; repoPath: string }>;
    expect(items.find((item) => item.identifier === "LIN-8")?.repoPath).toBe(repo);
  });

  it("start-work --worktree --open: git in the worktree's container works on its branch, with the main repo's objects", async () => {
    const repo = await makeRepo("tree");
    const started = await cli(["start-work", "LIN-9", "--title", "Worktree work", "--worktree", "--open"], repo);
    expect(started.exitCode, `${started.stdout}\n${started.stderr}`).toBe(0);
    const worktree = path.join(`${repo}.worktrees`, "lin-9-worktree-work");
    folders.push(worktree);
    expect(await gitStatus(repo)).toBe("");

    const branch = await host.inContainer(worktree, ["git", "branch", "--show-current"]);
    expect(branch.exitCode, branch.stderr).toBe(0);
    expect(branch.stdout.trim()).toBe("lin-9-worktree-work");
    const status = await host.inContainer(worktree, ["git", "status", "--porcelain"]);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout.trim()).toBe("");
    expect(started.stdout).toContain("is mounted at the same path, so git works on its branch inside");

    // Claude in there sees the branch, and the hook tells it which issue is in progress.
    const before = server.requests.length;
    const claude = await host.inContainer(worktree, ["/opt/claude/claude", "-p", "which branch?"]);
    expect(claude.exitCode, claude.stderr).toBe(0);
    const sent = JSON.stringify(server.requests.slice(before));
    expect(sent).toContain("Current branch: lin-9-worktree-work");
    expect(sent).toContain(
      'Work in progress here (started with /start-work): LIN-9 \\"Worktree work\\" on branch lin-9-worktree-work',
    );

    const commit = await host.inContainer(worktree, [
      "sh",
      "-c",
      `echo done > notes.txt && ${GIT_AS_ANA.join(" ")} add notes.txt && ${GIT_AS_ANA.join(" ")} commit -q -m "from the container"`,
    ]);
    expect(commit.exitCode, commit.stderr).toBe(0);
    // The commit is in the main repo's object store, on the worktree's branch.
    const log = await onHost("git", ["log", "-1", "--format=%s", "lin-9-worktree-work"], repo);
    expect(log.stdout).toBe("from the container");
    // Shared, not copied: the container sees the main repo's .git at its host path, as a mount.
    const mounts = await docker(engine, [
      "inspect",
      "--format",
      "{{range .Mounts}}{{.Source}}={{.Destination}} {{end}}",
      JSON.parse((await cli(["dev-open", "--json"], worktree)).stdout).containerId,
    ]);
    expect(mounts.stdout).toContain(`${path.join(repo, ".git")}=${path.join(repo, ".git")}`);
    const doctor = await cli(["doctor"], worktree);
    expect(doctor.stdout).toContain(
      `✓ the main repo's ${path.join(repo, ".git")} is mounted at the same path: git works in this worktree's container`,
    );
  });

  it("an image without node: dev-open says what is missing and how to add it, and doctor reports it", async () => {
    const nodeless = "claude-persist/devbase-nonode:bookworm";
    await docker(engine, ["build", "--network=none", "-q", "-t", nodeless, "-"], {
      input: `FROM ${image}\nRUN rm /usr/local/bin/node\n`,
    });
    const repo = await makeRepo("nonode", nodeless);
    const opened = await cli(["dev-open"], repo);
    expect(opened.exitCode, opened.stderr).toBe(0);
    expect(opened.stdout).toContain(
      "This container has no node: Claude works and sessions are shared, but the SessionStart hook",
    );
    expect(opened.stdout).toContain('"features": { "ghcr.io/devcontainers/features/node:1": {} }');
    const doctor = await cli(["doctor"], repo);
    expect(doctor.stdout).toContain(
      "✗ this container has no node: the SessionStart hook and /start-work cannot run there",
    );
  });
});
