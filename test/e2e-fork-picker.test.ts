// A person at the terminal forks a session into a worktree: three turns typed into interactive `claude` (tmux), a
// /rewind to before the third and another third (the tree shows both leaves; the command it gives the rewound-away
// one makes it resumable), the session forked after the second turn, then `claude --resume` in the worktree: its picker lists the fork (with the second
// turn as its last prompt), and choosing it shows the first two turns and not the third.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsOnPath } from "./support/checks.ts";
import { CLAUDE_BIN, runClaude, runCli, tempDir, tempHome } from "./support/claude.ts";
import { type MessagesServer, startMessagesServer } from "./support/messages-server.ts";

const hasTmux = existsOnPath("tmux");
if (!hasTmux && process.env.CI) throw new Error("CI must run the interactive fork test, but tmux is not installed");

const API_KEY = "sk-ant-test-key-0000000000000000000000";
const SOCKET = `claude-persist-fork-${process.pid}`;

describe.skipIf(!hasTmux)("the --resume picker in a fork's worktree (tmux, real claude)", () => {
  let server: MessagesServer;
  let home: string;
  let repo: string;
  const tmux = (...args: string[]) => execa("tmux", ["-L", SOCKET, ...args], { reject: false });
  const screen = async () => (await tmux("capture-pane", "-p", "-t", "t")).stdout;
  async function waitFor(pattern: RegExp, what: string): Promise<string> {
    const deadline = Date.now() + 60_000;
    let last = "";
    while (Date.now() < deadline) {
      last = await screen();
      if (pattern.test(last)) return last;
      await sleep(300);
    }
    throw new Error(`waited for ${what}; the screen was:\n${last}`);
  }
  async function type(text: string): Promise<void> {
    await tmux("send-keys", "-t", "t", "-l", text);
    await sleep(150);
    await tmux("send-keys", "-t", "t", "Enter");
  }
  async function quit(): Promise<void> {
    for (let i = 0; i < 20 && !/(?:^|\n)\$$/.test((await screen()).trimEnd()); i++) {
      await tmux("send-keys", "-t", "t", "C-c");
      await sleep(600);
    }
  }

  beforeAll(async () => {
    server = await startMessagesServer();
    home = tempHome();
    repo = tempDir("cp-fork-tmux-");
    const git = (...args: string[]) =>
      execa("git", ["-c", "user.name=T", "-c", "user.email=t@example.com", ...args], { cwd: repo });
    await git("init", "-q", "-b", "main");
    await git("commit", "-q", "--allow-empty", "-m", "start");
    const worktree = `${repo}.worktrees/picked`;
    // Onboarded, the key approved, both folders trusted: what a person who uses claude already has.
    const trusted = { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true };
    const state = {
      hasCompletedOnboarding: true,
      lastOnboardingVersion: "2.1.330",
      theme: "dark",
      customApiKeyResponses: { approved: [API_KEY.slice(-20)], rejected: [] },
      projects: { [repo]: trusted, [worktree]: trusted },
    };
    writeFileSync(path.join(home, ".claude.json"), JSON.stringify(state), { mode: 0o600 });
    const env = {
      HOME: home,
      ANTHROPIC_BASE_URL: server.url,
      ANTHROPIC_API_KEY: API_KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      TERM: "xterm-256color",
      PS1: "$ ",
      PATH: `${path.dirname(CLAUDE_BIN)}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    };
    const started = await execa(
      "tmux",
      [
        "-L",
        SOCKET,
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "160",
        "-y",
        "45",
        "env",
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        "bash",
        "--noprofile",
        "--norc",
      ],
      { reject: false },
    );
    expect(started.exitCode, started.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await tmux("kill-server");
    await server?.close();
  });

  it("a real /rewind's two leaves in the tree; the picker in the worktree lists the fork, and resuming it shows turns 1-2 and not 3", {
    timeout: 300_000,
  }, async () => {
    await type(`cd ${repo} && claude`);
    await waitFor(/^\s*❯\s/m, "claude's prompt");
    for (const [i, text] of ["turn one ALPHA", "turn two BRAVO", "turn three CHARLIE"].entries()) {
      await type(text);
      await waitFor(new RegExp(`(?:Hello from the test server\\.[\\s\\S]*){${i + 1}}`), `the answer to ${text}`);
    }
    // /rewind to before turn three, and a new turn three: a second leaf in the same file.
    await type("/rewind");
    await waitFor(/Rewind[\s\S]*\(current\)/, "the rewind list");
    await tmux("send-keys", "-t", "t", "Up");
    await sleep(300);
    await tmux("send-keys", "-t", "t", "Enter");
    await waitFor(/Restore conversation/, "the rewind choices");
    await tmux("send-keys", "-t", "t", "Enter");
    await sleep(1000);
    await tmux("send-keys", "-t", "t", "C-u");
    await type("turn three DELTA");
    await waitFor(/turn three DELTA[\s\S]*Hello from the test server\./, "the answer to the new turn three");
    await quit();
    const listed = await runCli(["sessions", "--json"], { env: { HOME: home }, cwd: repo });
    const id = (JSON.parse(listed.stdout) as { sessions: Array<{ id: string }> }).sessions[0]?.id ?? "";
    const drawn = await runCli(["sessions", "--tree", "--json"], { env: { HOME: home }, cwd: repo });
    type Leaf = { lastPrompt: string; resumed: boolean; branchesAfterTurn: number | null; command: string };
    const leaves = (JSON.parse(drawn.stdout) as { tree: { roots: Array<{ leaves: Leaf[] }> } }).tree.roots[0]?.leaves;
    expect(leaves?.map((l) => [l.lastPrompt, l.resumed, l.branchesAfterTurn])).toEqual([
      ["turn three CHARLIE", false, 2],
      ["turn three DELTA", true, null],
    ]);
    // The command the tree gives the rewound-away leaf makes it resumable: it goes on from turn three CHARLIE.
    const [command, ...words] = (leaves?.[0]?.command ?? "").split(" ");
    expect(command).toBe("claude-persist");
    const revived = await runCli([...words, "--json"], { env: { HOME: home }, cwd: repo });
    expect(revived.exitCode, revived.stderr).toBe(0);
    const asked = server.requests.length;
    const again = await runClaude(["--resume", (JSON.parse(revived.stdout) as { id: string }).id, "-p", "back"], {
      cwd: repo,
      home,
      apiUrl: server.url,
    });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.stringify(server.requests.slice(asked))).toContain("CHARLIE");
    expect(JSON.stringify(server.requests.slice(asked))).not.toContain("DELTA");
    const forked = await runCli(["fork", `${id}@2`, "--worktree", "picked"], { env: { HOME: home }, cwd: repo });
    expect(forked.exitCode, forked.stderr).toBe(0);
    const resume = /^ {2}(cd .+ && claude --resume \S+)$/m.exec(forked.stdout)?.[1] ?? "";
    expect(resume).toMatch(/\.worktrees\/picked && claude --resume/);

    await tmux("send-keys", "-t", "t", "C-l");
    await type(`cd ${repo}.worktrees/picked && claude --resume`);
    const picker = await waitFor(/Resume session[\s\S]*turn two BRAVO/, "the fork in the picker");
    // The worktree's own sessions: the fork, whose last prompt is turn two; not the original (turn three).
    expect(picker).not.toMatch(/turn three (?:CHARLIE|DELTA)/);
    await tmux("send-keys", "-t", "t", "Enter");
    const resumed = await waitFor(/turn two BRAVO[\s\S]*❯/, "the resumed fork");
    expect(resumed).toContain("turn one ALPHA");
    expect(resumed).not.toMatch(/CHARLIE|DELTA/);
    await quit();
  });
});
