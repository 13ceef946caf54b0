// /start-work end to end: the pack installed into a temporary HOME, the real pinned `claude` running the slash
// command's `!` bash, the fake Linear server, and the SessionStart hook telling later sessions about the work item.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runClaude, runCli, tempDir, tempHome } from "./support/claude.ts";
import { startLinearServer, type FakeLinear } from "./support/linear-server.ts";
import { startMessagesServer, type MessagesServer } from "./support/messages-server.ts";

/** Every string in the request bodies, one per line: the text as the model reads it, without JSON escaping. */
function textsOf(requests: unknown[]): string {
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string") texts.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
  };
  walk(requests);
  return texts.join("\n");
}

describe("/start-work with the real claude CLI", () => {
  let messages: MessagesServer;
  let linear: FakeLinear;
  let home: string;
  let repo: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    messages = await startMessagesServer();
    linear = await startLinearServer();
    home = tempHome();
    const installed = await runCli(["install"], { env: { HOME: home } });
    expect(installed.exitCode, installed.stderr).toBe(0);
    const gitConfig = path.join(home, "gitconfig");
    writeFileSync(gitConfig, "[user]\n\tname = Test\n\temail = test@example.com\n");
    env = {
      LINEAR_API_KEY: "lin_api_e2e000000000000000000000000",
      LINEAR_API_URL: linear.url,
      GIT_CONFIG_GLOBAL: gitConfig,
      GIT_CONFIG_NOSYSTEM: "1",
    };
    repo = await makeRepo("app");
  });
  afterAll(async () => {
    await messages.close();
    await linear.close();
  });

  async function makeRepo(name: string): Promise<string> {
    const dir = path.join(tempDir("cp-e2e-sw-"), name);
    mkdirSync(dir);
    const git = (...args: string[]) => execa("git", args, { cwd: dir, env: { ...process.env, ...env } });
    await git("init", "-q", "-b", "main");
    await git("commit", "-q", "--allow-empty", "-m", "first");
    return dir;
  }

  const claude = (prompt: string, cwd: string) => runClaude(["-p", prompt], { cwd, home, apiUrl: messages.url, env });

  it("/start-work LIN-123 runs the installed script: branch ready, issue started, its title and description in front of the model", async () => {
    const before = messages.requests.length;
    const result = await claude("/start-work LIN-123", repo);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe("Hello from the test server.");

    const sent = textsOf(messages.requests.slice(before));
    expect(sent).toContain("LIN-123: Fix the login page");
    expect(sent).toContain("state: In Progress (moved from Todo)");
    expect(sent).toContain(`Branch me/lin-123-fix-the-login-page: created and checked out in ${repo}.`);
    expect(sent).toContain("Description (from Linear):\nThe login page **breaks** on Safari.");
    // The slash command's instructions came along with the output.
    expect(sent).toContain("Above is the output of `start-work`.");

    expect((await execa("git", ["branch", "--show-current"], { cwd: repo })).stdout).toBe(
      "me/lin-123-fix-the-login-page",
    );
    expect(linear.operations("IssueStart")).toHaveLength(1);
    expect(linear.issue("LIN-123").stateId).toBe("st-progress");
  });

  it("the next session in the same repo is told which work item is in progress", async () => {
    const before = messages.requests.length;
    const result = await claude("hello", repo);
    expect(result.exitCode, result.stderr).toBe(0);
    const sent = textsOf(messages.requests.slice(before));
    expect(sent).toContain(
      'Work in progress here (started with /start-work): LIN-123 "Fix the login page" on branch me/lin-123-fix-the-login-page, ' +
        "https://linear.app/acme/issue/LIN-123/lin-123-fix-the-login-page.",
    );
  });

  it("a session in another repo lists it in one line among the others", async () => {
    const other = await makeRepo("other");
    const before = messages.requests.length;
    const result = await claude("hello", other);
    expect(result.exitCode, result.stderr).toBe(0);
    const sent = textsOf(messages.requests.slice(before));
    expect(sent).not.toContain("Work in progress here");
    expect(sent).toContain(
      `Work items started with /start-work elsewhere (newest first):\n- LIN-123 "Fix the login page": branch me/lin-123-fix-the-login-page in ${repo}`,
    );
  });

  it("a refusal (a dirty checkout) reaches the user as its one line, and nothing goes to the model", async () => {
    const dirty = await makeRepo("dirty");
    writeFileSync(path.join(dirty, "notes.txt"), "mine\n");
    const before = messages.requests.length;
    const result = await claude("/start-work LIN-124", dirty);
    expect(result.stdout).toContain(
      "claude-persist start-work: you have uncommitted changes; commit or stash them, or pass --carry to take them to lin-124-already-going (nothing was changed)",
    );
    expect(messages.requests.length).toBe(before);
    expect((await execa("git", ["branch", "--show-current"], { cwd: dirty })).stdout).toBe("main");
  });

  // $ARGUMENTS is pasted into the `!` command line. Claude Code checks every part of that line against the
  // command's allowed-tools (only the start-work script) and refuses the rest; the script refuses what is left.
  it.each([
    ["a second command after ;", "LIN-123; touch MARKER"],
    ["a second command after &&", "LIN-123 && touch MARKER"],
    ["a command substitution", "$(touch MARKER)"],
    ["a second line", "LIN-123\ntouch MARKER"],
    ["quotes around a command", "'; touch MARKER; '"],
  ])("hostile arguments (%s) run nothing", async (_name, args) => {
    const marker = path.join(repo, "pwned");
    const linearBefore = linear.requests.length;
    const result = await claude(`/start-work ${args.replaceAll("MARKER", marker)}`, repo);
    expect(existsSync(marker)).toBe(false);
    expect(linear.requests.length).toBe(linearBefore);
    expect(`${result.stdout}\n${result.stderr}`).toMatch(
      /needs approval|can't be checked|requires approval|not a Linear issue/,
    );
  });
});
