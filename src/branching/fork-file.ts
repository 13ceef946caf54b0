// Writing a fork: a new session file holding the conversation from its first line to the message forked at, recorded
// as Claude Code records a fork (the same lines, same uuids, under the new session id, each with
// `forkedFrom: {sessionId, messageUuid}`), then a `last-prompt` line naming that message as the leaf to go on from.
// The original is only read. The file goes into the project folder of the place where it will be resumed, so that
// `claude --resume <id>` and the picker find it there.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { encodeProjectSlug, projectsDir, type Env } from "../claude/home.ts";
import { projectFolderName, statBeneath, withDirBeneath } from "../container-tree.ts";
import { fileIn, refusal, replaceFileIn } from "../fs.ts";
import { isRecord } from "../json.ts";
import { pathTo, turnsOn } from "./branches.ts";
import { type Conversation, eachLine, type Message, parseLine } from "./conversation.ts";

export type WrittenFork = {
  readonly id: string;
  readonly file: string;
  /** The turns it holds. */
  readonly turns: number;
};

export function writeFork(
  env: Env,
  source: { readonly id: string; readonly transcript: string; readonly conversation: Conversation },
  at: Message,
  place: string,
): WrittenFork {
  const path = pathTo(source.conversation, at.uuid);
  const wanted = new Set(path.map((m) => m.line));
  const id = randomUUID();
  const forkedFrom = { sessionId: source.id, messageUuid: at.uuid };
  const lines: string[] = [];
  eachLine(source.transcript, (raw, number) => {
    if (!wanted.has(number) || !parseLine(raw)) return;
    const record: unknown = JSON.parse(raw);
    if (!isRecord(record)) return;
    lines.push(`${JSON.stringify({ ...record, sessionId: id, forkedFrom })}\n`);
  });
  if (lines.length !== wanted.size) {
    throw refusal(`${source.transcript} changed while it was read; run again (nothing was written)`);
  }
  const turns = turnsOn(path);
  const lastPrompt = turns.at(-1)?.prompt ?? "";
  lines.push(`${JSON.stringify({ type: "last-prompt", lastPrompt, leafUuid: at.uuid, sessionId: id })}\n`);
  const file = writeSessionFile(env, place, `${id}.jsonl`, lines);
  return { id, file, turns: turns.length };
}

/**
 * Writes `name` into the project folder of `place`, made (0700, as Claude Code makes it) when missing. The folder is
 * reached without following a link, except the one kind the pack itself makes: a container's project folder that is
 * a relative link to a sibling folder under projects/ (/dev-open's mapping), which is followed to that sibling.
 */
function writeSessionFile(env: Env, place: string, name: string, content: string[]): string {
  const projects = projectsDir(env);
  mkdirSync(projects, { recursive: true, mode: 0o700 });
  const slug = ownFolderName(projects, encodeProjectSlug(place));
  withDirBeneath(projects, slug, (dir) => replaceFileIn(dir, name, content, 0o600), { create: true });
  return fileIn(fileIn(projects, slug), name);
}

/** The folder the project's slug names: its own, or the sibling /dev-open's link names (the gate's one rule). */
function ownFolderName(projects: string, slug: string): string {
  const folder = projectFolderName(projects, slug);
  if (folder !== undefined) return folder;
  if (statBeneath(projects, slug) === undefined) return slug;
  throw refusal(
    `${fileIn(projects, slug)} is a link or a file claude-persist did not make; not writing there (move it aside and run fork again)`,
  );
}
