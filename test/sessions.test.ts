import { hostname } from "node:os";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { startMessagesServer, type MessagesServer } from "./support/messages-server.ts";
import { claudeEnv, runClaude, runCli, tempDir, tempHome } from "./support/claude.ts";
import { writeTranscript } from "./support/transcripts.ts";

type Listed = {
  project: string;
  id: string;
  firstPrompt: string | null;
  lastActivity: string;
  environments: Array<{ kind: string; machine: string | null; cwd: string | null }>;
  branch: string | null;
  workItem: { identifier: string; title: string | null } | null;
  folder: string | null;
  resume: string;
  transcript: string;
};

const HOUR = 3_600_000;

function recordStart(home: string, id: string, record: Record<string, string>): void {
  const dir = path.join(home, ".claude", "persist-state", "session-starts");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${id}.jsonl`), `${JSON.stringify({ sessionId: id, source: "startup", ...record })}\n`, {
    flag: "a",
  });
}

function sessionIdsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .map((f) => f.slice(0, -".jsonl".length));
}

describe("claude-persist sessions", () => {
  let server: MessagesServer;
  let home: string;
  let repo: string;
  let worktree: string;
  let projects: string;
  const ids = { main1: "", worktree: "", main2: "" };
  const synthetic = {
    container: "c0c0c0c0-0000-4000-8000-000000000001",
    mapped: "c0c0c0c0-0000-4000-8000-000000000002",
    other: "c0c0c0c0-0000-4000-8000-000000000003",
    big: "c0c0c0c0-0000-4000-8000-000000000004",
  };
  const env = () => ({ HOME: home, TZ: "UTC" });

  beforeAll(async () => {
    server = await startMessagesServer();
    home = tempHome();
    projects = path.join(home, ".claude", "projects");
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    repo = tempDir("cp-sess-repo-");
    const git = (...args: string[]) =>
      execa("git", ["-c", "user.name=T", "-c", "user.email=t@example.com", ...args], { cwd: repo });
    await git("init", "-q", "-b", "main");
    await git("commit", "-q", "--allow-empty", "-m", "start");
    // A space in the path: the resume command must quote it.
    worktree = `${repo} worktrees/feat-login`;
    await git("worktree", "add", "-q", "-b", "feat/login", worktree);

    // Real sessions, one after the other: main, the worktree, main again.
    const run = async (cwd: string, prompt: string) => {
      const before = new Set(existsIds(path.join(projects, encodeProjectSlug(cwd))));
      const result = await runClaude(["-p", prompt], { cwd, home, apiUrl: server.url });
      expect(result.exitCode, result.stderr).toBe(0);
      const added = existsIds(path.join(projects, encodeProjectSlug(cwd))).filter((id) => !before.has(id));
      expect(added).toHaveLength(1);
      return added[0] ?? "";
    };
    ids.main1 = await run(repo, "first question in main");
    ids.worktree = await run(worktree, "make the login work");
    ids.main2 = await run(repo, "second question in main");

    const hostSlug = encodeProjectSlug(repo);
    // /dev-open's way: the container's slug is a relative symlink to the host's; the container session is there.
    symlinkSync(hostSlug, path.join(projects, encodeProjectSlug("/workspaces/repo")), "dir");
    const now = Date.now();
    writeTranscript(path.join(projects, hostSlug, `${synthetic.container}.jsonl`), {
      id: synthetic.container,
      cwd: "/workspaces/repo",
      branch: "main",
      prompt: "run the tests in the container",
      start: now + HOUR,
      end: now + 2 * HOUR,
    });
    recordStart(home, synthetic.container, {
      cwd: "/workspaces/repo",
      environment: "container",
      machine: "f00dcafe1234",
      time: new Date(now + HOUR).toISOString(),
    });
    // A container folder known only from mappings.json (a real folder, not linked): its session is listed too.
    const mappedSlug = encodeProjectSlug("/workspaces/other-name");
    writeFileSync(
      path.join(home, ".claude", "persist-state", "mappings.json"),
      JSON.stringify([
        { hostPath: repo, hostSlug, containerPath: "/workspaces/other-name", containerSlug: mappedSlug, time: "x" },
        { broken: true },
      ]),
    );
    writeTranscript(path.join(projects, mappedSlug, `${synthetic.mapped}.jsonl`), {
      id: synthetic.mapped,
      cwd: "/workspaces/other-name",
      branch: "main",
      prompt: "an old container session",
      start: now - 48 * HOUR,
      end: now - 47 * HOUR,
    });
    // Another project entirely: only --all lists it.
    const otherDir = "/home/someone/other-project";
    writeTranscript(path.join(projects, encodeProjectSlug(otherDir), `${synthetic.other}.jsonl`), {
      id: synthetic.other,
      cwd: otherDir,
      branch: "dev",
      prompt: "elsewhere",
      start: now - 3 * HOUR,
      end: now - 2 * HOUR,
    });
    // Not sessions: a subagent's file, one under a session's folder, and other files.
    writeTranscript(path.join(projects, hostSlug, "agent-1234abcd.jsonl"), {
      id: ids.main1,
      cwd: repo,
      branch: "main",
      prompt: "sub",
      start: now,
      end: now + 3 * HOUR,
    });
    writeTranscript(path.join(projects, hostSlug, ids.main1, "subagents", "agent-1.jsonl"), {
      id: ids.main1,
      cwd: repo,
      branch: "main",
      prompt: "sub",
      start: now,
      end: now,
    });
    writeFileSync(path.join(projects, hostSlug, "notes.txt"), "not a transcript\n");
    writeFileSync(
      path.join(home, ".claude", "persist-state", "work-items.json"),
      JSON.stringify([
        { identifier: "LIN-7", branch: "feat/login", repoPath: "/somewhere/else", title: "other repo, same branch" },
        { identifier: "LIN-42", branch: "feat/login", repoPath: repo, title: "Make login work" },
        { identifier: 42 },
      ]),
    );
  });
  afterAll(() => server.close());

  function existsIds(dir: string): string[] {
    try {
      return sessionIdsIn(dir);
    } catch {
      return [];
    }
  }

  async function listJson(cwd: string, args: string[] = []): Promise<Listed[]> {
    const result = await runCli(["sessions", "--json", ...args], { env: env(), cwd });
    expect(result.exitCode, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { sessions: Listed[] }).sessions;
  }

  it("lists the project's sessions from the host, the worktree and the containers, newest first, once each", async () => {
    const listed = await listJson(repo);
    expect(listed.map((s) => s.id)).toEqual([
      synthetic.container,
      ids.main2,
      ids.worktree,
      ids.main1,
      synthetic.mapped,
    ]);
    const times = listed.map((s) => Date.parse(s.lastActivity));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(new Set(listed.map((s) => s.project))).toEqual(new Set([repo]));

    const byId = new Map(listed.map((s) => [s.id, s]));
    expect(byId.get(ids.main1)).toMatchObject({
      firstPrompt: "first question in main",
      branch: "main",
      workItem: null,
      folder: repo,
      resume: `claude --resume ${ids.main1}`,
      environments: [{ kind: "host", machine: hostname(), cwd: repo }],
    });
    expect(byId.get(ids.worktree)).toMatchObject({
      firstPrompt: "make the login work",
      branch: "feat/login",
      workItem: { identifier: "LIN-42", title: "Make login work" },
      folder: worktree,
      resume: `cd '${worktree}' && claude --resume ${ids.worktree}`,
      environments: [{ kind: "host", machine: hostname(), cwd: worktree }],
    });
    expect(byId.get(synthetic.container)).toMatchObject({
      firstPrompt: "run the tests in the container",
      folder: repo,
      resume: `claude --resume ${synthetic.container}`,
      environments: [{ kind: "container", machine: "f00dcafe1234", cwd: "/workspaces/repo" }],
    });
    // No hook record: where it ran comes from the transcript, and its folder from the mapping.
    expect(byId.get(synthetic.mapped)).toMatchObject({
      firstPrompt: "an old container session",
      folder: "/workspaces/other-name",
      resume: `cd /workspaces/other-name && claude --resume ${synthetic.mapped}`,
      environments: [{ kind: "container", machine: null, cwd: "/workspaces/other-name" }],
    });
  });

  it("gives the same sessions from the worktree and from a subfolder, with the commands to run there", async () => {
    const fromWorktree = await listJson(worktree);
    expect(fromWorktree.map((s) => s.id)).toEqual([
      synthetic.container,
      ids.main2,
      ids.worktree,
      ids.main1,
      synthetic.mapped,
    ]);
    const resume = new Map(fromWorktree.map((s) => [s.id, s.resume]));
    expect(resume.get(ids.worktree)).toBe(`claude --resume ${ids.worktree}`);
    expect(resume.get(ids.main1)).toBe(`cd ${repo} && claude --resume ${ids.main1}`);

    const sub = path.join(repo, "src");
    mkdirSync(sub, { recursive: true });
    const fromSub = await listJson(sub);
    expect(fromSub.map((s) => s.id)).toEqual(fromWorktree.map((s) => s.id));
    expect(fromSub.find((s) => s.id === ids.main2)?.resume).toBe(`cd ${repo} && claude --resume ${ids.main2}`);
  });

  it("prints one aligned line per session under a header", async () => {
    const result = await runCli(["sessions"], { env: env(), cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`${repo}: 5 sessions, newest first`);
    const header = lines[1] ?? "";
    expect(header).toMatch(/^ {2}LAST ACTIVITY +BRANCH +WORK ITEM +RAN IN +FIRST PROMPT +RESUME$/);
    const rows = lines.slice(2);
    expect(rows).toHaveLength(5);
    for (const title of ["BRANCH", "WORK ITEM", "RAN IN", "FIRST PROMPT", "RESUME"]) {
      const column = header.indexOf(title);
      for (const row of rows) expect(row[column - 1], `${title} in ${row}`).toBe(" ");
      for (const row of rows) expect(row[column], `${title} in ${row}`).not.toBe(" ");
    }
    const worktreeRow = rows.find((row) => row.includes(ids.worktree)) ?? "";
    expect(worktreeRow).toMatch(
      /^ {2}\d{4}-\d\d-\d\d \d\d:\d\d +feat\/login +LIN-42 +host:\S+ +make the login work +cd '.+' && claude --resume \S+$/,
    );
    expect(worktreeRow.endsWith(`cd '${worktree}' && claude --resume ${ids.worktree}`)).toBe(true);
    expect(rows[0]).toContain("container:f00dcafe1234");
  });

  it("--all lists every project, grouped, each session once", async () => {
    const listed = await listJson(repo, ["--all"]);
    expect(listed.map((s) => s.id)).toEqual([
      synthetic.container,
      ids.main2,
      ids.worktree,
      ids.main1,
      synthetic.mapped,
      synthetic.other,
    ]);
    expect(listed.slice(0, 5).every((s) => s.project === repo)).toBe(true);
    expect(listed[5]).toMatchObject({
      project: "/home/someone/other-project",
      resume: `cd /home/someone/other-project && claude --resume ${synthetic.other}`,
    });
    expect(listed.find((s) => s.id === ids.worktree)?.workItem?.identifier).toBe("LIN-42");

    const human = await runCli(["sessions", "--all"], { env: env(), cwd: repo });
    const headings = human.stdout.split("\n").filter((line) => line && !line.startsWith(" "));
    expect(headings).toEqual([
      `${repo}: 5 sessions, newest first`,
      "/home/someone/other-project: 1 session, newest first",
    ]);
  });

  it("reads only the head and tail of a large transcript (--stats)", async () => {
    const dir = path.join(projects, encodeProjectSlug("/home/someone/big"));
    const file = path.join(dir, `${synthetic.big}.jsonl`);
    writeTranscript(file, {
      id: synthetic.big,
      cwd: "/home/someone/big",
      branch: "main",
      prompt: "big one",
      start: Date.now() - 10 * HOUR,
      end: Date.now() - 9 * HOUR,
    });
    const filler = `${JSON.stringify({ type: "assistant", sessionId: synthetic.big, message: { role: "assistant", content: "x".repeat(4000) } })}\n`;
    const lines = readFileSync(file, "utf8").split("\n");
    writeFileSync(file, [lines[0], lines[1], filler.repeat(5000).trimEnd(), lines[2], lines[3], ""].join("\n"));
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(20_000_000);
    const all = await runCli(["sessions", "--all", "--json", "--stats"], { env: env(), cwd: repo });
    const listed = (JSON.parse(all.stdout) as { sessions: Listed[] }).sessions;
    expect(listed.find((s) => s.id === synthetic.big)).toMatchObject({ firstPrompt: "big one", branch: "main" });
    const stats = /read (\d+) of (\d+) bytes .* in (\d+) transcripts/.exec(all.stderr);
    expect(stats, all.stderr).not.toBeNull();
    const [, read = "0", total = "0", count = "0"] = stats ?? [];
    expect(Number(count)).toBe(7);
    expect(Number(total)).toBeGreaterThan(size);
    expect(Number(read)).toBeLessThan(1_000_000);
  });

  it("says so, and how sessions get there, when there are none", async () => {
    const emptyHome = tempHome();
    const folder = tempDir("cp-sess-empty-");
    const result = await runCli(["sessions"], { env: { HOME: emptyHome }, cwd: folder });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`No Claude Code sessions for ${folder} yet.`);
    expect(result.stdout).toContain("Start one with `claude`");
    const all = await runCli(["sessions", "--all"], { env: { HOME: emptyHome }, cwd: folder });
    expect(all.stdout).toContain(`No Claude Code sessions in ${path.join(emptyHome, ".claude", "projects")} yet.`);
    const json = await runCli(["sessions", "--json"], { env: { HOME: emptyHome }, cwd: folder });
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, sessions: [] });
  });

  it("lists a folder that is not a git repository by itself, and notes malformed state", async () => {
    const folder = tempDir("cp-sess-plain-");
    const plainHome = tempHome();
    const id = "c0c0c0c0-0000-4000-8000-000000000005";
    writeTranscript(path.join(plainHome, ".claude", "projects", encodeProjectSlug(folder), `${id}.jsonl`), {
      id,
      cwd: folder,
      branch: "",
      prompt: "no git here",
      start: Date.now(),
      end: Date.now(),
    });
    mkdirSync(path.join(plainHome, ".claude", "persist-state"), { recursive: true });
    writeFileSync(path.join(plainHome, ".claude", "persist-state", "work-items.json"), "{ not json");
    const result = await runCli(["sessions", "--json"], { env: { HOME: plainHome }, cwd: folder });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).sessions).toMatchObject([
      { id, firstPrompt: "no git here", resume: `claude --resume ${id}`, workItem: null },
    ]);
    expect(result.stderr).toContain("work-items.json is not a JSON array");
  });

  it("prints a transcript's prompt and branch without control or bidi characters", async () => {
    const folder = tempDir("cp-sess-escape-");
    const escapeHome = tempHome();
    const id = "c0c0c0c0-0000-4000-8000-000000000006";
    writeTranscript(path.join(escapeHome, ".claude", "projects", encodeProjectSlug(folder), `${id}.jsonl`), {
      id,
      cwd: folder,
      branch: "evil\u001b]0;title\u0007",
      prompt: "clear\u001b[2J the\u202Escreen\nnow",
      start: Date.now(),
      end: Date.now(),
    });
    const result = await runCli(["sessions"], { env: { HOME: escapeHome }, cwd: folder });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("clear [2J the screen now");
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
  });

  it("refuses unknown options with one line", async () => {
    const result = await runCli(["sessions", "--newest"], { env: env(), cwd: repo });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      "claude-persist sessions: unknown option '--newest'; see 'claude-persist sessions --help'",
    );
  });

  it("its resume command continues the worktree's session with the real claude", async () => {
    const listed = await listJson(repo);
    const command = listed.find((s) => s.id === ids.worktree)?.resume ?? "";
    const file = path.join(projects, encodeProjectSlug(worktree), `${ids.worktree}.jsonl`);
    const sizeBefore = statSync(file).size;
    const result = await execa("sh", ["-c", `${command} -p 'and now the tests'`], {
      cwd: repo,
      env: {
        ...claudeEnv(home, server.url),
        PATH: `${path.dirname(process.execPath)}:${path.resolve("node_modules/.bin")}:${process.env.PATH ?? ""}`,
      },
      extendEnv: false,
      reject: false,
      stdin: "ignore",
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe("Hello from the test server.");
    expect(statSync(file).size).toBeGreaterThan(sizeBefore);
    expect(sessionIdsIn(path.join(projects, encodeProjectSlug(worktree)))).toEqual([ids.worktree]);
  });
});

describe("claude-persist sessions: the index of what was read", () => {
  const HOUR_AGO = Date.now() - HOUR;
  const ids = [
    "d1d1d1d1-0000-4000-8000-000000000001",
    "d1d1d1d1-0000-4000-8000-000000000002",
    "d1d1d1d1-0000-4000-8000-000000000003",
  ];
  let home: string;
  let folder: string;
  let dir: string;
  let indexFile: string;
  const env = () => ({ HOME: home });

  /** One `sessions --all --json --stats` run: the sessions, and how many transcripts it opened. */
  async function listAll(): Promise<{ sessions: Listed[]; opened: number; stderr: string }> {
    const result = await runCli(["sessions", "--all", "--json", "--stats"], { env: env(), cwd: folder });
    expect(result.exitCode, result.stderr).toBe(0);
    const opened = /opened (\d+) transcripts/.exec(result.stderr)?.[1];
    expect(opened, result.stderr).toBeDefined();
    return {
      sessions: (JSON.parse(result.stdout) as { sessions: Listed[] }).sessions,
      opened: Number(opened),
      stderr: result.stderr,
    };
  }

  /**
   * These tests change the index behind the listing's back: what `--all` kept from its last run would be printed
   * instead (when the start records folder has been still for 3 s), so it is put away first.
   */
  function forgetListing(): void {
    rmSync(path.join(home, ".claude", "persist-host", "sessions-listings"), { recursive: true, force: true });
  }

  beforeAll(() => {
    home = tempHome();
    folder = tempDir("cp-sess-index-");
    dir = path.join(home, ".claude", "projects", encodeProjectSlug(folder));
    indexFile = path.join(home, ".claude", "persist-host", "sessions-index.json");
    for (const [i, id] of ids.entries()) {
      writeTranscript(path.join(dir, `${id}.jsonl`), {
        id,
        cwd: folder,
        branch: "main",
        prompt: `prompt ${i}`,
        start: HOUR_AGO - (i + 2) * HOUR,
        end: HOUR_AGO - (i + 1) * HOUR,
      });
    }
  });

  it("opens a transcript that has not changed since the last listing no more, and lists the same", async () => {
    const first = await listAll();
    expect(first.opened).toBe(3);
    expect(statSync(indexFile).mode & 0o777).toBe(0o600);
    const second = await listAll();
    expect(second.opened).toBe(0);
    expect(second.stderr).toContain("read 0 of");
    expect(second.sessions).toEqual(first.sessions);
  });

  it("reads a transcript again when it changed, and lists what it says now", async () => {
    await listAll();
    const file = path.join(dir, `${ids[1]}.jsonl`);
    const later = new Date(Date.now() - 60_000).toISOString();
    writeFileSync(
      file,
      `${JSON.stringify({ type: "assistant", sessionId: ids[1], cwd: folder, gitBranch: "feature/later", timestamp: later, message: { role: "assistant", content: "more" } })}\n`,
      { flag: "a" },
    );
    const after = await listAll();
    expect(after.opened).toBe(1);
    expect(after.sessions[0]).toMatchObject({ id: ids[1], branch: "feature/later", lastActivity: later });
    expect((await listAll()).opened).toBe(0);
  });

  it("lists a session start recorded since the last listing", async () => {
    await listAll();
    recordStart(home, ids[2] ?? "", {
      environment: "container",
      machine: "box-7",
      cwd: "/workspaces/app",
      time: new Date().toISOString(),
    });
    const after = await listAll();
    expect(after.opened).toBe(0);
    expect(after.sessions[0]).toMatchObject({ id: ids[2] });
    expect(after.sessions[0]?.environments).toContainEqual({
      kind: "container",
      machine: "box-7",
      cwd: "/workspaces/app",
    });
  });

  it("lists a later start of a session whose records the index holds, recorded by the hook", async () => {
    recordStart(home, ids[0] ?? "", {
      environment: "host",
      machine: "laptop",
      cwd: folder,
      time: new Date(0).toISOString(),
    });
    // A listing that trusts the records folder as a whole: it keeps the folder's times only once they are 3 s old.
    await new Promise((resolve) => setTimeout(resolve, 3200));
    await listAll();
    const hook = await runCli(["hook", "session-start"], {
      env: { ...env(), CLAUDE_PERSIST_ENVIRONMENT: "container" },
      cwd: folder,
      input: JSON.stringify({ session_id: ids[0], cwd: folder, hook_event_name: "SessionStart", source: "resume" }),
    });
    expect(hook.exitCode, hook.stderr).toBe(0);
    const after = await listAll();
    expect(after.opened).toBe(0);
    const resumed = after.sessions.find((s) => s.id === ids[0]);
    expect(resumed?.environments).toContainEqual({ kind: "container", machine: hostname(), cwd: folder });
    expect(after.sessions[0]?.id).toBe(ids[0]);
  });

  it.each([
    ["not JSON", '{"version": 1, "transcripts": {'],
    ["another version", JSON.stringify({ version: 99, transcripts: {}, starts: {} })],
  ])("rebuilds a damaged index (%s) and lists the same", async (_what, content) => {
    const before = await listAll();
    writeFileSync(indexFile, content);
    forgetListing();
    const rebuilt = await listAll();
    expect(rebuilt.opened).toBe(3);
    expect(rebuilt.stderr).toContain("the sessions index was not usable");
    expect(rebuilt.sessions).toEqual(before.sessions);
    expect((await listAll()).opened).toBe(0);
  });

  it("reads again a file whose index entry does not match it, and drops a record that does not check out", async () => {
    await listAll();
    // Each transcript's row: size, mtime, inode, then what was read (its size, session id, … and last, the first prompt).
    const index = JSON.parse(readFileSync(indexFile, "utf8")) as {
      transcripts: Record<string, Record<string, unknown[]>>;
    };
    const [forged, malformed] = ids.map((id) => index.transcripts[dir]?.[`${id}.jsonl`]);
    if (!forged || !malformed) throw new Error("the index lacks the transcripts just listed");
    forged[0] = Number(forged[0]) + 1;
    forged[forged.length - 1] = "forged";
    malformed[malformed.length - 1] = { not: "text" };
    writeFileSync(indexFile, JSON.stringify(index));
    forgetListing();
    const after = await listAll();
    expect(after.opened).toBe(2);
    expect(after.sessions.map((s) => s.firstPrompt).sort()).toEqual(["prompt 0", "prompt 1", "prompt 2"]);
    expect((await listAll()).opened).toBe(0);
  });

  it("drops, on a listing of every project, what the index holds of files that are gone and of what is not a folder's rows", async () => {
    await listAll();
    const index = JSON.parse(readFileSync(indexFile, "utf8")) as {
      transcripts: Record<string, unknown>;
      starts: Record<string, unknown>;
    };
    const gone = path.join(path.dirname(dir), "-gone-project");
    index.transcripts[gone] = {
      "e0e0e0e0-0000-4000-8000-000000000009.jsonl": [1, 2, 3, 1, null, null, null, null, null, null, null, "gone"],
    };
    index.transcripts["not/absolute"] = "junk";
    writeFileSync(indexFile, JSON.stringify(index));
    forgetListing();
    const listed = await listAll();
    expect(listed.opened).toBe(0);
    expect(listed.sessions.map((s) => s.firstPrompt).sort()).toEqual(["prompt 0", "prompt 1", "prompt 2"]);
    const saved = JSON.parse(readFileSync(indexFile, "utf8")) as { transcripts: Record<string, unknown> };
    expect(Object.keys(saved.transcripts)).toEqual([dir]);
  });

  it("replaces a link put where the index goes instead of writing through it", async () => {
    const elsewhere = path.join(tempDir("cp-sess-elsewhere-"), "file.json");
    writeFileSync(elsewhere, "keep me");
    rmSync(indexFile, { force: true });
    symlinkSync(elsewhere, indexFile);
    forgetListing();
    const listed = await listAll();
    expect(listed.opened).toBe(3);
    expect(readFileSync(elsewhere, "utf8")).toBe("keep me");
    expect(lstatSync(indexFile).isFile()).toBe(true);
    expect((await listAll()).opened).toBe(0);
  });

  it("stays usable when two listings run at once", async () => {
    rmSync(indexFile, { force: true });
    forgetListing();
    const runs = await Promise.all([listAll(), listAll(), listAll()]);
    for (const run of runs) expect(run.sessions).toEqual(runs[0]?.sessions);
    expect((await listAll()).opened).toBe(0);
  });
});
