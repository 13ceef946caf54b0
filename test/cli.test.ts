import { closeSync, constants, mkdirSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { Socket } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { actionHelp, flagHelp, flagSynopsis, parseOptions } from "../src/args.ts";
import { COMMANDS } from "../src/cli.ts";
import { CLI, PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";

describe("claude-persist <command> --help", () => {
  it.each([
    ["install", "Usage: claude-persist install"],
    ["uninstall", "Usage: claude-persist uninstall"],
    ["doctor", "Usage: claude-persist doctor"],
    ["sessions", "Usage: claude-persist sessions"],
    ["dev-open", "Usage: dev-open"],
    ["share", "Usage: claude-persist share"],
    ["unshare", "Usage: claude-persist unshare"],
    ["start-work", "Usage: start-work"],
    ["snapshot", "Usage: claude-persist snapshot"],
  ])("%s prints its usage wherever -h/--help stands, exits 0 and changes nothing", async (command, usage) => {
    const home = tempHome();
    for (const args of [["--help"], ["--json", "-h"]]) {
      const result = await runCli([command, ...args], { env: { HOME: home } });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout.startsWith(usage)).toBe(true);
      expect(result.stderr).toBe("");
    }
    expect(readdirSync(path.join(home, ".claude"))).toEqual([]);
  });
});

describe("each command's flag table (CONTRIBUTING.md: Adding a command): one file in src/commands/ and one line in cli.ts", () => {
  it.each(Object.keys(COMMANDS))("%s: its help is generated from its flag table and names every flag", async (name) => {
    const command = await COMMANDS[name]?.load();
    const tables = command?.actions ? Object.values(command.actions) : command?.flags ? [{ flags: command.flags }] : [];
    expect(tables.length, `${name} declares neither flags nor actions`).toBeGreaterThan(0);
    const help = command?.help ?? "";
    if (command?.flags) expect(help).toContain(flagHelp(command.flags));
    for (const action of command?.actions ? Object.values(command.actions) : []) {
      if (!action.hidden) expect(help).toContain(flagSynopsis(action.flags));
    }
    const declared = new Set(tables.flatMap((table) => Object.keys(table.flags)));
    for (const flag of declared) expect(help, `${name} --help does not mention --${flag}`).toContain(`--${flag}`);
    if (declared.size === 0) expect(help).not.toMatch(/(^|\s)--[a-z]/);
  });

  const flags = {
    listen: {
      type: "string",
      multiple: true,
      value: "ADDRESS",
      help: "where to listen",
      check: () => z.string().regex(/^tcp:\/\//, "must look like tcp://HOST:PORT"),
    },
    keep: {
      type: "string",
      value: "N",
      help: "how many",
      check: () =>
        z
          .string()
          .regex(/^[0-9]+$/, "a number")
          .transform(Number),
      default: 10,
    },
    shell: {
      type: "boolean",
      help: "a shell",
      excludes: { flag: "claude", message: "choose one of --shell and --claude" },
    },
    claude: { type: "boolean", help: "claude" },
  } as const;
  const usageError = (args: string[]) => {
    try {
      parseOptions("demo", args, flags);
    } catch (error) {
      return (error as Error & { exitCode?: number }).exitCode === 2 ? (error as Error).message : "not a usage error";
    }
    return "accepted";
  };

  it("gives checked and converted values, and the default of a flag not given", () => {
    expect(parseOptions("demo", ["--listen", "tcp://a:1", "--listen=tcp://b:2", "--keep", "3"], flags).values).toEqual({
      listen: ["tcp://a:1", "tcp://b:2"],
      keep: 3,
      shell: undefined,
      claude: undefined,
    });
    expect(parseOptions("demo", [], flags).values.keep).toBe(10);
  });

  it("refuses a bad value, an unknown flag, a stray argument and flags that exclude each other, in one line", () => {
    expect(usageError(["--listen", "tcp://a:1", "--listen", "udp://b"])).toBe(
      "--listen: must look like tcp://HOST:PORT; see 'demo --help'",
    );
    expect(usageError(["--keep", "x"])).toBe("--keep: a number; see 'demo --help'");
    expect(usageError(["--force"])).toBe("unknown option '--force'; see 'demo --help'");
    expect(usageError(["here"])).toMatch(/^unexpected argument 'here'.*; see 'demo --help'$/);
    expect(usageError(["--claude", "--shell"])).toBe("--shell: choose one of --shell and --claude; see 'demo --help'");
  });

  it("renders help: options aligned, continued lines under their column, actions with their usage", () => {
    expect(flagSynopsis(flags)).toBe("[--listen ADDRESS]... [--keep N] [--shell] [--claude]");
    const two = {
      all: { type: "boolean", help: "every project" },
      stats: { type: "boolean", help: "how much\nwas read" },
    } as const;
    expect(flagHelp(two)).toBe("  --all    every project\n  --stats  how much\n           was read\n");
    const actions = {
      pause: { flags: {} },
      resume: { flags: {}, help: "stop or restart" },
      init: { flags, help: "set up" },
      "merge-files": { flags: {}, hidden: true },
    };
    expect(actionHelp(actions, 16)).toBe(
      "  pause | resume  stop or restart\n" +
        "  init [--listen ADDRESS]... [--keep N] [--shell] [--claude]\n" +
        "                  set up\n",
    );
  });
});

describe("the command-line contract (docs/cli.md)", () => {
  const version = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string })
    .version;

  it.each([["--version"], ["-V"], ["version"]])("%s prints the version on stdout and exits 0", async (flag) => {
    const result = await runCli([flag], { env: { HOME: tempHome() } });
    expect(result).toMatchObject({ exitCode: 0, stdout: `claude-persist ${version}`, stderr: "" });
  });

  it("--help prints the usage with the exit codes on stdout, exit 0; bare claude-persist prints it on stderr, exit 2", async () => {
    const asked = await runCli(["--help"], { env: { HOME: tempHome() } });
    expect(asked.exitCode).toBe(0);
    expect(asked.stdout).toMatch(/^Usage: claude-persist <command>/);
    expect(asked.stdout).toContain("Exit codes: 0 done, 1 failed, 2 usage error, 3 needs a login or credential");
    expect(asked.stderr).toBe("");
    const bare = await runCli([], { env: { HOME: tempHome() } });
    expect(bare.exitCode).toBe(2);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toBe(asked.stdout.trimEnd());
  });

  it("hook --help is help, not a usage error", async () => {
    const result = await runCli(["hook", "--help"], { env: { HOME: tempHome() } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Usage: claude-persist hook session-start/);
  });

  it("a usage error goes to stderr with exit 2; with --json, stdout has the error object", async () => {
    const plain = await runCli(["install", "--force"], { env: { HOME: tempHome() } });
    expect(plain).toMatchObject({ exitCode: 2, stdout: "" });
    const json = await runCli(["install", "--json", "--force"], { env: { HOME: tempHome() } });
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      error: {
        code: "usage",
        message: "unknown option '--force'; see 'claude-persist install --help'",
        fix: "see 'claude-persist install --help'",
      },
    });
  });

  it("a failed --json run prints exactly one JSON document, the error object, and exits 1", async () => {
    const home = tempHome();
    writeFileSync(path.join(home, ".claude", "settings.json"), '{ "model": ');
    const result = await runCli(["install", "--json"], { env: { HOME: home } });
    expect(result.exitCode).toBe(1);
    const settings = path.join(home, ".claude", "settings.json");
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: {
        code: "failed",
        message: `${settings}:1:12: invalid JSON: a value was expected; fix the file and run again (nothing was changed)`,
        fix: "fix the file and run again",
      },
    });
  });

  it("a credential Linear refuses exits 3, the code for 'needs a login or credential'", async () => {
    const repo = tempDir("cp-cli-repo-");
    await execa("git", ["init", "-q"], { cwd: repo });
    const result = await runCli(["start-work", "LIN-1", "--json"], {
      env: { HOME: tempHome(), LINEAR_API_KEY: "lin_api_\u0007bell", LINEAR_API_URL: "http://127.0.0.1:9/graphql" },
      cwd: repo,
    });
    expect(result.exitCode).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: "needs-credential" } });
  });

  it("--json success is one document with ok: true (sessions: an object, not a bare array)", async () => {
    const result = await runCli(["sessions", "--json"], { env: { HOME: tempHome() }, cwd: tempDir() });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ ok: true, sessions: [] });
  });

  it("doctor --json gives every check a stable id", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    const env = { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host", DOCKER_HOST: "unix:///nonexistent/docker.sock" };
    const result = await runCli(["doctor", "--json"], { env, cwd: tempDir() });
    const report = JSON.parse(result.stdout) as { sections: Array<{ checks: Array<{ id?: string }> }> };
    const ids = report.sections.flatMap((section) => section.checks.map((check) => check.id));
    expect(ids).toEqual(
      expect.arrayContaining([
        "host.config-dir",
        "host.shared-folders",
        "host.hook-registered",
        "host.hook-runs",
        "tools.node",
        "tools.docker",
        "repo.config",
      ]),
    );
    expect(ids.every((id) => typeof id === "string" && /^[a-z]+\.[a-z-]+$/.test(id))).toBe(true);
  });

  it("under a reader that has gone (| head), a command exits 0 quietly, and so does the hook", async () => {
    for (const [file, args, input] of [
      [CLI, ["--help"], ""],
      [
        path.join(PROJECT_ROOT, "dist", "hooks", "session-start.cjs"),
        [],
        JSON.stringify({ session_id: "pipe-test", cwd: "/tmp", hook_event_name: "SessionStart", source: "startup" }),
      ],
    ] as const) {
      const child = execa(process.execPath, [file, ...args], {
        env: { PATH: process.env.PATH ?? "", HOME: tempHome(), CLAUDE_PERSIST_ENVIRONMENT: "host" },
        extendEnv: false,
        input,
        reject: false,
        buffer: { stdout: false },
      });
      child.stdout?.destroy();
      const result = await child;
      expect(result.exitCode, `${file}: ${result.stderr}`).toBe(0);
      expect(result.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    }
  });

  // Output goes out with write(2), without node's stream (src/cli.ts); a pipe that would block gets the rest through it.
  it("into a non-blocking pipe that fills up, a command's output arrives whole, in order", async () => {
    const home = tempHome();
    const projects = path.join(home, ".claude", "projects", "-tmp-big");
    mkdirSync(projects, { recursive: true });
    for (let i = 0; i < 400; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      const line = { sessionId: id, cwd: "/tmp/big", type: "user", uuid: "u1" };
      const message = { role: "user", content: `question ${i} about the pipe `.repeat(8) };
      const timestamp = new Date(1_700_000_000_000 + i * 60_000).toISOString();
      writeFileSync(path.join(projects, `${id}.jsonl`), `${JSON.stringify({ ...line, message, timestamp })}\n`);
    }
    // The command's stdout is a FIFO that nothing reads until it is full.
    const fifo = path.join(tempDir(), "out");
    await execa("mkfifo", [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const child = spawn(
      process.execPath,
      [path.join(PROJECT_ROOT, "dist", "bin", "claude-persist.cjs"), "sessions", "--all", "--json"],
      {
        env: { PATH: process.env.PATH ?? "", HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
        stdio: ["ignore", writer, "pipe"],
      },
    );
    let stderr = "";
    child.stderr?.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    // Child processes get their stdio blocking from libuv; a parent of another kind may hand a non-blocking one, as
    // node's own stream on this descriptor (it shares the open file with the command's stdout) makes it now.
    new Socket({ fd: writer, readable: false }).destroy();
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(1 << 16);
    let full = false;
    for (;;) {
      let read: number;
      try {
        read = readSync(reader, buffer);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      if (read === 0) break;
      // Read only once the pipe has filled (its 64 KiB): the command met a pipe that would block.
      if (!full && read === buffer.length) full = true;
      chunks.push(Buffer.from(buffer.subarray(0, read)));
    }
    closeSync(reader);
    expect(await exited).toBe(0);
    expect(stderr).toBe("");
    expect(full).toBe(true);
    const listed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { sessions: unknown[] };
    expect(listed.sessions).toHaveLength(400);
  });

  it("install run from the installed runtime (~/.claude/persist/bin) works, and changes nothing the second time", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    const installed = path.join(home, ".claude", "persist", "bin", "claude-persist.mjs");
    const again = await execa(process.execPath, [installed, "install", "--json"], {
      env: { PATH: process.env.PATH ?? "", HOME: home },
      extendEnv: false,
      reject: false,
    });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, changes: [] });
  });

  // Each command is a bundle of its own; yaml and string-width are files beside them, loaded at first use.
  it("share on a compose config puts the mounts in its compose file; sessions lists via git, as a table", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    const repo = tempDir("cp-compose-");
    await execa("git", ["init", "-q", repo]);
    const devcontainer = path.join(repo, ".devcontainer");
    mkdirSync(devcontainer);
    writeFileSync(
      path.join(devcontainer, "devcontainer.json"),
      '{ "dockerComposeFile": "compose.yaml", "service": "app", "workspaceFolder": "/workspaces/app" }\n',
    );
    writeFileSync(path.join(devcontainer, "compose.yaml"), "services:\n  app:\n    image: debian\n");
    const shared = await runCli(["share"], { env: { HOME: home }, cwd: repo });
    expect(shared.exitCode, shared.stderr).toBe(0);
    const compose = readFileSync(path.join(devcontainer, "compose.yaml"), "utf8");
    expect(compose).toMatch(/volumes:[\s\S]*target: \/root\/\.claude\/projects/);

    const slugFolder = path.join(home, ".claude", "projects", repo.replace(/[^a-zA-Z0-9]/g, "-"));
    mkdirSync(slugFolder, { recursive: true });
    const message = { role: "user", content: "hello there" };
    const line = { type: "user", sessionId: "s1", cwd: repo, timestamp: "2026-01-01T00:00:00.000Z", message };
    writeFileSync(path.join(slugFolder, "s1.jsonl"), `${JSON.stringify(line)}\n`);
    const listed = await runCli(["sessions"], { env: { HOME: home, COLUMNS: "120" }, cwd: repo });
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^ {2}LAST ACTIVITY .*\n {2}2026-01-01 00:00 .* hello there +claude --resume s1$/m);
  });
});
