// The repository as a Claude Code plugin: validated, added as a local marketplace and installed into a temporary
// HOME with the real `claude plugin` commands, then used as a user would (`claude -p …`).
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACK_RUNTIME_MARKER } from "../src/claude/home.ts";
import { COMMANDS } from "../src/cli.ts";
import { commandForInstall } from "../src/install/install.ts";
import { runPluginSessionStart } from "../src/install/plugin.ts";
import { HOOK_COMMAND, HOOK_MATCHER } from "../src/install/settings.ts";
import { PROJECT_ROOT, runClaude, runCli, tempDir, tempHome } from "./support/claude.ts";
import { treeOf } from "./support/checks.ts";
import { startMessagesServer, type MessagesServer } from "./support/messages-server.ts";
import { PLUGIN_DIR, PLUGIN_ID, PLUGIN_INSTALL_STEPS, pluginCheckout } from "./support/plugin.ts";

const HOST_CONTEXT = "claude-persist: this session runs on the host";
const DIST = path.join(PROJECT_ROOT, "dist");
const PLUGIN_ROOT = path.join(PROJECT_ROOT, PLUGIN_DIR);

/** The bytes under `dir`, links not followed. */
function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    total += entry.isDirectory() ? sizeOf(file) : lstatSync(file).size;
  }
  return total;
}

/** How many times `needle` occurs in `text`. */
function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** The session starts recorded for a session, by source. */
function startsOf(home: string, sessionId: string): string[] {
  const file = path.join(home, ".claude", "persist-state", "session-starts", `${sessionId}.jsonl`);
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { source: string }).source);
}

/** The ids of the sessions Claude Code keeps for `dir`. */
function sessionIds(home: string, dir: string): string[] {
  const folder = path.join(home, ".claude", "projects", dir.replace(/[^a-zA-Z0-9]/g, "-"));
  return readdirSync(folder)
    .filter((f) => f.endsWith(".jsonl"))
    .map((f) => path.basename(f, ".jsonl"));
}

async function gitRepo(): Promise<string> {
  const repo = tempDir("cp-repo-");
  await execa("git", ["init", "-q", "-b", "main"], { cwd: repo });
  return repo;
}

// Each test runs the real CLI four or five times (a few seconds each on a busy 2-core machine).
describe("the repository as a Claude Code plugin, with the real claude CLI", { timeout: 180_000 }, () => {
  let server: MessagesServer;
  let checkout: string;
  beforeAll(async () => {
    server = await startMessagesServer();
    checkout = await pluginCheckout();
  });
  afterAll(() => server.close());

  const claude = (args: string[], cwd: string, home: string) => runClaude(args, { cwd, home, apiUrl: server.url });

  /** A fresh HOME with the plugin installed the way the README says. */
  async function homeWithPlugin(): Promise<string> {
    const home = tempHome();
    for (const step of PLUGIN_INSTALL_STEPS(checkout)) {
      const result = await claude(step, home, home);
      expect(result.exitCode, `claude ${step.join(" ")}: ${result.stdout}${result.stderr}`).toBe(0);
    }
    return home;
  }

  /** Runs one `claude -p` session and gives back what it sent to the model. */
  async function session(args: string[], cwd: string, home: string): Promise<string[]> {
    const before = server.requests.length;
    const result = await claude(args, cwd, home);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe("Hello from the test server.");
    return server.requests.slice(before).map((body) => JSON.stringify(body));
  }

  /** The hook's context reached the model, once: not once per hook. */
  function expectContextOnce(sent: string[], context: string): void {
    const counts = sent.map((body) => occurrences(body, context)).filter((n) => n > 0);
    expect(counts.length, `no request carried "${context}"`).toBeGreaterThan(0);
    expect(
      counts.every((n) => n === 1),
      `"${context}" was sent ${counts.join(", ")} times`,
    ).toBe(true);
  }

  it("passes `claude plugin validate`, the plugin with both commands and the hook, and the marketplace", async () => {
    const home = tempHome();
    const plugin = await claude(["plugin", "validate", PLUGIN_ROOT], PROJECT_ROOT, home);
    expect(plugin.exitCode, plugin.stdout + plugin.stderr).toBe(0);
    expect(plugin.stdout).toContain("Validation passed");
    expect(plugin.stdout).toContain("commands: persist:dev-open");
    expect(plugin.stdout).toContain("commands: persist:start-work");
    expect(plugin.stdout).toContain("hooks: SessionStart startup|resume|clear|compact");
    const marketplace = await claude(["plugin", "validate", PROJECT_ROOT], PROJECT_ROOT, home);
    expect(marketplace.exitCode, marketplace.stdout + marketplace.stderr).toBe(0);
    expect(marketplace.stdout).toContain("Validating marketplace manifest");
    expect(marketplace.stdout).toContain("Validation passed");
    // Clean, as the marketplace expects it (issue 26): no warning, no problem the plugin directory refuses, no advice.
    for (const { stdout, stderr } of [plugin, marketplace]) {
      expect(stdout + stderr).not.toMatch(/⚠|✘|[Ww]arning|Advice|not declared/);
      expect(stdout).toMatch(/✔ Validation passed\n?$/m);
    }
    expect(plugin.stdout).toContain("commands: persist:uninstall");
    expect(plugin.stdout).toContain("Hosts: api.linear.app (declared)");
    expect(plugin.stdout).toContain("These checks found nothing to report");
  });

  it("installs from a clone as a local marketplace; its first session sets up what containers need, and each start is recorded and described once", async () => {
    const home = await homeWithPlugin();
    const config = path.join(home, ".claude");
    const listed = await claude(["plugin", "list", "--json"], home, home);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: PLUGIN_ID, enabled: true })]);
    // Installing a plugin runs none of its code.
    expect(existsSync(path.join(config, "persist"))).toBe(false);
    // Only the runtime was copied: no `npm ci` of the repository's devDependencies (460 MB when the plugin was the
    // repository's root, with its package.json), so nothing in npm's cache either.
    expect(sizeOf(path.join(config, "plugins"))).toBeLessThan(20 * 1024 * 1024);
    expect(existsSync(path.join(home, ".npm"))).toBe(false);

    const repo = await gitRepo();
    const first = await session(["-p", "hello"], repo, home);
    expectContextOnce(first, HOST_CONTEXT);
    expectContextOnce(first, `in ${repo}.`);

    // What the installer sets up for containers: the plugin's own build in persist/, the hook in settings.json
    // (beside the plugin's entries), and no slash commands (the plugin brings its own).
    expect(readFileSync(path.join(config, "persist", PACK_RUNTIME_MARKER), "utf8")).toBe(
      readFileSync(path.join(checkout, "dist", PACK_RUNTIME_MARKER), "utf8"),
    );
    expect(existsSync(path.join(config, "persist", "hooks", "session-start.cjs"))).toBe(true);
    const settings = JSON.parse(readFileSync(path.join(config, "settings.json"), "utf8"));
    expect(settings.hooks.SessionStart).toEqual([
      { matcher: HOOK_MATCHER, hooks: [{ type: "command", command: HOOK_COMMAND, timeout: 10 }] },
    ]);
    expect(settings.enabledPlugins).toEqual({ [PLUGIN_ID]: true });
    expect(existsSync(path.join(config, "commands"))).toBe(false);
    const [firstId] = sessionIds(home, repo);
    expect(startsOf(home, firstId ?? "")).toEqual(["startup"]);

    // From the second session on, the settings.json hook does the work and the plugin's hook only checks.
    const setUp = {
      persist: treeOf(path.join(config, "persist")),
      settings: readFileSync(path.join(config, "settings.json"), "utf8"),
    };
    const second = await session(["-p", "again"], repo, home);
    expectContextOnce(second, HOST_CONTEXT);
    const resumed = await session(["--continue", "-p", "and again"], repo, home);
    expectContextOnce(resumed, HOST_CONTEXT);
    const secondId = sessionIds(home, repo).find((id) => id !== firstId) ?? "";
    expect(startsOf(home, firstId ?? "")).toEqual(["startup"]);
    expect(startsOf(home, secondId)).toEqual(["startup", "resume"]);
    expect(treeOf(path.join(config, "persist"))).toEqual(setUp.persist);
    expect(readFileSync(path.join(config, "settings.json"), "utf8")).toBe(setUp.settings);
  });

  it("brings persist/ up to the plugin's build when it is another one, without a second hook run", async () => {
    const home = await homeWithPlugin();
    const repo = await gitRepo();
    await session(["-p", "hello"], repo, home);
    const marker = path.join(home, ".claude", "persist", PACK_RUNTIME_MARKER);
    writeFileSync(marker, `${JSON.stringify({ name: "claude-persist", version: "0.0.1", sha256: "older" })}\n`);

    const sent = await session(["-p", "after an update"], repo, home);
    expectContextOnce(sent, HOST_CONTEXT);
    expect(readFileSync(marker, "utf8")).toBe(readFileSync(path.join(checkout, "dist", PACK_RUNTIME_MARKER), "utf8"));
  });

  it('`claude -p "/persist:dev-open --dry-run"` runs dev-open from the plugin and puts its output in front of the model', async () => {
    const home = await homeWithPlugin();
    const repo = await gitRepo();
    mkdirSync(path.join(repo, ".devcontainer"));
    writeFileSync(
      path.join(repo, ".devcontainer", "devcontainer.json"),
      `${JSON.stringify({ image: "debian:bookworm", remoteUser: "vscode" }, null, 2)}\n`,
    );
    const sent = (await session(["-p", "/persist:dev-open --dry-run"], repo, home)).join("\n");
    expect(sent).toContain("<command-name>/persist:dev-open</command-name>");
    expect(sent).toContain(`dev-open dry run for ${repo}`);
    expect(sent).toContain("source=${localEnv:HOME}/.claude/projects,target=/home/vscode/.claude/projects,type=bind");
    // A dry run writes nothing into the repo.
    expect(readdirSync(path.join(repo, ".devcontainer"))).toEqual(["devcontainer.json"]);
  });

  it("next to an installed pack: one settings.json entry, the context once, the installed commands kept", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    for (const step of PLUGIN_INSTALL_STEPS(checkout)) expect((await claude(step, home, home)).exitCode).toBe(0);
    const repo = await gitRepo();
    const sent = await session(["-p", "hello"], repo, home);
    expectContextOnce(sent, HOST_CONTEXT);
    const settings = JSON.parse(readFileSync(path.join(home, ".claude", "settings.json"), "utf8"));
    expect(settings.hooks.SessionStart).toHaveLength(1);
    expect(readdirSync(path.join(home, ".claude", "commands")).sort()).toEqual(["dev-open.md", "start-work.md"]);
  });
});

describe("the plugin's SessionStart hook", () => {
  const input = (cwd: string) =>
    JSON.stringify({ session_id: "plugin-test", cwd, hook_event_name: "SessionStart", source: "startup" });

  it("in a container opened by /dev-open, sets nothing up (persist/ and settings.json are the host's, read-only) and describes the session", async () => {
    const home = tempHome();
    const env = {
      HOME: home,
      CLAUDE_PERSIST_HOST_WORKSPACE: "/home/ana/app",
      CLAUDE_PERSIST_CONTAINER_WORKSPACE: "/workspaces/app",
    };
    const result = await runPluginSessionStart(input("/workspaces/app"), env, DIST);
    expect(result.stdout).toContain("claude-persist: this session runs in a dev container");
    expect(readdirSync(path.join(home, ".claude"))).not.toContain("persist");
    expect(existsSync(path.join(home, ".claude", "settings.json"))).toBe(false);
  });

  it("with a settings.json it cannot read, still describes the session and says in one line why it set nothing up", async () => {
    const home = tempHome();
    writeFileSync(path.join(home, ".claude", "settings.json"), '{ "model": ');
    const result = await runPluginSessionStart(input(home), { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" }, DIST);
    expect(result.stdout).toContain(HOST_CONTEXT);
    expect(result.stderr).toMatch(/could not set up .*persist and the settings\.json hook \(.*settings\.json:1:\d+: /);
    expect(
      result.stderr
        .trim()
        .split("\n")
        .filter((line) => line.includes("could not set up")),
    ).toHaveLength(1);
    expect(existsSync(path.join(home, ".claude", "persist"))).toBe(false);
  });

  it("updating persist/ after a full install keeps the installed commands on uninstall's list", async () => {
    const home = tempHome();
    const config = path.join(home, ".claude");
    writeFileSync(path.join(config, "settings.json"), '{\n  "model": "opus"\n}\n');
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    writeFileSync(path.join(config, "persist", PACK_RUNTIME_MARKER), "{}\n");
    const result = await runPluginSessionStart(input(home), { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" }, DIST);
    expect(result.stdout).toBe(""); // The settings.json hook ran this session.
    expect(readFileSync(path.join(config, "persist", PACK_RUNTIME_MARKER), "utf8")).toBe(
      readFileSync(path.join(DIST, PACK_RUNTIME_MARKER), "utf8"),
    );

    expect((await runCli(["uninstall"], { env: { HOME: home } })).exitCode).toBe(0);
    expect(existsSync(path.join(config, "commands", "dev-open.md"))).toBe(false);
    expect(existsSync(path.join(config, "persist"))).toBe(false);
    expect(readFileSync(path.join(config, "settings.json"), "utf8")).toBe('{\n  "model": "opus"\n}\n');
  });
});

describe("the plugin's files", () => {
  type Manifest = { version?: string; name: string; plugins?: Array<{ name: string; source: string }> };
  const manifest = (rel: string) => JSON.parse(readFileSync(path.join(PROJECT_ROOT, rel), "utf8")) as Manifest;
  const pluginJson = path.join(PLUGIN_DIR, ".claude-plugin", "plugin.json");

  it("plugin.json's version is package.json's (the build keeps it so), and the marketplace lists the plugin by its name and folder", () => {
    expect(manifest(pluginJson).version).toBe(manifest("package.json").version);
    expect(manifest(".claude-plugin/marketplace.json").plugins).toEqual([
      expect.objectContaining({ name: manifest(pluginJson).name, source: `./${PLUGIN_DIR}` }),
    ]);
    expect(PLUGIN_ID).toBe(`${manifest(pluginJson).name}@${manifest(".claude-plugin/marketplace.json").name}`);
  });

  /** A slash command's frontmatter, as `key: value` lines (quotes taken off). */
  const frontmatter = (name: string): Record<string, string> => {
    const text = readFileSync(path.join(PLUGIN_ROOT, "commands", `${name}.md`), "utf8");
    const block = /^---\n([\s\S]*?)\n---\n/.exec(text)?.[1] ?? "";
    return Object.fromEntries(
      block.split("\n").map((line) => {
        const at = line.indexOf(": ");
        return [line.slice(0, at), line.slice(at + 2).replace(/^"(.*)"$/, "$1")];
      }),
    );
  };

  it.each(["dev-open", "start-work", "uninstall"])(
    "/persist:%s: Claude may not run it on its own, its description is under 60 characters",
    (name) => {
      const fields = frontmatter(name);
      expect(fields["disable-model-invocation"]).toBe("true");
      expect(fields.description?.length).toBeGreaterThan(10);
      expect(fields.description?.length).toBeLessThan(60);
    },
  );

  it.each([
    ["dev-open", ["config-only", "isolated", "json"]],
    ["start-work", ["json"]],
  ])("/persist:%s's argument-hint names every flag a person types (not its aliases or --json)", async (name, left) => {
    const hint = frontmatter(name)["argument-hint"] ?? "";
    const command = await COMMANDS[name]?.load();
    for (const flag of Object.keys(command?.flags ?? {})) {
      if (left.includes(flag)) expect(hint).not.toContain(`--${flag}`);
      else expect(hint, `--${flag}`).toMatch(new RegExp(`--${flag}\\b`));
    }
    if (name === "start-work") expect(hint).toContain("issue URL");
  });

  it("the first setup is one message for the user (systemMessage), and a session after it says nothing", async () => {
    const home = tempHome();
    const input = JSON.stringify({ session_id: "s1", cwd: home, hook_event_name: "SessionStart", source: "startup" });
    const first = await runPluginSessionStart(input, { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" }, DIST);
    const answer = JSON.parse(first.stdout) as { systemMessage?: string; hookSpecificOutput?: unknown };
    expect(answer.systemMessage).toMatch(
      /^claude-persist set up what dev containers need: its runtime in ~\/\.claude\/persist, a SessionStart hook in ~\/\.claude\/settings\.json and \d+ folders in ~\/\.claude\. \/persist:uninstall takes them out again/,
    );
    expect(answer.hookSpecificOutput).toBeDefined();
    const again = await runPluginSessionStart(input, { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" }, DIST);
    expect(again.stdout).not.toContain("systemMessage");
  });

  it("the plugin's folder has nothing for Claude Code to `npm ci`, and reaches the one committed runtime through a link", () => {
    for (const name of ["package.json", "package-lock.json", "node_modules"])
      expect(existsSync(path.join(PLUGIN_ROOT, name)), name).toBe(false);
    expect(readlinkSync(path.join(PLUGIN_ROOT, "dist"))).toBe(path.join("..", "..", "dist"));
    // The repository's root is a marketplace only: a plugin there would be installed with the devDependencies.
    expect(existsSync(path.join(PROJECT_ROOT, ".claude-plugin", "plugin.json"))).toBe(false);
  });

  const templates = readdirSync(path.join(PLUGIN_ROOT, "commands"))
    .filter((n) => n.endsWith(".md"))
    .map((n) => `commands/${n}`);
  it.each([...templates, "hooks/hooks.json"])("%s names only files of the built runtime", (rel) => {
    const text = readFileSync(path.join(PLUGIN_ROOT, rel), "utf8");
    const references = [...text.matchAll(/\$\{CLAUDE_PLUGIN_ROOT\}\/([^"\s\\]+)/g)].map((m) => m[1] ?? "");
    expect(references.length).toBeGreaterThan(0);
    for (const rel of references) expect(existsSync(path.join(PLUGIN_ROOT, rel)), rel).toBe(true);
  });

  const template =
    'allowed-tools: Bash(node "${CLAUDE_PLUGIN_ROOT}/dist/bin/dev-open.cjs":*)\n!`node "${CLAUDE_PLUGIN_ROOT}/dist/bin/dev-open.cjs" $ARGUMENTS`\n';
  it.each([
    [
      "the default config dir",
      { HOME: "/home/ana" },
      "Bash(node ~/.claude/persist/bin/dev-open.cjs:*)",
      "!`node ~/.claude/persist/bin/dev-open.cjs $ARGUMENTS`",
    ],
    [
      "CLAUDE_CONFIG_DIR",
      { HOME: "/home/ana", CLAUDE_CONFIG_DIR: "/cfg/claude" },
      "Bash(node /cfg/claude/persist/bin/dev-open.cjs:*)",
      "!`node /cfg/claude/persist/bin/dev-open.cjs $ARGUMENTS`",
    ],
    [
      "CLAUDE_CONFIG_DIR with a space",
      { HOME: "/home/ana", CLAUDE_CONFIG_DIR: "/My Files/claude" },
      'Bash(node "/My Files/claude/persist/bin/dev-open.cjs":*)',
      '!`node "/My Files/claude/persist/bin/dev-open.cjs" $ARGUMENTS`',
    ],
  ])("install points them at the installed runtime: %s", (_name, env, allowed, bash) => {
    const installed = commandForInstall(template, env, "dev-open.md");
    expect(installed).toBe(`allowed-tools: ${allowed}\n${bash}\n`);
  });

  it("install refuses a config dir a slash command cannot quote", () => {
    expect(() =>
      commandForInstall(template, { HOME: "/home/ana", CLAUDE_CONFIG_DIR: "/cfg/$x" }, "dev-open.md"),
    ).toThrow(/cannot quote/);
  });
});

describe("scripts/build.ts --check", () => {
  it("names what differs in a stale dist/ and says how to fix it", async () => {
    const stale = path.join(tempDir("cp-stale-"), "dist");
    cpSync(DIST, stale, { recursive: true });
    writeFileSync(path.join(stale, "hooks", "session-start.cjs"), "// an older build\n");
    writeFileSync(path.join(stale, "leftover.mjs"), "");
    const tsx = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
    const result = await execa(
      process.execPath,
      [tsx, path.join(PROJECT_ROOT, "scripts", "build.ts"), "--check", stale],
      { reject: false },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      `${stale}/ is not what the sources build to:\n  differs: hooks/session-start.cjs\n  not built from the sources: leftover.mjs\n`,
    );
    expect(result.stderr).toContain("Run 'npm run build' and commit dist/");
  });
});
