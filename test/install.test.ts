import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { READ_WRITE_ENTRIES } from "../src/claude/shared.ts";
import { HOOK_COMMAND } from "../src/install/settings.ts";
import { runCli, tempHome } from "./support/claude.ts";
import { treeOf } from "./support/checks.ts";

const install = (home: string, ...args: string[]) => runCli(["install", ...args], { env: { HOME: home } });
const uninstall = (home: string, ...args: string[]) => runCli(["uninstall", ...args], { env: { HOME: home } });
const SHARED_DIRS = READ_WRITE_ENTRIES.filter((entry) => entry.kind === "dir" && entry.name !== "persist-state").map(
  (entry) => entry.name,
);
const claudeDir = (home: string) => path.join(home, ".claude");
const settingsOf = (home: string) => readFileSync(path.join(claudeDir(home), "settings.json"), "utf8");

const USER_SETTINGS = `{
    // my settings
    "model": "opus",
    "permissions": { "allow": ["Bash(ls:*)"] },
    "hooks": {
        "SessionStart": [
            { "matcher": "startup", "hooks": [{ "type": "command", "command": "echo mine" }] }
        ],
        "Stop": [{ "hooks": [{ "type": "command", "command": "echo stop" }] }]
    }
}
`;

describe("claude-persist install", () => {
  it("installs the runtime, the slash commands and the hook into a fresh HOME", async () => {
    const home = tempHome();
    const result = await install(home);
    expect(result.exitCode, result.stderr).toBe(0);
    const config = claudeDir(home);
    expect(existsSync(path.join(config, "persist", "hooks", "session-start.cjs"))).toBe(true);
    expect(existsSync(path.join(config, "persist", "bin", "claude-persist.mjs"))).toBe(true);
    expect(existsSync(path.join(config, "persist", "node_modules", "@devcontainers", "cli", "devcontainer.js"))).toBe(
      true,
    );
    const devOpen = readFileSync(path.join(config, "commands", "dev-open.md"), "utf8");
    expect(devOpen).toContain("!`node ~/.claude/persist/bin/dev-open.cjs $ARGUMENTS`");
    expect(devOpen).toContain("allowed-tools: Bash(node ~/.claude/persist/bin/dev-open.cjs:*)");
    expect(existsSync(path.join(config, "commands", "start-work.md"))).toBe(true);
    const settings = JSON.parse(settingsOf(home));
    expect(settings.hooks.SessionStart).toEqual([
      { matcher: "startup|resume|clear|compact", hooks: [{ type: "command", command: HOOK_COMMAND, timeout: 10 }] },
    ]);
    // No absolute host path in the hook: the same settings.json is mounted into containers.
    expect(HOOK_COMMAND).not.toContain(home);
    expect(statSync(path.join(config, "persist-state")).mode & 0o777).toBe(0o700);
    // The folders dev containers mount are there from the start, private.
    for (const name of SHARED_DIRS) expect(statSync(path.join(config, name)).mode & 0o777, name).toBe(0o700);
    expect(result.stdout).toContain(`claude-persist installed in ${config}`);
  });

  it("changes nothing, byte for byte, when run a second time", async () => {
    const home = tempHome();
    writeFileSync(path.join(claudeDir(home), "settings.json"), USER_SETTINGS);
    expect((await install(home)).exitCode).toBe(0);
    const before = treeOf(claudeDir(home));
    const second = await install(home, "--json");
    expect(second.exitCode).toBe(0);
    expect(JSON.parse(second.stdout).changes).toEqual([]);
    expect(treeOf(claudeDir(home))).toEqual(before);
  });

  it("keeps the seeds dev-open left beside the runtime, so an editor's next container is still seeded", async () => {
    const home = tempHome();
    expect((await install(home)).exitCode).toBe(0);
    const seed = path.join(claudeDir(home), "persist", "seeds", "container-claude--workspaces-app.json");
    mkdirSync(path.dirname(seed), { mode: 0o700 });
    writeFileSync(seed, '{ "theme": "light" }\n');
    const again = await install(home, "--json");
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout).changes).toEqual([]);
    expect(readFileSync(seed, "utf8")).toBe('{ "theme": "light" }\n');
  });

  it("keeps every other key, hook, comment and the indentation of an existing settings.json", async () => {
    const home = tempHome();
    const file = path.join(claudeDir(home), "settings.json");
    writeFileSync(file, USER_SETTINGS);
    expect((await install(home)).exitCode).toBe(0);
    const after = settingsOf(home);
    // The user's text is all still there, in order; only our entry was inserted.
    expect(after.startsWith(USER_SETTINGS.slice(0, USER_SETTINGS.indexOf('"echo mine" }] }') + 16))).toBe(true);
    expect(after).toContain('"Stop": [{ "hooks": [{ "type": "command", "command": "echo stop" }] }]');
    expect(after).toContain("    // my settings\n");
    expect(after).toMatch(/\n {24}"command": "f=/);
    expect(readFileSync(`${file}.claude-persist.bak`, "utf8")).toBe(USER_SETTINGS);
  });

  it("keeps a private settings.json private, and writes through a settings.json that is a symlink", async () => {
    const home = tempHome();
    const file = path.join(claudeDir(home), "settings.json");
    writeFileSync(file, USER_SETTINGS, { mode: 0o600 });
    expect((await install(home)).exitCode).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const linked = tempHome();
    const dotfiles = path.join(linked, "dotfiles");
    mkdirSync(dotfiles);
    writeFileSync(path.join(dotfiles, "settings.json"), USER_SETTINGS);
    symlinkSync("../dotfiles/settings.json", path.join(claudeDir(linked), "settings.json"));
    expect((await install(linked)).exitCode).toBe(0);
    expect(lstatSync(path.join(claudeDir(linked), "settings.json")).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(dotfiles, "settings.json"), "utf8")).toContain("persist/hooks/session-start.cjs");
    expect((await uninstall(linked)).exitCode).toBe(0);
    expect(lstatSync(path.join(claudeDir(linked), "settings.json")).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(dotfiles, "settings.json"), "utf8")).toBe(USER_SETTINGS);
  });

  it("works with tabs and CRLF line endings", async () => {
    const home = tempHome();
    const original = '{\r\n\t"model": "opus"\r\n}\r\n';
    writeFileSync(path.join(claudeDir(home), "settings.json"), original);
    expect((await install(home)).exitCode).toBe(0);
    const after = settingsOf(home);
    expect(after).toMatch(/^\{\r\n\t"model": "opus",\r\n\t"hooks": \{\r\n\t\t"SessionStart"/);
    expect(after).not.toMatch(/[^\r]\n/);
    expect((await uninstall(home)).exitCode).toBe(0);
    expect(settingsOf(home)).toBe(original);
  });

  it("indents what it adds like the file's entries, not like a comment indented deeper", async () => {
    const home = tempHome();
    const original = '{\n        // "model": "sonnet",\n  "model": "opus"\n}\n';
    writeFileSync(path.join(claudeDir(home), "settings.json"), original);
    expect((await install(home)).exitCode).toBe(0);
    expect(settingsOf(home)).toMatch(/\n {2}"hooks": \{\n {4}"SessionStart": \[\n {6}\{\n/);
    expect((await uninstall(home)).exitCode).toBe(0);
    expect(settingsOf(home)).toBe(original);
  });

  it.each([
    ['{ "model": "opus",, }', "settings.json:1:19: invalid JSON: a property name was expected"],
    ['{\n  "hooks": {\n    "SessionStart": [\n  }\n}', "settings.json:4:3: invalid JSON"],
    ['{ "hooks": "none" }', "settings.json: hooks is not what Claude Code expects"],
    ['{ "hooks": { "SessionStart": {} } }', "settings.json: hooks.SessionStart is not what Claude Code expects"],
  ])("refuses a malformed settings.json (%s) and changes nothing", async (text, message) => {
    const home = tempHome();
    mkdirSync(path.join(claudeDir(home), "commands"));
    writeFileSync(path.join(claudeDir(home), "commands", "dev-open.md"), "mine");
    writeFileSync(path.join(claudeDir(home), "settings.json"), text);
    const before = treeOf(home);
    const result = await install(home);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(treeOf(home)).toEqual(before);
  });

  it("--dry-run says what it would do and writes nothing", async () => {
    const home = tempHome();
    const before = treeOf(home);
    const result = await install(home, "--dry-run");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("would create settings.json");
    expect(result.stdout).toContain("would create commands/dev-open.md");
    expect(result.stdout).toContain("would create todos");
    expect(treeOf(home)).toEqual(before);
  });

  it("refuses unknown options with one line and exit 2", async () => {
    const home = tempHome();
    const result = await install(home, "--force");
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe("claude-persist install: unknown option '--force'; see 'claude-persist install --help'");
  });
});

describe("claude-persist uninstall", () => {
  it("removes the shared folders install made while they are empty, and keeps those with anything in them", async () => {
    const home = tempHome();
    const config = claudeDir(home);
    mkdirSync(path.join(config, "projects"));
    writeFileSync(path.join(config, "projects", "mine.txt"), "the user's");
    expect((await install(home)).exitCode).toBe(0);
    writeFileSync(path.join(config, "todos", "t.json"), "[]");
    const result = await uninstall(home, "--json");
    expect(result.exitCode, result.stderr).toBe(0);
    const removed = JSON.parse(result.stdout)
      .changes.filter((c: { action: string }) => c.action === "remove")
      .map((c: { path: string }) => c.path);
    expect(removed).toEqual(
      expect.arrayContaining(SHARED_DIRS.filter((name) => name !== "projects" && name !== "todos")),
    );
    expect(readdirSync(config).sort()).toEqual(["persist-state", "projects", "todos"]);
    expect(readFileSync(path.join(config, "projects", "mine.txt"), "utf8")).toBe("the user's");
  });

  it("gives back the original settings.json byte for byte and removes everything install added", async () => {
    const home = tempHome();
    writeFileSync(path.join(claudeDir(home), "settings.json"), USER_SETTINGS);
    const before = treeOf(claudeDir(home));
    expect((await install(home)).exitCode).toBe(0);
    const result = await uninstall(home);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(settingsOf(home)).toBe(USER_SETTINGS);
    expect(existsSync(path.join(claudeDir(home), "persist"))).toBe(false);
    expect(existsSync(path.join(claudeDir(home), "commands", "dev-open.md"))).toBe(false);
    const after = treeOf(claudeDir(home));
    const added = Object.keys(after).filter((f) => !(f in before));
    // What stays: the backup of settings.json, and the pack's state (the user's session records).
    expect(added.every((f) => f.endsWith(".claude-persist.bak") || f.startsWith("persist-state"))).toBe(true);
  });

  it("removes a settings.json that install created", async () => {
    const home = tempHome();
    await install(home);
    expect((await uninstall(home)).exitCode).toBe(0);
    expect(existsSync(path.join(claudeDir(home), "settings.json"))).toBe(false);
  });

  it("takes only its own hook out of a settings.json the user edited after install", async () => {
    const home = tempHome();
    writeFileSync(path.join(claudeDir(home), "settings.json"), USER_SETTINGS);
    await install(home);
    const edited = settingsOf(home).replace('"model": "opus"', '"model": "sonnet"');
    writeFileSync(path.join(claudeDir(home), "settings.json"), edited);
    expect((await uninstall(home)).exitCode).toBe(0);
    expect(settingsOf(home)).toBe(USER_SETTINGS.replace('"model": "opus"', '"model": "sonnet"'));
  });

  it("gives back a slash command of the user's that install replaced", async () => {
    const home = tempHome();
    const commands = path.join(claudeDir(home), "commands");
    mkdirSync(commands);
    writeFileSync(path.join(commands, "dev-open.md"), "my own dev-open\n");
    const installed = await install(home);
    expect(installed.stdout).toContain("update commands/dev-open.md (backup: commands/dev-open.md.claude-persist.bak)");
    expect((await uninstall(home)).exitCode).toBe(0);
    expect(readFileSync(path.join(commands, "dev-open.md"), "utf8")).toBe("my own dev-open\n");
  });
});
