import { chmodSync, chownSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarizeTranscript } from "../src/claude/transcript.ts";
import { startMessagesServer, type MessagesServer } from "./support/messages-server.ts";
import { CLAUDE_BIN, claudeEnv, runClaude, runCli, tempDir, tempHome } from "./support/claude.ts";

describe("installed pack + the real claude CLI", () => {
  let server: MessagesServer;
  beforeAll(async () => {
    server = await startMessagesServer();
  });
  afterAll(() => server.close());

  it("claude -p hello: the hook's context reaches the API request and the session is recorded", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    const repo = tempDir("cp-repo-");
    await execa("git", ["init", "-q", "-b", "main"], { cwd: repo });
    const before = server.requests.length;

    const result = await runClaude(["-p", "hello"], { cwd: repo, home, apiUrl: server.url });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe("Hello from the test server.");

    const sent = JSON.stringify(server.requests.slice(before));
    expect(sent).toContain(`claude-persist: this session runs on the host`);
    expect(sent).toContain(`in ${repo}.`);

    const [slug] = readdirSync(path.join(home, ".claude", "projects"));
    const transcripts = readdirSync(path.join(home, ".claude", "projects", slug ?? "")).filter((f) =>
      f.endsWith(".jsonl"),
    );
    expect(transcripts).toHaveLength(1);
    const sessionId = path.basename(transcripts[0] ?? "", ".jsonl");
    const summary = summarizeTranscript(path.join(home, ".claude", "projects", slug ?? "", transcripts[0] ?? ""));
    expect(summary.sessionId).toBe(sessionId);
    expect(summary.lastCwd).toBe(repo);
    expect(summary.firstPrompt).toBe("hello");

    const starts = readFileSync(
      path.join(home, ".claude", "persist-state", "session-starts", `${sessionId}.jsonl`),
      "utf8",
    )
      .trim()
      .split("\n");
    expect(starts.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ sessionId, cwd: repo, environment: "host", source: "startup" }),
    ]);

    // Resuming the session records a second start of the same session.
    const resumed = await runClaude(["--continue", "-p", "again"], { cwd: repo, home, apiUrl: server.url });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const after = readFileSync(
      path.join(home, ".claude", "persist-state", "session-starts", `${sessionId}.jsonl`),
      "utf8",
    )
      .trim()
      .split("\n");
    expect(after.map((line) => JSON.parse(line).source)).toEqual(["startup", "resume"]);
  });

  it("a read-only state folder does not affect the session", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    const repo = tempDir("cp-repo-");
    chmodSync(path.join(home, ".claude", "persist-state"), 0o555);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      // root ignores modes: the session runs as an unprivileged user who owns everything but the state folder.
      for (const dir of [home, repo]) await execa("chown", ["-R", "65534:65534", dir]);
      chownSync(path.join(home, ".claude", "persist-state"), 0, 0);
    }
    const before = server.requests.length;
    const prefix = asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const [file = "", ...args] = [...prefix, CLAUDE_BIN, "-p", "hello"];
    const result = await execa(file, args, {
      cwd: repo,
      env: claudeEnv(home, server.url),
      extendEnv: false,
      reject: false,
      stdin: "ignore",
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe("Hello from the test server.");
    expect(JSON.stringify(server.requests.slice(before))).toContain("claude-persist: this session runs on the host");
    // Nothing could be recorded in the read-only shared state; the install record is in host-only state.
    expect(readdirSync(path.join(home, ".claude", "persist-state"))).toEqual([]);
  });
});
