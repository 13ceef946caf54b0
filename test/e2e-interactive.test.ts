// A person at the terminal: interactive `claude` on the host, then in the dev container, driven through tmux
// (send-keys, capture-pane), with the real pinned CLI, a real container and the tests' own Messages-API server.
// `-p` skips Claude Code's first-run flow, so only an interactive session shows whether the container starts over.
import { chownSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAUDE_BIN, CLI } from "./support/claude.ts";
import { type DockerEngine, dockerUnavailableReason, removeDevcontainers } from "./support/docker.ts";
import { startLinearServer, type FakeLinear } from "./support/linear-server.ts";
import type { MessagesServer } from "./support/messages-server.ts";
import { type HostUser, startHostUser, workspaceConfig } from "./support/host-user.ts";
import { asUser, chownTree, type TestUser } from "./support/users.ts";
import { existsOnPath } from "./support/checks.ts";
import { recordCast } from "./support/cast.ts";

// Throws when CI is set and Docker or tmux is unavailable: CI must run this, never skip it.
const hasTmux = existsOnPath("tmux");
if (!hasTmux && process.env.CI)
  throw new Error("CI must run the interactive e2e tests, but tmux is not installed: run .ci/provision-docker.sh");
const skipReason = dockerUnavailableReason() ?? (hasTmux ? undefined : "tmux is not installed");

const API_KEY = "sk-ant-test-key-0000000000000000000000";
/** What Claude Code shows on a first start; none of it may appear in the container. */
const FIRST_RUN =
  /Welcome to Claude Code|Choose the text style|Select login method|Detected a custom API key|Do you trust the files|Is this a project you (?:created|trust)|Quick safety check/;
const SESSION = "person";
/** A tmux server of this run's own: two runs at once (two worktrees) must not share, nor kill, one. */
const TMUX_SOCKET = `claude-persist-e2e-${process.pid}`;

describe.skipIf(skipReason !== undefined)(
  "a person at the terminal, host and dev container (tmux, real claude, real container)",
  () => {
    let engine: DockerEngine;
    let image: string;
    let user: TestUser;
    let server: MessagesServer;
    let linear: FakeLinear;
    let home: string;
    let host: HostUser;
    let shellEnv: Record<string, string>;
    const repos: string[] = [];
    let marks = 0;

    const tmux = (args: string[]) =>
      asUser(user, "tmux", ["-L", TMUX_SOCKET, ...args], { home, env: shellEnv, reject: false });
    const screen = async () => (await tmux(["capture-pane", "-p", "-t", SESSION])).stdout;

    /** Waits until the screen matches; fails with the screen as it was. */
    async function waitForScreen(pattern: RegExp, what: string, timeoutMs = 120_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      let last = "";
      while (Date.now() < deadline) {
        last = await screen();
        if (pattern.test(last)) return last;
        await sleep(300);
      }
      throw new Error(`waited for ${what} (${pattern}); the screen was:\n${last}`);
    }

    /** Types a line as a person would: the characters, then Enter. */
    async function type(text: string): Promise<void> {
      await tmux(["send-keys", "-t", SESSION, "-l", text]);
      await sleep(150);
      await tmux(["send-keys", "-t", SESSION, "Enter"]);
    }

    /** Runs a shell command in the terminal and waits for it to finish. */
    async function shell(command: string, timeoutMs = 300_000): Promise<string> {
      const mark = `done-${++marks}`;
      await tmux(["send-keys", "-t", SESSION, "C-l"]);
      await tmux(["clear-history", "-t", SESSION]);
      // The typed text holds "don""e-N", which the finished line's "done-N" cannot be confused with.
      await type(`${command}; echo "${mark.slice(0, 3)}""${mark.slice(3)}"`);
      return waitForScreen(new RegExp(`^${mark}$`, "m"), `the end of: ${command}`, timeoutMs);
    }

    /** Starts interactive claude with `command` (in a clean screen) and waits for its input box. */
    async function startClaude(command: string): Promise<string> {
      await tmux(["send-keys", "-t", SESSION, "C-l"]);
      await tmux(["clear-history", "-t", SESSION]);
      await type(command);
      return waitForScreen(/^\s*[>❯]\s/m, `claude's prompt after: ${command}`);
    }

    /** Leaves claude (Ctrl-C twice, as a person does) and waits for the shell's prompt. */
    async function quitClaude(): Promise<void> {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (atShellPrompt(await screen())) return;
        // Both presses in one call: on a loaded machine two calls can fall outside claude's double-press window.
        await tmux(["send-keys", "-t", SESSION, "C-c", "C-c"]);
        await sleep(700);
      }
      throw new Error(`claude did not exit; the screen was:\n${await screen()}`);
    }

    const atShellPrompt = (text: string) => /(?:^|\n)\$$/.test(text.trimEnd());

    /** Types a turn into claude and waits for the test server's answer to it. */
    async function turn(text: string): Promise<string> {
      await type(text);
      const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return waitForScreen(new RegExp(`${escaped}[\\s\\S]*Hello from the test server\\.`), `the answer to "${text}"`);
    }

    // As dev-open prints it: the key handed over from the shell at exec time (no config keeps it).
    const enterContainer = (repo: string, claudeArgs: string) =>
      `devcontainer exec --workspace-folder ${repo} --remote-env ANTHROPIC_BASE_URL=$ANTHROPIC_BASE_URL --remote-env ANTHROPIC_API_KEY="$ANTHROPIC_API_KEY" /opt/claude/claude ${claudeArgs}`.replace(
        / +/g,
        " ",
      );

    /** What a host user has after Claude Code's onboarding: the choices made, the key approved, the repo trusted. */
    function onboardedHostState(trusted: string[]): void {
      const state = {
        numStartups: 4,
        userID: "a".repeat(64),
        hasCompletedOnboarding: true,
        lastOnboardingVersion: "2.1.330",
        theme: "dark",
        customApiKeyResponses: { approved: [API_KEY.slice(-20)], rejected: [] },
        oauthAccount: { emailAddress: "ana@example.com", accountUuid: "never-copied" },
        projects: Object.fromEntries(
          trusted.map((repo) => [
            repo,
            { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true, allowedTools: [] },
          ]),
        ),
      };
      const file = path.join(home, ".claude.json");
      writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      chownSync(file, user.uid, user.gid);
    }

    beforeAll(async () => {
      ({ engine, image, user, server, home, host } = await startHostUser());
      linear = await startLinearServer();
      const installed = await host.run(process.execPath, [CLI, "install"], home);
      expect(installed.exitCode, installed.stderr).toBe(0);
      shellEnv = {
        ...engine.env,
        PATH: `${path.dirname(CLAUDE_BIN)}:${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: API_KEY,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
        LINEAR_API_KEY: "lin_api_from_the_host",
        LINEAR_API_URL: `${linear.url}/graphql`,
        TERM: "xterm-256color",
        PS1: "$ ",
      };
      // `claude-persist` on PATH, as the installed CLI is for a person.
      const bin = path.join(home, "bin");
      mkdirSync(bin);
      writeFileSync(path.join(bin, "claude-persist"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, {
        mode: 0o755,
      });
      await chownTree(bin, user);
      shellEnv.PATH = `${bin}:${shellEnv.PATH}`;
      const started = await tmux([
        "new-session",
        "-d",
        "-s",
        SESSION,
        "-x",
        "160",
        "-y",
        "45",
        "bash",
        "--noprofile",
        "--norc",
      ]);
      expect(started.exitCode, started.stderr).toBe(0);
    }, 600_000);

    afterAll(async () => {
      await tmux(["kill-server"]).catch(() => undefined);
      for (const repo of repos) await removeDevcontainers(engine, repo).catch(() => undefined);
      await linear?.close();
      await server?.close();
      await engine?.stop();
    });

    async function makeRepo(name: string): Promise<string> {
      const repo = await host.makeRepo(name, image);
      repos.push(repo);
      return repo;
    }

    it("claude --continue in the container shows the host's conversation at once; a turn there shows on the host; the picker lists it; again after --rebuild", {
      timeout: 900_000,
    }, async () => {
      const repo = await makeRepo("app");
      onboardedHostState([repo]);
      await shell(`cd ${repo}`);
      // docs/demo.cast is this part of this run, recorded as it happens (CLAUDE_PERSIST_CAST=<file>).
      const cast = process.env.CLAUDE_PERSIST_CAST
        ? recordCast(
            async () => (await tmux(["capture-pane", "-p", "-e", "-t", SESSION])).stdout,
            process.env.CLAUDE_PERSIST_CAST,
            {
              width: 160,
              height: 45,
              title: "claude-persist: a conversation on the host, continued in the dev container, and back",
            },
          )
        : undefined;

      // On the host, the person talks to Claude, then leaves.
      const hostFirst = await startClaude("claude");
      expect(hostFirst).not.toMatch(FIRST_RUN);
      await turn("remember the word PELICAN");
      // /dev-open typed into the session: its outcome is in front of the model and on the screen.
      const before = server.requests.length;
      await type("/dev-open");
      await waitForScreen(
        /Hello from the test server\.[\s\S]*Hello from the test server\./,
        "the answer after /dev-open",
        300_000,
      );
      const sentByDevOpen = JSON.stringify(server.requests.slice(before));
      const outcome = (
        sentByDevOpen.match(/(?:Updated|Added|Container|Claude Code in|Left the|Sessions of|Enter with)[^"\\]*/g) ?? []
      ).join("\n");
      expect(outcome).toMatch(/Container [0-9a-f]{12} is running/);
      expect(outcome).toContain(
        "Claude Code in the container has your onboarding, API key approval, folder trust from this host",
      );
      await quitClaude();

      // In the container: the conversation, at once, with no first-run screen.
      const first = await startClaude(enterContainer(repo, "--continue"));
      expect(first).not.toMatch(FIRST_RUN);
      expect(first).toContain("remember the word PELICAN");
      // docs/dev-open.md's "First time in a container" screen comes from here (CLAUDE_PERSIST_CAPTURE=<file>).
      if (process.env.CLAUDE_PERSIST_CAPTURE) writeFileSync(process.env.CLAUDE_PERSIST_CAPTURE, first);
      const inside = await turn("what was the word, from the container?");
      expect(inside).not.toMatch(FIRST_RUN);
      await quitClaude();

      // Back on the host: the turn typed in the container is there.
      const back = await startClaude("claude --continue");
      expect(back).toContain("what was the word, from the container?");
      await quitClaude();
      await cast?.stop();

      // The container's picker lists the session.
      await tmux(["send-keys", "-t", SESSION, "C-l"]);
      await type(enterContainer(repo, "--resume"));
      const picker = await waitForScreen(
        /what was the word, from the container\?|remember the word PELICAN/,
        "the session in the container's picker",
      );
      expect(picker).not.toMatch(FIRST_RUN);
      await tmux(["send-keys", "-t", SESSION, "Escape"]);
      await sleep(500);
      await quitClaude();

      // A rebuilt container starts just as well.
      const rebuilt = await shell(`claude-persist dev-open --rebuild`);
      expect(rebuilt).toMatch(/Container [0-9a-f]{12} is running/);
      const again = await startClaude(enterContainer(repo, "--continue"));
      expect(again).not.toMatch(FIRST_RUN);
      expect(again).toContain("what was the word, from the container?");
      await quitClaude();
    });

    it("two repos on /workspace: claude --continue in the second one's container shows its own conversation, not the first's", {
      timeout: 900_000,
    }, async () => {
      const first = await host.makeRepoWith("first", {
        ".devcontainer/devcontainer.json": workspaceConfig("first", image),
      });
      const second = await host.makeRepoWith("second", {
        ".devcontainer/devcontainer.json": workspaceConfig("second", image),
      });
      repos.push(first, second);
      onboardedHostState([first, second]);
      for (const [repo, word] of [
        [first, "ALBATROSS"],
        [second, "PENGUIN"],
      ] as const) {
        await shell(`cd ${repo}`);
        await startClaude("claude");
        await turn(`remember the word ${word}`);
        await quitClaude();
        const opened = await shell("claude-persist dev-open");
        expect(opened).toMatch(/Container [0-9a-f]{12} is running/);
      }

      const inside = await startClaude(enterContainer(second, "--continue"));
      expect(inside).not.toMatch(FIRST_RUN);
      expect(inside).toContain("remember the word PENGUIN");
      expect(inside).not.toContain("ALBATROSS");
      await turn("and in the second container?");
      await quitClaude();

      // On the host, the second repo's conversation has the container's turn; the first's does not.
      await shell(`cd ${second}`);
      expect(await startClaude("claude --continue")).toContain("and in the second container?");
      await quitClaude();
      await shell(`cd ${first}`);
      const firstBack = await startClaude("claude --continue");
      expect(firstBack).toContain("remember the word ALBATROSS");
      expect(firstBack).not.toContain("and in the second container?");
      await quitClaude();
    });

    it("in a container started by plain `devcontainer up` on a --config-only config, too", {
      timeout: 600_000,
    }, async () => {
      const repo = await makeRepo("editor");
      onboardedHostState([repo]);
      await shell(`cd ${repo}`);
      await startClaude("claude");
      await turn("remember the word HERON");
      await quitClaude();

      const configured = await shell("claude-persist dev-open --config-only");
      expect(configured).toContain("Config ready");
      expect(configured).toContain("does not get ANTHROPIC_API_KEY");
      const up = await shell(`devcontainer up --workspace-folder ${repo} 2>/dev/null | grep -o '"outcome":"[a-z]*"'`);
      expect(up).toContain('"outcome":"success"');
      const first = await startClaude(enterContainer(repo, "--continue"));
      expect(first).not.toMatch(FIRST_RUN);
      expect(first).toContain("remember the word HERON");
      await quitClaude();
    });

    it("an --env-file key and an exec-time --remote-env key still work after dev-open; the host's set variables arrive as the printed command hands them over; the container's own .claude.json keeps its keys", {
      timeout: 600_000,
    }, async () => {
      const repo = await makeRepo("envs");
      onboardedHostState([repo]);
      const configFile = path.join(repo, ".devcontainer", "devcontainer.json");
      const config = JSON.parse((await host.run("cat", [configFile], repo)).stdout) as Record<string, unknown>;
      config.runArgs = ["--network=host", "--env-file", ".devcontainer/.env"];
      writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
      writeFileSync(path.join(repo, ".devcontainer", ".env"), "CLAUDE_CODE_OAUTH_TOKEN=from-the-env-file\n");
      await chownTree(repo, user);
      await shell(`cd ${repo}`);

      const opened = await shell("claude-persist dev-open");
      expect(opened).toMatch(/Container [0-9a-f]{12} is running/);
      const printed = await shell(
        `devcontainer exec --workspace-folder ${repo} --remote-env ANTHROPIC_API_KEY="$ANTHROPIC_API_KEY" --remote-env LINEAR_API_KEY="$LINEAR_API_KEY" --remote-env EXTRA_TOKEN=from-exec sh -c 'echo "oauth=[$CLAUDE_CODE_OAUTH_TOKEN] extra=[$EXTRA_TOKEN] key=[$ANTHROPIC_API_KEY] linear=[$LINEAR_API_KEY]"'`,
      );
      expect(printed).toContain("oauth=[from-the-env-file]");
      expect(printed).toContain("extra=[from-exec]");
      expect(printed).toContain(`key=[${API_KEY}]`);
      expect(printed).toContain("linear=[lin_api_from_the_host]");
      // The repo's config names no credential: a teammate without one gets no empty variable.
      expect((await host.run("cat", [configFile], repo)).stdout).not.toContain("${localEnv:ANTHROPIC_API_KEY}");

      // Found again after the host's choices changed (a newer onboarding), the container's own .claude.json keeps
      // its keys and gains the host's choices. (With the host unchanged, dev-open skips that merge: seed-record.ts.)
      const written = await host.inContainer(repo, [
        "sh",
        "-c",
        `printf '%s' '{"numStartups": 7, "theme": "light"}' > /home/vscode/.claude.json`,
      ]);
      expect(written.exitCode, written.stderr).toBe(0);
      const hostState = path.join(home, ".claude.json");
      const changed = { ...JSON.parse(readFileSync(hostState, "utf8")), lastOnboardingVersion: "2.1.331" };
      writeFileSync(hostState, `${JSON.stringify(changed, null, 2)}\n`, { mode: 0o600 });
      const again = await host.run(process.execPath, [CLI, "dev-open"], repo);
      expect(again.exitCode, again.stderr).toBe(0);
      const state = JSON.parse((await host.inContainer(repo, ["cat", "/home/vscode/.claude.json"])).stdout) as Record<
        string,
        unknown
      >;
      expect(state).toMatchObject({ numStartups: 7, theme: "light", hasCompletedOnboarding: true });
      expect(state).not.toHaveProperty("oauthAccount");
      expect(JSON.stringify(state)).not.toContain("ana@example.com");

      // /start-work in the container asks Linear with the host's key.
      const work = await shell(
        `devcontainer exec --workspace-folder ${repo} --remote-env LINEAR_API_KEY="$LINEAR_API_KEY" --remote-env LINEAR_API_URL="$LINEAR_API_URL" node /home/vscode/.claude/persist/bin/claude-persist.mjs start-work LIN-123 2>&1 | tail -5`,
      );
      expect(work, work).not.toMatch(/LINEAR_API_KEY is not set|offline/i);
      expect(linear.requests.some((request) => request.headers.authorization === "lin_api_from_the_host")).toBe(true);
    });
  },
);
