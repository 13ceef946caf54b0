// The two places usage shows outside its own table: the status line under Claude Code's prompt (where the session
// runs, its work item, its cost), and a comment on the Linear issue (`usage --issue LIN-123 --post`).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { STATUSLINE_COMMAND } from "../src/usage/statusline-install.ts";
import { runCli, tempDir, tempHome } from "./support/claude.ts";
import { type FakeLinear, startLinearServer } from "./support/linear-server.ts";
import { SONNET, sessionLines, writeLines } from "./support/usage-tree.ts";

const BRANCH = "me/lin-123-fix-the-login-page";

function gitRepo(branch: string): string {
  const repo = tempDir("cp-status-");
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "ignore" });
  git("init", "-q", "-b", branch);
  git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "start");
  return repo;
}

function rememberWorkItem(home: string, repo: string, worktreePath: string | null = null, branch = BRANCH): void {
  const state = path.join(home, ".claude", "persist-state");
  mkdirSync(state, { recursive: true });
  const item = {
    identifier: "LIN-123",
    title: "Fix the login page",
    url: null,
    branch,
    repoPath: repo,
    worktreePath,
    time: "2026-11-01T00:00:00.000Z",
    linearAsked: true,
  };
  writeFileSync(path.join(state, "work-items.json"), JSON.stringify([item]));
}

const status = (cwd: string, cost: number) =>
  JSON.stringify({
    hook_event_name: "Status",
    session_id: "aaaaaaaa-0000-4000-8000-000000000001",
    cwd,
    model: { id: SONNET, display_name: "Sonnet 4.5" },
    workspace: { current_dir: cwd, project_dir: cwd },
    cost: { total_cost_usd: cost, total_duration_ms: 60_000 },
  });

describe("claude-persist statusline", () => {
  let home: string;
  let repo: string;
  const env = () => ({ HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" });

  beforeEach(() => {
    home = tempHome();
    repo = gitRepo(BRANCH);
    rememberWorkItem(home, repo);
  });

  it("shows where the session runs, the work item of its branch and what it has cost", async () => {
    const run = await runCli(["statusline"], { env: env(), input: status(repo, 1.234) });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe(`host ${hostname()} · LIN-123 Fix the login page · $1.23`);
    // In a linked worktree on another branch (its .git is a file): that branch, no work item for it.
    const worktree = path.join(tempDir("cp-status-wt-"), "wt");
    execFileSync("git", ["worktree", "add", "-q", "-b", "spike", worktree], { cwd: repo, stdio: "ignore" });
    const inWorktree = await runCli(["statusline"], { env: env(), input: status(worktree, 0) });
    expect(inWorktree.stdout).toBe(`host ${hostname()} · spike · $0.00`);
    // Whatever Claude Code sends that is not its status JSON: still one line, never a failure under the prompt.
    const garbage = await runCli(["statusline"], { env: env(), cwd: repo, input: "not json" });
    expect(garbage.exitCode).toBe(0);
    expect(garbage.stdout).toBe(`host ${hostname()} · LIN-123 Fix the login page`);
  });

  it("is installed into settings.json only when asked, never over the user's own status line", async () => {
    const settings = path.join(home, ".claude", "settings.json");
    writeFileSync(settings, '{\n  "model": "opus"\n}\n');
    expect((await runCli(["install"], { env: env() })).exitCode).toBe(0);
    expect(JSON.parse(readFileSync(settings, "utf8")).statusLine).toBeUndefined();
    const install = await runCli(["statusline", "--install"], { env: env() });
    expect(install.exitCode, install.stderr).toBe(0);
    const written = JSON.parse(readFileSync(settings, "utf8"));
    expect(written).toMatchObject({ model: "opus", statusLine: { type: "command", command: STATUSLINE_COMMAND } });
    // The command Claude Code will run (through sh -c) finds the installed runtime and prints the line.
    const shown = await execa("sh", ["-c", STATUSLINE_COMMAND], {
      env: { PATH: process.env.PATH ?? "", HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
      extendEnv: false,
      input: status(repo, 0.5),
    });
    expect(shown.stdout).toBe(`host ${hostname()} · LIN-123 Fix the login page · $0.50`);
    const uninstall = await runCli(["statusline", "--uninstall"], { env: env() });
    expect(uninstall.exitCode, uninstall.stderr).toBe(0);
    const after = JSON.parse(readFileSync(settings, "utf8"));
    expect(after.statusLine).toBeUndefined();
    expect(after.model).toBe("opus");
    // The user's own status line stays, byte for byte.
    const own = '{\n  "statusLine": { "type": "command", "command": "~/bin/my-line" }\n}\n';
    writeFileSync(settings, own);
    const refused = await runCli(["statusline", "--install"], { env: env() });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("already has a statusLine of your own");
    expect(readFileSync(settings, "utf8")).toBe(own);
  });
});

describe("claude-persist usage --issue LIN-123 --post", () => {
  let linear: FakeLinear;
  let home: string;
  let repo: string;

  beforeAll(async () => {
    linear = await startLinearServer();
  });
  afterAll(async () => {
    await linear.close();
  });

  beforeEach(() => {
    home = tempHome();
    repo = gitRepo(BRANCH);
    rememberWorkItem(home, repo);
    const id = "aaaaaaaa-0000-4000-8000-000000000007";
    writeLines(
      path.join(home, ".claude", "projects", encodeProjectSlug(repo), `${id}.jsonl`),
      sessionLines(id, [
        {
          prompt: "fix it",
          time: "2026-11-02T10:00:00.000Z",
          branch: BRANCH,
          cwd: repo,
          responses: [{ id: "msg_p1", model: SONNET, time: "2026-11-02T10:02:00.000Z", input: 100000, output: 10000 }],
        },
      ]),
    );
  });

  const env = (key = true) => ({
    HOME: home,
    LINEAR_API_URL: linear.url,
    ...(key ? { LINEAR_API_KEY: "lin_api_test" } : {}),
  });
  const comments = () => linear.issue("LIN-123").comments ?? [];

  it("shows the comment and asks first; no answer or 'n' posts nothing, 'y' posts it once", async () => {
    const before = comments().length;
    const declined = await runCli(["usage", "--issue", "LIN-123", "--post"], { env: env(), cwd: repo, input: "n\n" });
    expect(declined.exitCode).toBe(1);
    // 100,000 input and 10,000 output tokens of Sonnet 4.5: $0.30 + $0.15.
    expect(declined.stderr).toContain("| Cost | $0.45 |");
    expect(declined.stderr).toContain("Post this comment to LIN-123? [y/N]");
    expect(declined.stderr).toContain("Not posted");
    const noAnswer = await runCli(["usage", "--issue", "LIN-123", "--post"], { env: env(), cwd: repo, input: "" });
    expect(noAnswer.exitCode).toBe(1);
    expect(comments().length).toBe(before);
    const yes = await runCli(["usage", "--issue", "lin-123", "--post"], { env: env(), cwd: repo, input: "y\n" });
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(yes.stdout).toContain("Posted the usage of LIN-123 to Linear");
    expect(comments().length).toBe(before + 1);
    const body = comments().at(-1) ?? "";
    expect(body).toContain("**Claude Code usage on LIN-123**");
    expect(body).toContain("| Tokens | 110,000 (input 100,000, output 10,000, cache write 0, cache read 0) |");
    expect(body).toContain("| Active time | 2m |");
    expect(body).toContain("| Sessions | 1 (host $0.45) |");
  });

  it("--yes posts without asking; without LINEAR_API_KEY it says what to set, and posts nothing", async () => {
    const before = comments().length;
    const missing = await runCli(["usage", "--issue", "LIN-123", "--post", "--yes"], { env: env(false), cwd: repo });
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain("LINEAR_API_KEY");
    expect(comments().length).toBe(before);
    const yes = await runCli(["usage", "--issue", "LIN-123", "--post", "--yes"], { env: env(), cwd: repo });
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(yes.stderr).not.toContain("[y/N]");
    expect(comments().length).toBe(before + 1);
  });
});
