// `claude-persist statusline`: the line Claude Code shows under the prompt when settings.json's `statusLine` runs it:
// where the session runs, the work item of its branch, and what the session has cost (Claude Code passes that figure
// in its status JSON). Fast: no git process, no transcript read, no zod; one small state file and .git/HEAD.
import path from "node:path";
import type { Env } from "../claude/home.ts";
import { detectEnvironment } from "../environment.ts";
import { readRegularText } from "../fs.ts";
import { oneLine } from "../text.ts";
import { parseWorkItem, readWorkItemEntries, sessionPlaces } from "../work/work-items.ts";

export type StatusInput = { readonly cwd: string | undefined; readonly costUsd: number | undefined };

/** What Claude Code's status JSON says that the line needs; anything else in it is ignored. */
export function parseStatusInput(text: string): StatusInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { cwd: undefined, costUsd: undefined };
  }
  const object = (v: unknown): Record<string, unknown> | undefined =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const input = object(value) ?? {};
  const workspace = object(input.workspace);
  const cwd = [workspace?.current_dir, input.cwd].find((v): v is string => typeof v === "string" && v.startsWith("/"));
  const cost = object(input.cost)?.total_cost_usd;
  return { cwd, costUsd: typeof cost === "number" && Number.isFinite(cost) && cost >= 0 ? cost : undefined };
}

export function statusLine(env: Env, input: StatusInput, fallbackCwd: string): string {
  const cwd = input.cwd ?? fallbackCwd;
  const where = detectEnvironment(env);
  const parts = [`${where.kind} ${oneLine(where.name, 40)}`];
  const branch = currentBranch(cwd);
  const item = branch === undefined ? undefined : workItemOn(env, branch, sessionPlaces(cwd, where));
  if (item) parts.push(item);
  else if (branch) parts.push(oneLine(branch, 40));
  if (input.costUsd !== undefined) parts.push(`$${input.costUsd.toFixed(2)}`);
  return `${parts.join(" · ")}\n`;
}

/** The work item recorded for `branch` in the checkout holding one of `places` (newest first), as `LIN-1 Title`. */
function workItemOn(env: Env, branch: string, places: readonly string[]): string | undefined {
  let entries: unknown[];
  try {
    entries = readWorkItemEntries(env);
  } catch {
    return undefined;
  }
  for (const entry of [...entries].reverse()) {
    const item = parseWorkItem(entry);
    if (!item || item.branch !== branch) continue;
    const checkout = item.worktreePath ?? item.repoPath;
    if (!places.some((place) => place === checkout || place.startsWith(`${checkout}/`))) continue;
    const id = oneLine(item.identifier, 20);
    return item.title ? `${id} ${oneLine(item.title, 40)}` : id;
  }
  return undefined;
}

/** The branch checked out where `dir` is, from `.git/HEAD` (a worktree's `.git` file names its own); no git process. */
export function currentBranch(dir: string): string | undefined {
  for (let at = dir; ; at = path.dirname(at)) {
    const dotGit = path.join(at, ".git");
    try {
      const head = readRegularText(path.join(dotGit, "HEAD"), 4096);
      if (head !== undefined) return branchOf(head);
    } catch {
      // Not a folder: a worktree's `.git` file.
    }
    try {
      const file = readRegularText(dotGit, 4096);
      const gitdir = file && /^gitdir: (.+)$/m.exec(file)?.[1]?.trim();
      if (gitdir) return branchOf(readRegularText(path.join(path.resolve(at, gitdir), "HEAD"), 4096) ?? "");
    } catch {
      // Neither: go up.
    }
    if (path.dirname(at) === at) return undefined;
  }
}

function branchOf(head: string): string | undefined {
  return /^ref: refs\/heads\/(.+)$/m.exec(head)?.[1]?.trim();
}
