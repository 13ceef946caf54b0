// The project's sessions as a tree: each session's branches (rewinds and sync merges leave several leaves in one
// file), the sessions forked from it under it, its subagents; where each leaf was last written, which leaf
// `claude --continue` and `claude --resume` go on from, and for every other leaf the command that makes it resumable.
// Only reads: no transcript is ever written here.
import { type Dirent, lstatSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { Env } from "../claude/home.ts";
import { describeError } from "../errors.ts";
import { listProjectSessions, type SessionEnvironment, type SessionInfo } from "../sessions/sessions.ts";
import { readMappings } from "../state/mappings.ts";
import { shellWord } from "../text.ts";
import { branchPoint, type Leaf, leavesOf, resumePoint } from "./branches.ts";
import { type Conversation, readConversation } from "./conversation.ts";
import { type Lineage, lineages, type Read } from "./lineage.ts";

export type LeafNode = {
  readonly uuid: string;
  /** Turns from the root to it (the fork's copied turns included). */
  readonly turns: number;
  readonly lastPrompt: string | null;
  readonly lastWritten: string | null;
  /** Where its line was written: the environment and folder. */
  readonly where: { readonly kind: "host" | "container"; readonly machine: string | null; readonly cwd: string | null };
  /** The turn after which it parts from the branch resume goes on from; null for that branch. */
  readonly branchesAfterTurn: number | null;
  /** `claude --resume <id>` goes on from this leaf. */
  readonly resumed: boolean;
  /** `claude --continue` picks it, run in the session's folder (in a terminal; and with `-p`). */
  readonly continued: { readonly terminal: boolean; readonly print: boolean };
  /** What to run to go on from it. */
  readonly command: string;
};

export type SessionNode = {
  readonly id: string;
  readonly transcript: string;
  readonly folder: string | null;
  readonly branch: string | null;
  readonly workItem: string | null;
  readonly firstPrompt: string | null;
  readonly lastActivity: string;
  /** Made in a terminal (the `--resume` picker lists only those), not only with `claude -p`. */
  readonly interactive: boolean;
  readonly forkOf: (Lineage & { readonly atTurn: number | null }) | null;
  readonly subagents: number;
  readonly leaves: LeafNode[];
  /** When `--resume` goes on from a line inside a branch (a rewind's target), that line. */
  readonly resumesFromInside: string | null;
  readonly forks: SessionNode[];
};

export type ProjectTree = {
  readonly project: string;
  readonly here: string;
  readonly sessions: number;
  readonly leaves: number;
  readonly roots: SessionNode[];
  readonly notes: string[];
};

type Loaded = Read & { readonly info: SessionInfo };

export async function projectTree(env: Env, cwd: string): Promise<ProjectTree> {
  const listing = await listProjectSessions(env, cwd);
  const notes = [...listing.notes];
  const project = listing.projects[0];
  const containerPaths = readMappings(env).map((m) => m.containerPath);
  const loaded: Loaded[] = [];
  for (const info of project?.sessions ?? []) {
    try {
      const conversation = readConversation(info.transcript);
      loaded.push({ id: info.id, info, conversation, mtimeMs: statSync(info.transcript).mtimeMs });
    } catch (error) {
      notes.push(`${info.transcript} was left out of the tree (${describeError(error)})`);
    }
  }
  const parents = lineages(loaded);
  const continued = continuePicks(loaded);
  const nodes = new Map<string, SessionNode>();
  const byId = new Map(loaded.map((s) => [s.id, s]));
  for (const session of loaded) {
    const lineage = parents.get(session.id);
    const parent = lineage ? byId.get(lineage.parent) : undefined;
    nodes.set(session.id, sessionNode(session, lineage, parent, continued, containerPaths));
  }
  const roots: SessionNode[] = [];
  for (const session of loaded) {
    const node = nodes.get(session.id);
    if (!node) continue;
    const parent = node.forkOf ? nodes.get(node.forkOf.parent) : undefined;
    if (parent) parent.forks.push(node);
    else roots.push(node);
  }
  const leaves = [...nodes.values()].reduce((sum, node) => sum + node.leaves.length, 0);
  return { project: project?.project ?? cwd, here: cwd, sessions: nodes.size, leaves, roots, notes };
}

/**
 * The session `claude --continue` picks in each folder: the transcript written to last (its file's time, as seen with
 * 2.1.330), of those made in a terminal for a terminal's `claude --continue`, of all for `claude --continue -p`.
 */
function continuePicks(sessions: readonly Loaded[]): { terminal: Set<string>; print: Set<string> } {
  const newest = (pool: Loaded[]) => {
    const byFolder = new Map<string, Loaded>();
    for (const s of pool) {
      const folder = s.info.folder ?? "";
      const seen = byFolder.get(folder);
      if (!seen || s.mtimeMs > seen.mtimeMs) byFolder.set(folder, s);
    }
    return new Set([...byFolder.values()].map((s) => s.id));
  };
  return { terminal: newest(sessions.filter((s) => isInteractive(s.conversation))), print: newest([...sessions]) };
}

function isInteractive(conversation: Conversation): boolean {
  return [...conversation.entrypoints].some((e) => e !== "sdk-cli");
}

function sessionNode(
  session: Loaded,
  lineage: Lineage | undefined,
  parent: Loaded | undefined,
  continued: { terminal: Set<string>; print: Set<string> },
  containerPaths: readonly string[],
): SessionNode {
  const { conversation, info } = session;
  const leaves = leavesOf(conversation);
  const point = resumePoint(conversation, leaves);
  const resumedLeaf = leaves.find((leaf) => leaf.uuid === point);
  // Under a rewind's target, the newest leaf below it is the branch resume goes on along.
  const main = resumedLeaf ?? leaves.at(-1);
  const atTurn = lineage?.at && parent ? turnOf(parent.conversation, lineage.at) : null;
  return {
    id: info.id,
    transcript: info.transcript,
    folder: info.folder,
    branch: info.branch,
    workItem: info.workItem?.identifier ?? null,
    firstPrompt: info.firstPrompt,
    lastActivity: info.lastActivity,
    interactive: isInteractive(conversation),
    forkOf: lineage ? { ...lineage, atTurn } : null,
    subagents: countSubagents(info.transcript, info.id) + countSidechains(conversation),
    leaves: leaves.map((leaf) =>
      leafNode(session, leaf, {
        resumed: leaf.uuid === point,
        branchesAfterTurn: leaf === main || !main ? null : branchPoint(conversation, leaf.uuid, main.uuid).turn,
        continued: {
          terminal: leaf.uuid === point && continued.terminal.has(info.id),
          print: leaf.uuid === point && continued.print.has(info.id),
        },
        containerPaths,
      }),
    ),
    resumesFromInside: point !== null && !resumedLeaf ? point : null,
    forks: [],
  };
}

function turnOf(conversation: Conversation, uuid: string): number | null {
  if (!conversation.messages.has(uuid)) return null;
  return branchPoint(conversation, uuid, uuid).turn;
}

function leafNode(
  session: Loaded,
  leaf: Leaf,
  how: {
    resumed: boolean;
    branchesAfterTurn: number | null;
    continued: LeafNode["continued"];
    containerPaths: readonly string[];
  },
): LeafNode {
  const { info } = session;
  return {
    uuid: leaf.uuid,
    turns: leaf.turns.length,
    lastPrompt: leaf.turns.at(-1)?.prompt ?? null,
    lastWritten: leaf.message.timestamp,
    where: whereWritten(leaf.message.cwd, info.environments, how.containerPaths),
    branchesAfterTurn: how.branchesAfterTurn,
    resumed: how.resumed,
    continued: how.continued,
    // Resume goes on along one branch only: any other is made a session of its own first.
    command: how.resumed ? info.resume : `claude-persist fork ${shellWord(info.id)}@${leaf.uuid}`,
  };
}

/** The environment a line's folder is in: as the hook recorded it, else a container path the mappings name. */
function whereWritten(
  cwd: string | null,
  environments: readonly SessionEnvironment[],
  containerPaths: readonly string[],
): LeafNode["where"] {
  const recorded = environments.find((e) => e.cwd === cwd);
  if (recorded) return { kind: recorded.kind, machine: recorded.machine, cwd };
  const inContainer =
    cwd !== null && containerPaths.some((p) => cwd === p || cwd.startsWith(p.endsWith("/") ? p : `${p}/`));
  return { kind: inContainer ? "container" : "host", machine: null, cwd };
}

/** Older versions wrote subagents' lines into the session's own file, marked as a sidechain: one per first line. */
function countSidechains(conversation: Conversation): number {
  let count = 0;
  for (const m of conversation.messages.values()) {
    if (m.sidechain && (m.parent === null || !conversation.messages.get(m.parent)?.sidechain)) count++;
  }
  return count;
}

/** `<id>/subagents/agent-*.jsonl` beside the transcript, reached without following a link. */
function countSubagents(transcript: string, id: string): number {
  const dir = path.join(path.dirname(transcript), id, "subagents");
  try {
    if (!lstatSync(path.dirname(dir)).isDirectory() || !lstatSync(dir).isDirectory()) return 0;
    const entries: Dirent[] = readdirSync(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() && e.name.startsWith("agent-") && e.name.endsWith(".jsonl")).length;
  } catch {
    return 0;
  }
}
