// Which session a session was forked from. A fork repeats the lines of the conversation it came from, with the same
// uuids, under a new session id (seen with the pinned claude: `--fork-session` writes no `forkedFrom`); public
// parsers also know `forkedFrom: {sessionId, messageUuid}` on a fork's lines, which the forks this pack makes carry.
// So: `forkedFrom` when it names a session here; else the session that holds the longest run of this one's first
// lines and whose file was begun before this one's.
import { timeKey } from "../sessions/times.ts";
import type { Conversation, Message } from "./conversation.ts";

export type Lineage = {
  readonly parent: string;
  /** The last line the two share: the fork was made after it. */
  readonly at: string | null;
  /** How it is known: `forkedFrom` on the fork's lines, or the lines both files hold. */
  readonly recorded: "forkedFrom" | "shared lines";
};

export type Read = { readonly id: string; readonly conversation: Conversation; readonly mtimeMs: number };

/** The parent of each session that has one here, by session id; never a loop. */
export function lineages(sessions: readonly Read[]): Map<string, Lineage> {
  const byId = new Map(sessions.map((s) => [s.id, s]));
  const holders = new Map<string, string[]>();
  for (const s of sessions) {
    for (const uuid of s.conversation.messages.keys()) {
      const list = holders.get(uuid);
      if (list) list.push(s.id);
      else holders.set(uuid, [s.id]);
    }
  }
  const found = new Map<string, Lineage>();
  const wouldLoop = (child: string, parent: string) => {
    for (let at: string | undefined = parent; at !== undefined; at = found.get(at)?.parent) {
      if (at === child) return true;
    }
    return false;
  };
  // Stated lineages first: they are facts, the others inferences.
  for (const s of sessions) {
    const stated = s.conversation.forkedFrom;
    if (stated && stated.sessionId !== s.id && byId.has(stated.sessionId) && !wouldLoop(s.id, stated.sessionId)) {
      found.set(s.id, { parent: stated.sessionId, at: stated.messageUuid, recorded: "forkedFrom" });
    }
  }
  for (const s of sessions) {
    if (found.has(s.id)) continue;
    const lines = inFileOrder(s.conversation);
    const first = lines[0];
    if (!first) continue;
    let best: { parent: string; shared: number; at: string } | undefined;
    for (const other of holders.get(first.uuid) ?? []) {
      if (other === s.id) continue;
      const candidate = byId.get(other);
      if (!candidate) continue;
      const shared = sharedPrefix(lines, candidate.conversation);
      const at = lines[shared - 1]?.uuid;
      if (at === undefined || !isOriginal(candidate, s)) continue;
      if (!best || shared > best.shared) best = { parent: other, shared, at };
    }
    if (best && !wouldLoop(s.id, best.parent)) {
      found.set(s.id, { parent: best.parent, at: best.at, recorded: "shared lines" });
    }
  }
  return found;
}

function inFileOrder(conversation: Conversation): Message[] {
  return [...conversation.messages.values()].filter((m) => !m.sidechain).sort((a, b) => a.line - b.line);
}

/** How many of `lines` (a file's first lines) `other` holds too. */
function sharedPrefix(lines: readonly Message[], other: Conversation): number {
  let shared = 0;
  while (shared < lines.length && other.messages.has(lines[shared]?.uuid ?? "")) shared++;
  return shared;
}

/**
 * Whether `candidate` is the original `fork` was made from: the file begun first (a fork is a new file, begun when it
 * was made, after the lines it copied were written); of two begun at once, the one written to first.
 */
function isOriginal(candidate: Read, fork: Read): boolean {
  const a = timeKey(candidate.conversation.begun);
  const b = timeKey(fork.conversation.begun);
  if (a !== b) return a < b;
  return candidate.mtimeMs < fork.mtimeMs || (candidate.mtimeMs === fork.mtimeMs && candidate.id < fork.id);
}
