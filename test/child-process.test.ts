// The pack's layer over node:child_process (src/child-process.ts), which every command that runs git, docker, ssh,
// syncthing, unison or the devcontainers CLI goes through: how a run ended comes back as data, never thrown.
import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { runProcess } from "../src/child-process.ts";
import { PROJECT_ROOT, tempDir } from "./support/claude.ts";

const TSX = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const MODULE = path.join(PROJECT_ROOT, "src", "child-process.ts");

/** Runs `body` (TypeScript, with runProcess and startProcess imported) as a script of its own, with tsx. */
async function script(body: string) {
  const file = path.join(tempDir("cp-child-"), "script.mts");
  writeFileSync(file, `import { runProcess, startProcess } from ${JSON.stringify(MODULE)};\n${body}\n`);
  return execa(process.execPath, [TSX, file], { reject: false, stdin: "ignore" });
}

describe("runProcess", () => {
  it("gives the exit code, stdout and stderr as data, without throwing", async () => {
    const run = await runProcess("sh", ["-c", "echo out; echo err >&2; exit 3"]);
    expect(run).toMatchObject({ exitCode: 3, stdout: "out", stderr: "err", timedOut: false, code: undefined });
    expect(run.message).toBe("sh exited with code 3");
    expect((await runProcess("true", [])).exitCode).toBe(0);
  });

  it("says ENOENT for a program that is not there, with no exit code", async () => {
    const run = await runProcess("claude-persist-no-such-program", ["x"]);
    expect(run).toMatchObject({ exitCode: undefined, code: "ENOENT", stdout: "", stderr: "" });
    expect(run.message).toBe("spawn claude-persist-no-such-program ENOENT");
  });

  it("passes arguments as they are, with no shell between", async () => {
    const words = ["$HOME", "a b", "'quoted'", "; rm -rf /", "`id`"];
    const run = await runProcess(process.execPath, [
      "-e",
      "console.log(JSON.stringify(process.argv.slice(1)))",
      ...words,
    ]);
    expect(JSON.parse(run.stdout)).toEqual(words);
  });

  it("writes input to stdin and closes it; without input stdin is empty, not left open", async () => {
    expect((await runProcess("cat", [], { input: "line one\nline two" })).stdout).toBe("line one\nline two");
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
    const back = await runProcess("cat", [], { input: bytes, encoding: "buffer", stripFinalNewline: false });
    expect(back.stdout.equals(bytes)).toBe(true);
    // `cat` with an open stdin would wait for ever; the timeout only stops the test from hanging.
    const noInput = await runProcess("cat", [], { timeout: 20_000 });
    expect(noInput).toMatchObject({ exitCode: 0, stdout: "", timedOut: false });
    // A child that exits without reading what it is given is no error of ours: its exit code says how it went.
    const unread = await runProcess("sh", ["-c", "exit 4"], { input: "x".repeat(4 << 20) });
    expect(unread.exitCode).toBe(4);
  });

  it("drops one final newline unless told not to; bytes come back as they were", async () => {
    expect((await runProcess("printf", ["a\\n\\n"])).stdout).toBe("a\n");
    expect((await runProcess("printf", ["a\\r\\n"])).stdout).toBe("a");
    expect((await runProcess("printf", ["a\\n\\n"], { stripFinalNewline: false })).stdout).toBe("a\n\n");
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const cat = await runProcess("cat", [], { input: all, encoding: "buffer", stripFinalNewline: false });
    expect(cat.stdout.equals(all)).toBe(true);
  });

  it("keeps stdout and stderr together in the order they came, with all", async () => {
    const run = await runProcess("sh", ["-c", "echo 1; sleep 0.1; echo 2 >&2; sleep 0.1; echo 3"], { all: true });
    expect(run.all).toBe("1\n2\n3");
    expect([run.stdout, run.stderr]).toEqual(["1\n3", "2"]);
    expect((await runProcess("sh", ["-c", "echo 1"])).all).toBe("");
  });

  it("ends a child that runs past its timeout, even when what it started holds the pipe open", async () => {
    const started = Date.now();
    // The backgrounded sleep keeps stdout open for 60 s after sh is gone.
    const run = await runProcess("sh", ["-c", "echo begun; sleep 60 & sleep 60"], { timeout: 300 });
    expect(run).toMatchObject({ timedOut: true, exitCode: undefined, signal: "SIGTERM", stdout: "begun" });
    expect(run.message).toBe("sh timed out after 300 ms");
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("kills a child that ignores SIGTERM once forceKillAfterMs has passed", async () => {
    const stubborn = 'trap "echo ignored" TERM; echo up; while :; do sleep 0.1; done';
    const run = await runProcess("sh", ["-c", stubborn], { timeout: 1000, forceKillAfterMs: 500 });
    expect(run).toMatchObject({ timedOut: true, signal: "SIGKILL", exitCode: undefined });
    expect(run.stdout).toBe("up\nignored");
  });

  it("ends a child that prints more than maxBuffer, and keeps exactly maxBuffer bytes", async () => {
    const run = await runProcess("yes", [], { maxBuffer: 1000, stripFinalNewline: false });
    expect(run).toMatchObject({ isMaxBuffer: true, exitCode: undefined, timedOut: false });
    expect(run.stdout).toBe("y\n".repeat(500));
    expect(run.message).toBe("yes printed more than 1000 bytes");
    const within = await runProcess("printf", ["%01000d", "0"], { maxBuffer: 1000 });
    expect(within).toMatchObject({ isMaxBuffer: false, exitCode: 0 });
  });

  it("tells a signal from outside from an exit", async () => {
    const run = await runProcess("sh", ["-c", "kill -TERM $$"]);
    expect(run).toMatchObject({ exitCode: undefined, signal: "SIGTERM", timedOut: false });
    expect(run.message).toBe("sh was ended by SIGTERM");
  });

  it("gives the child exactly the environment asked for, else this process's, and runs it in cwd", async () => {
    const dir = tempDir("cp-cwd-");
    const only = await runProcess("/bin/sh", ["-c", 'echo "$ONLY|$HOME|$(pwd)"'], { env: { ONLY: "x" }, cwd: dir });
    expect(only.stdout).toBe(`x||${dir}`);
    process.env.CLAUDE_PERSIST_TEST_INHERITED = "inherited";
    try {
      const inherited = await runProcess("sh", ["-c", 'echo "$CLAUDE_PERSIST_TEST_INHERITED"']);
      expect(inherited.stdout).toBe("inherited");
    } finally {
      delete process.env.CLAUDE_PERSIST_TEST_INHERITED;
    }
  });

  it("writes output into a file (0600), emptied first or appended to, and never through a planted link", async () => {
    const dir = tempDir("cp-out-");
    const out = path.join(dir, "answer.json");
    writeFileSync(out, "what was there before, longer than the answer\n");
    const run = await runProcess("sh", ["-c", "echo answer; echo log >&2"], {
      stdout: { file: out },
      stderr: { file: path.join(dir, "log"), append: true },
    });
    expect(run).toMatchObject({ exitCode: 0, stdout: "" });
    expect(readFileSync(out, "utf8")).toBe("answer\n");
    expect(statSync(path.join(dir, "log")).mode & 0o777).toBe(0o600);
    await runProcess("sh", ["-c", "echo again >&2"], { stderr: { file: path.join(dir, "log"), append: true } });
    expect(readFileSync(path.join(dir, "log"), "utf8")).toBe("log\nagain\n");

    const target = path.join(dir, "precious");
    writeFileSync(target, "keep me\n");
    symlinkSync(target, path.join(dir, "planted"));
    const refused = await runProcess("sh", ["-c", "echo overwritten"], { stdout: { file: path.join(dir, "planted") } });
    expect(refused).toMatchObject({ exitCode: undefined, code: "ELOOP" });
    expect(readFileSync(target, "utf8")).toBe("keep me\n");
    expect(lstatSync(path.join(dir, "planted")).isSymbolicLink()).toBe(true);
  });
});

describe("a child that is not ours to wait for", () => {
  it("inherits the terminal's streams with stdio inherit, and nothing is kept", async () => {
    const run = await script(
      'const r = await runProcess("sh", ["-c", "echo to-the-terminal; echo err-to-terminal >&2"], { stdio: "inherit" });\n' +
        "console.log(`kept: ${JSON.stringify([r.stdout, r.stderr, r.exitCode])}`);",
    );
    expect(run.stdout).toBe('to-the-terminal\nkept: ["","",0]');
    expect(run.stderr).toBe("err-to-terminal");
  });

  it("runs on, detached and unref'd, after the process that started it has exited", async () => {
    const dir = tempDir("cp-detached-");
    const out = path.join(dir, "out");
    const run = await script(
      `const child = startProcess("sh", ["-c", "sleep 1; echo finished"], { detached: true, stdout: { file: ${JSON.stringify(out)} } });\n` +
        "child.unref();\nconsole.log(child.pid);",
    );
    expect(run.exitCode, run.stderr).toBe(0);
    // The script has exited; its child has not written yet, and does a moment later.
    expect(readFileSync(out, "utf8")).toBe("");
    const deadline = Date.now() + 20_000;
    while (readFileSync(out, "utf8") === "" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(out, "utf8")).toBe("finished\n");
  });
});

describe("the built runtime", () => {
  it("bundles no execa, and a command's start loads no node:child_process (its first process does)", async () => {
    const lib = path.join(PROJECT_ROOT, "dist", "bin", "lib");
    expect(readdirSync(lib)).not.toContain("execa.cjs");
    for (const name of readdirSync(lib)) expect(readFileSync(path.join(lib, name), "utf8"), name).not.toMatch(/execa/);
    // Node's own list of the builtins it loaded, written as the command exits.
    const dir = tempDir("cp-loaded-");
    const preload = path.join(dir, "loaded.cjs");
    writeFileSync(
      preload,
      'process.on("exit", () => require("node:fs").writeFileSync(process.env.LOADED_OUT, process.moduleLoadList.join("\\n")));\n',
    );
    const cli = path.join(PROJECT_ROOT, "dist", "bin", "claude-persist.cjs");
    const loaded = async (args: string[], cwd = dir) => {
      const out = path.join(dir, "loaded.txt");
      const env = { PATH: process.env.PATH ?? "", HOME: tempDir("cp-home-"), LOADED_OUT: out };
      const run = await execa(process.execPath, ["-r", preload, cli, ...args], {
        env,
        extendEnv: false,
        reject: false,
        cwd,
      });
      expect(run.exitCode, run.stderr).toBe(0);
      return readFileSync(out, "utf8").split("\n");
    };
    for (const command of ["dev-open", "start-work", "doctor", "sync", "share", "snapshot", "sessions"]) {
      expect(await loaded([command, "--help"]), command).not.toContain("NativeModule child_process");
    }
    // The probe is sound: a command that runs git (sessions, in a repo) has it loaded.
    const repo = tempDir("cp-loaded-repo-");
    await execa("git", ["init", "-q", repo]);
    expect(await loaded(["sessions", "--json"], repo)).toContain("NativeModule child_process");
  });
});
