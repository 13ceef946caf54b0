// `sessions --tree` and `fork`, on transcripts the real pinned claude wrote (with the tests' Messages server), plus
// the shapes the real CLI makes only in other ways (a sync merge's second branch, a compaction, a subagent) added
// to real files as Claude Code writes them (transcripts.md).
import { createHash } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { runClaude, runCli, tempDir, tempHome } from "./support/claude.ts";
import { type MessagesServer, startMessagesServer } from "./support/messages-server.ts";

type Leaf = {
  uuid: string;
  turns: number;
  lastPrompt: string | null;
  branchesAfterTurn: number | null;
  resumed: boolean;
  continued: { terminal: boolean; print: boolean };
  command: string;
  where: { kind: string; cwd: string | null };
};
type Node = {
  id: string;
  forkOf: { parent: string; at: string | null; atTurn: number | null; recorded: string } | null;
  subagents: number;
  leaves: Leaf[];
  forks: Node[];
};
type Tree = { sessions: number; roots: Node[] };

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const lines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

function find(nodes: Node[], id: string): Node | undefined {
  for (const node of nodes) {
    if (node.id === id) return node;
    const inner = find(node.forks, id);
    if (inner) return inner;
  }
  return undefined;
}

describe("sessions --tree and fork, with the real claude", () => {
  let server: MessagesServer;
  let home: string;
  let repo: string;
  let folder: string;
  let startCommit: string;
  const ids = { three: "", clauded: "", merged: "", compacted: "" };
  const env = () => ({ HOME: home, TZ: "UTC" });
  const git = (cwd: string, ...args: string[]) =>
    execa("git", ["-c", "user.name=T", "-c", "user.email=t@example.com", ...args], { cwd });
  const newIds = () => new Set(readdirSync(folder).filter((f) => f.endsWith(".jsonl")));
  async function claude(cwd: string, args: string[]): Promise<string> {
    const before = existsSync(folder) ? newIds() : new Set<string>();
    const result = await runClaude(args, { cwd, home, apiUrl: server.url });
    expect(result.exitCode, result.stderr).toBe(0);
    const added = [...newIds()].filter((f) => !before.has(f));
    return added[0]?.slice(0, -".jsonl".length) ?? "";
  }
  const tree = async (cwd = repo): Promise<Tree> => {
    const run = await runCli(["sessions", "--tree", "--json"], { env: env(), cwd });
    expect(run.exitCode, run.stderr).toBe(0);
    return (JSON.parse(run.stdout) as { tree: Tree }).tree;
  };

  beforeAll(async () => {
    server = await startMessagesServer();
    home = tempHome();
    repo = tempDir("cp-tree-repo-");
    folder = path.join(home, ".claude", "projects", encodeProjectSlug(repo));
    await git(repo, "init", "-q", "-b", "main");
    await git(repo, "commit", "-q", "--allow-empty", "-m", "start");
    startCommit = (await git(repo, "rev-parse", "HEAD")).stdout.trim();
    // Three turns, each a `claude -p` going on from the last.
    ids.three = await claude(repo, ["-p", "turn one: remember ALPHA"]);
    await claude(repo, ["--continue", "-p", "turn two: remember BRAVO"]);
    await claude(repo, ["--continue", "-p", "turn three: remember CHARLIE"]);
    // Claude Code's own fork: a new file repeating the lines (no forkedFrom), then its own turn.
    ids.clauded = await claude(repo, ["--resume", ids.three, "--fork-session", "-p", "forked by claude"]);
    // A commit made after the session: a fork into a worktree starts before it.
    await execa(
      "git",
      ["-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "later"],
      {
        cwd: repo,
        env: { GIT_COMMITTER_DATE: new Date(Date.now() + 3_600_000).toISOString() },
      },
    );
    // A session written on two machines and merged by sync: a second turn from each, under the same first turn.
    ids.merged = await claude(repo, ["-p", "laptop one"]);
    await claude(repo, ["--continue", "-p", "laptop two"]);
    const merged = path.join(folder, `${ids.merged}.jsonl`);
    const mergedLines = lines(merged);
    const second = mergedLines.find((l) => l.type === "user" && JSON.stringify(l.message).includes("laptop two"));
    const firstTurnEnd = second?.parentUuid as string;
    const later = new Date(Date.now() + 60_000).toISOString();
    const common = { sessionId: ids.merged, cwd: repo, gitBranch: "main", version: "2.1.330", isSidechain: false };
    appendFileSync(
      merged,
      [
        {
          ...common,
          type: "user",
          parentUuid: firstTurnEnd,
          uuid: "d0d0d0d0-0000-4000-8000-000000000001",
          timestamp: later,
          message: { role: "user", content: "desktop two" },
        },
        {
          ...common,
          type: "assistant",
          parentUuid: "d0d0d0d0-0000-4000-8000-000000000001",
          uuid: "d0d0d0d0-0000-4000-8000-000000000002",
          timestamp: later,
          message: { role: "assistant", content: [{ type: "text", text: "ok" }] },
        },
        // Lines a container could plant: not JSON, a uuid that is a path.
        "not json at all",
        {
          ...common,
          type: "user",
          parentUuid: firstTurnEnd,
          uuid: "../../etc/passwd",
          timestamp: later,
          message: { role: "user", content: "x" },
        },
      ]
        .map((l) => `${typeof l === "string" ? l : JSON.stringify(l)}\n`)
        .join(""),
    );
    // A compaction: a boundary with no parent, whose logicalParentUuid is the last line before it; then a subagent.
    ids.compacted = await claude(repo, ["-p", "before compaction"]);
    const compacted = path.join(folder, `${ids.compacted}.jsonl`);
    const last = lines(compacted)
      .filter((l) => typeof l.uuid === "string")
      .at(-1)?.uuid as string;
    // Written on a branch that is not in this clone: a fork into a worktree cannot know its commit.
    const c = { ...common, sessionId: ids.compacted, gitBranch: "feature/gone" };
    const t = new Date(Date.now() + 120_000).toISOString();
    appendFileSync(
      compacted,
      [
        {
          ...c,
          type: "system",
          subtype: "compact_boundary",
          parentUuid: null,
          logicalParentUuid: last,
          uuid: "c0c0c0c0-0000-4000-8000-000000000001",
          timestamp: t,
          content: "Conversation compacted",
        },
        {
          ...c,
          type: "user",
          isCompactSummary: true,
          parentUuid: "c0c0c0c0-0000-4000-8000-000000000001",
          uuid: "c0c0c0c0-0000-4000-8000-000000000002",
          timestamp: t,
          message: { role: "user", content: "This session is being continued from a previous conversation." },
        },
        {
          ...c,
          type: "user",
          parentUuid: "c0c0c0c0-0000-4000-8000-000000000002",
          uuid: "c0c0c0c0-0000-4000-8000-000000000003",
          timestamp: t,
          message: { role: "user", content: "after compaction" },
        },
        {
          ...c,
          type: "assistant",
          parentUuid: "c0c0c0c0-0000-4000-8000-000000000003",
          uuid: "c0c0c0c0-0000-4000-8000-000000000004",
          timestamp: t,
          message: { role: "assistant", content: [{ type: "text", text: "ok" }] },
        },
        // As Claude Code ends a turn: the leaf to go on from.
        {
          type: "last-prompt",
          lastPrompt: "after compaction",
          leafUuid: "c0c0c0c0-0000-4000-8000-000000000004",
          sessionId: ids.compacted,
        },
      ]
        .map((l) => `${JSON.stringify(l)}\n`)
        .join(""),
    );
    mkdirSync(path.join(folder, ids.compacted, "subagents"), { recursive: true });
    writeFileSync(
      path.join(folder, ids.compacted, "subagents", "agent-a1.jsonl"),
      `${JSON.stringify({ ...c, isSidechain: true, type: "user", uuid: "e1", parentUuid: null })}\n`,
    );
  }, 300_000);

  afterAll(async () => {
    await server?.close();
  });

  it("draws claude's own fork under its original, at the turn it was made, and says which leaf --continue picks", async () => {
    const drawn = await tree();
    const original = drawn.roots.find((r) => r.id === ids.three);
    expect(original?.leaves).toHaveLength(1);
    expect(original?.leaves[0]).toMatchObject({ turns: 3, resumed: true, command: `claude --resume ${ids.three}` });
    const clauded = original?.forks.find((f) => f.id === ids.clauded);
    expect(clauded?.forkOf).toMatchObject({ parent: ids.three, atTurn: 3, recorded: "shared lines" });
    expect(clauded?.leaves[0]).toMatchObject({ turns: 4, lastPrompt: "forked by claude" });
    // --continue picks the file written last in the folder: the compacted session, written after the others.
    expect(find(drawn.roots, ids.compacted)?.leaves[0]?.continued.print).toBe(true);
    expect(original?.leaves[0]?.continued.print).toBe(false);
    const text = await runCli(["sessions", "--tree"], { env: env(), cwd: repo });
    expect(text.stdout).toContain(`fork of ${ids.three.slice(0, 8)} after turn 3 · session ${ids.clauded}`);
    expect(text.stdout).toContain("claude --continue -p picks it");
  });

  it("shows a sync merge's second branch with the command that makes it resumable; passes over planted lines", async () => {
    const merged = find((await tree()).roots, ids.merged);
    expect(merged?.leaves.map((l) => l.lastPrompt).sort()).toEqual(["desktop two", "laptop two"]);
    const other = merged?.leaves.find((l) => !l.resumed);
    // The real claude goes on from the leaf last-prompt names ("laptop two"), though "desktop two" is newer.
    expect(merged?.leaves.find((l) => l.resumed)?.lastPrompt).toBe("laptop two");
    expect(other).toMatchObject({ lastPrompt: "desktop two", branchesAfterTurn: 1, turns: 2 });
    expect(other?.command).toBe(`claude-persist fork ${ids.merged}@d0d0d0d0-0000-4000-8000-000000000002`);
    expect(JSON.stringify(merged)).not.toContain("etc/passwd");
  });

  it("counts turns across a compaction (logicalParentUuid) and shows subagents", async () => {
    const compacted = find((await tree()).roots, ids.compacted);
    expect(compacted?.leaves).toHaveLength(1);
    expect(compacted?.leaves[0]).toMatchObject({ turns: 2, lastPrompt: "after compaction" });
    expect(compacted?.subagents).toBe(1);
  });

  it("forks after turn 2 into a worktree from the commit the session was at; resumed there, claude gets turns 1-2 and not 3", async () => {
    const original = path.join(folder, `${ids.three}.jsonl`);
    const before = sha(original);
    const run = await runCli(["fork", `${ids.three}@2`, "--worktree", "try-other-way", "--json"], {
      env: env(),
      cwd: repo,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      id: string;
      file: string;
      folder: string;
      at: { turn: number };
      worktree: { branch: string; commit: string; commitKnown: boolean };
      resume: string;
    };
    expect(result.at.turn).toBe(2);
    expect(result.worktree).toMatchObject({ branch: "try-other-way", commit: startCommit, commitKnown: true });
    expect((await git(result.folder, "rev-parse", "HEAD")).stdout.trim()).toBe(startCommit);
    expect(result.file).toBe(
      path.join(home, ".claude", "projects", encodeProjectSlug(result.folder), `${result.id}.jsonl`),
    );
    expect(result.resume).toBe(`cd ${result.folder} && claude --resume ${result.id}`);
    expect(sha(original)).toBe(before);
    // Every line of the fork is recorded as a fork's.
    const forked = lines(result.file).filter((l) => typeof l.uuid === "string");
    expect(
      forked.every((l) => l.sessionId === result.id && (l.forkedFrom as { sessionId: string }).sessionId === ids.three),
    ).toBe(true);

    const asked = server.requests.length;
    const resumed = await runClaude(["--resume", result.id, "-p", "turn in the fork"], {
      cwd: result.folder,
      home,
      apiUrl: server.url,
    });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const sent = JSON.stringify(server.requests.slice(asked));
    expect(sent).toContain("ALPHA");
    expect(sent).toContain("BRAVO");
    expect(sent).not.toContain("CHARLIE");
    expect(sha(original)).toBe(before);

    const drawn = await tree();
    const fork = find(drawn.roots, result.id);
    expect(fork?.forkOf).toMatchObject({ parent: ids.three, atTurn: 2, recorded: "forkedFrom" });
    expect(find(drawn.roots, ids.three)?.forks.map((f) => f.id)).toContain(result.id);
    expect(fork?.leaves[0]).toMatchObject({ turns: 3, lastPrompt: "turn in the fork", resumed: true });
    expect(fork?.leaves[0]?.where.cwd).toBe(result.folder);
    // In the worktree's folder the fork is the only session: --continue there picks it.
    expect(fork?.leaves[0]?.continued.print).toBe(true);

    // list, compare and drop.
    writeFileSync(path.join(result.folder, "idea.txt"), "another way\n");
    await git(result.folder, "add", "idea.txt");
    await git(result.folder, "commit", "-q", "-m", "try another way");
    const list = await runCli(["fork", "list"], { env: env(), cwd: repo });
    expect(list.stdout).toMatch(
      new RegExp(`${result.id}  from ${ids.three.slice(0, 8)} after turn 2 · 1 turn since · branch try-other-way`),
    );
    const compared = await runCli(["fork", "compare", "try-other-way", "--json"], { env: env(), cwd: repo });
    expect(compared.exitCode, compared.stderr).toBe(0);
    const c = JSON.parse(compared.stdout) as {
      fork: { commits: string[]; files: string[]; turnsSince: number };
      original: { commits: string[]; turnsSince: number };
    };
    expect(c.fork).toMatchObject({ files: ["idea.txt"], turnsSince: 1 });
    expect(c.fork.commits).toHaveLength(1);
    expect(c.original.commits.map((l) => l.replace(/^\S+ /, ""))).toEqual(["later"]);
    expect(c.original.turnsSince).toBe(1);
    const dropped = await runCli(["fork", "drop", "try-other-way"], { env: env(), cwd: repo });
    expect(dropped.exitCode, dropped.stderr).toBe(0);
    expect(existsSync(result.folder)).toBe(false);
    expect(existsSync(result.file)).toBe(false);
    const undo = /claude-persist snapshot restore (\S+)/.exec(dropped.stdout)?.[1];
    expect(dropped.stdout).toContain(
      `git worktree add ${result.folder} try-other-way && claude-persist snapshot restore`,
    );
    await git(repo, "worktree", "add", result.folder, "try-other-way");
    const restored = await runCli(["snapshot", "restore", undo ?? "?"], { env: env(), cwd: repo });
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(existsSync(result.file)).toBe(true);
  }, 180_000);

  it("--issue names the branch as /start-work does; a session on a branch not here starts from this checkout's head, and says so", async () => {
    const head = (await git(repo, "rev-parse", "HEAD")).stdout.trim();
    const run = await runCli(["fork", ids.compacted, "--issue", "LIN-77"], { env: env(), cwd: repo });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain("on a new branch lin-77, from");
    expect(run.stdout).toContain(
      'the head of this checkout: which commit the session was at cannot be known (its branch "feature/gone" is not here)',
    );
    const folder = `${repo}.worktrees/lin-77`;
    expect((await git(folder, "rev-parse", "HEAD")).stdout.trim()).toBe(head);
    // The work item is remembered, as /start-work does (sessions in the worktree are told about it).
    const items = JSON.parse(readFileSync(path.join(home, ".claude", "persist-state", "work-items.json"), "utf8"));
    expect(items).toContainEqual(
      expect.objectContaining({ identifier: "LIN-77", branch: "lin-77", worktreePath: folder }),
    );
    const drawn = await tree();
    const forks = drawn.roots.find((r) => r.id === ids.compacted)?.forks ?? [];
    // The fork holds the compacted conversation's turns: 2, the one before the compaction included.
    expect(forks[0]?.leaves[0]).toMatchObject({ turns: 2, lastPrompt: "after compaction" });
    expect(forks[0]?.forkOf).toMatchObject({ parent: ids.compacted, atTurn: 2, recorded: "forkedFrom" });
  });

  it("writes a fork through the relative link /dev-open makes for a project folder, and through no other link", async () => {
    const projects = path.join(home, ".claude", "projects");
    const linked = `${repo}.worktrees/linked`;
    await git(repo, "worktree", "add", "-q", "-b", "linked", linked);
    // A project folder that is a link to a folder the pack did not make: refused, nothing written there.
    const elsewhere = tempDir("cp-tree-elsewhere-");
    symlinkSync(elsewhere, path.join(projects, encodeProjectSlug(linked)));
    const refused = await runCli(["fork", `${ids.three}@1`], { env: env(), cwd: linked });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("a link or a file claude-persist did not make; not writing there");
    expect(readdirSync(elsewhere)).toEqual([]);
    // The link /dev-open makes (a sibling's name): the fork lands in the folder it names.
    rmSync(path.join(projects, encodeProjectSlug(linked)));
    const sibling = "-sibling-folder";
    mkdirSync(path.join(projects, sibling));
    symlinkSync(sibling, path.join(projects, encodeProjectSlug(linked)));
    const run = await runCli(["fork", `${ids.three}@1`, "--json"], { env: env(), cwd: linked });
    expect(run.exitCode, run.stderr).toBe(0);
    const { id } = JSON.parse(run.stdout) as { id: string };
    expect(readdirSync(path.join(projects, sibling))).toEqual([`${id}.jsonl`]);
  });

  it("refuses a session or a turn that is not there, in one line, writing nothing", async () => {
    const before = readdirSync(folder).sort();
    const none = await runCli(["fork", "0000dead@2"], { env: env(), cwd: repo });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(
      /^claude-persist fork: no session of this project is 0000dead; .*sessions --tree.* lists them$/,
    );
    const turn = await runCli(["fork", `${ids.three}@9`], { env: env(), cwd: repo });
    expect(turn.exitCode).toBe(1);
    expect(turn.stderr).toContain("has 3 turns on the branch resume goes on from, not 9");
    const hostile = await runCli(["fork", "$(touch x)@1"], { env: env(), cwd: repo });
    expect(hostile.exitCode).toBe(2);
    expect(readdirSync(folder).sort()).toEqual(before);
  });
});
