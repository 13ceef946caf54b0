// The git side of a fork into a worktree: the commit the session was at when the message was written (the last
// commit on its `gitBranch` by then), and a new worktree on a new branch from it, named as the user asks or as
// /start-work names an issue's branch.
import type { Env } from "../claude/home.ts";
import { UserError } from "../errors.ts";
import { quoted } from "../work/git-errors.ts";
import { branchExists, checkBranchName, prepareBranch, repoRoot } from "../work/git.ts";
import { runGit as git } from "../work/git-run.ts";
import { lookupIssue } from "../work/issue-lookup.ts";
import { linearOptionsFromEnv } from "../work/linear.ts";
import { rememberWorkItem } from "../work/work-items.ts";

export type StartCommit = {
  readonly commit: string;
  /** How it was found, for the user: the commit the session was at, or why the branch's head was taken. */
  readonly how: string;
  readonly known: boolean;
};

/** The last commit on `branch` at `time`; when that cannot be known, the head of `branch` (or of this checkout). */
export async function commitAt(repo: string, branch: string | null, time: string | null): Promise<StartCommit> {
  const head = async (ref: string) => {
    const result = await git(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  };
  const named = branch !== null && (await branchExists(repo, branch).catch(() => false)) ? branch : undefined;
  if (named && time !== null && !Number.isNaN(Date.parse(time))) {
    const found = await git(repo, ["rev-list", "-1", `--before=${time}`, `refs/heads/${named}`, "--"]);
    const commit = found.exitCode === 0 ? found.stdout.trim() : "";
    if (commit) {
      return { commit, known: true, how: `${commit.slice(0, 12)}, the last commit on ${named} when it was written` };
    }
  }
  const ref = named ? `refs/heads/${named}` : "HEAD";
  const commit = await head(ref);
  if (!commit) throw new UserError(`${repo} has no commit to start a worktree from; make a first commit and run again`);
  const why =
    branch === null
      ? "the session does not say which branch it was on"
      : named
        ? `no commit on ${named} is older than the message`
        : `its branch ${quoted(branch)} is not here`;
  return {
    commit,
    known: false,
    how: `${commit.slice(0, 12)}, the head of ${named ?? "this checkout"}: which commit the session was at cannot be known (${why})`,
  };
}

export type Worktree = { readonly folder: string; readonly branch: string; readonly start: StartCommit };

/**
 * A new worktree on a new branch for a fork: `name` (or `fork/<session>-<turn>`), or the branch /start-work gives
 * `issue` (remembered as a work item, as /start-work does). Refuses a branch that exists: a fork starts its own.
 */
export async function makeWorktree(
  env: Env,
  cwd: string,
  at: { readonly branch: string | null; readonly time: string | null; readonly defaultName: string },
  want: { readonly name?: string; readonly issue?: string },
): Promise<Worktree> {
  const repo = await repoRoot(cwd);
  const issue = want.issue ? await lookupIssue(want.issue, { linear: linearOptionsFromEnv(env) }) : undefined;
  const branch = await checkBranchName(repo, issue?.branchName ?? want.name ?? at.defaultName);
  if (await branchExists(repo, branch)) {
    throw new UserError(
      `branch ${quoted(branch)} already exists; a fork starts a branch of its own: give another name with --worktree NAME`,
    );
  }
  const start = await commitAt(repo, at.branch, at.time);
  const prepared = await prepareBranch({ repo, branch, from: start.commit, worktree: true });
  if (issue) {
    await rememberWorkItem(env, {
      identifier: issue.identifier,
      title: issue.title,
      url: issue.linearAsked ? issue.issue.url : null,
      branch,
      repoPath: prepared.mainWorktree,
      worktreePath: prepared.folder,
      time: new Date().toISOString(),
      linearAsked: issue.linearAsked,
    });
  }
  return { folder: prepared.folder, branch, start };
}
