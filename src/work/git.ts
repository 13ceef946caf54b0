// Git, one small verb per operation. Every call is an argument array; names that come from outside are
// checked once, by the exported function they enter through (never starting with "-", always what
// `git check-ref-format` accepts), and go after "--" where git takes it. The helpers that are not exported
// trust their input. Failures are one UserError sentence that says what to do (git-errors.ts).
import { existsSync } from "node:fs";
import path from "node:path";
import { UserError } from "../errors.ts";
import { runGit as git, skippedHook } from "./git-run.ts";
import { badBranch, badRef, checkedOutElsewhere, gitFailed, switchFailed } from "./git-errors.ts";

/** The top folder of the working tree that holds `dir`. */
export async function repoRoot(dir: string): Promise<string> {
  if (!existsSync(dir)) throw new UserError(`${dir} does not exist; run this from inside your project`);
  const result = await git(dir, ["rev-parse", "--show-toplevel"]);
  if (result.exitCode !== 0) throw new UserError(`${dir} is not inside a git working tree; cd into your project first`);
  return result.stdout;
}

/** The checked-out branch, or undefined when HEAD is detached. */
export async function currentBranch(repo: string): Promise<string | undefined> {
  const result = await git(repo, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
  return result.exitCode === 0 ? result.stdout : undefined;
}

export async function branchExists(repo: string, branch: string): Promise<boolean> {
  return refExists(repo, `refs/heads/${await checkBranchName(repo, branch)}`);
}

async function refExists(repo: string, fullRef: string): Promise<boolean> {
  return (await git(repo, ["show-ref", "--verify", "--quiet", "--", fullRef])).exitCode === 0;
}

/** The commit `ref` (already checked) names, or undefined when it names none. */
async function resolveCommit(repo: string, ref: string): Promise<string | undefined> {
  const result = await git(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  return result.exitCode === 0 ? result.stdout : undefined;
}

/**
 * Where new work starts: `origin/<default>` when origin/HEAD is set, else `main` or `master` (whichever
 * exists), else the current branch.
 */
export async function defaultBranch(repo: string): Promise<string> {
  const known = await declaredDefaultBranch(repo);
  if (known) return known;
  const current = await currentBranch(repo);
  if (current) return current;
  throw new UserError(
    "can't tell which branch to start from (no origin/HEAD, main or master, and HEAD is detached); pass --from <ref>",
  );
}

/** `origin/<default>` when origin/HEAD is set, else `main` or `master` when one exists. */
async function declaredDefaultBranch(repo: string): Promise<string | undefined> {
  const originHead = await git(repo, ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"]);
  if (originHead.exitCode === 0 && originHead.stdout) return originHead.stdout;
  for (const name of ["main", "master"]) {
    if (await refExists(repo, `refs/heads/${name}`)) return name;
  }
  return undefined;
}

/**
 * Why `branch` cannot be the branch of one piece of work in `repo` (a clause like "is not a safe git branch name"),
 * or undefined when it can: it must be a safe name, not under origin/, and not the repo's default branch.
 */
export async function unfitWorkBranch(repo: string, branch: string): Promise<string | undefined> {
  if (!(await isSafeBranchName(repo, branch))) {
    return `is not a safe git branch name (letters, digits, . _ / - + = , # @ %, not starting with "-")`;
  }
  if (branch.startsWith("refs/")) return "starts with refs/, which git reads as a full ref name rather than a branch";
  if (/^[A-Z_]*HEAD$/i.test(branch.split("/").at(-1) ?? ""))
    return "is a name git gives a meaning of its own (HEAD, FETCH_HEAD, ORIG_HEAD…)";
  const scripts = mixedScripts(branch);
  if (scripts) return `mixes ${scripts} letters, so it can look like another name (a Cyrillic "а" in "mаin")`;
  const remotes = await git(repo, ["remote"]);
  for (const remote of remotes.exitCode === 0 ? remotes.stdout.split("\n").filter(Boolean) : ["origin"]) {
    if (branch === remote) return `is the name of the remote ${remote}, which git would read instead`;
    if (branch.startsWith(`${remote}/`))
      return `starts with ${remote}/, which git would confuse with ${remote}'s own branches`;
  }
  if (branch.startsWith("origin/")) return "starts with origin/, which git would confuse with origin's own branches";
  const base = await declaredDefaultBranch(repo);
  if (base !== undefined && branch === base.replace(/^origin\//, ""))
    return "is the repo's default branch, not a branch of its own";
  return undefined;
}

// Scripts whose letters pass for Latin ones: a name that mixes them is a look-alike of another name.
const LOOK_ALIKE_SCRIPTS = ["Latin", "Cyrillic", "Greek", "Armenian", "Cherokee"] as const;

/** "Latin and Cyrillic" when `name` has letters of more than one of those scripts, else undefined. */
function mixedScripts(name: string): string | undefined {
  const found = LOOK_ALIKE_SCRIPTS.filter((script) => new RegExp(`\\p{Script=${script}}`, "u").test(name));
  return found.length > 1 ? found.join(" and ") : undefined;
}

/** Uncommitted changes, staged or not, or untracked files (ignored files don't count). */
export async function isDirty(repo: string): Promise<boolean> {
  const result = await git(repo, ["status", "--porcelain", "--untracked-files=normal"]);
  if (result.exitCode !== 0) throw gitFailed("git status", result);
  return result.stdout !== "";
}

// By default `git switch` overwrites ignored files (a local secret.env) with the branch's tracked ones: make it refuse.
const KEEP_IGNORED = "--no-overwrite-ignore";

/** Switches to an existing branch; uncommitted changes come along, or git refuses and nothing changes. */
async function switchBranch(repo: string, branch: string): Promise<void> {
  const result = await git(repo, ["switch", KEEP_IGNORED, "--no-guess", "--", branch]);
  if (result.exitCode !== 0) throw switchFailed(branch, result);
}

/**
 * Creates `branch` at `from` and switches to it. `track` makes `from` (a remote-tracking branch) its upstream;
 * otherwise it has none, so that a later `git push` can't land on the branch it started from.
 */
async function createBranch(repo: string, branch: string, from: string, { track = false } = {}): Promise<void> {
  const result = await git(repo, ["switch", KEEP_IGNORED, track ? "--track" : "--no-track", "-c", branch, "--", from]);
  if (result.exitCode !== 0) throw switchFailed(branch, result);
}

export type Worktree = {
  readonly path: string;
  readonly head?: string;
  /** Short name (`feat/x`), absent when detached or bare. */
  readonly branch?: string;
  readonly bare: boolean;
  readonly detached: boolean;
  readonly locked: boolean;
  readonly prunable: boolean;
};

/** Every worktree of the repository, the main one first. */
export async function listWorktrees(repo: string): Promise<Worktree[]> {
  const result = await git(repo, ["worktree", "list", "--porcelain"]);
  if (result.exitCode !== 0) throw gitFailed("git worktree list", result);
  return parseWorktreeList(result.stdout);
}

/** Parses `git worktree list --porcelain`: records of `key value` lines, separated by blank lines. */
export function parseWorktreeList(porcelain: string): Worktree[] {
  const worktrees: Worktree[] = [];
  for (const record of porcelain.split(/\n\n+/)) {
    const fields = new Map<string, string>();
    for (const line of record.split("\n")) {
      if (!line) continue;
      const space = line.indexOf(" ");
      fields.set(space === -1 ? line : line.slice(0, space), space === -1 ? "" : line.slice(space + 1));
    }
    const worktreePath = fields.get("worktree");
    if (worktreePath === undefined) continue;
    const branchRef = fields.get("branch");
    worktrees.push({
      path: worktreePath,
      ...(fields.has("HEAD") ? { head: fields.get("HEAD") } : {}),
      ...(branchRef ? { branch: branchRef.replace(/^refs\/heads\//, "") } : {}),
      bare: fields.has("bare"),
      detached: fields.has("detached"),
      locked: fields.has("locked"),
      prunable: fields.has("prunable"),
    });
  }
  return worktrees;
}

/**
 * Adds a worktree at `worktreePath`: for an existing `branch` when `from` is not given, else for a new
 * `branch` created at `from` (`track` as for createBranch).
 */
async function addWorktree(
  repo: string,
  worktreePath: string,
  branch: string,
  { from, track = false }: { from?: string; track?: boolean } = {},
): Promise<void> {
  const target = path.resolve(repo, worktreePath);
  const args =
    from === undefined
      ? ["worktree", "add", "--", target, branch]
      : ["worktree", "add", track ? "--track" : "--no-track", "-b", branch, "--", target, from];
  const result = await git(repo, args);
  if (result.exitCode !== 0) throw gitFailed(`git worktree add ${target}`, result);
}

/** `<parent of the main worktree>/<its name>.worktrees/<branch, "/" made "-">`: beside the repo, never inside it. */
export function worktreePathFor(mainWorktree: string, branch: string): string {
  return path.join(path.dirname(mainWorktree), `${path.basename(mainWorktree)}.worktrees`, branch.replaceAll("/", "-"));
}

const MAX_REF_NAME = 200;

/**
 * `branch` if git accepts it as a new branch name, else a UserError: nothing starting with "-", only the
 * characters above, no `@{…}` shorthands, nothing `git check-ref-format --branch` refuses or rewrites.
 */
export async function checkBranchName(repo: string, branch: string): Promise<string> {
  if (!(await isSafeBranchName(repo, branch))) throw badBranch(branch);
  return branch;
}

async function isSafeBranchName(repo: string, branch: string): Promise<boolean> {
  if (!plausibleRefName(branch) || !BRANCH_CHARACTERS.test(branch) || branch === "@" || branch.includes("@{"))
    return false;
  const result = await git(repo, ["check-ref-format", "--branch", branch]);
  return result.exitCode === 0 && result.stdout === branch;
}

/** `ref` if it has the shape of a ref (branch, remote branch, tag, commit id), else a UserError. */
export async function checkRefName(repo: string, ref: string): Promise<string> {
  if (!plausibleRefName(ref)) throw badRef(ref);
  const result = await git(repo, ["check-ref-format", "--allow-onelevel", ref]);
  if (result.exitCode !== 0) throw badRef(ref);
  return ref;
}

// Branch names travel on into prompts, hook context and shell prompts: letters, digits and . _ / - + = , # @ %
// only, nothing a shell gives meaning to. Linear's suggestions (`user/lin-123-title-slug`) always fit.
const BRANCH_CHARACTERS = /^[\p{L}\p{N}._/+=,#@%-]+$/u;

function plausibleRefName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_REF_NAME && !name.startsWith("-") && !/[\x00-\x20\x7f]/.test(name);
}

export type PrepareBranchOptions = {
  /** The top folder of this checkout, as repoRoot gives it. */
  readonly repo: string;
  /** Used as given (Linear's `branchName`), once git accepts it. */
  readonly branch: string;
  /** Where a new branch starts; default: see defaultBranch. Ignored when the branch exists (here or on origin). */
  readonly from?: string;
  /** Take uncommitted changes along to the branch (git refuses, and nothing changes, if they conflict). */
  readonly carry?: boolean;
  /** Check the branch out in a worktree beside the repo instead of switching this one. */
  readonly worktree?: boolean;
  /** Check everything and say what would be done, but create, switch and add nothing. */
  readonly dryRun?: boolean;
};

export type PreparedBranch = {
  readonly branch: string;
  /**
   * `created`: the branch did not exist (locally) and now does, here or in a new worktree; `switched`: this checkout
   * moved to the existing branch; `worktree-added`: the existing branch is checked out in a new worktree;
   * `reused`: the branch was already checked out (here, or with `worktree` in any worktree) and nothing changed.
   */
  readonly action: "created" | "switched" | "worktree-added" | "reused";
  /** Where the branch is checked out now: this checkout, or a worktree. */
  readonly folder: string;
  /** The repository's main worktree. */
  readonly mainWorktree: string;
  /** The checkout's post-checkout hook, which git would have run and the pack's git did not (see git-run.ts). */
  readonly skippedHook?: string;
};

/**
 * Gets `branch` ready to work on: switched to in this checkout, or in a worktree. An existing branch (local,
 * or on origin as of the last fetch) is used; otherwise it is created from `from` or the default branch.
 * Uncommitted changes are never lost: without `carry` a dirty checkout is refused before anything happens.
 */
export async function prepareBranch({
  repo: root,
  branch,
  from,
  carry = false,
  worktree = false,
  dryRun = false,
}: PrepareBranchOptions): Promise<PreparedBranch> {
  const name = await checkBranchName(root, branch);
  const fromCommit = from === undefined ? undefined : await resolveCommit(root, await checkRefName(root, from));
  if (from !== undefined && fromCommit === undefined) {
    throw new UserError(`--from ${from}: no such branch, tag or commit here; check the name (or git fetch first)`);
  }
  if (worktree && carry) {
    throw new UserError(
      "--carry moves uncommitted changes in this checkout and --worktree leaves this checkout alone; pick one",
    );
  }
  const worktrees = await listWorktrees(root);
  const mainWorktree = worktrees[0]?.path ?? root;
  const holder = worktrees.find((entry) => entry.branch === name);

  if (worktree) {
    if (holder) {
      if (!existsSync(holder.path)) {
        throw new UserError(
          `${name}'s worktree ${holder.path} is registered but its folder is gone; run 'git worktree prune' and try again`,
        );
      }
      return { branch: name, action: "reused", folder: holder.path, mainWorktree };
    }
    const target = worktreePathFor(mainWorktree, name);
    if (existsSync(target)) {
      throw new UserError(`${target} already exists but is not a worktree of ${name}; move it away and run again`);
    }
    const start = await startFor(root, name, fromCommit);
    if (dryRun)
      return { branch: name, action: start.existing ? "worktree-added" : "created", folder: target, mainWorktree };
    await addWorktree(root, target, name, start.existing ? {} : { from: start.ref, track: start.track });
    const action = start.existing ? "worktree-added" : "created";
    return withSkippedHook({ branch: name, action, folder: target, mainWorktree });
  }

  if ((await currentBranch(root)) === name) return { branch: name, action: "reused", folder: root, mainWorktree };
  if (holder) throw checkedOutElsewhere(name, holder.path);
  if (!carry && (await isDirty(root))) {
    throw new UserError(
      `you have uncommitted changes; commit or stash them, or pass --carry to take them to ${name} (nothing was changed)`,
    );
  }
  const start = await startFor(root, name, fromCommit);
  await refuseToLeaveOrphanCommit(root, name, start.existing ? undefined : start.ref);
  if (dryRun) return { branch: name, action: start.existing ? "switched" : "created", folder: root, mainWorktree };
  if (start.existing) await switchBranch(root, name);
  else await createBranch(root, name, start.ref, { track: start.track });
  return withSkippedHook({ branch: name, action: start.existing ? "switched" : "created", folder: root, mainWorktree });
}

async function withSkippedHook(prepared: PreparedBranch): Promise<PreparedBranch> {
  const hook = await skippedHook(prepared.folder, "post-checkout");
  return hook ? { ...prepared, skippedHook: hook } : prepared;
}

/**
 * On a detached HEAD whose commit no branch, tag or remote branch holds, switching away would leave that commit to
 * the reflog (git only warns, and the warning went unseen): refuse, unless the new branch starts from it.
 */
async function refuseToLeaveOrphanCommit(
  root: string,
  branch: string,
  newBranchStart: string | undefined,
): Promise<void> {
  if ((await currentBranch(root)) !== undefined) return;
  const head = await resolveCommit(root, "HEAD");
  if (!head) return;
  const holders = await git(root, [
    "for-each-ref",
    "--count=1",
    "--contains",
    head,
    "--format=%(refname)",
    "refs/heads",
    "refs/tags",
    "refs/remotes",
  ]);
  if (holders.exitCode !== 0 || holders.stdout !== "") return;
  if (newBranchStart !== undefined) {
    const kept = await git(root, ["merge-base", "--is-ancestor", head, newBranchStart]);
    if (kept.exitCode === 0) return;
  }
  const short = head.slice(0, 12);
  throw new UserError(
    `HEAD is detached at ${short}, a commit no branch holds: switching to ${branch} would leave it reachable only from the reflog; ` +
      `keep it with 'git branch <name> ${short}', or start ${branch} from it with --from ${short}, then run again (nothing was changed)`,
  );
}

type StartPoint =
  | { readonly existing: true }
  | { readonly existing: false; readonly ref: string; readonly track: boolean };

async function startFor(root: string, branch: string, fromCommit: string | undefined): Promise<StartPoint> {
  if (await refExists(root, `refs/heads/${branch}`)) return { existing: true };
  // Someone already pushed this branch: continue from it rather than starting a second one.
  if (await refExists(root, `refs/remotes/origin/${branch}`))
    return { existing: false, ref: `refs/remotes/origin/${branch}`, track: true };
  if (fromCommit) return { existing: false, ref: fromCommit, track: false };
  const base = await defaultBranch(root);
  const commit = await resolveCommit(root, base);
  if (!commit) throw new UserError(`${base} has no commits yet; make a first commit, or pass --from <ref>`);
  return { existing: false, ref: commit, track: false };
}
