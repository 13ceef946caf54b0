import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { READ_WRITE_ENTRIES } from "../src/claude/shared.ts";
import { HOOK_COMMAND } from "../src/install/settings.ts";
import { PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";

const HOOK = path.join(PROJECT_ROOT, "dist", "hooks", "session-start.cjs");
const NOBODY = 65534;

const input = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    session_id: "0b7e4a8c-1111-4222-8333-944445555666",
    cwd: "/home/ana/app",
    hook_event_name: "SessionStart",
    source: "startup",
    ...fields,
  });

function runHook(stdin: string, env: Record<string, string>, asNobody = false) {
  const command =
    asNobody && process.getuid?.() === 0
      ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", process.execPath, HOOK]
      : [process.execPath, HOOK];
  const [file = "", ...args] = command;
  return execa(file, args, {
    input: stdin,
    env: { PATH: process.env.PATH ?? "", CLAUDE_PERSIST_ENVIRONMENT: "host", ...env },
    extendEnv: false,
    reject: false,
  });
}

/** A git repo with a dev container config: where the hook has something to say on the host. */
function repoWithDevcontainer(): string {
  const repo = path.join(tempDir(), "app");
  mkdirSync(path.join(repo, ".git"), { recursive: true });
  mkdirSync(path.join(repo, ".devcontainer"));
  writeFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), '{ "image": "debian:bookworm" }\n');
  return repo;
}

function homeWithState(): string {
  const home = tempHome();
  mkdirSync(path.join(home, ".claude", "persist-state"), { mode: 0o700 });
  return home;
}

const startsOf = (home: string) => {
  const dir = path.join(home, ".claude", "persist-state", "session-starts");
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe("the SessionStart hook (bundled, run with plain node)", () => {
  it.skipIf(process.getuid?.() !== 0)(
    "moves the records folder's times when it adds a start to a record, even as a user who does not own the folder",
    async () => {
      // `sessions` trusts what it indexed of the records while their folder's times stay put; an append alone leaves
      // them alone. A container's user may not own the folder (then the hook cannot set its times, only add an entry).
      const home = homeWithState();
      for (const dir of [home, path.join(home, ".claude"), path.join(home, ".claude", "persist-state")]) {
        chmodSync(dir, 0o755);
      }
      const records = path.join(home, ".claude", "persist-state", "session-starts");
      mkdirSync(records, { mode: 0o777 });
      chmodSync(records, 0o777);
      const record = path.join(records, "0b7e4a8c-1111-4222-8333-944445555666.jsonl");
      writeFileSync(record, `${JSON.stringify({ environment: "host", time: new Date(0).toISOString() })}\n`);
      chmodSync(record, 0o666);
      for (const asNobody of [false, true]) {
        const before = statSync(records).ctimeMs;
        await new Promise((resolve) => setTimeout(resolve, 50));
        const result = await runHook(input({ source: "resume" }), { HOME: home }, asNobody);
        expect(result.exitCode, result.stderr).toBe(0);
        expect(statSync(records).ctimeMs).toBeGreaterThan(before);
        expect(readdirSync(records)).toEqual(["0b7e4a8c-1111-4222-8333-944445555666.jsonl"]);
      }
      expect(readFileSync(record, "utf8").trim().split("\n")).toHaveLength(3);
    },
  );

  it("answers with additionalContext and records the session start", async () => {
    const home = homeWithState();
    const repo = repoWithDevcontainer();
    mkdirSync(path.join(home, ".claude", "todos"));
    const result = await runHook(input({ cwd: repo }), { HOME: home });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    const output = JSON.parse(result.stdout);
    expect(output.hookSpecificOutput.hookEventName).toBe("SessionStart");
    expect(output.hookSpecificOutput.additionalContext).toMatch(
      new RegExp(`^claude-persist: this session runs on the host \\(.+\\) in ${repo}\\.`),
    );
    expect(output.hookSpecificOutput.additionalContext).toContain("Shared read-write with this repo's dev containers");
    const record = JSON.parse(
      readFileSync(
        path.join(home, ".claude", "persist-state", "session-starts", "0b7e4a8c-1111-4222-8333-944445555666.jsonl"),
        "utf8",
      ),
    );
    expect(record).toMatchObject({
      sessionId: "0b7e4a8c-1111-4222-8333-944445555666",
      cwd: repo,
      environment: "host",
      source: "startup",
    });
  });

  it("accepts unknown fields", async () => {
    const home = homeWithState();
    const cwd = repoWithDevcontainer();
    const result = await runHook(input({ cwd, model: "opus", permission_mode: "default", future: { nested: [1] } }), {
      HOME: home,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout).hookSpecificOutput.additionalContext).toContain("claude-persist:");
  });

  it.each([
    ["empty stdin", "", "got no input from Claude Code"],
    ["garbage", "\u0000not json{", "input is not JSON"],
    ["a JSON array", "[1,2]", "input is not usable"],
    [
      "a session id that is a path",
      input({ session_id: "../../../tmp/evil" }),
      "session_id: session_id is not a session id",
    ],
    ["no cwd", JSON.stringify({ session_id: "abc" }), "input is not usable (cwd:"],
  ])("%s: exit 0, one stderr line, nothing recorded", async (_name, stdin, message) => {
    const home = homeWithState();
    const result = await runHook(stdin, { HOME: home });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(message);
    expect(startsOf(home)).toEqual([]);
  });

  it("in a container whose shared folders are missing: says which, still answers and records", async () => {
    const home = homeWithState();
    mkdirSync(path.join(home, ".claude", "projects"));
    const result = await runHook(input({ cwd: "/workspaces/app" }), {
      HOME: home,
      CLAUDE_PERSIST_ENVIRONMENT: "container",
      CLAUDE_PERSIST_HOST_WORKSPACE: "/Users/ana/code/app",
    });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe(
      "claude-persist: ~/.claude/{todos,tasks,session-env,file-history,plans,paste-cache,cache} are missing: not shared with the host; " +
        "~/.claude/{projects,persist-state} are not mounted: what is written there stays in this container; " +
        "~/.claude/persist is missing: the SessionStart hook does not run here. Fix: on the host, in this repo: dev-open --rebuild.",
    );
    const context = JSON.parse(result.stdout).hookSpecificOutput.additionalContext;
    expect(context).toContain("runs in a dev container");
    expect(context).toContain("on the host this folder is /Users/ana/code/app");
    expect(context).toContain("Not shared in this environment (missing or not writable): todos, tasks");
    expect(startsOf(home)).toHaveLength(1);
  });

  it("in a container /dev-open did not make, with folders of its own: no complaint about mounts", async () => {
    const home = homeWithState();
    for (const entry of READ_WRITE_ENTRIES)
      if (entry.kind === "dir") mkdirSync(path.join(home, ".claude", entry.name), { recursive: true });
    const result = await runHook(input({ cwd: "/workspaces/app" }), {
      HOME: home,
      CLAUDE_PERSIST_ENVIRONMENT: "container",
    });
    expect(result).toMatchObject({ exitCode: 0, stderr: "" });
    expect(JSON.parse(result.stdout).hookSpecificOutput.additionalContext).toContain("runs in a dev container");
    expect(startsOf(home)).toHaveLength(1);
  });

  /** The hook run in a container an editor opened from dev-open's config, in `cwd`; its projects/ folder. */
  async function hookInEditorContainer(cwd: string) {
    const home = homeWithState();
    const projects = path.join(home, ".claude", "projects");
    mkdirSync(projects);
    const result = await runHook(input({ cwd }), {
      HOME: home,
      CLAUDE_PERSIST_ENVIRONMENT: "container",
      CLAUDE_PERSIST_HOST_WORKSPACE: "/Users/ana/code/app",
      CLAUDE_PERSIST_CONTAINER_WORKSPACE: "/workspaces/app",
    });
    return { result, projects };
  }

  it("in a container opened by an editor: links the container's project folder to the host's", async () => {
    const { result, projects } = await hookInEditorContainer("/workspaces/app");
    expect(result.exitCode).toBe(0);
    expect(readlinkSync(path.join(projects, "-workspaces-app"))).toBe("-Users-ana-code-app");
    expect(JSON.parse(result.stdout).hookSpecificOutput.additionalContext).toContain(
      "claude-persist linked projects/-workspaces-app to -Users-ana-code-app, so sessions here are the host's.",
    );
  });

  it("in a container opened by an editor: links a folder named ..cache inside the workspace too", async () => {
    const { result, projects } = await hookInEditorContainer("/workspaces/app/..cache");
    expect(result.exitCode).toBe(0);
    expect(readlinkSync(path.join(projects, "-workspaces-app---cache"))).toBe("-Users-ana-code-app---cache");
  });

  it("with a read-only state folder: exit 0, one clear line, the context still given", async () => {
    const home = homeWithState();
    const state = path.join(home, ".claude", "persist-state");
    chmodSync(state, 0o555);
    if (process.getuid?.() === 0) {
      // root ignores modes: run the hook as an unprivileged user who can read the home but not write the state.
      chownSync(home, NOBODY, NOBODY);
      chownSync(path.join(home, ".claude"), NOBODY, NOBODY);
    }
    const result = await runHook(input(), { HOME: home }, true);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(
      /^claude-persist: shared folders missing or not writable: persist-state; could not record the session start in .*persist-state \(EACCES: permission denied/,
    );
    expect(result.stderr.split("\n")).toHaveLength(1);
    expect(JSON.parse(result.stdout).hookSpecificOutput.additionalContext).toContain(
      "claude-persist: this session runs on the host",
    );
    expect(startsOf(home)).toEqual([]);
  });

  it("`claude-persist hook session-start` gives the same answer as the bundled hook", async () => {
    const home = homeWithState();
    const env = { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const viaCli = await runCli(["hook", "session-start"], { env, input: input() });
    const bundled = await runHook(input(), { HOME: home });
    expect(viaCli.exitCode).toBe(0);
    expect(viaCli.stdout).toBe(bundled.stdout);
  });
});

describe("the hook command registered in settings.json", () => {
  const runCommand = (env: Record<string, string>) =>
    execa("/bin/sh", ["-c", HOOK_COMMAND], {
      input: input({ cwd: repoWithDevcontainer() }),
      env,
      extendEnv: false,
      reject: false,
    });

  it("runs the installed hook, found from HOME alone", async () => {
    const home = tempHome();
    await runCli(["install"], { env: { HOME: home } });
    const result = await runCommand({ HOME: home, PATH: process.env.PATH ?? "", CLAUDE_PERSIST_ENVIRONMENT: "host" });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).hookSpecificOutput.additionalContext).toContain("claude-persist:");
  });

  it("follows CLAUDE_CONFIG_DIR", async () => {
    const config = path.join(tempDir(), "config");
    await runCli(["install"], { env: { HOME: tempHome(), CLAUDE_CONFIG_DIR: config } });
    const result = await runCommand({
      HOME: "/nonexistent",
      CLAUDE_CONFIG_DIR: config,
      PATH: process.env.PATH ?? "",
      CLAUDE_PERSIST_ENVIRONMENT: "host",
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("additionalContext");
  });

  it("exits 0 quietly where node is missing", async () => {
    const home = tempHome();
    await runCli(["install"], { env: { HOME: home } });
    const result = await runCommand({ HOME: home, PATH: "/nonexistent" });
    expect(result).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
  });

  it("exits 0 quietly where the pack's code is not there (a container opened without the pack)", async () => {
    const result = await runCommand({ HOME: tempHome(), PATH: process.env.PATH ?? "" });
    expect(result).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
  });
});
