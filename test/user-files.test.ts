// Edits of a user's files (settings.json, devcontainer.json) with the files people really have: written on one
// line, not UTF-8, with a key given twice, a symlink to a dotfiles checkout not made yet, a folder in the way.
// Each edit either gives bytes a strict parser reads with the change in effect, or is refused with file:line:col
// and leaves every byte as it was.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { planPersistenceMounts } from "../src/devcontainer/config/mount-plan.ts";
import { ensurePersistenceMounts } from "../src/devcontainer/config/mounts.ts";
import { parseComposeDocument } from "../src/devcontainer/config/compose.ts";
import { ensureSamePath } from "../src/devcontainer/config/same-path.ts";
import { HOOK_COMMAND } from "../src/install/settings.ts";
import { runPluginSessionStart } from "../src/install/plugin.ts";
import { PROJECT_ROOT, runCli, tempHome } from "./support/claude.ts";
import { treeOf } from "./support/checks.ts";

const DIST = path.join(PROJECT_ROOT, "dist");
const install = (home: string, ...args: string[]) => runCli(["install", ...args], { env: { HOME: home } });
const uninstall = (home: string) => runCli(["uninstall"], { env: { HOME: home } });
const settingsFile = (home: string) => path.join(home, ".claude", "settings.json");
const hookInput = (cwd: string) =>
  JSON.stringify({ session_id: "user-files-test", cwd, hook_event_name: "SessionStart", source: "startup" });

/** Runs the command settings.json registers, the way Claude Code runs it (`/bin/sh -c`), and returns its stdout. */
async function runRegisteredHook(home: string): Promise<string> {
  const settings = JSON.parse(readFileSync(settingsFile(home), "utf8")) as {
    hooks: { SessionStart: Array<{ hooks: Array<{ command: string }> }> };
  };
  const command = settings.hooks.SessionStart.at(-1)?.hooks[0]?.command ?? "";
  const run = await execa("/bin/sh", ["-c", command], {
    input: hookInput(home),
    env: { PATH: process.env.PATH ?? "", HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
    extendEnv: false,
    reject: false,
  });
  expect(run.stderr).toBe("");
  return run.stdout;
}

describe("install into the settings.json people have", () => {
  it.each([
    [
      '{"model":"opus"}',
      '{"model":"opus", "hooks": {"SessionStart": [{"matcher": "startup|resume|clear|compact", "hooks": [{"type": "command", "command": ',
    ],
    ['{"hooks": {"PreToolUse": []}}\n', '{"hooks": {"PreToolUse": [], "SessionStart": [{"matcher": '],
    [
      '{ "env": { "A": "1" }, "hooks": { "SessionStart": [{ "hooks": [{ "type": "command", "command": "echo a:b,c" }] }] } }',
      '"command": "echo a:b,c" }] }, {"matcher": ',
    ],
  ])(
    "on one line (%s): strict JSON whose hook command is exactly ours and runs under /bin/sh",
    async (original, start) => {
      const home = tempHome();
      writeFileSync(settingsFile(home), original);
      const result = await install(home);
      expect(result.exitCode, result.stderr).toBe(0);
      const after = readFileSync(settingsFile(home), "utf8");
      expect(after).toContain(start);
      const commands = (
        JSON.parse(after) as { hooks: { SessionStart: Array<{ hooks: Array<{ command: string }> }> } }
      ).hooks.SessionStart.flatMap((group) => group.hooks.map((hook) => hook.command));
      expect(commands.at(-1)).toBe(HOOK_COMMAND);
      expect(await runRegisteredHook(home)).toContain('"hookEventName":"SessionStart"');
      expect((await uninstall(home)).exitCode).toBe(0);
      expect(readFileSync(settingsFile(home), "utf8")).toBe(original);
    },
  );

  it("refuses a settings.json that is not UTF-8, with where the first bad byte is, and keeps its bytes", async () => {
    const home = tempHome();
    const original = Buffer.concat([Buffer.from('{\n  "model": "caf'), Buffer.from([0xe9]), Buffer.from('"\n}\n')]);
    writeFileSync(settingsFile(home), original);
    const before = treeOf(home);
    const result = await install(home);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toBe(
      `claude-persist install: ${settingsFile(home)}:2:16: not valid UTF-8 (byte 0xe9); save it as UTF-8 and run again (nothing was changed)`,
    );
    expect(treeOf(home)).toEqual(before);
    expect(readFileSync(settingsFile(home)).equals(original)).toBe(true);
  });

  it.each([
    [
      '{\n  "hooks": {},\n  "model": "opus",\n  "hooks": { "Stop": [] }\n}\n',
      ':4:3: the key "hooks" appears twice in one object (first on line 2)',
    ],
    [
      '{ "hooks": { "SessionStart": [], "SessionStart": [] } }',
      ':1:34: the key "SessionStart" appears twice in one object (first on line 1)',
    ],
  ])(
    "refuses a settings.json with a key given twice (%j), naming the key, and changes nothing",
    async (original, message) => {
      const home = tempHome();
      writeFileSync(settingsFile(home), original);
      const before = treeOf(home);
      const result = await install(home);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`${settingsFile(home)}${message}`);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(treeOf(home)).toEqual(before);
    },
  );

  it("a settings.json symlink to a file not checked out yet: refused, the link kept as it was, nothing written", async () => {
    const home = tempHome();
    symlinkSync("../dotfiles/claude/settings.json", settingsFile(home));
    const result = await install(home);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toBe(
      `claude-persist install: ${settingsFile(home)} is a symbolic link to ../dotfiles/claude/settings.json, which does not exist: check out the file it points to (or remove the link) and run again (nothing was changed)`,
    );
    expect(lstatSync(settingsFile(home)).isSymbolicLink()).toBe(true);
    expect(readlinkSync(settingsFile(home))).toBe("../dotfiles/claude/settings.json");
    expect(existsSync(path.join(home, "dotfiles"))).toBe(false);
    expect(existsSync(path.join(home, ".claude", "persist"))).toBe(false);
    // uninstall leaves the link alone too.
    expect((await uninstall(home)).exitCode).toBe(0);
    expect(readlinkSync(settingsFile(home))).toBe("../dotfiles/claude/settings.json");
  });

  it("a settings.json that is a folder: one line naming it, nothing written", async () => {
    const home = tempHome();
    mkdirSync(settingsFile(home));
    const before = treeOf(home);
    const result = await install(home);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toBe(
      `claude-persist install: ${settingsFile(home)} is a folder where a file should be: move it out of the way and run again`,
    );
    expect(treeOf(home)).toEqual(before);
  });

  it("a write that fails half-way (the backup's place is taken by a folder) undoes what it wrote: no partial persist/", async () => {
    const home = tempHome();
    writeFileSync(settingsFile(home), '{ "model": "opus" }\n');
    mkdirSync(`${settingsFile(home)}.claude-persist.bak`);
    const before = treeOf(home);
    const result = await install(home);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toBe(
      `claude-persist install: ${settingsFile(home)}.claude-persist.bak is a folder where a file should be: move it out of the way and run again`,
    );
    expect(treeOf(home)).toEqual(before);
  });
});

describe("the first-run setup and doctor with a mangled hook command from an older install", () => {
  // What an install into a one-line settings.json used to register: `sh` says "Bad substitution", bash runs nothing.
  const MANGLED = HOOK_COMMAND.replace("${CLAUDE_CONFIG_DIR:-$HOME/.claude}", "${CLAUDE_CONFIG_DIR: -$HOME/.claude}");

  async function installedWithMangledCommand(): Promise<string> {
    const home = tempHome();
    expect((await install(home)).exitCode).toBe(0);
    const text = readFileSync(settingsFile(home), "utf8");
    writeFileSync(settingsFile(home), text.replace(JSON.stringify(HOOK_COMMAND), JSON.stringify(MANGLED)));
    return home;
  }

  it("the plugin's SessionStart hook describes the session itself and repairs the command", async () => {
    const home = await installedWithMangledCommand();
    const result = await runPluginSessionStart(
      hookInput(home),
      { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
      DIST,
    );
    expect(result.stdout).toContain('"hookEventName":"SessionStart"');
    expect(readFileSync(settingsFile(home), "utf8")).toContain(JSON.stringify(HOOK_COMMAND));
  });

  it("doctor runs the registered command, not the script, and shows ✗", async () => {
    const home = await installedWithMangledCommand();
    const result = await runCli(["doctor"], {
      env: { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host", DOCKER_HOST: "unix:///nonexistent/docker.sock" },
      cwd: home,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(
      /✗ the SessionStart hook (exited with code 2|command in settings\.json printed nothing)/,
    );
  });
});

describe("a settings.json that became a symlink after install", () => {
  it("uninstall keeps the link and takes only the hook out of the file it points at", async () => {
    const home = tempHome();
    expect((await install(home)).exitCode).toBe(0);
    // The user moves the settings.json install created into their dotfiles, and links it back.
    const dotfiles = path.join(home, "dotfiles");
    mkdirSync(dotfiles);
    writeFileSync(path.join(dotfiles, "settings.json"), readFileSync(settingsFile(home)));
    rmSync(settingsFile(home));
    symlinkSync("../dotfiles/settings.json", settingsFile(home));
    expect((await uninstall(home)).exitCode).toBe(0);
    expect(readlinkSync(settingsFile(home))).toBe("../dotfiles/settings.json");
    expect(JSON.parse(readFileSync(path.join(dotfiles, "settings.json"), "utf8"))).toEqual({});
  });
});

describe("compose edits", () => {
  it("refuse a service with a key given twice, naming the key and where", () => {
    expect(() =>
      parseComposeDocument("services:\n  app:\n    image: x\n    volumes: []\n    volumes: [a]\n", "compose.yml"),
    ).toThrow(
      'compose.yml:5:5: the key "volumes" appears twice in one mapping, and only one copy takes effect: merge them into one; fix the file and run again (nothing was changed)',
    );
  });
});

describe("devcontainer.json edits", () => {
  it("--same-path on a one-line config keeps the ${localWorkspaceFolder} values byte for byte", () => {
    const after = ensureSamePath('{"image":"debian"}', "devcontainer.json", false);
    expect(JSON.parse(after)).toEqual({
      image: "debian",
      workspaceMount: "source=${localWorkspaceFolder},target=${localWorkspaceFolder},type=bind",
      workspaceFolder: "${localWorkspaceFolder}",
    });
  });

  it("refuses a config with `mounts` twice, naming the key and where", () => {
    const text = '{\n  "image": "debian",\n  "mounts": [],\n  "mounts": ["source=a,target=/a,type=bind"]\n}\n';
    const plan = planPersistenceMounts({
      container: { remoteUser: "vscode" },
      env: { HOME: "/home/ana" },
      fileExists: () => true,
    });
    expect(() => ensurePersistenceMounts(text, plan, { file: "devcontainer.json" })).toThrow(
      'devcontainer.json:4:3: the key "mounts" appears twice in one object (first on line 3), and only one copy takes effect: merge them into one; fix the file and run again (nothing was changed)',
    );
  });
});

describe("errors name their file", () => {
  it("doctor with a mappings.json that is not JSON names the file", async () => {
    const home = tempHome();
    expect((await install(home)).exitCode).toBe(0);
    const file = path.join(home, ".claude", "persist-state", "mappings.json");
    writeFileSync(file, "{ nope");
    const result = await runCli(["doctor"], {
      env: { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host", DOCKER_HOST: "unix:///nonexistent/docker.sock" },
      cwd: home,
    });
    expect(result.stdout).toContain(`✗ the project mappings cannot be read: ${file} is not valid JSON (`);
  });
});
