// Issue 22's smaller attacks and bounds, each as a container or a cloned repo would plant it: what a host-side
// command reads must stay inside its folders, its work must stay bounded, and its answers honest.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { checkMappingCollisions } from "../src/doctor/mapping-checks.ts";
import { resolveSnapshotProject } from "../src/snapshot/project.ts";
import { unisonRemoteRoot } from "../src/sync/unison.ts";
import { linearClient } from "../src/work/linear.ts";
import { CLI, runCli, tempDir, tempHome } from "./support/claude.ts";
import { startLinearServer } from "./support/linear-server.ts";
import { writeTranscript } from "./support/transcripts.ts";

const HOUR = 3_600_000;
const ID = "d1d1d1d1-0000-4000-8000-000000000001";

type Listed = { id: string; prompt?: string; branch?: string };

/** One `sessions --all --json --stats` run, with what the last run kept put away first (it would be printed as it is). */
async function listAll(home: string, cwd: string): Promise<{ sessions: Listed[]; opened: number; stdout: string }> {
  rmSync(path.join(home, ".claude", "persist-host", "sessions-listings"), { recursive: true, force: true });
  const result = await runCli(["sessions", "--all", "--json", "--stats"], { env: { HOME: home }, cwd });
  expect(result.exitCode, result.stderr).toBe(0);
  const opened = /opened (\d+) transcripts/.exec(result.stderr)?.[1];
  return {
    sessions: (JSON.parse(result.stdout) as { sessions: Listed[] }).sessions,
    opened: Number(opened),
    stdout: result.stdout,
  };
}

describe("sessions --all", () => {
  it("does not follow a project-folder link out of projects/ and print what it finds there", async () => {
    const home = tempHome();
    const cwd = tempDir("cp-work-");
    const outside = tempDir("cp-outside-");
    writeTranscript(path.join(outside, `${ID}.jsonl`), {
      id: ID,
      cwd: "/home/ana/private",
      branch: "main",
      prompt: "the host's private notes",
      start: Date.now() - 2 * HOUR,
      end: Date.now() - HOUR,
    });
    const projects = path.join(home, ".claude", "projects");
    mkdirSync(projects, { recursive: true });
    symlinkSync(outside, path.join(projects, "-planted"));
    const listed = await listAll(home, cwd);
    expect(listed.stdout).not.toContain("the host's private notes");
    expect(listed.sessions).toEqual([]);
  });
});

describe("the sessions index", () => {
  it("keeps itself when a transcript has a field over 4,096 characters: the next run opens nothing", async () => {
    const home = tempHome();
    const cwd = tempDir("cp-work-");
    const dir = path.join(home, ".claude", "projects", encodeProjectSlug(cwd));
    const start = Date.now() - 2 * HOUR;
    writeTranscript(path.join(dir, `${ID}.jsonl`), {
      id: ID,
      cwd,
      branch: `b-${"x".repeat(5000)}`,
      prompt: "p".repeat(6000),
      start,
      end: start + HOUR,
    });
    expect((await listAll(home, cwd)).opened).toBe(1);
    expect((await listAll(home, cwd)).opened).toBe(0);
  });

  it("reads again a transcript rewritten in place to the same size with its mtime put back", async () => {
    const home = tempHome();
    const cwd = tempDir("cp-work-");
    const dir = path.join(home, ".claude", "projects", encodeProjectSlug(cwd));
    const file = path.join(dir, `${ID}.jsonl`);
    const start = Date.now() - 2 * HOUR;
    const write = (branch: string) =>
      writeTranscript(file, { id: ID, cwd, branch, prompt: "hello", start, end: start + HOUR });
    write("feature/aaaa");
    const first = await listAll(home, cwd);
    expect(first.sessions[0]?.branch).toBe("feature/aaaa");
    const { mtimeMs, size } = statSync(file);
    // The mtime kept to the nanosecond on a reference file, to be put back after the rewrite.
    const reference = path.join(tempDir("cp-ref-"), "ref");
    writeFileSync(reference, "");
    spawnSync("touch", ["-m", "-r", file, reference]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(file, readFileSync(file, "utf8").replaceAll("feature/aaaa", "feature/bbbb"));
    spawnSync("touch", ["-m", "-r", reference, file]);
    expect(statSync(file)).toMatchObject({ size, mtimeMs });
    const second = await listAll(home, cwd);
    expect(second.sessions[0]?.branch).toBe("feature/bbbb");
  });
});

describe("sessions' reading of a transcript", () => {
  it("reads at most its 16 and 64 KiB windows at each end of a transcript with no newline", async () => {
    const home = tempHome();
    const cwd = tempDir("cp-work-");
    const dir = path.join(home, ".claude", "projects", encodeProjectSlug(cwd));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${ID}.jsonl`), `{"type":"user","cwd":"${"x".repeat(8 << 20)}`);
    const result = await runCli(["sessions", "--all", "--json", "--stats"], { env: { HOME: home }, cwd });
    expect(result.exitCode, result.stderr).toBe(0);
    const read = Number(/read (\d+) of/.exec(result.stderr)?.[1]);
    expect(read).toBeLessThanOrEqual(2 * (16 + 64) * 1024);
  });
});

describe("records a container writes are claims", () => {
  const mapping = (hostPath: string, containerPath: string, slugs: { host?: string; container?: string } = {}) => ({
    hostPath,
    hostSlug: slugs.host ?? encodeProjectSlug(hostPath),
    containerPath,
    containerSlug: slugs.container ?? encodeProjectSlug(containerPath),
    time: new Date().toISOString(),
  });
  const plant = (home: string, entries: unknown[]) => {
    const state = path.join(home, ".claude", "persist-state");
    mkdirSync(state, { recursive: true });
    writeFileSync(path.join(state, "mappings.json"), JSON.stringify(entries));
  };

  it("a planted mapping does not make repo A's snapshots repo B's on the host", async () => {
    const home = tempHome();
    const a = tempDir("cp-repo-a-");
    const b = tempDir("cp-repo-b-");
    plant(home, [mapping(b, a)]);
    const project = await resolveSnapshotProject({ HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" }, a);
    expect(project.hostPath).toBe(a);
    expect(project.dir).toContain(encodeProjectSlug(a));
  });

  it("a mapping with a ../ slug neither enters a snapshot nor keeps it from being restored", async () => {
    const home = tempHome();
    const cwd = tempDir("cp-work-");
    const dir = path.join(home, ".claude", "projects", encodeProjectSlug(cwd));
    const start = Date.now() - 2 * HOUR;
    writeTranscript(path.join(dir, `${ID}.jsonl`), {
      id: ID,
      cwd,
      branch: "main",
      prompt: "hi",
      start,
      end: start + HOUR,
    });
    plant(home, [mapping("/elsewhere", cwd, { host: "../../outside" })]);
    const env = { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const created = await runCli(["snapshot", "create", "--json"], { env, cwd });
    expect(created.exitCode, created.stderr).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    const restored = await runCli(["snapshot", "restore", id], { env, cwd });
    expect(restored.exitCode, restored.stderr).toBe(0);
  });

  it("60,000 planted mappings of one container path: doctor names five repos and how many more, not all", () => {
    const home = tempHome();
    plant(
      home,
      Array.from({ length: 60_000 }, (_, i) => mapping(`/srv/repo-${i}`, "/workspaces/app")),
    );
    const [result] = checkMappingCollisions({ HOME: home });
    expect(result?.label).toMatch(/is mapped to 60000 repos: \/srv\/repo-0, .*, \/srv\/repo-4, and 59995 more$/);
  });
});

describe("the old shared snapshot folder", () => {
  it("a link planted there does not make prune in repo A delete repo B's snapshots", async () => {
    const home = tempHome();
    const env = { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const a = tempDir("cp-repo-a-");
    const b = tempDir("cp-repo-b-");
    const bDir = path.join(home, ".claude", "projects", encodeProjectSlug(b));
    const start = Date.now() - 2 * HOUR;
    writeTranscript(path.join(bDir, `${ID}.jsonl`), {
      id: ID,
      cwd: b,
      branch: "main",
      prompt: "hi",
      start,
      end: start + HOUR,
    });
    for (let i = 0; i < 2; i++) expect((await runCli(["snapshot", "create"], { env, cwd: b })).exitCode).toBe(0);
    const bSnapshots = path.join(home, ".claude", "persist-host", "snapshots", encodeProjectSlug(b));
    const before = readdirSync(bSnapshots).sort();
    const legacy = path.join(home, ".claude", "persist-state", "snapshots");
    mkdirSync(legacy, { recursive: true });
    symlinkSync(bSnapshots, path.join(legacy, encodeProjectSlug(a)));
    const pruned = await runCli(["snapshot", "prune", "--keep", "1"], { env, cwd: a });
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(readdirSync(bSnapshots).sort()).toEqual(before);
  });
});

describe("settings.json that is not a file to read", () => {
  const settingsOf = (home: string) => path.join(home, ".claude", "settings.json");
  const cases: Array<[string, (file: string) => void]> = [
    ["a FIFO", (file) => spawnSync("mkfifo", [file])],
    ["a link to /dev/zero", (file) => symlinkSync("/dev/zero", file)],
  ];

  it.each(cases)(
    "%s: install, doctor and uninstall each end with one line saying so, and hang on nothing",
    async (_what, plant) => {
      const home = tempHome();
      mkdirSync(path.join(home, ".claude"), { recursive: true });
      plant(settingsOf(home));
      for (const args of [["install"], ["doctor"], ["uninstall"]]) {
        const result = await runCli(args, { env: { HOME: home, DOCKER_HOST: "unix:///nonexistent/docker.sock" } });
        expect(result.exitCode, `${args[0]}: ${result.stderr}`).not.toBe(0);
        expect(`${result.stdout}${result.stderr}`).toMatch(/settings\.json is not a regular file/);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }
    },
    60_000,
  );

  it("nested 100,000 levels deep: install says so in one line, no stack overflow, and leaves the file as it was", async () => {
    const home = tempHome();
    mkdirSync(path.join(home, ".claude"), { recursive: true });
    const text = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    writeFileSync(settingsOf(home), text);
    const result = await runCli(["install"], { env: { HOME: home } });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/settings\.json:1:257: nested deeper than 256 levels/);
    expect(result.stderr).not.toMatch(/Maximum call stack|\n\s+at /);
    expect(readFileSync(settingsOf(home), "utf8")).toBe(text);
  });
});

describe("what reaches other tools", () => {
  it.each(["x@-F", "-oProxyCommand=sh@host", "ssh://-F"])(
    "sync unison refuses %j instead of handing an option to ssh",
    (target) => {
      expect(() => unisonRemoteRoot(target)).toThrow(/is not an ssh host/);
    },
  );

  it("an issue Linear answers for LIN-123 that names another identifier starts no work", async () => {
    const server = await startLinearServer();
    try {
      const other = {
        id: "issue-ops-9",
        identifier: "OPS-9",
        title: "Another team's issue",
        url: "https://linear.app/acme/issue/OPS-9",
        branchName: "ops-9-other",
        description: null,
        state: { id: "s1", name: "Todo", type: "unstarted" },
        team: { id: "t9", key: "OPS" },
        assignee: null,
      };
      server.answerFor("Issue", { kind: "garbage", body: JSON.stringify({ data: { issue: other } }) });
      const client = linearClient({ apiKey: "lin_api_0123456789abcdef", apiUrl: server.url, timeoutMs: 2_000 });
      await expect(client.fetchIssue("LIN-123")).rejects.toThrow(
        /answered the question for LIN-123 with another issue \(OPS-9\)/,
      );
    } finally {
      await server.close();
    }
  });
});

describe("--json run from a folder deleted meanwhile", () => {
  it.each([["sessions"], ["doctor"], ["snapshot", "list"]])(
    "%s prints one JSON error document and one line, no stack trace",
    (...command) => {
      const home = tempHome();
      const gone = tempDir("cp-gone-");
      const script = 'cd "$1" && rmdir "$1" && shift && exec "$@"';
      const result = spawnSync("sh", ["-c", script, "sh", gone, process.execPath, CLI, ...command, "--json"], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home },
        encoding: "utf8",
      });
      expect(result.status).not.toBe(0);
      const document = JSON.parse(result.stdout) as { ok: boolean; error: { message: string } };
      expect(document.ok).toBe(false);
      expect(result.stderr.trim().split("\n")).toEqual([
        expect.stringMatching(/the current folder no longer exists .*: cd into one that does and run again$/),
      ]);
    },
  );
});

describe("an older install's record, edited by a container before it moved host-only", () => {
  it("is not trusted to say install made settings.json: uninstall takes the hook out and keeps the file", async () => {
    const home = tempHome();
    const env = { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const claude = path.join(home, ".claude");
    const settings = path.join(claude, "settings.json");
    mkdirSync(claude, { recursive: true });
    writeFileSync(settings, '{\n  "model": "opus"\n}\n');
    expect((await runCli(["install"], { env })).exitCode).toBe(0);
    // The layout of an older version, the record in persist-state/, where a container says settings.json was install's.
    const record = JSON.parse(readFileSync(path.join(claude, "persist-host", "install.json"), "utf8")) as {
      settings: { before: string | null; after: string };
    };
    record.settings.before = null;
    rmSync(path.join(claude, "persist-host"), { recursive: true, force: true });
    writeFileSync(path.join(claude, "persist-state", "install.json"), JSON.stringify(record));
    const result = await runCli(["uninstall"], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(readFileSync(settings, "utf8")).toContain('"model": "opus"');
    expect(readFileSync(settings, "utf8")).not.toContain("session-start");
  });
});

describe("this project's worktrees", () => {
  it("a fake .git/worktrees/<x>/gitdir naming another repo does not add that repo's sessions to 'sessions' here", async () => {
    const home = tempHome();
    const git = (cwd: string, ...args: string[]) => spawnSync("git", args, { cwd, encoding: "utf8" });
    const [a, b] = [tempDir("cp-repo-a-"), tempDir("cp-repo-b-")];
    for (const repo of [a, b]) {
      git(repo, "init", "-q", "-b", "main");
      git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x");
    }
    const fake = path.join(a, ".git", "worktrees", "fake");
    mkdirSync(fake, { recursive: true });
    writeFileSync(path.join(fake, "gitdir"), `${path.join(b, ".git")}\n`);
    writeFileSync(path.join(fake, "HEAD"), "ref: refs/heads/main\n");
    writeFileSync(path.join(fake, "commondir"), "../..\n");
    expect(git(a, "worktree", "list").stdout).toContain(b);
    const start = Date.now() - 2 * HOUR;
    for (const [repo, prompt] of [
      [a, "mine"],
      [b, "the other repo's secret"],
    ] as const) {
      const id = repo === a ? ID : "d1d1d1d1-0000-4000-8000-000000000002";
      const dir = path.join(home, ".claude", "projects", encodeProjectSlug(repo));
      writeTranscript(path.join(dir, `${id}.jsonl`), {
        id,
        cwd: repo,
        branch: "main",
        prompt,
        start,
        end: start + HOUR,
      });
    }
    const result = await runCli(["sessions", "--json"], { env: { HOME: home }, cwd: a });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("mine");
    expect(result.stdout).not.toContain("the other repo's secret");
  });
});

describe("persist-host/ that others can write", () => {
  it("install and snapshot create refuse it in one line with the fix (before, only the code cache checked it)", async () => {
    const home = tempHome();
    const env = { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const cwd = tempDir("cp-work-");
    const hostOnly = path.join(home, ".claude", "persist-host");
    mkdirSync(hostOnly, { recursive: true });
    chmodSync(hostOnly, 0o777);
    for (const args of [["install"], ["snapshot", "create"]]) {
      const result = await runCli(args, { env, cwd });
      expect(result.exitCode, args.join(" ")).not.toBe(0);
      expect(result.stderr).toMatch(/persist-host can be written by other users \(mode 777\): .*chmod 700/);
    }
  });
});

describe("sync link on the terminal", () => {
  it("a repo whose remote URL carries escape sequences is named without them", async () => {
    const home = tempHome();
    const hostOnly = path.join(home, ".claude", "persist-host");
    mkdirSync(hostOnly, { recursive: true, mode: 0o700 });
    writeFileSync(
      path.join(hostOnly, "sync.json"),
      JSON.stringify({ home: path.join(hostOnly, "syncthing"), own: true, relay: false, deviceId: "X" }),
    );
    const repo = tempDir("cp-repo-");
    mkdirSync(path.join(repo, ".git"));
    writeFileSync(
      path.join(repo, ".git", "config"),
      '[remote "origin"]\n\turl = git@github.com:ana/app\x1b]52;c;cm0K\x07.git\n',
    );
    const result = await runCli(["sync", "link"], {
      env: { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
      cwd: repo,
    });
    expect(`${result.stdout}${result.stderr}`).toMatch(/Travelling now|travelling/i);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
  });
});
