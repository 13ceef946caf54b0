// Previews (issue 26): `start-work --dry-run` and `snapshot prune --dry-run` say what they would do and do none of it
// (the Linear stand-in receives no mutation); `share --dry-run > x.patch` is a clean patch, its notes on stderr.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempDir, tempHome } from "./support/claude.ts";
import { startLinearServer, type FakeLinear } from "./support/linear-server.ts";

const KEY = "lin_api_test0000000000000000000000";
let gitEnv: Record<string, string>;
let linear: FakeLinear;
let home: string;

beforeAll(() => {
  const globalConfig = path.join(tempDir("cp-previews-"), "gitconfig");
  writeFileSync(globalConfig, "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n");
  gitEnv = { GIT_CONFIG_GLOBAL: globalConfig, GIT_CONFIG_NOSYSTEM: "1" };
});
beforeEach(async () => {
  linear = await startLinearServer();
  home = tempHome();
});
afterEach(() => linear.close());

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await execa("git", args, { cwd, env: gitEnv })).stdout;
}

async function makeRepo(): Promise<string> {
  const repo = path.join(tempDir("cp-preview-"), "app");
  mkdirSync(repo);
  await git(repo, "init", "-q");
  writeFileSync(path.join(repo, "a.txt"), "a\n");
  await git(repo, "add", "a.txt");
  await git(repo, "commit", "-q", "-m", "first");
  return repo;
}

/** Everything start-work could change in the repo. */
async function repoState(repo: string) {
  return {
    branches: await git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
    head: await git(repo, "symbolic-ref", "HEAD"),
    worktrees: await git(repo, "worktree", "list", "--porcelain"),
    siblings: readdirSync(path.dirname(repo)).sort(),
  };
}

const startWork = (repo: string, args: string[]) =>
  runCli(["start-work", ...args], {
    cwd: repo,
    env: { HOME: home, ...gitEnv, LINEAR_API_URL: linear.url, LINEAR_API_KEY: KEY },
  });

describe("start-work --dry-run", () => {
  it("names the branch and the Linear change it would make; the repo, Linear and the records stay as they were", async () => {
    const repo = await makeRepo();
    const before = await repoState(repo);
    const result = await startWork(repo, ["LIN-123", "--assign", "--dry-run"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Dry run: nothing was changed and nothing was sent to Linear\./);
    expect(result.stdout).toContain("Linear: would move it from Todo to In Progress and assign it to you.");
    expect(result.stdout).toContain(
      `Branch me/lin-123-fix-the-login-page: would be created and checked out in ${repo}.`,
    );
    expect(linear.operations("IssueStart")).toEqual([]);
    expect(linear.requests.every((request) => !/\bmutation\b/.test(request.body))).toBe(true);
    expect(linear.issue("LIN-123").stateId).not.toBe("st-progress");
    expect(await repoState(repo)).toEqual(before);
    expect(existsSync(path.join(home, ".claude", "persist-state", "work-items.json"))).toBe(false);
  });

  it("--worktree --json: the worktree it would add, one document, and no worktree", async () => {
    const repo = await makeRepo();
    const before = await repoState(repo);
    const result = await startWork(repo, ["LIN-123", "--worktree", "--json", "--dry-run"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const document = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(document).toMatchObject({
      ok: true,
      dryRun: true,
      action: "created",
      workItemRecorded: false,
      linearChanges: { state: "In Progress", assign: false },
    });
    expect(String(document.folder)).toContain(`${path.basename(repo)}.worktrees`);
    expect(existsSync(String(document.folder))).toBe(false);
    expect(linear.operations("IssueStart")).toEqual([]);
    expect(await repoState(repo)).toEqual(before);
  });
});

describe("snapshot prune --dry-run", () => {
  it("lists what would go and deletes nothing", async () => {
    const repo = await makeRepo();
    const env = { HOME: home, ...gitEnv };
    for (let i = 0; i < 3; i++) {
      const made = await runCli(["snapshot", "create"], { env, cwd: repo });
      expect(made.exitCode, made.stderr).toBe(0);
    }
    const list = async () =>
      (
        JSON.parse((await runCli(["snapshot", "list", "--json"], { env, cwd: repo })).stdout) as {
          snapshots: { id: string; archive: string }[];
        }
      ).snapshots;
    const before = await list();
    expect(before).toHaveLength(3);
    const preview = await runCli(["snapshot", "prune", "--keep", "1", "--dry-run"], { env, cwd: repo });
    expect(preview.exitCode, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/^Dry run: would delete 2 snapshots and keep 1:/);
    for (const old of before.slice(1)) expect(preview.stdout).toContain(old.id);
    expect(await list()).toEqual(before);
    for (const snapshot of before) expect(existsSync(snapshot.archive)).toBe(true);
    const json = await runCli(["snapshot", "prune", "--keep", "1", "--dry-run", "--json"], { env, cwd: repo });
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      dryRun: true,
      kept: [before[0]?.id],
      removed: before.slice(1).map((s) => s.id),
    });
    expect(await list()).toEqual(before);
  });
});

describe("share --dry-run", () => {
  it("writes only the patch on stdout (git apply takes it), the header and notes on stderr", async () => {
    const repo = await makeRepo();
    mkdirSync(path.join(repo, ".devcontainer"));
    const config = path.join(repo, ".devcontainer", "devcontainer.json");
    writeFileSync(config, '{\n  // ours\n  "image": "debian:bookworm",\n  "remoteUser": "vscode",\n}\n');
    const result = await runCli(["share", "--dry-run"], { env: { HOME: home, ...gitEnv }, cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(
      result.stdout.startsWith("--- a/.devcontainer/devcontainer.json\n+++ b/.devcontainer/devcontainer.json\n"),
    ).toBe(true);
    expect(result.stderr).toContain(`claude-persist share dry run for ${repo} (nothing was written):`);
    expect(result.stderr).not.toContain("dev-open");
    const patch = path.join(tempDir(), "x.patch");
    writeFileSync(patch, `${result.stdout}\n`); // execa strips the last newline; a shell redirect keeps it
    const before = readFileSync(config, "utf8");
    await execa("git", ["apply", "--check", patch], { cwd: repo });
    expect(readFileSync(config, "utf8")).toBe(before);
  });
});
