// Starting work on a Linear issue: the issue looked up (or named offline), its branch or worktree made ready, the issue
// moved to a started state (and assigned), and the work item remembered for the SessionStart hook. Returns what was
// done; `start-work` (src/commands/start-work.ts) prints it.
import type { Env } from "../claude/home.ts";
import { detectEnvironment } from "../environment.ts";
import { describeError, UserError } from "../errors.ts";
import { quoted } from "./git-errors.ts";
import { prepareBranch, repoRoot, unfitWorkBranch, type PreparedBranch } from "./git.ts";
import { parseIssueRef } from "./issue-ref.ts";
import {
  linearClient,
  linearOptionsFromEnv,
  type LinearClient,
  type LinearIssue,
  type StartIssueResult,
  type StartPlan,
} from "./linear.ts";
import { lookupIssue, offlineBranchName, type LookedUpIssue } from "./issue-lookup.ts";
import { hostPathOf, rememberWorkItem, workItemsPath, type WorkItem } from "./work-items.ts";

export type StartWorkResult = {
  readonly identifier: string;
  readonly title: string | null;
  readonly url: string | null;
  readonly linearAsked: boolean;
  /** The issue's state after this run; null when Linear was not asked. */
  readonly state: string | null;
  /** This run moved the issue to a started state. */
  readonly stateMoved: boolean;
  /** This run made the key's user the assignee. */
  readonly assigned: boolean;
  readonly branch: string;
  /** What was done to get the branch ready. */
  readonly action: PreparedBranch["action"];
  readonly repoPath: string;
  readonly worktreePath: string | null;
  /** Where to work: the worktree, or the checkout start-work ran in. */
  readonly folder: string;
  readonly workItemRecorded: boolean;
  readonly description: string | null;
  readonly notes: string[];
  /** A preview: nothing was created, switched, sent to Linear or remembered. */
  readonly dryRun: boolean;
  /** What was (or, in a preview, would be) sent to Linear: the state it moves to, and whether it is assigned to you. */
  readonly linearChanges: { readonly state: string | null; readonly assign: boolean } | null;
};

export type StartWorkOptions = {
  readonly title?: string;
  readonly from?: string;
  readonly carry?: boolean;
  readonly worktree?: boolean;
  readonly "no-status"?: boolean;
  readonly assign?: boolean;
  readonly "dry-run"?: boolean;
};

/** Starts work on the issue `input` names (LIN-123 or its URL) in the git repository of `cwd`. */
export async function startWorkOn(
  input: string,
  values: StartWorkOptions,
  env: Env,
  cwd: string,
): Promise<{
  result: StartWorkResult;
  looked: LookedUpIssue;
  started: StartIssueResult | undefined;
  startFailed: boolean;
  /** The checkout start-work ran in. */
  here: string;
}> {
  // Nothing reaches git, a shell or the network before the reference has been through here.
  const { identifier } = parseIssueRef(input);
  const linear = linearOptionsFromEnv(env);
  const root = await repoRoot(cwd);
  // In a container /dev-open made, the repo is the host's, mounted: record host paths, which every session maps to.
  const where = detectEnvironment(env);
  const container = where.kind === "container" ? where : undefined;
  const onHost = (dir: string) => (container ? hostPathOf(dir, container) : undefined) ?? dir;
  if (values.worktree && container && hostPathOf(root, container) !== undefined) {
    throw new UserError(
      "--worktree in a dev container would put the worktree beside the workspace, outside the mount, where it goes " +
        `with the container; run start-work ${identifier} --worktree on the host (in ${onHost(root)}) instead`,
    );
  }
  const looked = await lookupIssue(identifier, { linear, title: values.title });
  if (looked.linearAsked) {
    const unfit = await unfitWorkBranch(root, looked.branchName);
    if (unfit) {
      throw new UserError(
        `Linear's suggested branch name for ${looked.identifier}, ${quoted(looked.branchName)}, ${unfit}; ` +
          "change the issue's branch name in Linear, or run with LINEAR_API_KEY unset to use " +
          `${offlineBranchName(looked.identifier)} (${offlineBranchName(looked.identifier)}-<title> with --title)`,
      );
    }
  }
  const noStatus = Boolean(values["no-status"]);
  const assign = Boolean(values.assign);
  const dryRun = Boolean(values["dry-run"]);
  // Every read Linear needs comes before git: a failure there (no started state, 429, timeout) changes nothing.
  let plan: { client: LinearClient; issue: LinearIssue; plan: StartPlan } | undefined;
  if (looked.linearAsked && linear && (!noStatus || assign)) {
    const client = linearClient(linear);
    plan = { client, issue: looked.issue, plan: await client.planStart(looked.issue, { noStatus, assign }) };
  }
  const prepared = await prepareBranch({
    repo: root,
    branch: looked.branchName,
    from: values.from,
    carry: values.carry,
    worktree: values.worktree,
    dryRun,
  });
  let started: StartIssueResult | undefined;
  let startFailure: string | undefined;
  if (plan && !dryRun) {
    try {
      started = await plan.client.sendStart(plan.issue, plan.plan);
    } catch (error) {
      // Not an error exit: the branch is ready and gets recorded and reported, which is what the user (and the slash
      // command, which stops at a failure) needs now; the issue's state is one click in Linear, and the note says so.
      startFailure = notChangedInLinear(plan.plan, looked.identifier, describeError(error));
    }
  }

  const notes: string[] = [];
  if (startFailure) notes.push(startFailure);
  if (prepared.skippedHook) {
    notes.push(
      `git's post-checkout hook ${prepared.skippedHook} was not run: claude-persist runs git with hooks off, as the dev container can write them (SECURITY.md); run it yourself if you rely on it`,
    );
  }
  if (!looked.linearAsked && (assign || noStatus)) notes.push("--assign and --no-status need Linear; they did nothing");
  if (looked.linearAsked && values.title !== undefined) {
    notes.push("--title is used only when Linear is not asked; Linear's title was kept");
  }
  const item: WorkItem = {
    identifier: looked.identifier,
    title: looked.title,
    url: looked.linearAsked ? looked.issue.url : null,
    branch: prepared.branch,
    repoPath: onHost(prepared.mainWorktree),
    worktreePath: prepared.folder === prepared.mainWorktree ? null : onHost(prepared.folder),
    time: new Date().toISOString(),
    linearAsked: looked.linearAsked,
  };
  let workItemRecorded = !dryRun;
  try {
    if (!dryRun) await rememberWorkItem(env, item);
  } catch (error) {
    workItemRecorded = false;
    notes.push(
      `the work item was not recorded in ${workItemsPath(env)} (${describeError(error)}); ` +
        "later sessions will not be told about it",
    );
  }

  const result: StartWorkResult = {
    identifier: item.identifier,
    title: item.title,
    url: item.url,
    linearAsked: looked.linearAsked,
    state: looked.linearAsked ? (started?.state ?? looked.issue.state.name) : null,
    stateMoved: started?.moved ?? false,
    assigned: started?.assigned ?? false,
    branch: prepared.branch,
    action: prepared.action,
    repoPath: item.repoPath,
    worktreePath: item.worktreePath,
    folder: prepared.folder,
    workItemRecorded,
    description: looked.linearAsked ? looked.issue.description : null,
    notes,
    dryRun,
    linearChanges: plan
      ? { state: plan.plan.target?.name ?? null, assign: plan.plan.input.assigneeId !== undefined }
      : null,
  };
  return { result, looked, started, startFailed: startFailure !== undefined, here: root };
}

function notChangedInLinear({ input }: StartPlan, identifier: string, reason: string): string {
  const what =
    input.stateId === undefined
      ? "the issue was not assigned to you in Linear"
      : `the issue's state in Linear was not changed${
          input.assigneeId === undefined ? "" : " nor was it assigned to you"
        }`;
  return `${what} (${reason}); the branch is ready: do that in Linear, or run start-work ${identifier} again later`;
}
