// The work items /start-work remembers in the pack's shared state (`persist-state/work-items.json`), and the lines
// the SessionStart hook tells the model about them. The hook bundles this module and reads the file at every
// session start: one small JSON read, entries checked by hand (no zod in what the hook calls), no git.
import path from "node:path";
import * as z from "zod/mini";
import type { Env } from "../claude/home.ts";
import type { Environment } from "../environment.ts";
import { readRegularText } from "../fs.ts";
import { oneLine } from "../text.ts";
import { updateJsonState } from "../state/files.ts";
import { STATE, statePath } from "../state/paths.ts";

export type WorkItem = {
  /** `LIN-123`. */
  readonly identifier: string;
  /** Linear's title, or --title when Linear was not asked; null when neither is known. */
  readonly title: string | null;
  readonly url: string | null;
  readonly branch: string;
  /** The repository's main worktree: every worktree of one repo has the same repoPath. */
  readonly repoPath: string;
  /** The worktree the branch is checked out in, when it is not the main one. */
  readonly worktreePath: string | null;
  /** When /start-work last ran for it (ISO 8601). */
  readonly time: string;
  readonly linearAsked: boolean;
};

/** Older entries fall off the end: the hook reads the whole file at every session start. */
export const MAX_WORK_ITEMS = 100;
/** Work items of other places named in the hook's context, newest first. */
const MAX_OTHER_ITEMS = 10;
/** The hook's whole context must stay under 10,000 characters; the work items get at most this much of it. */
const MAX_CONTEXT = 5_000;

export function workItemsPath(env: Env): string {
  return statePath(env, STATE.workItems);
}

/** Records `item`, replacing the entry for the same issue in the same repository (which moves to the end). */
export async function rememberWorkItem(env: Env, item: WorkItem): Promise<void> {
  // Entries are kept as they are, even ones this version cannot read: another version of the pack may have written them.
  await updateJsonState(workItemsPath(env), z.array(z.unknown()), [], (entries) =>
    [...entries.filter((entry) => workItemKey(entry) !== workItemKey(item)), item].slice(-MAX_WORK_ITEMS),
  );
}

/** What makes two entries one work item: the same issue in the same repository. Undefined for an entry without them. */
export function workItemKey(entry: unknown): string | undefined {
  if (typeof entry !== "object" || entry === null || !("identifier" in entry) || !("repoPath" in entry))
    return undefined;
  return JSON.stringify([entry.identifier, entry.repoPath]);
}

/**
 * The entries of the file as stored, least recently started first. Each is checked (parseWorkItem) only when it
 * is used: the hook names a dozen of up to MAX_WORK_ITEMS, and checking them all would cost it a millisecond or two.
 */
export function readWorkItemEntries(env: Env): unknown[] {
  const file = workItemsPath(env);
  // Containers write it: a FIFO or a link to /dev/zero planted here must not hang every session start.
  const text = readRegularText(file);
  if (text === undefined) return [];
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) throw new Error(`${file} is not a JSON array`);
  return value;
}

/**
 * The entry as a work item (its known fields only), or undefined when this version cannot read it. Checked by hand:
 * the hook calls this, and zod (even zod/mini) costs it more to load than the rest of its work.
 */
export function parseWorkItem(entry: unknown): WorkItem | undefined {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return undefined;
  const e = entry as Record<string, unknown>;
  const text = (value: unknown): value is string => typeof value === "string";
  const filled = (value: unknown): value is string => text(value) && value !== "";
  const textOrNull = (value: unknown): value is string | null => value === null || text(value);
  const { identifier, title, url, branch, repoPath, worktreePath, time, linearAsked } = e;
  if (!filled(identifier) || !textOrNull(title) || !textOrNull(url) || !filled(branch) || !filled(repoPath))
    return undefined;
  if (!textOrNull(worktreePath) || !text(time) || typeof linearAsked !== "boolean") return undefined;
  return { identifier, title, url, branch, repoPath, worktreePath, time, linearAsked };
}

/**
 * The folders a session in `cwd` is in, as /start-work recorded them (host paths): `cwd` itself, and in a
 * container opened by /dev-open the same folder on the host.
 */
export function sessionPlaces(cwd: string, where: Pick<Environment, "hostWorkspace" | "containerWorkspace">): string[] {
  const places = [cwd];
  if (where.hostWorkspace) {
    const inside = where.containerWorkspace ? relativeInside(where.containerWorkspace, cwd) : undefined;
    places.push(inside === undefined ? where.hostWorkspace : path.posix.join(where.hostWorkspace, inside));
  }
  return places;
}

/**
 * `dir` as the host sees it, when it lies in the workspace of a container opened by /dev-open (the inverse of
 * sessionPlaces): work items are recorded with host paths. Undefined when it does not lie there.
 */
export function hostPathOf(
  dir: string,
  where: Pick<Environment, "hostWorkspace" | "containerWorkspace">,
): string | undefined {
  if (!where.hostWorkspace || !where.containerWorkspace) return undefined;
  const inside = relativeInside(where.containerWorkspace, dir);
  return inside === undefined ? undefined : path.posix.join(where.hostWorkspace, inside);
}

/**
 * What the hook says about the work items in `entries` (as stored): the one in progress where the session runs
 * (the newest started in this checkout), then the others one line each, newest first. Empty when there are none.
 */
export function describeWorkItems(entries: readonly unknown[], places: readonly string[]): string {
  // The file is in the order of the writes (a restarted item moves to the end), which clocks that differ
  // between the host and containers cannot disturb.
  const newestFirst = [...entries].reverse();
  const hereIndex = newestFirst.findIndex((entry) => {
    const checkout = checkoutOf(entry);
    return (
      checkout !== undefined &&
      places.some((place) => relativeInside(checkout, place) !== undefined) &&
      parseWorkItem(entry) !== undefined
    );
  });
  const here = hereIndex === -1 ? undefined : parseWorkItem(newestFirst[hereIndex]);
  const lines: string[] = [];
  if (here) {
    lines.push(
      `Work in progress here (started with /start-work): ${headline(here)} on branch ${oneLine(here.branch, 200)}` +
        (here.url ? `, ${oneLine(here.url, 300)}.` : "."),
    );
  }
  const others: string[] = [];
  let more = 0;
  let length = lines.join("\n").length;
  for (const [index, entry] of newestFirst.entries()) {
    if (index === hereIndex) continue;
    if (others.length === MAX_OTHER_ITEMS || more > 0) {
      more++;
      continue;
    }
    const item = parseWorkItem(entry);
    if (!item) continue;
    const line = `- ${headline(item)}: branch ${oneLine(item.branch, 200)} in ${oneLine(item.worktreePath ?? item.repoPath, 300)}`;
    if (length + line.length + 1 > MAX_CONTEXT) more++;
    else {
      others.push(line);
      length += line.length + 1;
    }
  }
  if (others.length > 0 || more > 0) {
    lines.push(
      here ? "Other work items (newest first):" : "Work items started with /start-work elsewhere (newest first):",
      ...others,
    );
    if (more > 0) lines.push(`- and ${more} more.`);
  }
  return lines.join("\n");
}

/** The folder of an entry's checkout (its worktree when it has one, else the main one), without checking the rest. */
function checkoutOf(entry: unknown): string | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const worktreePath = "worktreePath" in entry ? entry.worktreePath : undefined;
  const checkout = worktreePath ?? ("repoPath" in entry ? entry.repoPath : undefined);
  return typeof checkout === "string" && checkout !== "" ? checkout : undefined;
}

/** `dir` relative to `parent` ("" for the same folder), or undefined when `dir` is not inside it. */
function relativeInside(parent: string, dir: string): string | undefined {
  const relative = path.posix.relative(parent, dir);
  if (relative === "..") return undefined;
  return relative.startsWith("../") || path.posix.isAbsolute(relative) ? undefined : relative;
}

// The file is shared with containers and titles come from Linear: every field one line, and short.
function headline(item: WorkItem): string {
  const identifier = oneLine(item.identifier, 40);
  return item.title ? `${identifier} ${JSON.stringify(oneLine(item.title, 150))}` : identifier;
}
