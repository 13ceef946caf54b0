// Reading what we need from a transcript (`<slug>/<session>.jsonl`) from its head and tail only:
// transcripts grow to hundreds of megabytes and a listing must not read them whole.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { z } from "zod";

const CHUNK = 64 * 1024;
const MAX_SCAN = 4 * 1024 * 1024;

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

const lineSchema = z
  .object({
    type: z.string().optional(),
    sessionId: z.string().optional(),
    cwd: z.string().optional(),
    gitBranch: z.string().optional(),
    version: z.string().optional(),
    timestamp: z.string().optional(),
    isMeta: z.boolean().optional(),
    message: z
      .object({ role: z.string().optional(), content: z.union([z.string(), z.array(z.unknown())]).optional() })
      .loose()
      .optional(),
  })
  .loose();

type TranscriptLine = z.infer<typeof lineSchema>;

export function summarizeTranscript(file: string): TranscriptSummary {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const head = readHeadLines(fd, size);
    const tail = size > head.bytes ? readTailLines(fd, size) : { lines: [], bytes: 0 };
    const first = head.lines;
    const last = tail.lines.length > 0 ? tail.lines : head.lines;
    const withSession = (lines: TranscriptLine[]) => lines.find((l) => l.sessionId);
    const lastWith = (lines: TranscriptLine[], key: "cwd" | "gitBranch" | "timestamp") =>
      [...lines].reverse().find((l) => l[key])?.[key];
    return {
      sessionId: withSession(first)?.sessionId ?? withSession(last)?.sessionId,
      firstCwd: first.find((l) => l.cwd)?.cwd,
      lastCwd: lastWith(last, "cwd") ?? lastWith(first, "cwd"),
      gitBranch: lastWith(last, "gitBranch") ?? lastWith(first, "gitBranch"),
      version: first.find((l) => l.version)?.version,
      firstTimestamp: first.find((l) => l.timestamp)?.timestamp,
      lastTimestamp: lastWith(last, "timestamp") ?? lastWith(first, "timestamp"),
      firstPrompt: firstUserPrompt(first),
      size,
      bytesRead: head.bytes + tail.bytes,
    };
  } finally {
    closeSync(fd);
  }
}

function firstUserPrompt(lines: TranscriptLine[]): string | undefined {
  for (const line of lines) {
    if (line.type !== "user" || line.isMeta || line.message?.role !== "user") continue;
    const text = contentText(line.message.content);
    // Slash-command expansions and hook output are wrapped in tags; the user's words are what we want.
    if (text && !text.startsWith("<")) return text.replace(/\s+/g, " ").trim().slice(0, 200);
  }
  return undefined;
}

function contentText(content: string | unknown[] | undefined): string | undefined {
  if (typeof content === "string") return content;
  for (const part of content ?? []) {
    const parsed = z.object({ type: z.literal("text"), text: z.string() }).safeParse(part);
    if (parsed.success) return parsed.data.text;
  }
  return undefined;
}

/** Complete lines from the start of the file, reading more only while the first line is unfinished. */
function readHeadLines(fd: number, size: number): { lines: TranscriptLine[]; bytes: number } {
  let length = Math.min(CHUNK, size);
  for (;;) {
    const buffer = Buffer.alloc(length);
    const bytes = readSync(fd, buffer, 0, length, 0);
    const text = buffer.subarray(0, bytes).toString("utf8");
    const end = bytes === size ? text.length : text.lastIndexOf("\n");
    if (end >= 0 || length >= Math.min(MAX_SCAN, size)) {
      return { lines: parseLines(text.slice(0, Math.max(end, 0))), bytes };
    }
    length = Math.min(length * 4, MAX_SCAN, size);
  }
}

/** Complete lines from the end of the file, reading further back only while no whole line is in view. */
function readTailLines(fd: number, size: number): { lines: TranscriptLine[]; bytes: number } {
  let length = Math.min(CHUNK, size);
  for (;;) {
    const buffer = Buffer.alloc(length);
    const bytes = readSync(fd, buffer, 0, length, size - length);
    const text = buffer.subarray(0, bytes).toString("utf8");
    const start = length === size ? 0 : text.indexOf("\n") + 1;
    const lines = parseLines(text.slice(start));
    if (lines.length > 0 || length >= Math.min(MAX_SCAN, size)) return { lines, bytes };
    length = Math.min(length * 4, MAX_SCAN, size);
  }
}

function parseLines(text: string): TranscriptLine[] {
  const lines: TranscriptLine[] = [];
  for (const raw of text.split("\n")) {
    if (!raw.trim()) continue;
    try {
      const parsed = lineSchema.safeParse(JSON.parse(raw));
      if (parsed.success) lines.push(parsed.data);
    } catch {
      // A torn or foreign line says nothing about the session; the others do.
    }
  }
  return lines;
}
