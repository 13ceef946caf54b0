import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { summarizeTranscript } from "../src/claude/transcript.ts";
import { tempDir } from "./support/claude.ts";

const line = (fields: Record<string, unknown>) => `${JSON.stringify(fields)}\n`;

function writeTranscript(lines: string[]): string {
  const file = path.join(tempDir(), "0b7e4a8c-1111-4222-8333-944445555666.jsonl");
  writeFileSync(file, lines.join(""));
  return file;
}

describe("summarizeTranscript", () => {
  it("reads id, cwd, branch, times and the first prompt from the head and tail only", () => {
    const filler = line({
      type: "assistant",
      sessionId: "s1",
      cwd: "/home/ana/app",
      message: { role: "assistant", content: "x".repeat(1000) },
    });
    const file = writeTranscript([
      line({
        type: "user",
        sessionId: "s1",
        cwd: "/home/ana/app",
        gitBranch: "main",
        version: "2.1.330",
        timestamp: "2026-11-01T10:00:00.000Z",
        message: { role: "user", content: "<command-name>/x</command-name>" },
      }),
      line({
        type: "user",
        sessionId: "s1",
        cwd: "/home/ana/app",
        timestamp: "2026-11-01T10:00:01.000Z",
        message: { role: "user", content: [{ type: "text", text: "fix   the\nlogin bug" }] },
      }),
      ...Array.from({ length: 5000 }, () => filler),
      line({
        type: "user",
        sessionId: "s1",
        cwd: "/workspaces/app",
        gitBranch: "feature",
        timestamp: "2026-11-02T09:00:00.000Z",
        message: { role: "user", content: "go on" },
      }),
    ]);
    const summary = summarizeTranscript(file);
    expect(summary).toMatchObject({
      sessionId: "s1",
      firstCwd: "/home/ana/app",
      lastCwd: "/workspaces/app",
      gitBranch: "feature",
      version: "2.1.330",
      firstTimestamp: "2026-11-01T10:00:00.000Z",
      lastTimestamp: "2026-11-02T09:00:00.000Z",
      firstPrompt: "fix the login bug",
    });
    expect(summary.size).toBeGreaterThan(5_000_000);
    expect(summary.bytesRead).toBeLessThanOrEqual(32 * 1024);
  });

  it("reads a first line longer than one chunk whole", () => {
    const file = writeTranscript([
      line({
        type: "user",
        sessionId: "s2",
        cwd: "/a",
        message: { role: "user", content: `big ${"y".repeat(200_000)}` },
      }),
      line({ type: "assistant", sessionId: "s2", cwd: "/b" }),
    ]);
    expect(summarizeTranscript(file)).toMatchObject({ sessionId: "s2", firstCwd: "/a", lastCwd: "/b" });
  });

  it("skips a torn last line and foreign lines", () => {
    const file = writeTranscript([
      line({ type: "summary", summary: "x" }),
      line({ type: "user", sessionId: "s3", cwd: "/a" }),
      '{"type":"user","sessionId":"s3","cwd":"/tor',
    ]);
    expect(summarizeTranscript(file)).toMatchObject({ sessionId: "s3", lastCwd: "/a" });
  });

  it("copes with an empty file", () => {
    expect(summarizeTranscript(writeTranscript([]))).toMatchObject({ sessionId: undefined, size: 0 });
  });
});
