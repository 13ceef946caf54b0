// A projects/ tree as Claude Code writes it, for usage tests: one repo's sessions on the host, in a worktree, in its dev
// container and on a second machine synced into the project's folder, an unrelated project, streamed responses written
// once per content block (the older requestId shape and 2.1.330's requestRef), a subagent, a compaction summary, a
// session that changed branch, a model without a price, and the copies sync leaves (which are not new usage).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { encodeProjectSlug } from "../../src/claude/home.ts";

export const SONNET = "claude-sonnet-4-5-20250929";
export const HAIKU = "claude-haiku-4-5-20251001";
export const UNPRICED = "claude-experimental-9";

export type Response = {
  id: string;
  model: string;
  time: string;
  input: number;
  output: number;
  cacheWrite?: number;
  cacheRead?: number;
  /** How many lines Claude Code wrote it in (one per content block). */
  blocks?: number;
  /** 2.1.330's shape: requestRef, requestedModel, apiBlockIndex, no requestId. */
  ref?: boolean;
};

export type Turn = { prompt: string; time: string; branch: string; cwd: string; responses: Response[] };

type Line = Record<string, unknown>;

/** A session's lines: each turn's prompt, then each response once per content block. */
export function sessionLines(session: string, turns: Turn[], options: { sidechain?: boolean } = {}): Line[] {
  const lines: Line[] = [];
  let parent: string | null = null;
  let n = 0;
  for (const turn of turns) {
    const common = {
      sessionId: session,
      cwd: turn.cwd,
      gitBranch: turn.branch,
      version: "2.1.100",
      userType: "external",
      isSidechain: options.sidechain ?? false,
    };
    const uuid = `${session.slice(0, 8)}-u${n++}`;
    lines.push({
      ...common,
      parentUuid: parent,
      type: "user",
      message: { role: "user", content: turn.prompt },
      uuid,
      timestamp: turn.time,
    });
    parent = uuid;
    for (const r of turn.responses) {
      const usage = {
        input_tokens: r.input,
        cache_creation_input_tokens: r.cacheWrite ?? 0,
        cache_read_input_tokens: r.cacheRead ?? 0,
        output_tokens: r.output,
        service_tier: "standard",
      };
      for (let block = 0; block < (r.blocks ?? 1); block++) {
        const line: Line = {
          ...common,
          parentUuid: parent,
          type: "assistant",
          message: {
            id: r.id,
            type: "message",
            role: "assistant",
            model: r.model,
            content: [{ type: "text", text: `block ${block}` }],
            stop_reason: null,
            usage,
          },
          uuid: `${session.slice(0, 8)}-a${n++}`,
          timestamp: new Date(Date.parse(r.time) + block * 1000).toISOString(),
        };
        if (r.ref) {
          line.version = "2.1.330";
          line.requestRef = `ref-${r.id}`;
          line.requestedModel = r.model;
          line.apiBlockIndex = block;
        } else line.requestId = `req-${r.id}`;
        lines.push(line);
        parent = line.uuid as string;
      }
    }
  }
  return lines;
}

export function writeLines(file: string, lines: Line[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
}

export const IDS = {
  host: "aaaaaaaa-0000-4000-8000-000000000001",
  container: "bbbbbbbb-0000-4000-8000-000000000002",
  worktree: "cccccccc-0000-4000-8000-000000000003",
  otherMachine: "dddddddd-0000-4000-8000-000000000004",
  otherProject: "eeeeeeee-0000-4000-8000-000000000005",
};

/**
 * Writes the tree into `home/.claude` for the repo at `repo` (with a worktree at `worktree`), mapped to
 * /workspaces/app in its container. Returns the paths a test deletes or damages.
 */
export function writeUsageTree(
  home: string,
  repo: string,
  worktree: string,
  other: string,
): { hostTranscript: string } {
  const claude = path.join(home, ".claude");
  const projects = path.join(claude, "projects");
  const state = path.join(claude, "persist-state");
  mkdirSync(state, { recursive: true });
  // The project's folder is named after its remote (sync's identity folder); this host's slug links to it.
  const identity = path.join(projects, "repo-github.com-acme-app-0123abcd");
  mkdirSync(identity, { recursive: true });
  symlinkSync("repo-github.com-acme-app-0123abcd", path.join(projects, encodeProjectSlug(repo)));
  const hostTranscript = path.join(identity, `${IDS.host}.jsonl`);
  const host = sessionLines(IDS.host, [
    {
      prompt: "start feature a",
      time: "2026-11-02T10:00:00.000Z",
      branch: "feat-a",
      cwd: repo,
      responses: [
        {
          id: "msg_a1",
          model: SONNET,
          time: "2026-11-02T10:00:30.000Z",
          input: 1000,
          output: 500,
          cacheWrite: 2000,
          cacheRead: 10000,
          blocks: 3,
        },
      ],
    },
    {
      prompt: "now feature b",
      time: "2026-11-02T10:05:00.000Z",
      branch: "feat-b",
      cwd: repo,
      responses: [
        {
          id: "msg_a2",
          model: SONNET,
          time: "2026-11-02T10:06:00.000Z",
          input: 2000,
          output: 1000,
          cacheRead: 20000,
          blocks: 2,
        },
      ],
    },
  ]);
  // Compaction: a summary line, then a long request past the 200k tier, back on feat-a.
  host.push({ type: "summary", summary: "Feature work", leafUuid: "aaaaaaaa-a3" });
  host.push(
    ...sessionLines(IDS.host, [
      {
        prompt: "back to a",
        time: "2026-11-02T10:09:00.000Z",
        branch: "feat-a",
        cwd: repo,
        responses: [{ id: "msg_a3", model: SONNET, time: "2026-11-02T10:10:00.000Z", input: 250000, output: 0 }],
      },
    ]).map((line) => ({ ...line, uuid: `${line.uuid}-c` })),
  );
  writeLines(hostTranscript, host);
  // Sync's copies of it: an old version kept by Syncthing, a conflict copy, and a link under another name.
  mkdirSync(path.join(identity, ".stversions"), { recursive: true });
  copyFileSync(hostTranscript, path.join(identity, ".stversions", `${IDS.host}~20261102-101500.jsonl`));
  copyFileSync(hostTranscript, path.join(identity, `${IDS.host}.sync-conflict-20261102-101500-ABCDEFG.jsonl`));
  // A link a container could plant, to a transcript outside projects/ that is not new usage of anyone's, and a FIFO
  // under a transcript's name: neither is read.
  const planted = path.join(home, "elsewhere", "planted.jsonl");
  writeLines(
    planted,
    sessionLines("ffffffff-0000-4000-8000-000000000009", [
      {
        prompt: "planted",
        time: "2026-11-02T12:00:00.000Z",
        branch: "feat-a",
        cwd: repo,
        responses: [{ id: "msg_planted", model: SONNET, time: "2026-11-02T12:00:01.000Z", input: 999_000, output: 0 }],
      },
    ]),
  );
  symlinkSync(planted, path.join(identity, "ffffffff-0000-4000-8000-000000000009.jsonl"));
  execFileSync("mkfifo", [path.join(identity, "ffffffff-0000-4000-8000-00000000000a.jsonl")]);
  // The second machine's session, synced into the same folder: its own path.
  writeLines(
    path.join(identity, `${IDS.otherMachine}.jsonl`),
    sessionLines(IDS.otherMachine, [
      {
        prompt: "on the laptop",
        time: "2026-11-03T11:59:00.000Z",
        branch: "feat-a",
        cwd: "/home/bob/src/app",
        responses: [{ id: "msg_d1", model: SONNET, time: "2026-11-03T12:00:00.000Z", input: 10, output: 10 }],
      },
    ]),
  );
  // The worktree's own folder, on feat-b, with a model the price table does not know.
  writeLines(
    path.join(projects, encodeProjectSlug(worktree), `${IDS.worktree}.jsonl`),
    sessionLines(IDS.worktree, [
      {
        prompt: "in the worktree",
        time: "2026-11-03T10:59:00.000Z",
        branch: "feat-b",
        cwd: worktree,
        responses: [{ id: "msg_c1", model: UNPRICED, time: "2026-11-03T11:00:00.000Z", input: 400, output: 200 }],
      },
    ]),
  );
  // The dev container's folder (2.1.330 lines), with a subagent.
  const containerDir = path.join(projects, "-workspaces-app");
  writeLines(
    path.join(containerDir, `${IDS.container}.jsonl`),
    sessionLines(IDS.container, [
      {
        prompt: "in the container",
        time: "2026-11-03T08:59:00.000Z",
        branch: "feat-a",
        cwd: "/workspaces/app",
        responses: [
          {
            id: "msg_b1",
            model: HAIKU,
            time: "2026-11-03T09:00:00.000Z",
            input: 100,
            output: 50,
            blocks: 2,
            ref: true,
          },
        ],
      },
    ]),
  );
  writeLines(
    path.join(containerDir, IDS.container, "subagents", "agent-a1b2c3.jsonl"),
    sessionLines(
      IDS.container,
      [
        {
          prompt: "explore",
          time: "2026-11-03T09:00:30.000Z",
          branch: "feat-a",
          cwd: "/workspaces/app",
          responses: [
            { id: "msg_b2", model: HAIKU, time: "2026-11-03T09:01:00.000Z", input: 300, output: 100, ref: true },
          ],
        },
      ],
      { sidechain: true },
    ),
  );
  // An unrelated project.
  writeLines(
    path.join(projects, encodeProjectSlug(other), `${IDS.otherProject}.jsonl`),
    sessionLines(IDS.otherProject, [
      {
        prompt: "elsewhere",
        time: "2026-11-02T15:00:00.000Z",
        branch: "main",
        cwd: other,
        responses: [{ id: "msg_e1", model: SONNET, time: "2026-11-02T15:00:10.000Z", input: 5, output: 5 }],
      },
    ]),
  );
  // What dev-open, start-work and the SessionStart hook recorded.
  writeFileSync(
    path.join(state, "mappings.json"),
    JSON.stringify([
      {
        hostPath: repo,
        hostSlug: encodeProjectSlug(repo),
        containerPath: "/workspaces/app",
        containerSlug: "-workspaces-app",
        time: "2026-11-01T00:00:00.000Z",
      },
    ]),
  );
  const item = (identifier: string, title: string, branch: string, worktreePath: string | null) => ({
    identifier,
    title,
    url: null,
    branch,
    repoPath: repo,
    worktreePath,
    time: "2026-11-01T00:00:00.000Z",
    linearAsked: false,
  });
  writeFileSync(
    path.join(state, "work-items.json"),
    JSON.stringify([item("LIN-1", "Feature A", "feat-a", null), item("LIN-2", "Feature B", "feat-b", worktree)]),
  );
  const starts = path.join(state, "session-starts");
  mkdirSync(starts, { recursive: true });
  const start = (environment: string, machine: string, cwd: string) =>
    `${JSON.stringify({ environment, machine, cwd, time: "2026-11-03T00:00:00.000Z" })}\n`;
  writeFileSync(path.join(starts, `${IDS.container}.jsonl`), start("container", "app-devcontainer", "/workspaces/app"));
  writeFileSync(path.join(starts, `${IDS.otherMachine}.jsonl`), start("host", "bob-laptop", "/home/bob/src/app"));
  return { hostTranscript };
}
