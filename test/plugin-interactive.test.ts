// The plugin as a person meets it (issue 26): interactive `claude` in tmux, the real pinned CLI, the tests' own
// Messages-API server. Its first session tells the user, once, what it set up and how to remove it; a typed
// /persist:uninstall (a command Claude may not run on its own: disable-model-invocation) still runs, and removes it.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsOnPath } from "./support/checks.ts";
import { CLAUDE_BIN, claudeEnv, runClaude, tempDir, tempHome } from "./support/claude.ts";
import { startMessagesServer, type MessagesServer } from "./support/messages-server.ts";
import { PLUGIN_INSTALL_STEPS, pluginCheckout } from "./support/plugin.ts";

const API_KEY = "sk-ant-test-key-0000000000000000000000";
const SESSION = "person";
const TOLD = /claude-persist set up what dev containers need/;

describe.skipIf(!existsOnPath("tmux"))("the plugin at the terminal (tmux, real claude)", { timeout: 300_000 }, () => {
  let server: MessagesServer;
  let home: string;
  let repo: string;
  const socket = `cp-plugin-${process.pid}`;

  const tmux = (args: string[]) => execa("tmux", ["-L", socket, ...args], { reject: false });
  const screen = async () => (await tmux(["capture-pane", "-p", "-J", "-S", "-200", "-t", SESSION])).stdout;

  async function waitForScreen(pattern: RegExp, what: string, timeoutMs = 90_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      last = await screen();
      if (pattern.test(last)) return last;
      await sleep(300);
    }
    throw new Error(`waited for ${what} (${pattern}); the screen was:\n${last}`);
  }

  async function type(text: string): Promise<void> {
    await tmux(["send-keys", "-t", SESSION, "-l", text]);
    await sleep(300);
    await tmux(["send-keys", "-t", SESSION, "Enter"]);
  }

  /** Starts interactive claude in a cleared screen and waits for its input box (and the hooks' messages). */
  async function startClaude(): Promise<string> {
    await tmux(["send-keys", "-t", SESSION, "C-l"]);
    await tmux(["clear-history", "-t", SESSION]);
    await type(CLAUDE_BIN);
    await waitForScreen(/^\s*[>❯]\s/m, "claude's prompt");
    await sleep(2_000); // The SessionStart hooks' messages come in after the prompt is drawn.
    return screen();
  }

  async function quitClaude(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      // The shell's prompt (`$ `, or root's `bash-5.2# `) is the last line again.
      if (/(?:^|\n)(?:\$|bash-[\d.]+[#$])$/.test((await screen()).trimEnd())) return;
      await tmux(["send-keys", "-t", SESSION, "C-c"]);
      await sleep(700);
    }
    throw new Error(`claude did not exit; the screen was:\n${await screen()}`);
  }

  beforeAll(async () => {
    server = await startMessagesServer();
    home = tempHome();
    repo = tempDir("cp-plugin-repo-");
    await execa("git", ["init", "-q", "-b", "main"], { cwd: repo });
    const checkout = await pluginCheckout();
    for (const step of PLUGIN_INSTALL_STEPS(checkout)) {
      const result = await runClaude(step, { cwd: home, home, apiUrl: server.url });
      expect(result.exitCode, `claude ${step.join(" ")}: ${result.stdout}${result.stderr}`).toBe(0);
    }
    // What a person has after Claude Code's onboarding: the choices made, the key approved, the repo trusted.
    const stateFile = path.join(home, ".claude.json");
    const state = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, "utf8")) as Record<string, unknown>) : {};
    const onboarded = {
      ...state,
      numStartups: 4,
      hasCompletedOnboarding: true,
      lastOnboardingVersion: "2.1.330",
      theme: "dark",
      customApiKeyResponses: { approved: [API_KEY.slice(-20)], rejected: [] },
      projects: { [repo]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true, allowedTools: [] } },
    };
    writeFileSync(stateFile, `${JSON.stringify(onboarded, null, 2)}\n`, { mode: 0o600 });
    const env = { ...claudeEnv(home, server.url), TERM: "xterm-256color", PS1: "$ " };
    const started = await execa(
      "tmux",
      [
        "-L",
        socket,
        "new-session",
        "-d",
        "-s",
        SESSION,
        "-x",
        "220",
        "-y",
        "60",
        "-c",
        repo,
        "bash --norc --noprofile",
      ],
      { env, extendEnv: false, reject: false },
    );
    expect(started.exitCode, started.stderr).toBe(0);
  });

  afterAll(async () => {
    await tmux(["kill-server"]);
    await server?.close();
  });

  it("tells the user once what its first session set up; a typed /persist:uninstall runs and takes it out", async () => {
    const config = path.join(home, ".claude");
    const first = await startClaude();
    expect(first).toMatch(TOLD);
    // Claude Code shows it as the hook's message (`SessionStart:startup says: …`), wrapped to the terminal.
    expect(first.replace(/\s+/g, " ")).toContain("/persist:uninstall takes them out again (your sessions stay).");
    expect(existsSync(path.join(config, "persist", "runtime.json"))).toBe(true);
    await quitClaude();

    const second = await startClaude();
    expect(second).not.toMatch(TOLD);

    const before = server.requests.length;
    await type("/persist:uninstall");
    await waitForScreen(/Hello from the test server\./, "the answer to /persist:uninstall");
    // The command's bash ran (Claude Code put its output in front of the model), and did what it says.
    const sent = server.requests
      .slice(before)
      .map((body) => JSON.stringify(body))
      .join("\n");
    expect(sent).toContain("<command-name>/persist:uninstall</command-name>");
    expect(sent).toContain("claude-persist uninstalled in");
    expect(existsSync(path.join(config, "persist"))).toBe(false);
    expect(readFileSync(path.join(config, "settings.json"), "utf8")).not.toContain("session-start");
    await quitClaude();
  });
});
