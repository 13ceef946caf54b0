// One transcript read whole, as a tree of messages: each conversation line's uuid, its parent (`parentUuid`, or across
// a compaction `logicalParentUuid`), when and where it was written, and the user's words when it starts a turn.
// Transcripts a container wrote are hostile input: a regular file only (no link followed, no FIFO waited on), read in
// bounded chunks up to a bounded size, every record checked; a line that does not check out is passed over.
import { closeSync, fstatSync, readSync } from "node:fs";
import * as z from "zod/mini";
import { userPrompt } from "../claude/transcript.ts";
import { openRegularFile, refusal } from "../fs.ts";

/** Larger transcripts are not drawn (the listing still shows them): a tree needs every line. */
export const MAX_TRANSCRIPT_BYTES = 512 * 1024 * 1024;
/** A single line longer than this (a pasted file?) is passed over. */
const MAX_LINE_BYTES = 32 * 1024 * 1024;
const CHUNK = 1024 * 1024;

export type Message = {
  readonly uuid: string;
  /** The line before it in the conversation: `parentUuid`, else across a compaction `logicalParentUuid`. */
  readonly parent: string | null;
  /** The parent is only `logicalParentUuid` (a compaction's boundary). */
  readonly logical: boolean;
  readonly type: string;
  readonly timestamp: string | null;
  readonly cwd: string | null;
  readonly gitBranch: string | null;
  /** The user's own words, when this line is a prompt they typed (a turn starts here). */
  readonly prompt: string | null;
  readonly sidechain: boolean;
  /** The line's position in the file: Claude Code appends, so later lines were written later. */
  readonly line: number;
};

export type Conversation = {
  readonly sessionId: string | null;
  /** Every conversation line, by uuid (the last line wins when a uuid repeats). */
  readonly messages: Map<string, Message>;
  /** The leaf the last `last-prompt` line names: where `claude --resume` goes on, when it names a line here. */
  readonly lastLeafUuid: string | null;
  /** Where a fork says it came from (`forkedFrom` on its lines), when it says. */
  readonly forkedFrom: { readonly sessionId: string; readonly messageUuid: string | null } | null;
  /** Every `entrypoint` its lines name: `cli` for a terminal, `sdk-cli` for `claude -p`. */
  readonly entrypoints: Set<string>;
  /** The time on the file's first timestamped line: when the file was begun (a fork's copied lines come after it). */
  readonly begun: string | null;
  readonly size: number;
  /** Lines that were not JSON or not a record we know. */
  readonly skipped: number;
};

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const idSchema = z.string().check(z.regex(ID));

const lineSchema = z.looseObject({
  type: z.optional(z.string()),
  uuid: z.optional(idSchema),
  parentUuid: z.optional(z.nullable(idSchema)),
  logicalParentUuid: z.optional(z.nullable(idSchema)),
  leafUuid: z.optional(z.nullable(idSchema)),
  sessionId: z.optional(z.string()),
  timestamp: z.optional(z.string()),
  cwd: z.optional(z.string()),
  gitBranch: z.optional(z.string()),
  entrypoint: z.optional(z.string()),
  isSidechain: z.optional(z.boolean()),
  isMeta: z.optional(z.boolean()),
  isCompactSummary: z.optional(z.boolean()),
  forkedFrom: z.optional(z.looseObject({ sessionId: idSchema, messageUuid: z.optional(z.nullable(idSchema)) })),
  message: z.optional(
    z.looseObject({ role: z.optional(z.string()), content: z.optional(z.union([z.string(), z.array(z.unknown())])) }),
  ),
});

export type TranscriptLine = z.infer<typeof lineSchema>;

/** Parses one line: undefined when it is not JSON or not a record of the shape we know. */
export function parseLine(raw: string): TranscriptLine | undefined {
  try {
    const parsed = lineSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Calls `each` with every complete line of `file` (its text and number), reading it in bounded chunks. */
export function eachLine(file: string, each: (raw: string, line: number) => void): { size: number; skipped: number } {
  const fd = openRegularFile(file);
  let skipped = 0;
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_TRANSCRIPT_BYTES)
      throw refusal(`${file} is larger than ${MAX_TRANSCRIPT_BYTES} bytes; not reading it`);
    const buffer = Buffer.alloc(CHUNK);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let position = 0;
    let line = 0;
    const flush = (part: Buffer) => {
      line++;
      if (pendingBytes + part.length > MAX_LINE_BYTES) skipped++;
      else if (pendingBytes + part.length > 0) each(Buffer.concat([...pending, part]).toString("utf8"), line);
      pending = [];
      pendingBytes = 0;
    };
    // Never past the size seen at the start: a file still being written ends where it ended then.
    while (position < size) {
      const bytes = readSync(fd, buffer, 0, Math.min(CHUNK, size - position), position);
      if (bytes === 0) break;
      position += bytes;
      let start = 0;
      for (let end = buffer.indexOf(10, start); end !== -1 && end < bytes; end = buffer.indexOf(10, start)) {
        flush(buffer.subarray(start, end));
        start = end + 1;
      }
      if (start < bytes) {
        const rest = Buffer.from(buffer.subarray(start, bytes));
        // A line already too long is only counted, not kept.
        if (pendingBytes <= MAX_LINE_BYTES) pending.push(rest);
        pendingBytes += rest.length;
      }
    }
    // A last line without its newline is being written now: it is passed over, as a torn line.
    if (pendingBytes > 0) skipped++;
    return { size, skipped };
  } finally {
    closeSync(fd);
  }
}

/** The conversation in `file`, as a tree of messages. Throws when the file cannot be read (or is refused). */
export function readConversation(file: string): Conversation {
  const messages = new Map<string, Message>();
  const entrypoints = new Set<string>();
  let sessionId: string | null = null;
  let lastLeafUuid: string | null = null;
  let forkedFrom: Conversation["forkedFrom"] = null;
  let bad = 0;
  let begun: string | null = null;
  const { size, skipped } = eachLine(file, (raw, number) => {
    if (begun === null && raw.includes('"timestamp"')) begun = parseLine(raw)?.timestamp ?? null;
    // Most of a transcript's bytes are bookkeeping (request shapes, blobs): only lines that can matter are parsed.
    const conversational = raw.includes('"uuid"');
    if (!conversational && !raw.includes('"last-prompt"')) return;
    const line = parseLine(raw);
    if (!line) {
      bad++;
      return;
    }
    if (line.type === "last-prompt") {
      if (line.leafUuid) lastLeafUuid = line.leafUuid;
      return;
    }
    if (!line.uuid) return;
    sessionId ??= line.sessionId ?? null;
    if (line.entrypoint) entrypoints.add(line.entrypoint);
    if (line.forkedFrom && !forkedFrom) {
      forkedFrom = { sessionId: line.forkedFrom.sessionId, messageUuid: line.forkedFrom.messageUuid ?? null };
    }
    const logical = !line.parentUuid && Boolean(line.logicalParentUuid);
    messages.set(line.uuid, {
      uuid: line.uuid,
      parent: line.parentUuid ?? line.logicalParentUuid ?? null,
      logical,
      type: line.type ?? "",
      timestamp: line.timestamp ?? null,
      cwd: line.cwd ?? null,
      gitBranch: line.gitBranch ?? null,
      prompt: line.isSidechain || line.isCompactSummary ? null : (userPrompt(line) ?? null),
      sidechain: line.isSidechain ?? false,
      line: number,
    });
  });
  return { sessionId, messages, lastLeafUuid, forkedFrom, entrypoints, begun, size, skipped: skipped + bad };
}
