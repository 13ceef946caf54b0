// Reading what we need from a transcript (`<slug>/<session>.jsonl`) from its head and tail only:
// transcripts grow to hundreds of megabytes and a listing must not read them whole.
import { closeSync, fstatSync, readSync } from "node:fs";
import * as z from "zod/mini";
import { openRegularFile } from "../fs.ts";

/** Windows read at each end: a small one first, a larger one only when the small one lacks what we want. */
const SMALL_WINDOW = 16 * 1024;
const LARGE_WINDOW = 64 * 1024;

export type TranscriptSummary = {
  readonly sessionId: string | undefined;
  /** The working directory of the first and of the last line: they differ when a session moved. */
  readonly firstCwd: string | undefined;
  readonly lastCwd: string | undefined;
  readonly gitBranch: string | undefined;
  readonly version: string | undefined;
  readonly firstTimestamp: string | undefined;
  readonly lastTimestamp: string | undefined;
  /** The first thing the user typed, when it is in the head. */
  readonly firstPrompt: string | undefined;
  readonly size: number;
  /** How many bytes were read to make this summary. */
  readonly bytesRead: number;
};

const lineSchema = z.looseObject({
  type: z.optional(z.string()),
  sessionId: z.optional(z.string()),
  cwd: z.optional(z.string()),
  gitBranch: z.optional(z.string()),
  version: z.optional(z.string()),
  timestamp: z.optional(z.string()),
  isMeta: z.optional(z.boolean()),
  message: z.optional(
    z.looseObject({ role: z.optional(z.string()), content: z.optional(z.union([z.string(), z.array(z.unknown())])) }),
  ),
});
const textPartSchema = z.object({ type: z.literal("text"), text: z.string() });

type TranscriptLine = z.infer<typeof lineSchema>;

export function summarizeTranscript(file: string): TranscriptSummary {
  // Containers write transcripts: a FIFO or link swapped in after the folder was listed is refused, never waited on.
  const fd = openRegularFile(file);
  try {
    const size = fstatSync(fd).size;
    const small = summarizeWindows(fd, size, SMALL_WINDOW);
    const complete = small.sessionId && small.firstCwd && small.firstPrompt && small.lastCwd && small.lastTimestamp;
    if (complete || size <= 2 * SMALL_WINDOW) return small;
    const large = summarizeWindows(fd, size, LARGE_WINDOW);
    return { ...large, bytesRead: small.bytesRead + large.bytesRead };
  } finally {
    closeSync(fd);
  }
}

function summarizeWindows(fd: number, size: number, window: number): TranscriptSummary {
  const head = readHeadLines(fd, size, window);
  const tail = size > head.bytes ? readTailLines(fd, size, window) : { lines: [], bytes: 0 };
  // Lines are parsed only until what is wanted is found: first values from the start, last ones from the end.
  const first: Partial<Record<"sessionId" | "cwd" | "version" | "timestamp", string>> & { prompt?: string } = {};
  for (const line of parsedLines(head.lines)) {
    for (const key of ["sessionId", "cwd", "version", "timestamp"] as const) first[key] ??= line[key];
    first.prompt ??= userPrompt(line);
    if (first.sessionId && first.cwd && first.version && first.timestamp && first.prompt) break;
  }
  const last: Partial<Record<"cwd" | "gitBranch" | "timestamp", string>> = {};
  // From the end back: a branch or cwd seen only near the start still counts when the tail has none.
  for (const line of parsedLines([...head.lines, ...tail.lines].reverse())) {
    for (const key of ["cwd", "gitBranch", "timestamp"] as const) last[key] ??= line[key];
    if (last.cwd && last.gitBranch && last.timestamp) break;
  }
  return {
    sessionId: first.sessionId ?? lastSessionId(tail.lines),
    firstCwd: first.cwd,
    lastCwd: last.cwd,
    gitBranch: last.gitBranch,
    version: first.version,
    firstTimestamp: first.timestamp,
    lastTimestamp: last.timestamp,
    firstPrompt: first.prompt,
    size,
    bytesRead: head.bytes + tail.bytes,
  };
}

function lastSessionId(lines: string[]): string | undefined {
  for (const line of parsedLines([...lines].reverse())) if (line.sessionId) return line.sessionId;
  return undefined;
}

/** The user's own words in a line, when it is one they typed. */
export function userPrompt(line: TranscriptLine): string | undefined {
  if (line.type !== "user" || line.isMeta || line.message?.role !== "user") return undefined;
  const text = contentText(line.message.content);
  // Slash-command expansions and hook output are wrapped in tags; the user's words are what we want.
  return text && !text.startsWith("<") ? text.replace(/\s+/g, " ").trim().slice(0, 200) : undefined;
}

function contentText(content: string | unknown[] | undefined): string | undefined {
  if (typeof content === "string") return content;
  for (const part of content ?? []) {
    const parsed = textPartSchema.safeParse(part);
    if (parsed.success) return parsed.data.text;
  }
  return undefined;
}

/**
 * Complete lines in the first `window` bytes of the file: never more (a transcript with no newline, planted or torn,
 * costs one window, not megabytes), so a first line longer than the window says nothing.
 */
function readHeadLines(fd: number, size: number, window: number): { lines: string[]; bytes: number } {
  let length = Math.min(window, size);
  for (;;) {
    const buffer = Buffer.alloc(length);
    const bytes = readSync(fd, buffer, 0, length, 0);
    const text = buffer.subarray(0, bytes).toString("utf8");
    const end = bytes === size ? text.length : text.lastIndexOf("\n");
    if (end >= 0 || length >= Math.min(window, size)) {
      // A first line longer than the window: what its start says (its leading string fields) still counts.
      const lines = end >= 0 ? splitLines(text.slice(0, end)) : [leadingFields(text)];
      return { lines, bytes };
    }
    length = Math.min(length * 4, window, size);
  }
}

/** Complete lines in the last `window` bytes of the file: never more, as for the head. */
function readTailLines(fd: number, size: number, window: number): { lines: string[]; bytes: number } {
  let length = Math.min(window, size);
  for (;;) {
    const buffer = Buffer.alloc(length);
    const bytes = readSync(fd, buffer, 0, length, size - length);
    const text = buffer.subarray(0, bytes).toString("utf8");
    const start = length === size ? 0 : text.indexOf("\n") + 1;
    const lines = splitLines(text.slice(start));
    if (lines.some((l) => l.startsWith("{")) || length >= Math.min(window, size)) return { lines, bytes };
    length = Math.min(length * 4, window, size);
  }
}

function splitLines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim());
}

/** Parses lines one at a time as they are asked for; torn or foreign lines are passed over. */
function* parsedLines(lines: Iterable<string>): Generator<TranscriptLine> {
  for (const raw of lines) {
    try {
      const parsed = lineSchema.safeParse(JSON.parse(raw));
      if (parsed.success) yield parsed.data;
    } catch {
      // A torn or foreign line says nothing about the session; the others do.
    }
  }
}

/**
 * The top-level string fields at the start of a JSON object cut short (`{"type":"user","cwd":"/a","message":{...`),
 * as a JSON object: Claude Code writes a line's ids, cwd and version before its message. Nested fields are skipped.
 */
export function leadingFields(text: string): string {
  const fields: Record<string, string> = {};
  let at = skipSpace(text, 0);
  if (text[at] !== "{") return "{}";
  at++;
  for (;;) {
    const key = stringAt(text, skipSpace(text, at));
    if (key === undefined) break;
    at = skipSpace(text, key.end);
    if (text[at] !== ":") break;
    at = skipSpace(text, at + 1);
    if (text[at] === '"') {
      const value = stringAt(text, at);
      if (value === undefined) break;
      fields[key.value] = value.value;
      at = value.end;
    } else {
      const end = valueEnd(text, at);
      if (end === undefined) break;
      at = end;
    }
    at = skipSpace(text, at);
    if (text[at] !== ",") break;
    at++;
  }
  return JSON.stringify(fields);
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && " \t\r\n".includes(text[at] as string)) at++;
  return at;
}

/** The JSON string starting at `at`, and where it ends; undefined when it is cut short or not one. */
function stringAt(text: string, at: number): { value: string; end: number } | undefined {
  if (text[at] !== '"') return undefined;
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') {
      try {
        return { value: JSON.parse(text.slice(at, i + 1)) as string, end: i + 1 };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Where the (non-string) value starting at `at` ends, in a loop; undefined when it is cut short. */
function valueEnd(text: string, at: number): number | undefined {
  let depth = 0;
  for (let i = at; i < text.length; ) {
    const c = text[i];
    if (c === '"') {
      const skipped = stringAt(text, i);
      if (skipped === undefined) return undefined;
      i = skipped.end;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (depth === 0) return i;
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === "," && depth === 0) return i;
    i++;
  }
  return undefined;
}
