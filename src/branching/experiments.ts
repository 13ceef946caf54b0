// The project's experiments: every session forked from another (as the tree tells), with the worktree and branch it
// resumes in. Compare shows what each side did since the fork (commits, files, turns); drop removes the fork's
// worktree and session after a snapshot, and says how to undo it.
import { unlinkSync } from "node:fs";
import path from "node:path";
import { realpathOrSelf, type Env } from "../claude/home.ts";
import { runProcess } from "../child-process.ts";
import { UserError } from "../errors.ts";
import { createSnapshot } from "../snapshot/create.ts";
import { shellWord } from "../text.ts";
import { gitFailed } from "../work/git-errors.ts";
import { listWorktrees, repoRoot } from "../work/git.ts";
import { runGit as git } from "../work/git-run.ts";
import { projectTree, type SessionNode } from "./tree.ts";

export type Experiment = {
  readonly id: string;
  readonly parent: string;
  readonly atTurn: number | null;
  readonly folder: string | null;
  /** The worktree it resumes in, when that is not the repository's main one. */
  readonly worktree: string | null;
  readonly branch: string | null;
  /** Turns the fork has had since it was made. */
  readonly turnsSince: number;
  readonly lastActivity: string;
  readonly transcript: string;
};

type Found = { readonly experiment: Experiment; readonly node: SessionNode; readonly parent: SessionNode };

export async function listExperiments(env: Env, cwd: string): Promise<Found[]> {
  const tree = await projectTree(env, cwd);
  // Outside a git repository forks are listed all the same, without worktrees.
  const worktrees = await repoRoot(cwd)
    .then(listWorktrees)
    .catch(() => []);
  const mainWorktree = worktrees[0]?.path;
  const found: Found[] = [];
  const visit = (node: SessionNode, parent: SessionNode | undefined) => {
    if (parent && node.forkOf) {
      const folder = node.folder;
      const holder = worktrees.find((w) => folder !== null && realpathOrSelf(w.path) === realpathOrSelf(folder));
      found.push({
        node,
        parent,
        experiment: {
          id: node.id,
          parent: parent.id,
          atTurn: node.forkOf.atTurn,
          folder,
          worktree: holder && holder.path !== mainWorktree ? holder.path : null,
          branch: holder?.branch ?? node.branch,
          turnsSince: turnsSince(node, node.forkOf.atTurn),
          lastActivity: node.lastActivity,
          transcript: node.transcript,
        },
      });
    }
    for (const fork of node.forks) visit(fork, node);
  };
  for (const root of tree.roots) visit(root, undefined);
  return found;
}

function turnsSince(node: SessionNode, atTurn: number | null): number {
  const leaf = node.leaves.find((l) => l.resumed) ?? node.leaves.at(-1);
  return Math.max(0, (leaf?.turns ?? 0) - (atTurn ?? 0));
}

/** The experiment `name` names: its branch, its worktree's folder or name, or its session id (or the id's start). */
export async function findExperiment(env: Env, cwd: string, name: string): Promise<Found> {
  const all = await listExperiments(env, cwd);
  const matches = all.filter(({ experiment: e }) => {
    const folders = [e.worktree, e.folder].filter((f): f is string => f !== null);
    return (
      e.branch === name ||
      folders.some((f) => f === name || path.basename(f) === name) ||
      (name.length >= 4 && e.id.startsWith(name))
    );
  });
  if (matches.length === 1 && matches[0]) return matches[0];
  throw new UserError(
    matches.length > 1
      ? `${matches.length} forks match ${name}; give the fork's session id ('claude-persist fork list')`
      : `no fork of this project is ${name}; 'claude-persist fork list' shows them`,
  );
}

export type Side = { readonly commits: string[]; readonly files: string[]; readonly turnsSince: number };
export type Comparison = {
  readonly experiment: Experiment;
  readonly base: string | null;
  readonly fork: Side;
  readonly original: Side & { readonly branch: string | null };
};

export async function compareExperiment(env: Env, cwd: string, name: string): Promise<Comparison> {
  const { experiment, parent } = await findExperiment(env, cwd, name);
  const repo = await repoRoot(cwd);
  const theirs = parent.branch;
  const ours = experiment.branch;
  const base = ours && theirs ? await mergeBase(repo, ours, theirs) : null;
  const side = async (branch: string | null, turns: number): Promise<Side> => {
    if (!base || !branch) return { commits: [], files: [], turnsSince: turns };
    const log = await git(repo, ["log", "--format=%h %s", `${base}..refs/heads/${branch}`, "--"]);
    const diff = await git(repo, ["diff", "--name-only", base, `refs/heads/${branch}`, "--"]);
    return { commits: lines(log.stdout), files: lines(diff.stdout), turnsSince: turns };
  };
  return {
    experiment,
    base,
    fork: await side(ours, experiment.turnsSince),
    original: { ...(await side(theirs, turnsSince(parent, experiment.atTurn))), branch: theirs },
  };
}

async function mergeBase(repo: string, a: string, b: string): Promise<string | null> {
  const safe = /^[\p{L}\p{N}._/+=,#@%-]+$/u;
  if (!safe.test(a) || !safe.test(b) || a.startsWith("-") || b.startsWith("-")) return null;
  const result = await git(repo, ["merge-base", `refs/heads/${a}`, `refs/heads/${b}`]);
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

export type Dropped = {
  readonly experiment: Experiment;
  readonly snapshot: string;
  /** The dev containers of the fork's worktree that were removed (`--open` made one). */
  readonly containers: string[];
  readonly undo: string;
};

/** Removes the fork's worktree (its branch stays) and its session, after a snapshot that holds the session. */
export async function dropExperiment(env: Env, cwd: string, name: string): Promise<Dropped> {
  const { experiment } = await findExperiment(env, cwd, name);
  const repo = await repoRoot(cwd);
  if (experiment.worktree) {
    const status = await git(experiment.worktree, ["status", "--porcelain"]);
    if (status.exitCode === 0 && status.stdout.trim() !== "") {
      throw new UserError(
        `${experiment.worktree} has uncommitted changes; commit or stash them first (nothing was changed)`,
      );
    }
  }
  const snapshot = await createSnapshot(env, cwd);
  if (experiment.worktree) {
    const removed = await git(repo, ["worktree", "remove", "--", experiment.worktree]);
    if (removed.exitCode !== 0) throw gitFailed(`git worktree remove ${experiment.worktree}`, removed);
  }
  const containers = experiment.worktree ? await removeContainers(env, experiment.worktree) : [];
  unlinkSync(experiment.transcript);
  // The worktree first: the snapshot restores only folders of this project, and the worktree's is one again then.
  const undo = [
    ...(experiment.worktree && experiment.branch
      ? [`git worktree add ${shellWord(experiment.worktree)} ${shellWord(experiment.branch)}`]
      : []),
    `claude-persist snapshot restore ${shellWord(snapshot.id)}`,
    ...(containers.length > 0 && experiment.worktree
      ? [`claude-persist dev-open ${shellWord(experiment.worktree)}`]
      : []),
  ].join(" && ");
  return { experiment, snapshot: snapshot.id, containers, undo };
}

/**
 * The dev containers the devcontainers CLI made for `folder` (labelled with it), removed. None when Docker is not
 * there: then no container can be.
 */
async function removeContainers(env: Env, folder: string): Promise<string[]> {
  const docker = (args: string[]) => runProcess("docker", args, { env: { ...env, LC_ALL: "C" } });
  const listed = await docker([
    "ps",
    "-a",
    "--filter",
    `label=devcontainer.local_folder=${folder}`,
    "--format",
    "{{.ID}}",
  ]);
  if (listed.exitCode !== 0) return [];
  const ids = listed.stdout.split("\n").filter((id) => /^[0-9a-f]{12,64}$/.test(id));
  for (const id of ids) {
    const removed = await docker(["rm", "-f", id]);
    if (removed.exitCode !== 0) {
      throw new UserError(
        `could not remove the fork's dev container ${id} (${removed.stderr.trim()}); remove it with 'docker rm -f ${id}'`,
      );
    }
  }
  return ids;
}
