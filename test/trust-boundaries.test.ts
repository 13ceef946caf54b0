// The attacks of issue 12, each as the attacker would do it: a cloned repo with planted links, a process in a dev
// container writing links, FIFOs and escape sequences into the folders the host shares with it, and writers racing
// the host's checks. Each must be refused or harmless. (Snapshot restore and the tar reader: snapshot.test.ts.)
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { devcontainerUp } from "../src/devcontainer/launch/up.ts";
import { readRegularFile } from "../src/fs.ts";
import { withDirBeneath, appendToFileIn } from "../src/fs-beneath.ts";
import { recordSessionStart } from "../src/hook/session-start.ts";
import { PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";

const HOOK = path.join(PROJECT_ROOT, "dist", "hooks", "session-start.cjs");
const NO_DOCKER = "unix:///nonexistent/docker.sock";
const SESSION = "0b7e4a8c-1111-4222-8333-944445555666";
/** A hang shows as a timeout: far longer than any of these runs takes, far shorter than forever. */
const HANG = 60_000;
const ESCAPES = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

const claudeDir = (home: string) => path.join(home, ".claude");
const stateDir = (home: string) => path.join(claudeDir(home), "persist-state");
const hostDir = (home: string) => path.join(claudeDir(home), "persist-host");
const hostEnv = (home: string) => ({ HOME: home, DOCKER_HOST: NO_DOCKER, CLAUDE_PERSIST_ENVIRONMENT: "host" });

function runHook(home: string) {
  const input = JSON.stringify({
    session_id: SESSION,
    cwd: "/home/ana/app",
    hook_event_name: "SessionStart",
    source: "startup",
  });
  return execa(process.execPath, [HOOK], {
    input,
    env: { PATH: process.env.PATH ?? "", ...hostEnv(home) },
    extendEnv: false,
    reject: false,
    timeout: HANG,
  });
}

async function gitRepo(): Promise<string> {
  const repo = path.join(tempDir(), "app");
  mkdirSync(path.join(repo, ".devcontainer"), { recursive: true });
  await execa("git", ["init", "-q", "-b", "main"], { cwd: repo });
  return repo;
}

const CONFIG = '{ "image": "debian", "remoteUser": "vscode" }\n';
const mkfifo = (file: string) => execa("mkfifo", [file]);
const sha256 = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");

describe("a cloned repo cannot reach the user's files through dev-open", () => {
  let home: string;
  beforeAll(async () => {
    home = tempHome();
    expect((await runCli(["install"], { env: hostEnv(home) })).exitCode).toBe(0);
  });

  it("a committed .claude-persist.bak symlink is not written through: the backup is a fresh file in the host-only folder", async () => {
    const repo = await gitRepo();
    const victim = path.join(home, "authorized_keys");
    writeFileSync(victim, "ssh-ed25519 AAAA the-users-own-key\n");
    writeFileSync(
      path.join(repo, ".devcontainer", "devcontainer.json"),
      `// ssh-ed25519 AAAA attackers-key\n${CONFIG}`,
    );
    symlinkSync(victim, path.join(repo, ".devcontainer", "devcontainer.json.claude-persist.bak"));
    const result = await runCli(["dev-open", "--config-only"], { env: hostEnv(home), cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(readFileSync(victim, "utf8")).toBe("ssh-ed25519 AAAA the-users-own-key\n");
    // The planted name is left alone; the backup is a fresh file in the host-only folder.
    expect(lstatSync(path.join(repo, ".devcontainer", "devcontainer.json.claude-persist.bak")).isSymbolicLink()).toBe(
      true,
    );
    const backup = /\(backup: ([^)]+)\)/.exec(result.stdout)?.[1] ?? "";
    expect(backup.startsWith(hostDir(home))).toBe(true);
    expect(readFileSync(backup, "utf8")).toBe(`// ssh-ed25519 AAAA attackers-key\n${CONFIG}`);
    expect(readFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), "utf8")).toContain("persist-state");
  });

  it("a devcontainer.json symlinked out of the repo is neither edited nor copied into the repo", async () => {
    const repo = await gitRepo();
    const outside = path.join(home, ".docker-config.json");
    const secret = '{ "image": "debian", "remoteUser": "vscode", "auths": { "registry": { "auth": "c2VjcmV0" } } }\n';
    writeFileSync(outside, secret);
    symlinkSync(
      path.relative(path.join(repo, ".devcontainer"), outside),
      path.join(repo, ".devcontainer", "devcontainer.json"),
    );
    for (const args of [["--config-only"], ["--dry-run"], ["--isolated"]]) {
      const result = await runCli(["dev-open", ...args], { env: hostEnv(home), cwd: repo });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/devcontainer\.json leads outside .*; not reading or editing it/);
      expect(result.stdout).not.toContain("c2VjcmV0");
    }
    expect(readFileSync(outside, "utf8")).toBe(secret);
    expect(readdirSync(path.join(repo, ".devcontainer"))).toEqual(["devcontainer.json"]);
  });

  it("a .devcontainer folder that is a link out of the repo is refused", async () => {
    const repo = path.join(tempDir(), "app");
    mkdirSync(repo);
    await execa("git", ["init", "-q", "-b", "main"], { cwd: repo });
    const elsewhere = tempDir();
    writeFileSync(path.join(elsewhere, "devcontainer.json"), CONFIG);
    symlinkSync(elsewhere, path.join(repo, ".devcontainer"));
    const result = await runCli(["dev-open", "--config-only"], { env: hostEnv(home), cwd: repo });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("leads outside");
    expect(readdirSync(elsewhere)).toEqual(["devcontainer.json"]);
    expect(readFileSync(path.join(elsewhere, "devcontainer.json"), "utf8")).toBe(CONFIG);
  });

  it("a config linked to another file inside the repo is still edited there", async () => {
    const repo = await gitRepo();
    writeFileSync(path.join(repo, "shared-devcontainer.json"), CONFIG);
    symlinkSync("../shared-devcontainer.json", path.join(repo, ".devcontainer", "devcontainer.json"));
    const result = await runCli(["dev-open", "--config-only"], { env: hostEnv(home), cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(readFileSync(path.join(repo, "shared-devcontainer.json"), "utf8")).toContain(
      "persist-host/host-files/settings.json",
    );
    expect(readlinkSync(path.join(repo, ".devcontainer", "devcontainer.json"))).toBe("../shared-devcontainer.json");
  });

  it("a FIFO in place of a repo's config or .mcp.json does not hang dev-open", async () => {
    const repo = await gitRepo();
    writeFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), CONFIG);
    await mkfifo(path.join(repo, ".mcp.json"));
    const withMcp = await execa(
      process.execPath,
      [path.join(PROJECT_ROOT, "dist", "bin", "claude-persist.mjs"), "dev-open", "--dry-run"],
      {
        cwd: repo,
        env: { PATH: process.env.PATH ?? "", ...hostEnv(home) },
        extendEnv: false,
        reject: false,
        timeout: HANG,
      },
    );
    expect(withMcp.timedOut).toBe(false);
    expect(withMcp.exitCode, withMcp.stderr).toBe(0);
    const fifoConfig = await gitRepo();
    await mkfifo(path.join(fifoConfig, ".devcontainer", "devcontainer.json"));
    const result = await execa(
      process.execPath,
      [path.join(PROJECT_ROOT, "dist", "bin", "claude-persist.mjs"), "dev-open", "--config-only"],
      {
        cwd: fifoConfig,
        env: { PATH: process.env.PATH ?? "", ...hostEnv(home) },
        extendEnv: false,
        reject: false,
        timeout: HANG,
      },
    );
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("No dev container config");
  });
});

describe("the links single files are mounted through are the host's alone", () => {
  it("live in persist-host/host-files (0700), which no container mounts, and the initializeCommand makes them there", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: hostEnv(home) })).exitCode).toBe(0);
    writeFileSync(path.join(claudeDir(home), "mcp.json"), "{}\n");
    const repo = await gitRepo();
    writeFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), CONFIG);
    expect((await runCli(["dev-open", "--config-only"], { env: hostEnv(home), cwd: repo })).exitCode).toBe(0);
    const config = readFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), "utf8");
    expect(config).toContain("source=${localEnv:HOME}/.claude/persist-host/host-files/settings.json");
    expect(config).not.toContain("persist-state/host-files");
    // persist-host/ is never mounted: only single files are, through its links, read-only.
    const hostOnly = [...config.matchAll(/"source=[^"]*persist-host[^"]*"/g)].map((m) => m[0]);
    expect(hostOnly.length).toBeGreaterThan(0);
    for (const mount of hostOnly)
      expect(mount).toMatch(/persist-host\/host-files\/[a-z.]+\.json,target=[^,]+,type=bind,readonly"$/);
    expect(statSync(hostDir(home)).mode & 0o777).toBe(0o700);
    expect(readlinkSync(path.join(hostDir(home), "host-files", "mcp.json"))).toBe("../../mcp.json");

    // The initializeCommand a teammate's editor runs: it makes the same links in the same host-only place.
    const command = /"initializeCommand": "((?:[^"\\]|\\.)*)"/.exec(config)?.[1];
    expect(command).toBeDefined();
    const teammate = tempHome();
    writeFileSync(path.join(claudeDir(teammate), "settings.json"), "{}\n");
    const script = (JSON.parse(`"${command}"`) as string).replaceAll("${localEnv:HOME}", teammate);
    const run = await execa("sh", ["-c", script], {
      env: { PATH: process.env.PATH ?? "", HOME: teammate },
      reject: false,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(statSync(hostDir(teammate)).mode & 0o777).toBe(0o700);
    expect(readlinkSync(path.join(hostDir(teammate), "host-files", "settings.json"))).toBe("../../settings.json");
    expect(readlinkSync(path.join(hostDir(teammate), "host-files", "mcp.json"))).toBe("/dev/null");
  });
});

describe("uninstall and the install record", () => {
  it("ignores an install record a container planted in persist-state/", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: hostEnv(home) })).exitCode).toBe(0);
    const victim = path.join(home, ".bash_logout");
    writeFileSync(victim, "clear\n");
    const planted = {
      version: "9.9.9",
      files: { "../.bash_logout": { sha256: sha256("clear\n"), replacedUserFile: false } },
      settings: { before: null, after: "x" },
      createdDirs: [".."],
    };
    writeFileSync(path.join(stateDir(home), "install.json"), JSON.stringify(planted));
    const result = await runCli(["uninstall"], { env: hostEnv(home) });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(readFileSync(victim, "utf8")).toBe("clear\n");
    expect(existsSync(path.join(claudeDir(home), "persist"))).toBe(false);
  });

  it("an older install's record, planted with paths outside ~/.claude, is moved host-only but none of its entries is used", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: hostEnv(home) })).exitCode).toBe(0);
    // The layout of an older version: the record in persist-state/, no persist-host/.
    const victim = path.join(home, ".bash_logout");
    writeFileSync(victim, "clear\n");
    const record = JSON.parse(readFileSync(path.join(hostDir(home), "install.json"), "utf8")) as {
      files: Record<string, unknown>;
    };
    record.files["../.bash_logout"] = { sha256: sha256("clear\n"), replacedUserFile: false };
    removeTree(hostDir(home));
    mkdirSync(stateDir(home), { recursive: true });
    writeFileSync(path.join(stateDir(home), "install.json"), JSON.stringify(record));
    const result = await runCli(["uninstall"], { env: hostEnv(home) });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/persist-host\/install\.json is not valid claude-persist state/);
    expect(readFileSync(victim, "utf8")).toBe("clear\n");
    expect(existsSync(path.join(stateDir(home), "install.json"))).toBe(false);
  });
});

function removeTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

describe("what older versions kept in persist-state/ moves to persist-host/", () => {
  it("on the next session start: the install record and snapshots move, a planted link stays unread, and nothing is lost", async () => {
    const home = tempHome();
    mkdirSync(path.join(stateDir(home), "snapshots", "-home-ana-app"), { recursive: true });
    writeFileSync(path.join(stateDir(home), "install.json"), '{"version":"0.1.0"}\n');
    writeFileSync(path.join(stateDir(home), "snapshots", "-home-ana-app", "x.tar.gz"), "archive");
    writeFileSync(path.join(stateDir(home), "work-items.json"), "[]\n");
    const result = await runHook(home);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(readFileSync(path.join(hostDir(home), "install.json"), "utf8")).toBe('{"version":"0.1.0"}\n');
    expect(readFileSync(path.join(hostDir(home), "snapshots", "-home-ana-app", "x.tar.gz"), "utf8")).toBe("archive");
    expect(statSync(hostDir(home)).mode & 0o777).toBe(0o700);
    expect(readdirSync(stateDir(home)).sort()).toEqual(["session-starts", "work-items.json"]);

    const planted = tempHome();
    const elsewhere = tempDir();
    mkdirSync(stateDir(planted), { recursive: true });
    symlinkSync(elsewhere, path.join(stateDir(planted), "snapshots"));
    const second = await runHook(planted);
    expect(second.stderr).toContain("left in place, not claude-persist's (a link?): persist-state/snapshots");
    expect(lstatSync(path.join(stateDir(planted), "snapshots")).isSymbolicLink()).toBe(true);
    expect(existsSync(path.join(hostDir(planted), "snapshots"))).toBe(false);
  });

  it("on the next install: the record moves and install goes on from it (no backups of its own commands)", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: hostEnv(home) })).exitCode).toBe(0);
    const record = readFileSync(path.join(hostDir(home), "install.json"));
    removeTree(hostDir(home));
    writeFileSync(path.join(stateDir(home), "install.json"), record);
    const again = await runCli(["install"], { env: hostEnv(home) });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(readFileSync(path.join(hostDir(home), "install.json"))).toEqual(record);
    expect(readdirSync(path.join(claudeDir(home), "commands")).filter((name) => name.endsWith(".bak"))).toEqual([]);
  });
});

describe("FIFOs and links a container plants never hang the host", () => {
  it.each([
    ["work-items.json as a FIFO", (home: string) => mkfifo(path.join(stateDir(home), "work-items.json"))],
    [
      "work-items.json as a link to /dev/zero",
      async (home: string) => symlinkSync("/dev/zero", path.join(stateDir(home), "work-items.json")),
    ],
    [
      "this session's start record as a FIFO",
      async (home: string) => {
        mkdirSync(path.join(stateDir(home), "session-starts"));
        await mkfifo(path.join(stateDir(home), "session-starts", `${SESSION}.jsonl`));
      },
    ],
    [
      "this session's start record as a link to another file",
      async (home: string) => {
        mkdirSync(path.join(stateDir(home), "session-starts"));
        symlinkSync(path.join(home, ".bashrc"), path.join(stateDir(home), "session-starts", `${SESSION}.jsonl`));
      },
    ],
  ])("the SessionStart hook with %s answers at once and says what is wrong", async (_name, plant) => {
    const home = tempHome();
    mkdirSync(stateDir(home), { mode: 0o700 });
    writeFileSync(path.join(home, ".bashrc"), "alias ls='ls -F'\n");
    await plant(home);
    const result = await runHook(home);
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).hookSpecificOutput.hookEventName).toBe("SessionStart");
    expect(result.stderr).toMatch(/is (not a regular file|a symbolic link)/);
    expect(readFileSync(path.join(home, ".bashrc"), "utf8")).toBe("alias ls='ls -F'\n");
  });

  /** `claude-persist sessions` in `repo`, given HANG to finish: a FIFO waited on shows as a time-out. */
  const listSessions = (home: string, repo: string) =>
    execa(process.execPath, [path.join(PROJECT_ROOT, "dist", "bin", "claude-persist.mjs"), "sessions"], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? "", ...hostEnv(home) },
      extendEnv: false,
      reject: false,
      timeout: HANG,
    });

  it.each(["mappings.json", "work-items.json"])(
    "sessions with %s as a FIFO lists the sessions and names the file",
    async (name) => {
      const home = tempHome();
      mkdirSync(stateDir(home), { mode: 0o700 });
      await mkfifo(path.join(stateDir(home), name));
      const repo = await gitRepo();
      writeTranscript(home, repo, SESSION, "hello");
      mkdirSync(path.join(stateDir(home), "session-starts"));
      await mkfifo(path.join(stateDir(home), "session-starts", `${SESSION}.jsonl`));
      const result = await listSessions(home, repo);
      expect(result.timedOut).toBe(false);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain("hello");
      expect(result.stderr).toContain(`${name} could not be read (`);
      expect(result.stderr).toContain(`${name} is not a regular file; not reading it`);
    },
  );

  it("a transcript swapped for a FIFO is skipped, not waited on", async () => {
    const home = tempHome();
    const repo = await gitRepo();
    writeTranscript(home, repo, SESSION, "hello");
    const fifo = path.join(claudeDir(home), "projects", slug(repo), "1b7e4a8c-1111-4222-8333-944445555666.jsonl");
    await mkfifo(fifo);
    const result = await listSessions(home, repo);
    expect(result.timedOut).toBe(false);
    expect(result.stdout).toContain("hello");
  });

  it("readRegularFile refuses a FIFO, a link to /dev/zero, a device and a file over its limit", async () => {
    const dir = tempDir();
    await mkfifo(path.join(dir, "fifo"));
    symlinkSync("/dev/zero", path.join(dir, "zero"));
    writeFileSync(path.join(dir, "big"), "x".repeat(101));
    expect(() => readRegularFile(path.join(dir, "fifo"))).toThrow(/not a regular file/);
    expect(() => readRegularFile(path.join(dir, "zero"))).toThrow(/symbolic link/);
    expect(() => readRegularFile("/dev/zero")).toThrow(/not a regular file/);
    expect(() => readRegularFile(path.join(dir, "big"), 100)).toThrow(/larger than 100 bytes/);
    expect(readRegularFile(path.join(dir, "big"), 101)?.length).toBe(101);
    expect(readRegularFile(path.join(dir, "missing"))).toBeUndefined();
  });
});

describe("writes into folders containers share never follow a link they planted", () => {
  it("the session-starts folder swapped for a link to another folder, over and over while the hook records starts: nothing lands there", async () => {
    const home = tempHome();
    mkdirSync(path.join(stateDir(home), "session-starts"), { recursive: true, mode: 0o700 });
    const outside = tempDir("cp-outside-");
    const starts = path.join(stateDir(home), "session-starts");
    // The container's side: swap the folder for a link and back, as fast as it can, until told to stop.
    const racer = execa(
      process.execPath,
      [
        "-e",
        `
      const fs = require("node:fs");
      const [dir, outside, stop] = process.argv.slice(1);
      const quietly = (fn) => { try { fn(); } catch {} };
      while (!fs.existsSync(stop)) {
        quietly(() => fs.rmSync(dir, { recursive: true, force: true }));
        quietly(() => fs.symlinkSync(outside, dir));
        for (let i = 0; i < 50; i++) quietly(() => fs.statSync(dir));
        quietly(() => fs.unlinkSync(dir));
        quietly(() => fs.mkdirSync(dir));
      }
    `,
        starts,
        outside,
        path.join(home, "stop"),
      ],
      { reject: false },
    );
    const env = { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    let recorded = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      try {
        recordSessionStart(env, {
          sessionId: `s${i}`,
          cwd: "/w",
          environment: "host",
          machine: "m",
          source: "startup",
          time: "t",
        });
        recorded++;
      } catch {
        refused++;
      }
    }
    writeFileSync(path.join(home, "stop"), "");
    await racer;
    expect(recorded + refused).toBe(3000);
    expect(recorded).toBeGreaterThan(0);
    expect(readdirSync(outside)).toEqual([]);
  });

  it("withDirBeneath refuses a link among the folders, and appendToFileIn a link or FIFO as the file", async () => {
    const root = tempDir();
    const outside = tempDir();
    symlinkSync(outside, path.join(root, "linked"));
    expect(() => withDirBeneath(root, "linked/deeper", () => 1, { create: true })).toThrow(
      /is a link or not a folder; not writing there/,
    );
    expect(readdirSync(outside)).toEqual([]);
    mkdirSync(path.join(root, "real"));
    symlinkSync(path.join(outside, "target"), path.join(root, "real", "file"));
    expect(() => withDirBeneath(root, "real", (dir) => appendToFileIn(dir, "file", "x\n"))).toThrow(
      /not a regular file/,
    );
    expect(existsSync(path.join(outside, "target"))).toBe(false);
    expect(() => withDirBeneath(root, "../x", () => 1)).toThrow(/leaves/);
  });

  it("the launch log is made fresh in the host-only folder: a link planted under its name is not written through", async () => {
    const logDir = tempDir();
    const victim = path.join(tempDir(), "victim");
    writeFileSync(victim, "keep me\n");
    symlinkSync(victim, path.join(logDir, "up-app.log"));
    symlinkSync(victim, path.join(logDir, "up-app.json"));
    const workspace = await gitRepo();
    writeFileSync(path.join(workspace, ".devcontainer", "devcontainer.json"), CONFIG);
    await expect(
      devcontainerUp({
        workspaceFolder: workspace,
        configPath: path.join(workspace, ".devcontainer", "devcontainer.json"),
        removeExisting: false,
        env: { PATH: process.env.PATH ?? "", HOME: tempHome(), DOCKER_HOST: NO_DOCKER },
        logDir,
        onProgress: () => undefined,
      }),
    ).rejects.toThrow(/Docker is not reachable|did not start|no answer/);
    expect(readFileSync(victim, "utf8")).toBe("keep me\n");
    expect(lstatSync(path.join(logDir, "up-app.log")).isFile()).toBe(true);
    expect(statSync(path.join(logDir, "up-app.log")).mode & 0o777).toBe(0o600);
  });

  it("state files are replaced by name: a work-items.json link to a user's file is not written through", async () => {
    const home = tempHome();
    mkdirSync(stateDir(home), { mode: 0o700 });
    const victim = path.join(home, "notes.json");
    writeFileSync(victim, "[]\n");
    symlinkSync(victim, path.join(stateDir(home), "work-items.json"));
    const { rememberWorkItem } = await import("../src/work/work-items.ts");
    const item = {
      identifier: "LIN-1",
      title: null,
      url: null,
      branch: "lin-1",
      repoPath: "/r",
      worktreePath: null,
      time: "t",
      linearAsked: false,
    };
    await expect(rememberWorkItem({ HOME: home }, item)).rejects.toThrow(/symbolic link/);
    expect(readFileSync(victim, "utf8")).toBe("[]\n");
  });
});

describe("shared text reaches the terminal without escape sequences", () => {
  it("sessions: a transcript's prompt, cwd and file name carrying OSC 52 and a bidi override are shown cleaned", async () => {
    const home = tempHome();
    const repo = await gitRepo();
    const evilId = "2b7e4a8c-1111-4222-8333-9444\x1b]52;c;ZXZpbA==\x07";
    writeTranscript(home, repo, evilId, "fix \x1b]52;c;ZXZpbA==\x07 the \u202egnp.exe bug");
    const result = await runCli(["sessions", "--all"], { env: hostEnv(home), cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("fix");
    expect(result.stdout).not.toMatch(ESCAPES);
    expect(result.stderr).not.toMatch(ESCAPES);
    // The resume command still names the session exactly, in bash's $'…' quoting.
    expect(result.stdout).toContain("claude --resume $'2b7e4a8c-1111-4222-8333-9444\\x1b]52;c;ZXZpbA==\\x07'");
  });

  it("doctor: a mapped path a container wrote with escape sequences is shown cleaned", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: hostEnv(home) })).exitCode).toBe(0);
    const evil = "/workspaces/\x1b]52;c;ZXZpbA==\x07app\u202e";
    const mapping = (hostPath: string) => ({
      hostPath,
      hostSlug: slug(hostPath),
      containerPath: evil,
      containerSlug: slug(evil),
      time: "2026-01-01T00:00:00.000Z",
    });
    writeFileSync(
      path.join(stateDir(home), "mappings.json"),
      JSON.stringify([mapping("/home/a/one"), mapping("/home/a/two")]),
    );
    const result = await runCli(["doctor"], { env: hostEnv(home), cwd: home });
    expect(result.stdout).toContain("/workspaces/");
    expect(result.stdout).not.toMatch(ESCAPES);
  });
});

function slug(dir: string): string {
  return dir.replace(/[^a-zA-Z0-9]/g, "-");
}

function writeTranscript(home: string, cwd: string, id: string, prompt: string): void {
  const dir = path.join(claudeDir(home), "projects", slug(cwd));
  mkdirSync(dir, { recursive: true });
  const time = new Date().toISOString();
  const common = { sessionId: id, cwd, gitBranch: "main", version: "2.1.330", userType: "external" };
  const lines = [
    {
      ...common,
      parentUuid: null,
      type: "user",
      message: { role: "user", content: prompt },
      uuid: "u1",
      timestamp: time,
    },
    {
      ...common,
      parentUuid: "u1",
      type: "assistant",
      message: { role: "assistant", content: [{ type: "text", text: "ok" }] },
      uuid: "a1",
      timestamp: time,
    },
  ];
  writeFileSync(path.join(dir, `${id}.jsonl`), lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
  chmodSync(dir, 0o700);
}
