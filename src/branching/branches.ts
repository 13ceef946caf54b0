// The branches inside one transcript: a rewind or a sync merge leaves two children under one message, so a file is a
// tree with several leaves. Which leaf `claude --resume` goes on from (checked with the pinned claude: the leaf the last
// `last-prompt` line names, else the leaf written last), the turns on the way to each leaf, where each branches off.
import { UserError } from "../errors.ts";
import { timeKey } from "../sessions/times.ts";
import type { Conversation, Message } from "./conversation.ts";

export type Turn = {
  /** 1 for the first prompt on the way from the root. */
  readonly number: number;
  readonly prompt: string;
  /** The prompt's line. */
  readonly start: string;
  /** The last line of the turn (the answer and what followed it): where a fork "after turn N" ends. */
  readonly end: string;
};

export type Leaf = {
  readonly uuid: string;
  readonly message: Message;
  /** The turns from the root to this leaf. */
  readonly turns: Turn[];
};

/** The children of each message (subagents' sidechain lines left out), in file order. */
export function childrenOf(conversation: Conversation): Map<string, Message[]> {
  const children = new Map<string, Message[]>();
  for (const message of conversation.messages.values()) {
    if (message.sidechain || message.parent === null) continue;
    const list = children.get(message.parent);
    if (list) list.push(message);
    else children.set(message.parent, [message]);
  }
  return children;
}

/** The lines from the root to `uuid`, root first; a loop in hostile input ends the walk. */
export function pathTo(conversation: Conversation, uuid: string): Message[] {
  const path: Message[] = [];
  const seen = new Set<string>();
  for (let at = conversation.messages.get(uuid); at && !seen.has(at.uuid); ) {
    seen.add(at.uuid);
    path.push(at);
    at = at.parent === null ? undefined : conversation.messages.get(at.parent);
  }
  return path.reverse();
}

/** The turns along a path: each prompt the user typed, to the line before the next one. */
export function turnsOn(path: readonly Message[]): Turn[] {
  const turns: Turn[] = [];
  let current: { number: number; prompt: string; start: string; end: string } | undefined;
  for (const message of path) {
    if (message.prompt !== null) {
      if (current) turns.push(current);
      current = { number: turns.length + 1, prompt: message.prompt, start: message.uuid, end: message.uuid };
    } else if (current) {
      current.end = message.uuid;
    }
  }
  if (current) turns.push(current);
  return turns;
}

/** Every leaf of the conversation (a line no other line continues), oldest first. */
export function leavesOf(conversation: Conversation): Leaf[] {
  const children = childrenOf(conversation);
  const leaves: Leaf[] = [];
  for (const message of conversation.messages.values()) {
    if (message.sidechain || children.has(message.uuid)) continue;
    leaves.push({ uuid: message.uuid, message, turns: turnsOn(pathTo(conversation, message.uuid)) });
  }
  return leaves.sort((a, b) => compareWritten(a.message, b.message));
}

/** Older first: by timestamp, then by place in the file. */
function compareWritten(a: Message, b: Message): number {
  const at = timeKey(a.timestamp);
  const bt = timeKey(b.timestamp);
  return at < bt ? -1 : at > bt ? 1 : a.line - b.line;
}

/**
 * Where `claude --resume <id>` goes on from: the line the last `last-prompt` names when it is in the file, else the
 * leaf written last. (Seen with 2.1.330: a newer sibling branch is passed over when `last-prompt` names the other.)
 */
export function resumePoint(conversation: Conversation, leaves: readonly Leaf[]): string | null {
  const named = conversation.lastLeafUuid;
  if (named !== null && conversation.messages.has(named)) return named;
  return leaves.at(-1)?.uuid ?? null;
}

/** The last turn two leaves share (0 when they share none), and the line they part at. */
export function branchPoint(conversation: Conversation, a: string, b: string): { turn: number; uuid: string | null } {
  const theirs = new Set(pathTo(conversation, b).map((m) => m.uuid));
  const ours = pathTo(conversation, a);
  let common: Message | undefined;
  for (const message of ours) {
    if (!theirs.has(message.uuid)) break;
    common = message;
  }
  if (!common) return { turn: 0, uuid: null };
  const shared = ours.slice(0, ours.indexOf(common) + 1);
  return { turn: turnsOn(shared).length, uuid: common.uuid };
}

/**
 * The line `spec` names: a uuid (or a unique start of one, 8 characters or more), or a turn number on the way to the
 * leaf resume goes on from (the turn's last line). Undefined spec: that leaf itself.
 */
export function resolveMessage(conversation: Conversation, spec: string | undefined, what: string): Message {
  const leaves = leavesOf(conversation);
  const point = resumePoint(conversation, leaves);
  const found = (uuid: string | null | undefined) => (uuid ? conversation.messages.get(uuid) : undefined);
  if (spec === undefined) {
    const message = found(point);
    if (!message) throw new UserError(`${what} holds no conversation yet; there is nothing to fork`);
    return message;
  }
  if (/^\d{1,6}$/.test(spec)) {
    const turns = point ? turnsOn(pathTo(conversation, point)) : [];
    const turn = turns[Number(spec) - 1];
    const message = found(turn?.end);
    if (!message) {
      throw new UserError(
        `${what} has ${turns.length} turn${turns.length === 1 ? "" : "s"} on the branch resume goes on from, not ${spec}; ` +
          "give a turn number the tree shows (claude-persist sessions --tree), or a message uuid",
      );
    }
    return message;
  }
  const exact = found(spec);
  if (exact) return exact;
  const matches = spec.length >= 8 ? [...conversation.messages.keys()].filter((uuid) => uuid.startsWith(spec)) : [];
  const only = matches.length === 1 ? found(matches[0]) : undefined;
  if (only) return only;
  throw new UserError(
    `${what} has ${matches.length > 1 ? "several messages whose uuid starts with" : "no message"} ${spec}; ` +
      "give a turn number or a message uuid as the tree shows them (claude-persist sessions --tree)",
  );
}
