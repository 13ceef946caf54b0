// `claude-persist sessions --tree`: the project's sessions drawn as a tree (src/branching/tree.ts makes it): sessions,
// the forks under the session they came from, each session's leaves with the turn they reach, where they were last
// written, which one `claude --continue` and `--resume` go on from, and the command for each of the others.
import type { LeafNode, ProjectTree, SessionNode } from "../branching/tree.ts";
import { oneLine } from "../text.ts";
import { formatTime, plural } from "./output.ts";

export function renderTree(tree: ProjectTree): string {
  const out = [
    `${oneLine(tree.project)}: ${plural(tree.sessions, "session")}, ${tree.leaves} ${tree.leaves === 1 ? "leaf" : "leaves"}`,
  ];
  if (tree.sessions === 0) {
    out.push("No Claude Code sessions for this project yet: start one with `claude`; it is drawn here then.");
  }
  tree.roots.forEach((root, i) => {
    drawSession(out, root, "", i === tree.roots.length - 1);
  });
  if (tree.sessions > 0)
    out.push(
      "",
      "Turn N counts the prompts from the first; `claude-persist fork SESSION@N` forks after turn N, `@UUID` at a message.",
    );
  return `${out.join("\n")}\n`;
}

function drawSession(out: string[], node: SessionNode, prefix: string, last: boolean): void {
  const fork = node.forkOf
    ? `fork of ${short(node.forkOf.parent)}${node.forkOf.atTurn !== null ? ` after turn ${node.forkOf.atTurn}` : ""} · `
    : "";
  const facts = [
    node.branch ? `branch ${oneLine(node.branch, 40)}` : undefined,
    node.workItem ? oneLine(node.workItem, 20) : undefined,
    node.subagents > 0 ? plural(node.subagents, "subagent") : undefined,
    node.interactive ? undefined : "made with claude -p (not in the picker)",
  ].filter(Boolean);
  out.push(
    `${prefix}${last ? "└─" : "├─"} ${fork}session ${node.id}${facts.length ? ` · ${facts.join(" · ")}` : ""}` +
      (node.firstPrompt ? ` · "${oneLine(node.firstPrompt, 40)}"` : ""),
  );
  const inner = `${prefix}${last ? "   " : "│  "}`;
  const children = node.leaves.length + node.forks.length;
  let at = 0;
  if (node.resumesFromInside) {
    out.push(`${inner}│  (claude --resume goes on from message ${node.resumesFromInside}, inside a branch)`);
  }
  for (const leaf of node.leaves) drawLeaf(out, leaf, inner, ++at === children);
  for (const fork of node.forks) drawSession(out, fork, inner, ++at === children);
}

function drawLeaf(out: string[], leaf: LeafNode, prefix: string, last: boolean): void {
  const where = `${leaf.where.kind}${leaf.where.machine ? `:${oneLine(leaf.where.machine, 30)}` : ""}${
    leaf.where.cwd ? ` ${oneLine(leaf.where.cwd)}` : ""
  }`;
  const parts = [
    `turn ${leaf.turns}`,
    leaf.lastPrompt ? `"${oneLine(leaf.lastPrompt, 40)}"` : undefined,
    leaf.branchesAfterTurn !== null ? `branches off after turn ${leaf.branchesAfterTurn}` : undefined,
    `last written ${leaf.lastWritten ? formatTime(leaf.lastWritten) : "?"} on ${where}`,
  ].filter(Boolean);
  out.push(`${prefix}${last ? "└─" : "├─"} leaf ${short(leaf.uuid)} · ${parts.join(" · ")}`);
  const picks = [
    leaf.resumed ? "claude --resume goes on here" : undefined,
    leaf.continued.terminal
      ? "claude --continue picks it"
      : leaf.continued.print
        ? "claude --continue -p picks it"
        : undefined,
  ].filter(Boolean);
  const inner = `${prefix}${last ? "   " : "│  "}`;
  if (picks.length) out.push(`${inner}◆ ${picks.join("; ")}`);
  out.push(`${inner}$ ${leaf.command}`);
}

function short(id: string): string {
  return id.slice(0, 8);
}
