import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  branchExists,
  checkBranchName,
  currentBranch,
  defaultBranch,
  isDirty,
  listWorktrees,
  parseWorktreeList,
  prepareBranch,
  worktreePathFor,
  type PrepareBranchOptions,
} from "../src/work/git.ts";
import { neutralisersFor } from "../src/work/git-run.ts";
import { userErrorOf } from "./support/checks.ts";
import { mainIgnoresSecretThatBranchTracks } from "./support/git-repo.ts";

let scratch: string;
let dir: string;

// Tests must not depend on this machine's git config: a global file of our own, no system file.
beforeAll(() => {
  scratch = realpathSync(mkdtempSync(path.join(tmpdir(), "claude-persist-git-")));
  const globalConfig = path.join(scratch, "gitconfig");
  writeFileSync(globalConfig, "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n");
  process.env.GIT_CONFIG_GLOBAL = globalConfig;
  process.env.GIT_CONFIG_NOSYSTEM = "1";
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});
beforeEach(() => {
  dir = mkdtempSync(path.join(scratch, "case-"));
});

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await execa("git", args, { cwd })).stdout;
}

/** A repo at <dir>/app with `main` (a.txt = "a\n") and `feature` (a.txt = "feature\n"), on main. */
async function makeRepo(name = "app"): Promise<string> {
  const repo = path.join(dir, name);
  mkdirSync(repo);
  await git(repo, "init", "-q");
  writeFileSync(path.join(repo, "a.txt"), "a\n");
  await git(repo, "add", "a.txt");
  await git(repo, "commit", "-q", "-m", "first");
  await git(repo, "switch", "-q", "-c", "feature");
  writeFileSync(path.join(repo, "a.txt"), "feature\n");
  await git(repo, "commit", "-q", "-am", "feature");
  await git(repo, "switch", "-q", "main");
  return repo;
}

/**
 * prepareBranch's answer in the terms most tests here assert: whether the branch was created, whether this checkout
 * switched, and (with `worktree`) the linked worktree it is in and whether that was there before.
 */
async function prepare(options: PrepareBranchOptions) {
  const { branch, action, folder, mainWorktree } = await prepareBranch(options);
  const inWorktree = options.worktree === true;
  return {
    branch,
    created: action === "created",
    switched: !inWorktree && (action === "created" || action === "switched"),
    ...(inWorktree && folder !== mainWorktree ? { worktreePath: folder } : {}),
    ...(inWorktree ? { worktreeReused: action === "reused" } : {}),
  };
}

async function head(repo: string, ref = "HEAD"): Promise<string> {
  return git(repo, "rev-parse", ref);
}

/** Everything a failed call could have touched: branches, HEAD, worktrees, status, and a file's bytes. */
async function snapshot(repo: string): Promise<unknown> {
  return {
    branches: await git(repo, "branch", "--list", "--all"),
    head: await git(repo, "symbolic-ref", "HEAD"),
    worktrees: await git(repo, "worktree", "list", "--porcelain"),
    status: await git(repo, "status", "--porcelain", "--untracked-files=all"),
    a: readFileSync(path.join(repo, "a.txt")),
    stashes: await git(repo, "stash", "list"),
    siblings: existsSync(`${repo}.worktrees`),
  };
}

describe("verbs", () => {
  it("currentBranch, branchExists, isDirty", async () => {
    const repo = await makeRepo();
    expect(await currentBranch(repo)).toBe("main");
    expect(await branchExists(repo, "feature")).toBe(true);
    expect(await branchExists(repo, "nope")).toBe(false);
    expect(await isDirty(repo)).toBe(false);
    writeFileSync(path.join(repo, "new.txt"), "x");
    expect(await isDirty(repo)).toBe(true);
    await git(repo, "switch", "-q", "--detach");
    expect(await currentBranch(repo)).toBeUndefined();
  });

  it("defaultBranch: origin/HEAD first, else main or master, else the current branch", async () => {
    const origin = await makeRepo("origin");
    await git(origin, "branch", "-m", "main", "trunk");
    await git(dir, "clone", "-q", origin, "clone");
    expect(await defaultBranch(path.join(dir, "clone"))).toBe("origin/trunk");

    const repo = await makeRepo();
    expect(await defaultBranch(repo)).toBe("main");
    await git(repo, "branch", "-m", "main", "master");
    expect(await defaultBranch(repo)).toBe("master");
    await git(repo, "branch", "-m", "master", "develop");
    expect(await defaultBranch(repo)).toBe("develop");
  });

  it("parseWorktreeList reads porcelain records", () => {
    const porcelain = [
      "worktree /src/app",
      "HEAD 1111111111111111111111111111111111111111",
      "branch refs/heads/main",
      "",
      "worktree /src/app.worktrees/me-lin-1",
      "HEAD 2222222222222222222222222222222222222222",
      "branch refs/heads/me/lin-1",
      "locked",
      "",
      "worktree /src/elsewhere",
      "HEAD 3333333333333333333333333333333333333333",
      "detached",
      "prunable gitdir file points to non-existent location",
      "",
    ].join("\n");
    expect(parseWorktreeList(porcelain)).toEqual([
      {
        path: "/src/app",
        head: "1".repeat(40),
        branch: "main",
        bare: false,
        detached: false,
        locked: false,
        prunable: false,
      },
      {
        path: "/src/app.worktrees/me-lin-1",
        head: "2".repeat(40),
        branch: "me/lin-1",
        bare: false,
        detached: false,
        locked: true,
        prunable: false,
      },
      { path: "/src/elsewhere", head: "3".repeat(40), bare: false, detached: true, locked: false, prunable: true },
    ]);
  });

  it("worktreePathFor puts worktrees beside the repo, one folder per branch", () => {
    expect(worktreePathFor("/src/app", "me/lin-123-fix")).toBe("/src/app.worktrees/me-lin-123-fix");
  });
});

describe("prepareBranch in this checkout", () => {
  it("creates a new branch from the default branch and switches to it", async () => {
    const repo = await makeRepo();
    await git(repo, "switch", "-q", "feature");
    const result = await prepare({ repo, branch: "me/lin-123-fix-login" });
    expect(result).toEqual({ branch: "me/lin-123-fix-login", created: true, switched: true });
    expect(await currentBranch(repo)).toBe("me/lin-123-fix-login");
    expect(await head(repo)).toBe(await head(repo, "main"));
    // No upstream: a later `git push` must not land on main.
    await expect(git(repo, "rev-parse", "--abbrev-ref", "@{upstream}")).rejects.toThrow();
  });

  it("creates from origin's default branch when origin/HEAD is set", async () => {
    const origin = await makeRepo("origin");
    await git(dir, "clone", "-q", origin, "clone");
    const repo = path.join(dir, "clone");
    writeFileSync(path.join(repo, "a.txt"), "local only\n");
    await git(repo, "commit", "-q", "-am", "local commit on main");
    const result = await prepare({ repo, branch: "lin-5" });
    expect(result.created).toBe(true);
    expect(await head(repo)).toBe(await head(repo, "origin/main"));
    await expect(git(repo, "rev-parse", "--abbrev-ref", "@{upstream}")).rejects.toThrow();
  });

  it("continues a branch that exists only on origin, tracking it", async () => {
    const origin = await makeRepo("origin");
    await git(origin, "branch", "lin-6-shared", "feature");
    await git(dir, "clone", "-q", origin, "clone");
    const repo = path.join(dir, "clone");
    const result = await prepare({ repo, branch: "lin-6-shared" });
    expect(result).toEqual({ branch: "lin-6-shared", created: true, switched: true });
    expect(await head(repo)).toBe(await head(repo, "origin/feature"));
    expect(await git(repo, "rev-parse", "--abbrev-ref", "@{upstream}")).toBe("origin/lin-6-shared");
  });

  it("switches to an existing branch without moving it", async () => {
    const repo = await makeRepo();
    const before = await head(repo, "feature");
    const result = await prepare({ repo, branch: "feature", from: "main" });
    expect(result).toEqual({ branch: "feature", created: false, switched: true });
    expect(await currentBranch(repo)).toBe("feature");
    expect(await head(repo)).toBe(before);
  });

  it("does nothing when already on the branch, even with changes", async () => {
    const repo = await makeRepo();
    writeFileSync(path.join(repo, "a.txt"), "edited\n");
    expect(await prepare({ repo, branch: "main" })).toEqual({ branch: "main", created: false, switched: false });
    expect(readFileSync(path.join(repo, "a.txt"), "utf8")).toBe("edited\n");
  });

  it("creates from a --from ref", async () => {
    const repo = await makeRepo();
    await git(repo, "tag", "v1", "feature");
    const result = await prepare({ repo, branch: "lin-7", from: "v1" });
    expect(result).toEqual({ branch: "lin-7", created: true, switched: true });
    expect(await head(repo)).toBe(await head(repo, "feature"));
  });

  it("works from a subfolder", async () => {
    const repo = await makeRepo();
    mkdirSync(path.join(repo, "sub"));
    const result = await prepare({ repo: path.join(repo, "sub"), branch: "lin-8" });
    expect(result.created).toBe(true);
    expect(await currentBranch(repo)).toBe("lin-8");
  });

  it("refuses a --from that names nothing, changing nothing", async () => {
    const repo = await makeRepo();
    const before = await snapshot(repo);
    const error = await userErrorOf(prepareBranch({ repo, branch: "lin-9", from: "no-such-branch" }));
    expect(error.message).toBe(
      "--from no-such-branch: no such branch, tag or commit here; check the name (or git fetch first)",
    );
    expect(await snapshot(repo)).toEqual(before);
  });

  it("refuses a dirty tree without carry, and the changes are still there byte for byte", async () => {
    const repo = await makeRepo();
    const edited = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x65, 0x64, 0x69, 0x74]);
    writeFileSync(path.join(repo, "a.txt"), edited);
    writeFileSync(path.join(repo, "untracked.txt"), "mine\n");
    mkdirSync(path.join(repo, "staged"));
    writeFileSync(path.join(repo, "staged", "s.txt"), "staged\n");
    await git(repo, "add", "staged/s.txt");
    const before = await snapshot(repo);
    const error = await userErrorOf(prepareBranch({ repo, branch: "lin-10" }));
    expect(error.message).toBe(
      "you have uncommitted changes; commit or stash them, or pass --carry to take them to lin-10 (nothing was changed)",
    );
    expect(await snapshot(repo)).toEqual(before);
    expect(readFileSync(path.join(repo, "a.txt")).equals(edited)).toBe(true);
    expect(readFileSync(path.join(repo, "untracked.txt"), "utf8")).toBe("mine\n");
    expect(await git(repo, "diff", "--cached", "--name-only")).toBe("staged/s.txt");
  });

  it("carries the changes onto a new branch", async () => {
    const repo = await makeRepo();
    writeFileSync(path.join(repo, "a.txt"), "edited\n");
    writeFileSync(path.join(repo, "untracked.txt"), "mine\n");
    const result = await prepare({ repo, branch: "lin-11", carry: true });
    expect(result).toEqual({ branch: "lin-11", created: true, switched: true });
    expect(await currentBranch(repo)).toBe("lin-11");
    expect(readFileSync(path.join(repo, "a.txt"), "utf8")).toBe("edited\n");
    expect(readFileSync(path.join(repo, "untracked.txt"), "utf8")).toBe("mine\n");
  });

  it("carries the changes onto an existing branch when they don't conflict", async () => {
    const repo = await makeRepo();
    writeFileSync(path.join(repo, "b.txt"), "new file\n");
    await git(repo, "add", "b.txt");
    const result = await prepare({ repo, branch: "feature", carry: true });
    expect(result).toEqual({ branch: "feature", created: false, switched: true });
    expect(await git(repo, "status", "--porcelain")).toBe("A  b.txt");
  });

  it("refuses a carry whose switch would conflict, and loses nothing", async () => {
    const repo = await makeRepo();
    writeFileSync(path.join(repo, "a.txt"), "my edit on main\n");
    const before = await snapshot(repo);
    const error = await userErrorOf(prepareBranch({ repo, branch: "feature", carry: true }));
    expect(error.message).toBe(
      "your uncommitted changes to a.txt conflict with feature; commit or stash them, then run again (nothing was changed)",
    );
    expect(await snapshot(repo)).toEqual(before);
    expect(readFileSync(path.join(repo, "a.txt"), "utf8")).toBe("my edit on main\n");
  });

  it("refuses a carry onto a new branch from a conflicting --from, and creates no branch", async () => {
    const repo = await makeRepo();
    writeFileSync(path.join(repo, "a.txt"), "my edit on main\n");
    const before = await snapshot(repo);
    const error = await userErrorOf(prepareBranch({ repo, branch: "lin-12", from: "feature", carry: true }));
    expect(error.message).toBe(
      "your uncommitted changes to a.txt conflict with lin-12; commit or stash them, then run again (nothing was changed)",
    );
    expect(await snapshot(repo)).toEqual(before);
  });

  it("refuses an untracked file that the branch would overwrite, and keeps it", async () => {
    const repo = await makeRepo();
    await git(repo, "switch", "-q", "feature");
    writeFileSync(path.join(repo, "c.txt"), "tracked on feature\n");
    await git(repo, "add", "c.txt");
    await git(repo, "commit", "-q", "-m", "c");
    await git(repo, "switch", "-q", "main");
    writeFileSync(path.join(repo, "c.txt"), "my untracked c\n");
    const error = await userErrorOf(prepareBranch({ repo, branch: "feature", carry: true }));
    expect(error.message).toBe(
      "c.txt is not tracked here (untracked or ignored) but feature tracks it, and switching would overwrite it; move it out of the repo or use --worktree, then run again (nothing was changed)",
    );
    expect(readFileSync(path.join(repo, "c.txt"), "utf8")).toBe("my untracked c\n");
    expect(await currentBranch(repo)).toBe("main");
  });

  it.each([
    ["switching to it", false],
    ["creating a branch from it", true],
  ])("refuses to overwrite an ignored file that the branch tracks (%s), and keeps it", async (_name, fromRef) => {
    const repo = await makeRepo();
    await mainIgnoresSecretThatBranchTracks(repo, "feature", "TOKEN=local secret\n");
    const before = await snapshot(repo);
    const error = await userErrorOf(
      fromRef ? prepareBranch({ repo, branch: "lin-1", from: "feature" }) : prepareBranch({ repo, branch: "feature" }),
    );
    const branch = fromRef ? "lin-1" : "feature";
    expect(error.message).toBe(
      `secret.env is not tracked here (untracked or ignored) but ${branch} tracks it, and switching would overwrite it; move it out of the repo or use --worktree, then run again (nothing was changed)`,
    );
    expect(readFileSync(path.join(repo, "secret.env"), "utf8")).toBe("TOKEN=local secret\n");
    expect(await snapshot(repo)).toEqual(before);
  });

  it("refuses a branch that another worktree has checked out", async () => {
    const repo = await makeRepo();
    const other = path.join(dir, "other-wt");
    await git(repo, "worktree", "add", "-q", other, "feature");
    const error = await userErrorOf(prepareBranch({ repo, branch: "feature" }));
    expect(error.message).toBe(
      `feature is already checked out in the worktree at ${other}; work there, or use --worktree`,
    );
  });
});

describe("prepareBranch's answer", () => {
  it("says what it did and where the branch is checked out", async () => {
    const repo = await makeRepo();
    const answer = (branch: string, action: string, folder = repo) => ({ branch, action, folder, mainWorktree: repo });
    expect(await prepareBranch({ repo, branch: "lin-40" })).toEqual(answer("lin-40", "created"));
    expect(await prepareBranch({ repo, branch: "lin-40" })).toEqual(answer("lin-40", "reused"));
    expect(await prepareBranch({ repo, branch: "feature" })).toEqual(answer("feature", "switched"));
    expect(await prepareBranch({ repo, branch: "feature", worktree: true })).toEqual(answer("feature", "reused"));
    const worktrees = path.join(dir, "app.worktrees");
    expect(await prepareBranch({ repo, branch: "lin-41", worktree: true })).toEqual(
      answer("lin-41", "created", path.join(worktrees, "lin-41")),
    );
    expect(await prepareBranch({ repo, branch: "main", worktree: true })).toEqual(
      answer("main", "worktree-added", path.join(worktrees, "main")),
    );
    const linked = path.join(worktrees, "main");
    expect(await prepareBranch({ repo: linked, branch: "lin-41", worktree: true })).toEqual(
      answer("lin-41", "reused", path.join(worktrees, "lin-41")),
    );
    expect(await prepareBranch({ repo: linked, branch: "lin-42" })).toEqual(answer("lin-42", "created", linked));
  });
});

describe("prepareBranch with a worktree", () => {
  it("creates a worktree beside the repo, then reuses it on a second call", async () => {
    const repo = await makeRepo();
    const first = await prepare({ repo, branch: "me/lin-20-thing", worktree: true });
    const expected = path.join(dir, "app.worktrees", "me-lin-20-thing");
    expect(first).toEqual({
      branch: "me/lin-20-thing",
      created: true,
      switched: false,
      worktreePath: expected,
      worktreeReused: false,
    });
    expect(await currentBranch(repo)).toBe("main");
    expect(await currentBranch(expected)).toBe("me/lin-20-thing");
    expect(await head(expected)).toBe(await head(repo, "main"));

    const second = await prepare({ repo, branch: "me/lin-20-thing", worktree: true });
    expect(second).toEqual({
      branch: "me/lin-20-thing",
      created: false,
      switched: false,
      worktreePath: expected,
      worktreeReused: true,
    });
    expect((await listWorktrees(repo)).map((worktree) => worktree.path)).toEqual([repo, expected]);
  });

  it("reuses a worktree wherever it is, also when asked from inside another worktree", async () => {
    const repo = await makeRepo();
    const elsewhere = path.join(dir, "somewhere-else");
    await git(repo, "worktree", "add", "-q", elsewhere, "feature");
    const first = await prepare({ repo, branch: "lin-21", worktree: true });
    const fromInside = await prepare({ repo: first.worktreePath ?? "", branch: "feature", worktree: true });
    expect(fromInside).toEqual({
      branch: "feature",
      created: false,
      switched: false,
      worktreePath: elsewhere,
      worktreeReused: true,
    });
  });

  it("a branch checked out in the main worktree is reused without a worktreePath, also when asked from a linked worktree", async () => {
    const repo = await makeRepo();
    const before = await snapshot(repo);
    expect(await prepare({ repo, branch: "main", worktree: true })).toEqual({
      branch: "main",
      created: false,
      switched: false,
      worktreeReused: true,
    });
    expect(await snapshot(repo)).toEqual(before);
    const linked = await prepare({ repo, branch: "lin-22", worktree: true });
    expect(await prepare({ repo: linked.worktreePath ?? "", branch: "main", worktree: true })).toEqual({
      branch: "main",
      created: false,
      switched: false,
      worktreeReused: true,
    });
  });

  it("checks out an existing branch, and leaves a dirty checkout alone", async () => {
    const repo = await makeRepo();
    writeFileSync(path.join(repo, "a.txt"), "edited\n");
    const result = await prepare({ repo, branch: "feature", worktree: true });
    expect(result).toMatchObject({ created: false, worktreeReused: false });
    expect(readFileSync(path.join(result.worktreePath ?? "", "a.txt"), "utf8")).toBe("feature\n");
    expect(readFileSync(path.join(repo, "a.txt"), "utf8")).toBe("edited\n");
  });

  it("places worktrees beside the main worktree when run from a linked one", async () => {
    const repo = await makeRepo();
    const first = await prepare({ repo, branch: "lin-22", worktree: true });
    const second = await prepare({ repo: first.worktreePath ?? "", branch: "lin-23", worktree: true });
    expect(second.worktreePath).toBe(path.join(dir, "app.worktrees", "lin-23"));
  });

  it("says how to recover when a registered worktree's folder is gone", async () => {
    const repo = await makeRepo();
    const first = await prepare({ repo, branch: "lin-26", worktree: true });
    rmSync(first.worktreePath ?? "", { recursive: true, force: true });
    const error = await userErrorOf(prepareBranch({ repo, branch: "lin-26", worktree: true }));
    expect(error.message).toBe(
      `lin-26's worktree ${first.worktreePath} is registered but its folder is gone; run 'git worktree prune' and try again`,
    );
  });

  it("refuses carry together with worktree", async () => {
    const repo = await makeRepo();
    const before = await snapshot(repo);
    const error = await userErrorOf(prepareBranch({ repo, branch: "lin-24", worktree: true, carry: true }));
    expect(error.message).toBe(
      "--carry moves uncommitted changes in this checkout and --worktree leaves this checkout alone; pick one",
    );
    expect(await snapshot(repo)).toEqual(before);
  });

  it("refuses when the folder is taken by something else", async () => {
    const repo = await makeRepo();
    const taken = path.join(dir, "app.worktrees", "lin-25");
    mkdirSync(taken, { recursive: true });
    writeFileSync(path.join(taken, "keep.txt"), "mine");
    const error = await userErrorOf(prepareBranch({ repo, branch: "lin-25", worktree: true }));
    expect(error.message).toBe(`${taken} already exists but is not a worktree of lin-25; move it away and run again`);
    expect(await branchExists(repo, "lin-25")).toBe(false);
    expect(readFileSync(path.join(taken, "keep.txt"), "utf8")).toBe("mine");
  });
});

describe("hostile branch names are refused with no side effect", () => {
  const hostile = [
    "--upload-pack=touch /tmp/pwned",
    "--orphan",
    "-b",
    "-",
    "../../x",
    "a/../b",
    "a b",
    "lin-1\nrm -rf ~",
    "lin-1\u0000",
    '"; rm -rf ~"',
    "$(touch pwned)",
    "$(id)",
    "`id`",
    "a;b",
    "a|b",
    "a&&b",
    "a>b",
    "it's",
    "lin-1\u202eexe",
    "@{-1}",
    "@",
    "HEAD",
    "x.lock",
    "a..b",
    "a~1",
    "a^",
    "a:b",
    "a?",
    "a*",
    "a[b",
    "a\\b",
    "/abs",
    "trailing/",
    ".hidden",
    "",
    "x".repeat(10_240),
  ];

  it.each(hostile.map((name) => [name]))("%j as the branch", async (name) => {
    const repo = await makeRepo();
    const before = await snapshot(repo);
    const error = await userErrorOf(prepareBranch({ repo, branch: name }));
    expect(error.message).toMatch(
      /^refusing branch name ".*": not a plain git branch name \(letters, digits, \. _ \/ - \+ = , # @ %, not starting with "-"\); use one like lin-123-fix-login$/,
    );
    expect(error.message).toMatch(/^[\x20-\x7e]*$/);
    expect(await snapshot(repo)).toEqual(before);
    const worktreeError = await userErrorOf(prepareBranch({ repo, branch: name, worktree: true }));
    expect(worktreeError.message).toBe(error.message);
    expect(await snapshot(repo)).toEqual(before);
    expect(existsSync(path.join(dir, "pwned"))).toBe(false);
  });

  it.each([["--upload-pack=touch pwned"], ["-b"], ["main\nx"], ["@{-1}"], ["a b"], ["../../x"]])(
    "%j as --from",
    async (from) => {
      const repo = await makeRepo();
      const before = await snapshot(repo);
      const error = await userErrorOf(prepareBranch({ repo, branch: "lin-30", from }));
      expect(error.message).toMatch(
        /^refusing --from ".*": not a branch, tag or commit name; pass one like main or origin\/main$/,
      );
      expect(await snapshot(repo)).toEqual(before);
    },
  );

  it("checkBranchName accepts what Linear suggests", async () => {
    const repo = await makeRepo();
    for (const name of ["lin-123", "me/lin-123-fix-the-login-page", "feature/LIN-123_x.y", "jürgen/lin-1-café"]) {
      expect(await checkBranchName(repo, name)).toBe(name);
    }
  });
});

// The workspace's .git is writable from its dev container: what it names must not run as the host user.
describe("git as a tool: nothing the checkout's own .git names is run", () => {
  /** Plants a post-checkout and a reference-transaction hook, an fsmonitor, a filter driver and an ssh command. */
  async function plantRunners(repo: string): Promise<{ ran: () => string[]; hook: string }> {
    // Committed on every branch before the config names the driver (the planted config's, not the repo's, is the attack).
    for (const branch of ["feature", "main"]) {
      await git(repo, "switch", "-q", branch);
      writeFileSync(path.join(repo, ".gitattributes"), "*.txt filter=lfs\n");
      await git(repo, "add", ".gitattributes");
      await git(repo, "commit", "-q", "-m", "attributes");
    }
    const marks = path.join(dir, "ran");
    mkdirSync(marks);
    // Filters pass the content through; the others only leave their mark.
    const marker = (name: string) =>
      `#!/bin/sh\ntouch '${path.join(marks, name)}'\n${name === "smudge" || name === "clean" ? "cat\n" : ""}`;
    const hook = path.join(repo, ".git", "hooks", "post-checkout");
    for (const name of ["post-checkout", "reference-transaction"]) {
      writeFileSync(path.join(repo, ".git", "hooks", name), marker(name), { mode: 0o755 });
    }
    for (const name of ["fsmonitor", "smudge", "clean", "ssh"]) {
      writeFileSync(path.join(marks, `${name}.sh`), marker(name), { mode: 0o755 });
    }
    const config = path.join(repo, ".git", "config");
    writeFileSync(
      config,
      `${readFileSync(config, "utf8")}[core]\n\tfsmonitor = ${marks}/fsmonitor.sh\n\tsshCommand = ${marks}/ssh.sh\n` +
        `[filter "lfs"]\n\tsmudge = ${marks}/smudge.sh\n\tclean = ${marks}/clean.sh\n\trequired = true\n`,
    );
    return { ran: () => readdirSync(marks).filter((name) => !name.endsWith(".sh")), hook };
  }

  it("switching, creating a branch and checking status run no hook, fsmonitor or filter, and the skipped hook is named", async () => {
    const repo = await makeRepo();
    const { ran, hook } = await plantRunners(repo);
    writeFileSync(path.join(repo, "a.txt"), "changed\n");
    expect(await isDirty(repo)).toBe(true);
    writeFileSync(path.join(repo, "a.txt"), "a\n");
    const created = await prepareBranch({ repo, branch: "lin-1-new" });
    const switched = await prepareBranch({ repo, branch: "feature", carry: true });
    expect(ran()).toEqual([]);
    expect(created.skippedHook).toBe(hook);
    expect(switched.skippedHook).toBe(hook);
    expect(readFileSync(path.join(repo, "a.txt"), "utf8")).toBe("feature\n");
    // The same planted config does run under plain git: the test would catch a runner left on.
    await git(repo, "switch", "-q", "main");
    expect(ran()).toEqual(expect.arrayContaining(["post-checkout", "smudge"]));
  });

  it("a new worktree runs no hook or filter either, and says which hook it skipped", async () => {
    const repo = await makeRepo();
    const { ran, hook } = await plantRunners(repo);
    const prepared = await prepareBranch({ repo, branch: "lin-2-tree", worktree: true });
    expect(ran()).toEqual([]);
    expect(prepared.skippedHook).toBe(hook);
    expect(readFileSync(path.join(prepared.folder, "a.txt"), "utf8")).toBe("a\n");
  });

  it("a checkout without hooks has nothing to say", async () => {
    const repo = await makeRepo();
    expect((await prepareBranch({ repo, branch: "lin-3-plain" })).skippedHook).toBeUndefined();
  });
});

describe("neutralisersFor", () => {
  it("switches off what the checkout's own config names, and leaves the user's own config alone", () => {
    const listing = [
      "local\0filter.lfs.smudge\ngit-lfs smudge -- %f",
      "global\0filter.mine.clean\nmy-clean",
      "worktree\0filter.Odd.Name.process\n./x",
      "local\0core.sshcommand\n./evil",
      "global\0core.sshcommand\nssh -i ~/.ssh/work",
      "",
    ].join("\0");
    expect(neutralisersFor(listing)).toEqual([
      ["filter.lfs.clean", ""],
      ["filter.lfs.smudge", ""],
      ["filter.lfs.process", ""],
      ["filter.lfs.required", "false"],
      ["filter.Odd.Name.clean", ""],
      ["filter.Odd.Name.smudge", ""],
      ["filter.Odd.Name.process", ""],
      ["filter.Odd.Name.required", "false"],
      ["core.sshCommand", "ssh"],
    ]);
    expect(neutralisersFor("global\0core.sshcommand\nssh -i key\0")).toEqual([]);
  });

  it("a value whose line break poses as another entry stays a value: no hooks path comes from it", async () => {
    const repo = await makeRepo();
    const evilHooks = path.join(dir, "evil");
    const mark = path.join(dir, "hook-ran");
    // Read line by line, `git config --show-scope --get-regexp` printed "local<TAB>core.hooksPath=<evil>.smudge y" as
    // an entry of its own, and its neutralisers ended `-c core.hooksPath=<evil>.required=false`, given after ours:
    // git then ran the hooks in that folder, which the container can make.
    mkdirSync(`${evilHooks}.required=false`);
    writeFileSync(path.join(`${evilHooks}.required=false`, "post-checkout"), `#!/bin/sh\ntouch '${mark}'\n`, {
      mode: 0o755,
    });
    await git(repo, "config", "--add", "filter.x.process", `x\nlocal\tcore.hooksPath=${evilHooks}.smudge y`);
    // A subsection holding "=" cannot shift into another key either.
    await git(repo, "config", `filter.core.hooksPath=${evilHooks}.clean`, "cat");
    await prepareBranch({ repo, branch: "lin-4-injected" });
    expect(existsSync(mark)).toBe(false);
    expect(await git(repo, "branch", "--show-current")).toBe("lin-4-injected");
  });
});
