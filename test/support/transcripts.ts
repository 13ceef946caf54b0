// Transcripts as Claude Code writes them, for tests that list sessions.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** A transcript as Claude Code writes it: a queue line, the user's prompt, an answer, a last-prompt line. */
export function writeTranscript(
  file: string,
  s: { id: string; cwd: string; branch: string; prompt: string; start: number; end: number },
): void {
  const common = { sessionId: s.id, cwd: s.cwd, gitBranch: s.branch, version: "2.1.330", userType: "external" };
  const lines = [
    { type: "queue-operation", operation: "dequeue", timestamp: new Date(s.start).toISOString(), sessionId: s.id },
    {
      ...common,
      parentUuid: null,
      type: "user",
      message: { role: "user", content: s.prompt },
      uuid: "u1",
      timestamp: new Date(s.start).toISOString(),
    },
    {
      ...common,
      parentUuid: "u1",
      type: "assistant",
      message: { role: "assistant", content: [{ type: "text", text: "ok" }] },
      uuid: "a1",
      timestamp: new Date(s.end).toISOString(),
    },
    { type: "last-prompt", lastPrompt: s.prompt, sessionId: s.id },
  ];
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
}
