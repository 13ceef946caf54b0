// `start-work` as a user runs it: the built CLI, real git repositories in temporary folders, and the fake Linear
// server standing in for api.linear.app.
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempDir, tempHome } from "./support/claude.ts";
import { mainIgnoresSecretThatBranchTracks } from "./support/git-repo.ts";
import { startLinearServer, type FakeLinear } from "./support/linear-server.ts";

const KEY = "lin_api_test0000000000000000000000";
let scratch: string;
let gitEnv: Record<string, string>;
let linear: FakeLinear;
let home: string;

// Tests must not depend on this machine's git config: a global file of our own, no system file.
beforeAll(() => {
  scratch = tempDir("cp-start-work-");
  const globalConfig = path.join(scratch, "gitconfig");
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

/** A repository `app` with one commit on `main`, in a fresh folder. */
async function makeRepo(): Promise<string> {
  const repo = path.join(tempDir("cp-sw-"), "app");
  mkdirSync(repo);
  await git(repo, "init", "-q");
  writeFileSync(path.join(repo, "a.txt"), "a\n");
  await git(repo, "add", "a.txt");
  await git(repo, "commit", "-q", "-m", "first");
  return repo;
}

function startWork(repo: string, args: string[], { online = true }: { online?: boolean } = {}) {
  return runCli(["start-work", ...args], {
    cwd: repo,
    env: { HOME: home, ...gitEnv, LINEAR_API_URL: linear.url, ...(online ? { LINEAR_API_KEY: KEY } : {}) },
  });
}

const workItemsFile = () => path.join(home, ".claude", "persist-state", "work-items.json");
const workItems = (): unknown[] =>
  existsSync(workItemsFile()) ? JSON.parse(readFileSync(workItemsFile(), "utf8")) : [];

/** Everything a refused run could have touched in the repo. */
async function snapshot(repo: string) {
  return {
    branches: await git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
    head: await git(repo, "symbolic-ref", "HEAD"),
    status: await git(repo, "status", "--porcelain", "--untracked-files=all"),
    worktrees: await git(repo, "worktree", "list", "--porcelain"),
  };
}

describe("start-work with Linear", () => {
  it("checks out Linear's branch, moves the issue to In Progress, remembers it and prints the issue", async () => {
    const repo = await makeRepo();
    const result = await startWork(repo, ["LIN-123"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe("");

    expect(await git(repo, "branch", "--show-current")).toBe("me/lin-123-fix-the-login-page");
    expect(linear.operations("IssueStart")).toHaveLength(1);
    expect(linear.operations("IssueStart")[0]?.variables).toEqual({
      id: "issue-123",
      input: { stateId: "st-progress" },
    });
    expect(linear.issue("LIN-123").stateId).toBe("st-progress");
    expect(linear.requests.every((request) => request.headers.authorization === KEY)).toBe(true);

    expect(workItems()).toEqual([
      {
        identifier: "LIN-123",
        title: "Fix the login page",
        url: "https://linear.app/acme/issue/LIN-123/lin-123-fix-the-login-page",
        branch: "me/lin-123-fix-the-login-page",
        repoPath: repo,
        worktreePath: null,
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        linearAsked: true,
      },
    ]);
    expect(result.stdout).toBe(
      [
        "LIN-123: Fix the login page",
        "  https://linear.app/acme/issue/LIN-123/lin-123-fix-the-login-page",
        "  state: In Progress (moved from Todo)",
        `Branch me/lin-123-fix-the-login-page: created and checked out in ${repo}.`,
        `Remembered: the next Claude sessions in ${repo} are told this issue is in progress.`,
        "",
        "Description (from Linear):",
        "The login page **breaks** on Safari.",
      ].join("\n"),
    );
  });

  it("a second run (by URL) changes nothing: no second mutation, same branch, one work item", async () => {
    const repo = await makeRepo();
    expect((await startWork(repo, ["LIN-123"])).exitCode).toBe(0);
    const before = await snapshot(repo);
    const again = await startWork(repo, ["https://linear.app/acme/issue/LIN-123/fix-the-login-page"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain("state: In Progress (unchanged)");
    expect(again.stdout).toContain(
      `Branch me/lin-123-fix-the-login-page: already checked out in ${repo}; nothing to change.`,
    );
    expect(linear.operations("IssueStart")).toHaveLength(1);
    expect(linear.operations("TeamStates")).toHaveLength(1);
    expect(await snapshot(repo)).toEqual(before);
    expect(workItems()).toEqual([expect.objectContaining({ identifier: "LIN-123", repoPath: repo })]);
  });

  it("switches to an existing branch, and records one work item per issue", async () => {
    const repo = await makeRepo();
    expect((await startWork(repo, ["LIN-123"])).exitCode).toBe(0);
    expect((await startWork(repo, ["LIN-124"])).exitCode).toBe(0);
    const back = await startWork(repo, ["lin-123"]);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(back.stdout).toContain(`Branch me/lin-123-fix-the-login-page: already existed; checked out in ${repo}.`);
    expect(await git(repo, "branch", "--show-current")).toBe("me/lin-123-fix-the-login-page");
    // Re-started items move to the end: the file is in the order work was (re)started.
    expect(workItems().map((item) => (item as { identifier: string }).identifier)).toEqual(["LIN-124", "LIN-123"]);
    // LIN-124 was already In Review: left there.
    expect(linear.issue("LIN-124").stateId).toBe("st-review");
    expect(linear.operations("IssueStart")).toHaveLength(1);
  });

  it("--worktree twice: a worktree beside the repo, then the same one reused; this checkout stays as it was", async () => {
    const repo = await makeRepo();
    const worktree = `${repo}.worktrees/me-lin-123-fix-the-login-page`;
    const first = await startWork(repo, ["LIN-123", "--worktree"]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      `Branch me/lin-123-fix-the-login-page: created, in a new worktree at ${worktree}; work there (cd ${worktree}).`,
    );
    expect(await git(repo, "branch", "--show-current")).toBe("main");
    expect(await git(worktree, "branch", "--show-current")).toBe("me/lin-123-fix-the-login-page");

    const second = await startWork(repo, ["LIN-123", "--worktree"]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toContain(`already checked out in the worktree at ${worktree}; reused it.`);
    expect((await git(repo, "worktree", "list", "--porcelain")).match(/^worktree /gm)).toHaveLength(2);
    expect(linear.operations("IssueStart")).toHaveLength(1);
    expect(workItems()).toEqual([
      expect.objectContaining({ identifier: "LIN-123", repoPath: repo, worktreePath: worktree }),
    ]);
  });

  it("--worktree when the main checkout already has the branch: no worktree, none recorded, work goes on there", async () => {
    const repo = await makeRepo();
    expect((await startWork(repo, ["LIN-123"])).exitCode).toBe(0);
    const linked = `${repo}.worktrees/lin-124-already-going`;
    expect((await startWork(repo, ["LIN-124", "--worktree"])).exitCode).toBe(0);
    // Asked from the linked worktree, where the user may well be.
    const result = await startWork(linked, ["LIN-123", "--worktree", "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      action: "reused",
      repoPath: repo,
      worktreePath: null,
      folder: repo,
    });
    const text = await startWork(repo, ["LIN-123", "--worktree"]);
    expect(text.stdout).toContain(
      `Branch me/lin-123-fix-the-login-page: already checked out in ${repo}; nothing to change.`,
    );
    expect(workItems()).toEqual([
      expect.objectContaining({ identifier: "LIN-124", worktreePath: linked }),
      expect.objectContaining({ identifier: "LIN-123", repoPath: repo, worktreePath: null }),
    ]);
  });

  it("a dirty checkout is refused in one line, before Linear is changed, and the changes stay", async () => {
    const repo = await makeRepo();
    writeFileSync(path.join(repo, "a.txt"), "work in progress\n");
    writeFileSync(path.join(repo, "new.txt"), "not yet added\n");
    const before = await snapshot(repo);
    const result = await startWork(repo, ["LIN-123"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("you have uncommitted changes; commit or stash them, or pass --carry");
    expect(await snapshot(repo)).toEqual(before);
    expect(readFileSync(path.join(repo, "a.txt"), "utf8")).toBe("work in progress\n");
    expect(readFileSync(path.join(repo, "new.txt"), "utf8")).toBe("not yet added\n");
    expect(linear.operations("IssueStart")).toEqual([]);
    expect(linear.issue("LIN-123").stateId).toBe("st-todo");
    expect(workItems()).toEqual([]);
  });

  it("an ignored file that Linear's branch tracks is kept: one line, nothing changed, Linear not changed", async () => {
    const repo = await makeRepo();
    await mainIgnoresSecretThatBranchTracks(repo, "me/lin-123-fix-the-login-page", "TOKEN=my local secret\n", gitEnv);
    const before = await snapshot(repo);
    const result = await startWork(repo, ["LIN-123"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "claude-persist start-work: secret.env is not tracked here (untracked or ignored) but me/lin-123-fix-the-login-page tracks it, and switching would overwrite it; move it out of the repo or use --worktree, then run again (nothing was changed)",
    );
    expect(readFileSync(path.join(repo, "secret.env"), "utf8")).toBe("TOKEN=my local secret\n");
    expect(await snapshot(repo)).toEqual(before);
    expect(linear.operations("IssueStart")).toEqual([]);
    expect(workItems()).toEqual([]);
  });

  it("--carry takes the changes along to the new branch", async () => {
    const repo = await makeRepo();
    writeFileSync(path.join(repo, "a.txt"), "work in progress\n");
    const result = await startWork(repo, ["LIN-123", "--carry"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await git(repo, "branch", "--show-current")).toBe("me/lin-123-fix-the-login-page");
    expect(readFileSync(path.join(repo, "a.txt"), "utf8")).toBe("work in progress\n");
  });

  it("--no-status leaves the state alone; --assign assigns", async () => {
    const repo = await makeRepo();
    const result = await startWork(repo, ["LIN-123", "--no-status", "--assign"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("  state: Todo (left alone: --no-status), assigned to you");
    expect(linear.issue("LIN-123")).toMatchObject({ stateId: "st-todo", assigneeId: "user-me" });
  });

  it("--json prints one object", async () => {
    const repo = await makeRepo();
    const result = await startWork(repo, ["LIN-123", "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: true,
      open: null,
      identifier: "LIN-123",
      title: "Fix the login page",
      url: "https://linear.app/acme/issue/LIN-123/lin-123-fix-the-login-page",
      linearAsked: true,
      state: "In Progress",
      stateMoved: true,
      assigned: false,
      branch: "me/lin-123-fix-the-login-page",
      action: "created",
      repoPath: repo,
      worktreePath: null,
      folder: repo,
      workItemRecorded: true,
      description: "The login page **breaks** on Safari.",
      notes: [],
    });
  });

  it("a title with bidi overrides and C1 controls is one plain line in the report and the next session's context", async () => {
    const repo = await makeRepo();
    linear.issue("LIN-123").title = "Fix\u202e\u009b2J the\u0085login\u2028page";
    const result = await startWork(repo, ["LIN-123"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe("LIN-123: Fix 2J the login page");
    const input = JSON.stringify({
      session_id: "0b7e4a8c-1111-4222-8333-944445555666",
      cwd: repo,
      hook_event_name: "SessionStart",
      source: "startup",
    });
    const hook = await runCli(["hook", "session-start"], {
      env: { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
      input,
    });
    const context: string = JSON.parse(hook.stdout).hookSpecificOutput.additionalContext;
    expect(context).toContain(
      'Work in progress here (started with /start-work): LIN-123 "Fix 2J the login page" on branch',
    );
    expect(context).not.toMatch(/[\u0080-\u009f\u202e\u2028]/);
  });

  it("trims a long description and strips control characters from it", async () => {
    const repo = await makeRepo();
    linear.issue("LIN-123").description = `Start\u001b[2J here. ${"x".repeat(5_000)}`;
    const result = await startWork(repo, ["LIN-123"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toContain("\u001b");
    expect(result.stdout).toContain("Start[2J here.");
    expect(result.stdout).toMatch(/\n\[… \d+ more characters in Linear\]$/);
    expect(result.stdout.length).toBeLessThan(5_000);
  });

  it("a Linear error is one line, and nothing is changed", async () => {
    const repo = await makeRepo();
    const before = await snapshot(repo);
    const result = await startWork(repo, ["LIN-999"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      "claude-persist start-work: Linear has no issue LIN-999 that this key can see; check the identifier, and that LINEAR_API_KEY belongs to the issue's workspace",
    );
    expect(await snapshot(repo)).toEqual(before);
    expect(workItems()).toEqual([]);
  });

  it.each([
    ["a team without a started state", ["OPS-7"], () => {}, 'team OPS has no workflow state of type "started"'],
    [
      "a rate limit on reading the team's states",
      ["LIN-123"],
      () =>
        linear.answerFor("TeamStates", {
          kind: "status",
          status: 429,
          body: JSON.stringify({ errors: [{ message: "Rate limited", extensions: { code: "RATELIMITED" } }] }),
        }),
      "Linear's rate limit for this key is used up",
    ],
    [
      "a timeout on the viewer (--assign)",
      ["LIN-123", "--no-status", "--assign"],
      () => linear.answerFor("Viewer", { kind: "hang" }),
      "Linear did not answer within",
    ],
  ])("%s: one line, and nothing changed in git or Linear", async (_name, args, arrange, message) => {
    const repo = await makeRepo();
    arrange();
    const before = await snapshot(repo);
    const result = await runCli(["start-work", ...args], {
      cwd: repo,
      env: {
        HOME: home,
        ...gitEnv,
        LINEAR_API_URL: linear.url,
        LINEAR_API_KEY: KEY,
        // A short limit only where the stand-in hangs: on a loaded machine an answer can take longer than 0.5 s.
        ...(message.startsWith("Linear did not answer") ? { LINEAR_TIMEOUT_MS: "500" } : {}),
      },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(message);
    expect(await snapshot(repo)).toEqual(before);
    expect(existsSync(`${repo}.worktrees`)).toBe(false);
    expect(linear.operations("IssueStart")).toEqual([]);
    expect(workItems()).toEqual([]);
  });

  it("the mutation failing: branch ready, work item recorded, the report with one note, exit 0", async () => {
    const repo = await makeRepo();
    linear.answerFor("IssueStart", {
      kind: "graphqlErrors",
      errors: [{ message: "Forbidden for this key", extensions: { code: "FORBIDDEN" } }],
    });
    const result = await startWork(repo, ["LIN-123"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    expect(linear.operations("IssueStart")).toHaveLength(1);
    expect(linear.issue("LIN-123").stateId).toBe("st-todo");
    expect(await git(repo, "branch", "--show-current")).toBe("me/lin-123-fix-the-login-page");
    expect(workItems()).toEqual([
      expect.objectContaining({ identifier: "LIN-123", repoPath: repo, branch: "me/lin-123-fix-the-login-page" }),
    ]);
    const lines = result.stdout.split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "LIN-123: Fix the login page",
      "  https://linear.app/acme/issue/LIN-123/lin-123-fix-the-login-page",
      "  state: Todo (not changed: see the note below)",
      `Branch me/lin-123-fix-the-login-page: created and checked out in ${repo}.`,
      `Remembered: the next Claude sessions in ${repo} are told this issue is in progress.`,
    ]);
    expect(lines.filter((line) => line.startsWith("note: "))).toEqual([
      "note: the issue's state in Linear was not changed (Linear answered an error for IssueStart: Forbidden for this key; check the issue and LINEAR_API_URL, then try again); the branch is ready: do that in Linear, or run start-work LIN-123 again later",
    ]);
    expect(result.stdout).toContain("Description (from Linear):");
  });

  it("the mutation answering success: false, with --worktree and --json: the worktree is recorded, the note is in notes", async () => {
    const repo = await makeRepo();
    linear.answerFor("IssueStart", {
      kind: "garbage",
      body: JSON.stringify({ data: { issueUpdate: { success: false, issue: null } } }),
    });
    const result = await startWork(repo, ["LIN-123", "--worktree", "--assign", "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const worktree = `${repo}.worktrees/me-lin-123-fix-the-login-page`;
    expect(JSON.parse(result.stdout)).toMatchObject({
      state: "Todo",
      stateMoved: false,
      assigned: false,
      action: "created",
      worktreePath: worktree,
      workItemRecorded: true,
      notes: [
        "the issue's state in Linear was not changed nor was it assigned to you (Linear did not update LIN-123; check that your key may edit issues of team LIN); the branch is ready: do that in Linear, or run start-work LIN-123 again later",
      ],
    });
    expect(workItems()).toEqual([expect.objectContaining({ identifier: "LIN-123", worktreePath: worktree })]);
  });

  it("--open runs dev-open on the branch's folder (here: the worktree, which has no dev container config)", async () => {
    const repo = await makeRepo();
    const worktree = `${repo}.worktrees/me-lin-123-fix-the-login-page`;
    const result = await startWork(repo, ["LIN-123", "--worktree", "--open"]);
    expect(result.stdout).toContain(`Opening ${worktree} in its dev container (dev-open):`);
    expect(result.stderr).toContain(`claude-persist dev-open: No dev container config in ${worktree}`);
    expect(result.exitCode).toBe(1);
    // The work was done before dev-open was asked.
    expect(workItems()).toEqual([expect.objectContaining({ identifier: "LIN-123", worktreePath: worktree })]);
  });

  it("--open --json prints one object, with dev-open's exit code and result under open (a null result when it failed)", async () => {
    const repo = await makeRepo();
    const result = await startWork(repo, ["LIN-123", "--open", "--json"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`claude-persist dev-open: No dev container config in ${repo}`);
    // One JSON document (indented), ok: false as dev-open failed, though the work was done.
    expect(JSON.parse(result.stdout)).toEqual(
      expect.objectContaining({ ok: false, identifier: "LIN-123", folder: repo, open: { exitCode: 1, result: null } }),
    );
  });
});

describe("start-work refuses a branch name from Linear that does not fit, in one line, changing nothing", () => {
  const unsafe = 'is not a safe git branch name (letters, digits, . _ / - + = , # @ %, not starting with "-")';
  it.each([
    ["-x", unsafe],
    ["a..b", unsafe],
    ["HEAD", unsafe],
    ["x #1", unsafe],
    ["origin/lin-123-fix", "starts with origin/, which git would confuse with origin's own branches"],
    ["main", "is the repo's default branch, not a branch of its own"],
    ["refs/heads/lin-123", "starts with refs/, which git reads as a full ref name rather than a branch"],
    ["FETCH_HEAD", "is a name git gives a meaning of its own (HEAD, FETCH_HEAD, ORIG_HEAD…)"],
    ["me/ORIG_HEAD", "is a name git gives a meaning of its own (HEAD, FETCH_HEAD, ORIG_HEAD…)"],
    ["m\u0430in", 'mixes Latin and Cyrillic letters, so it can look like another name (a Cyrillic "а" in "mаin")'],
    ["upstream", "is the name of the remote upstream, which git would read instead"],
    ["upstream/lin-123", "starts with upstream/, which git would confuse with upstream's own branches"],
  ])("%j", async (branchName, why) => {
    const repo = await makeRepo();
    await git(repo, "remote", "add", "upstream", "https://example.invalid/app.git");
    linear.issue("LIN-123").branchName = branchName;
    const before = await snapshot(repo);
    const result = await startWork(repo, ["LIN-123"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      // Letters outside ASCII are shown escaped, so the look-alike is visible.
      `claude-persist start-work: Linear's suggested branch name for LIN-123, ${JSON.stringify(branchName).replace("\u0430", "\\u0430")}, ${why}; ` +
        "change the issue's branch name in Linear, or run with LINEAR_API_KEY unset to use lin-123 (lin-123-<title> with --title)",
    );
    expect(await snapshot(repo)).toEqual(before);
    expect(linear.operations("IssueStart")).toEqual([]);
    expect(linear.issue("LIN-123").stateId).toBe("st-todo");
    expect(workItems()).toEqual([]);
  });
});

describe("start-work on a detached HEAD", () => {
  async function detachedWithOwnCommit(): Promise<{ repo: string; head: string }> {
    const repo = await makeRepo();
    await git(repo, "checkout", "-q", "--detach");
    writeFileSync(path.join(repo, "b.txt"), "b\n");
    await git(repo, "add", "b.txt");
    await git(repo, "commit", "-q", "-m", "made on a detached HEAD");
    return { repo, head: await git(repo, "rev-parse", "HEAD") };
  }

  it("refuses when the commit there is on no branch, says how to keep it, and stays where it is", async () => {
    const { repo, head } = await detachedWithOwnCommit();
    const result = await startWork(repo, ["LIN-123"], { online: false });
    expect(result.exitCode).toBe(1);
    const short = head.slice(0, 12);
    expect(result.stderr.trim()).toBe(
      `claude-persist start-work: HEAD is detached at ${short}, a commit no branch holds: switching to lin-123 would leave it reachable only from the reflog; ` +
        `keep it with 'git branch <name> ${short}', or start lin-123 from it with --from ${short}, then run again (nothing was changed)`,
    );
    expect(await git(repo, "rev-parse", "HEAD")).toBe(head);
    expect(await git(repo, "branch", "--list", "lin-123")).toBe("");
  });

  it("with --from that commit, starts the branch there, so the commit is kept", async () => {
    const { repo, head } = await detachedWithOwnCommit();
    const result = await startWork(repo, ["LIN-123", "--from", head.slice(0, 12)], { online: false });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await git(repo, "branch", "--show-current")).toBe("lin-123");
    expect(await git(repo, "rev-parse", "HEAD")).toBe(head);
  });
});

describe("start-work without LINEAR_API_KEY", () => {
  it("says Linear was not asked and names the branch after the issue", async () => {
    const repo = await makeRepo();
    const result = await startWork(repo, ["LIN-123"], { online: false });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("Linear was not asked (LINEAR_API_KEY is not set)");
    expect(await git(repo, "branch", "--show-current")).toBe("lin-123");
    expect(linear.requests).toEqual([]);
    expect(workItems()).toEqual([
      expect.objectContaining({ identifier: "LIN-123", title: null, url: null, branch: "lin-123", linearAsked: false }),
    ]);
  });

  it("run in a linked worktree, creates the branch there and says so (not 'a new worktree')", async () => {
    const repo = await makeRepo();
    const linked = `${repo}-linked`;
    await git(repo, "worktree", "add", "-q", "-b", "other", linked);
    const result = await startWork(linked, ["LIN-123"], { online: false });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Branch lin-123: created and checked out in ${realpathSync(linked)}.`);
    expect(await git(linked, "branch", "--show-current")).toBe("lin-123");
    expect(await git(repo, "branch", "--show-current")).toBe("main");
  });

  it("--title names the branch lin-123-<slug>", async () => {
    const repo = await makeRepo();
    const result = await startWork(repo, ["lin-123", "--title", "Fix the login page!"], { online: false });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe("LIN-123: Fix the login page!");
    expect(await git(repo, "branch", "--show-current")).toBe("lin-123-fix-the-login-page");
    expect(linear.requests).toEqual([]);
  });
});

describe("start-work in a checkout whose .git a container could have written", () => {
  it("runs no planted post-checkout hook, and says it did not run it", async () => {
    const repo = await makeRepo();
    const mark = path.join(path.dirname(repo), "hook-ran");
    const hook = path.join(repo, ".git", "hooks", "post-checkout");
    writeFileSync(hook, `#!/bin/sh\ntouch '${mark}'\n`, { mode: 0o755 });
    const result = await startWork(repo, ["LIN-123"], { online: false });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await git(repo, "branch", "--show-current")).toBe("lin-123");
    expect(existsSync(mark)).toBe(false);
    expect(result.stdout).toContain(`note: git's post-checkout hook ${hook} was not run:`);
  });
});

describe("start-work refuses hostile arguments before git or the network", () => {
  it.each([
    ["a shell command", ["; rm -rf ~"]],
    ["an option for git", ["--upload-pack=x"]],
    ["a path", ["../../x"]],
    ["a newline", ["LIN-1\ntouch /tmp/x"]],
    ["a command substitution", ["$(touch /tmp/x)"]],
    ["10 kB", [`LIN-1${"1".repeat(10_000)}`]],
    ["a URL elsewhere", ["https://evil.example/acme/issue/LIN-1/x"]],
    ["an option as --from", ["LIN-123", "--from=--upload-pack=x"]],
    ["a second argument", ["LIN-123", "; rm -rf ~"]],
    ["a multi-line --title", ["LIN-123", "--title", "one\ntwo"]],
    ["--carry with --worktree", ["LIN-123", "--carry", "--worktree"]],
    ["no issue at all", []],
  ])("%s: exit 2, one line, nothing asked or changed", async (_name, args) => {
    const repo = await makeRepo();
    const before = await snapshot(repo);
    const result = await startWork(repo, args);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^claude-persist start-work: /);
    expect(result.stderr.length).toBeLessThan(400);
    expect(linear.requests).toEqual([]);
    expect(await snapshot(repo)).toEqual(before);
    expect(existsSync(workItemsFile())).toBe(false);
  });

  it("outside a git repository: one line, Linear not asked", async () => {
    const folder = tempDir("cp-sw-nogit-");
    const result = await startWork(folder, ["LIN-123"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `claude-persist start-work: ${folder} is not inside a git working tree; cd into your project first`,
    );
    expect(linear.requests).toEqual([]);
  });
});

describe("start-work in a dev container that /dev-open made", () => {
  const HOST_APP = "/Users/ana/code/app";
  const inContainer = (workspace: string, hostWorkspace = HOST_APP) => ({
    CLAUDE_PERSIST_ENVIRONMENT: "container",
    CLAUDE_PERSIST_HOST_WORKSPACE: hostWorkspace,
    CLAUDE_PERSIST_CONTAINER_WORKSPACE: workspace,
  });
  const runIn = (cwd: string, args: string[], extra: Record<string, string>) =>
    runCli(["start-work", ...args], {
      cwd,
      env: { HOME: home, ...gitEnv, LINEAR_API_URL: linear.url, LINEAR_API_KEY: KEY, ...extra },
    });
  const sessionContext = async (cwd: string, extra: Record<string, string>): Promise<string> => {
    const input = JSON.stringify({
      session_id: "0b7e4a8c-1111-4222-8333-944445555666",
      cwd,
      hook_event_name: "SessionStart",
      source: "startup",
    });
    const result = await runCli(["hook", "session-start"], { env: { HOME: home, ...extra }, input });
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout).hookSpecificOutput.additionalContext;
  };

  it("records the host's paths: a host session in the repo is told the issue is in progress there, another repo's container is not", async () => {
    const repo = await makeRepo();
    const result = await runIn(repo, ["LIN-123"], inContainer(repo));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Branch me/lin-123-fix-the-login-page: created and checked out in ${repo}.`);
    expect(workItems()).toEqual([
      expect.objectContaining({ identifier: "LIN-123", repoPath: HOST_APP, worktreePath: null }),
    ]);

    const here = "Work in progress here (started with /start-work): LIN-123";
    expect(await sessionContext(HOST_APP, { CLAUDE_PERSIST_ENVIRONMENT: "host" })).toContain(here);
    expect(await sessionContext(`${HOST_APP}/src`, { CLAUDE_PERSIST_ENVIRONMENT: "host" })).toContain(here);
    expect(await sessionContext(repo, inContainer(repo))).toContain(here);
    // Another repo whose container mounts it at the same path.
    const other = await sessionContext(repo, inContainer(repo, "/Users/ana/code/other"));
    expect(other).not.toContain(here);
    expect(other).toContain(`- LIN-123 "Fix the login page": branch me/lin-123-fix-the-login-page in ${HOST_APP}`);
  });

  it("a repo in a subfolder of the workspace maps to the same subfolder on the host", async () => {
    const repo = await makeRepo();
    const workspace = path.dirname(repo);
    const result = await runIn(repo, ["LIN-123", "--json"], inContainer(workspace, "/Users/ana/code/mono"));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ repoPath: "/Users/ana/code/mono/app", folder: repo });
    expect(workItems()).toEqual([expect.objectContaining({ repoPath: "/Users/ana/code/mono/app" })]);
  });

  it("--worktree is refused in one line, before Linear or git is touched", async () => {
    const repo = await makeRepo();
    const before = await snapshot(repo);
    const result = await runIn(repo, ["LIN-123", "--worktree"], inContainer(repo));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `claude-persist start-work: --worktree in a dev container would put the worktree beside the workspace, outside the mount, where it goes with the container; run start-work LIN-123 --worktree on the host (in ${HOST_APP}) instead`,
    );
    expect(linear.requests).toEqual([]);
    expect(await snapshot(repo)).toEqual(before);
    expect(existsSync(`${repo}.worktrees`)).toBe(false);
    expect(workItems()).toEqual([]);
  });
});

describe("start-work's lines when Linear answers with escape sequences", () => {
  // OSC 52 (writes the clipboard), a CSI that clears the screen, an 8-bit CSI (C1), a bidi override.
  const HOSTILE = "\u001b]52;c;cm0gLXJmIH4K\u0007\u001b[2J\u009b31m\u202e";
  /** What a terminal would act on. */
  const RAW = /[\u0007\u001b\u0080-\u009f\u202a-\u202e\u2066-\u2069]/;

  it("an identifier carrying them is refused in one clean line: no branch, no work item, Linear not changed", async () => {
    const repo = await makeRepo();
    const issue = linear.issue("LIN-123");
    // Still found by what start-work asks for; answered with another identifier.
    issue.id = "LIN-123";
    issue.identifier = `LIN-123${HOSTILE}`;
    const before = await snapshot(repo);
    const result = await startWork(repo, ["LIN-123"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout + result.stderr).not.toMatch(RAW);
    expect(result.stderr).toMatch(
      /^claude-persist start-work: Linear answered the question for LIN-123 with another issue \(LIN-123 \]52;c;/,
    );
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(await snapshot(repo)).toEqual(before);
    expect(linear.operations("IssueStart")).toEqual([]);
    expect(workItems()).toEqual([]);
  });

  it("a title carrying them: the identifier line is plain text, and the work starts", async () => {
    const repo = await makeRepo();
    linear.issue("LIN-123").title = `Fix ${HOSTILE}the login page`;
    const result = await startWork(repo, ["LIN-123"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toMatch(RAW);
    expect(result.stdout.split("\n")[0]).toBe("LIN-123: Fix  ]52;c;cm0gLXJmIH4K [2J 31m the login page");
    expect(await git(repo, "branch", "--show-current")).toBe("me/lin-123-fix-the-login-page");
  });

  it("a title carrying them, with --json: the document keeps the title exact, and spells C1 and bidi as JSON escapes", async () => {
    const repo = await makeRepo();
    const title = `Fix ${HOSTILE}the login page`;
    linear.issue("LIN-123").title = title;
    const result = await startWork(repo, ["LIN-123", "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toMatch(RAW);
    expect(result.stdout).toContain("\\u009b31m\\u202e");
    expect(JSON.stringify(JSON.parse(result.stdout))).toContain(JSON.stringify(title).slice(1, -1));
  });

  it("a branch name carrying them is refused in one line that shows them escaped", async () => {
    const repo = await makeRepo();
    linear.issue("LIN-123").branchName = `lin-123${HOSTILE}`;
    const before = await snapshot(repo);
    const result = await startWork(repo, ["LIN-123"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout + result.stderr).not.toMatch(RAW);
    expect(result.stderr).toContain("Linear's suggested branch name for LIN-123, \"lin-123\\u001b]52;c;");
    expect(await snapshot(repo)).toEqual(before);
  });
});
