// `claude-persist usage` on a projects/ tree laid out as Claude Code writes it (test/support/usage-tree.ts): every
// grouping's figures are the hand-computed ones below, --by day agrees with ccusage on the same tree, and what was
// counted stays counted when Claude Code deletes a transcript.
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { beforeEach, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { PROJECT_ROOT, runClaude, runCli, tempDir, tempHome } from "./support/claude.ts";
import { startMessagesServer } from "./support/messages-server.ts";
import { IDS, sessionLines, UNPRICED, writeUsageTree } from "./support/usage-tree.ts";

type Row = {
  key: string;
  title?: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
  totalCost: number;
  unpricedModels: string[];
  subagentTokens: number;
  activeSeconds: number;
  sessions: number;
  responses: number;
};
type Report = { ok: boolean; by: string; rows: Row[]; totals: Row };

// Each response, by hand. Sonnet 4.5: $3/M input, $15/M output, $3.75/M cache write, $0.30/M cache read; input past
// 200k in one request $6/M. Haiku 4.5: $1/M input, $5/M output.
const a1 = { tokens: 1000 + 500 + 2000 + 10000, cost: 0.003 + 0.0075 + 0.0075 + 0.003 }; // host, feat-a, 3 blocks
const a2 = { tokens: 2000 + 1000 + 20000, cost: 0.006 + 0.015 + 0.006 }; // host, moved to feat-b, 2 blocks
const a3 = { tokens: 250000, cost: 200000 * 3e-6 + 50000 * 6e-6 }; // host, after compaction, back on feat-a
const b1 = { tokens: 150, cost: 100e-6 + 50 * 5e-6 }; // container, feat-a, 2.1.330 requestRef, 2 blocks
const b2 = { tokens: 400, cost: 300e-6 + 100 * 5e-6 }; // container's subagent
const c1 = { tokens: 600, cost: 0 }; // worktree, feat-b, unpriced model
const d1 = { tokens: 20, cost: 10 * 3e-6 + 10 * 15e-6 }; // second machine, feat-a
const e1 = { tokens: 10, cost: 5 * 3e-6 + 5 * 15e-6 }; // another project
const sum = (...parts: Array<{ tokens: number; cost: number }>) => ({
  tokens: parts.reduce((t, p) => t + p.tokens, 0),
  cost: parts.reduce((t, p) => t + p.cost, 0),
});

describe("claude-persist usage", () => {
  let home: string;
  let repo: string;
  let hostTranscript: string;

  beforeEach(() => {
    home = tempHome();
    const base = tempDir("cp-usage-");
    repo = path.join(base, "app");
    mkdirSync(repo);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "ignore" });
    git("init", "-q", "-b", "main");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "start");
    git("worktree", "add", "-q", "-b", "feat-b", path.join(base, "app-wt"));
    const other = path.join(base, "other");
    mkdirSync(other);
    ({ hostTranscript } = writeUsageTree(home, repo, path.join(base, "app-wt"), other));
  });

  async function usage(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Report> {
    const run = await runCli(["usage", "--json", ...args], {
      env: { HOME: home, TZ: "UTC", ...options.env },
      cwd: options.cwd ?? repo,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as Report;
  }

  function figures(report: Report): Record<string, { tokens: number; cost: number }> {
    return Object.fromEntries(report.rows.map((row) => [row.key, { tokens: row.totalTokens, cost: row.totalCost }]));
  }

  function expectFigures(report: Report, expected: Record<string, { tokens: number; cost: number }>): void {
    const got = figures(report);
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
    for (const [key, want] of Object.entries(expected)) {
      expect(got[key]?.tokens, key).toBe(want.tokens);
      expect(got[key]?.cost, key).toBeCloseTo(want.cost, 9);
    }
  }

  it("by issue (the default): each response goes to the work item whose branch it was written on, one project across host, worktree, container and second machine", async () => {
    const report = await usage([]);
    expect(report.by).toBe("issue");
    expectFigures(report, { "LIN-1": sum(a1, a3, b1, b2, d1), "LIN-2": sum(a2, c1) });
    const lin2 = report.rows.find((row) => row.key === "LIN-2");
    expect(lin2?.title).toBe("Feature B");
    // The worktree's model has no price: shown as unpriced, not as $0.
    expect(lin2?.unpricedModels).toEqual([UNPRICED]);
    expect(report.totals.totalTokens).toBe(sum(a1, a2, a3, b1, b2, c1, d1).tokens);
    // The same from the worktree and from the container's mapped project: one project.
    expect((await usage([], { cwd: path.join(path.dirname(repo), "app-wt") })).totals.totalTokens).toBe(
      report.totals.totalTokens,
    );
  });

  it("by every other grouping, the hand-computed figures", async () => {
    expectFigures(await usage(["--by", "day"]), {
      "2026-11-02": sum(a1, a2, a3),
      "2026-11-03": sum(b1, b2, c1, d1),
    });
    expectFigures(await usage(["--by", "week"]), { "2026-11-02": sum(a1, a2, a3, b1, b2, c1, d1) });
    expectFigures(await usage(["--by", "month"]), { "2026-11": sum(a1, a2, a3, b1, b2, c1, d1) });
    const sessions = await usage(["--by", "session"]);
    expectFigures(sessions, {
      [IDS.host]: sum(a1, a2, a3),
      [IDS.container]: sum(b1, b2),
      [IDS.worktree]: c1,
      [IDS.otherMachine]: d1,
    });
    // The subagent's tokens are counted, and shown as such.
    expect(sessions.rows.find((row) => row.key === IDS.container)?.subagentTokens).toBe(b2.tokens);
    // Active time: from each prompt to its answer: 30 s, 60 s, and 60 s after compaction.
    expect(sessions.rows.find((row) => row.key === IDS.host)?.activeSeconds).toBe(30 + 60 + 60);
    expectFigures(await usage(["--by", "branch"]), { "feat-a": sum(a1, a3, b1, b2, d1), "feat-b": sum(a2, c1) });
    expectFigures(await usage(["--by", "project"]), { [repo]: sum(a1, a2, a3, b1, b2, c1, d1) });
    expectFigures(await usage(["--by", "environment"]), { host: sum(a1, a2, a3, c1, d1), container: sum(b1, b2) });
    const here = execFileSync("hostname", { encoding: "utf8" }).trim();
    expectFigures(await usage(["--by", "machine"]), {
      [here]: sum(a1, a2, a3, c1),
      "app-devcontainer": sum(b1, b2),
      "bob-laptop": d1,
    });
    expectFigures(await usage(["--by", "model"]), {
      "claude-sonnet-4-5-20250929": sum(a1, a2, a3, d1),
      "claude-haiku-4-5-20251001": sum(b1, b2),
      [UNPRICED]: c1,
    });
    expectFigures(await usage(["--all", "--by", "project"]), {
      [repo]: sum(a1, a2, a3, b1, b2, c1, d1),
      [path.join(path.dirname(repo), "other")]: e1,
    });
  });

  it("--since, --until and --timezone choose the days", async () => {
    expectFigures(await usage(["--by", "day", "--since", "2026-11-03"]), { "2026-11-03": sum(b1, b2, c1, d1) });
    expectFigures(await usage(["--by", "day", "--until", "20261102"]), { "2026-11-02": sum(a1, a2, a3) });
    // UTC+14: the morning of 2 November (UTC) is already the 3rd; the 3rd's afternoon is the 4th.
    expectFigures(await usage(["--by", "day", "--timezone", "Pacific/Kiritimati"]), {
      "2026-11-03": sum(a1, a2, a3, b1, b2),
      "2026-11-04": sum(c1, d1),
    });
    const bad = await runCli(["usage", "--timezone", "Mars/Olympus"], { env: { HOME: home }, cwd: repo });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("not a time zone");
  });

  it("--by day totals equal ccusage's on the same tree, token for token", async () => {
    const ours = await usage(["--all", "--by", "day"]);
    const ccusage = await execa(
      path.join(PROJECT_ROOT, "node_modules", ".bin", "ccusage"),
      ["daily", "--json", "--offline"],
      {
        env: { HOME: home, CLAUDE_CONFIG_DIR: path.join(home, ".claude"), TZ: "UTC", PATH: process.env.PATH ?? "" },
        extendEnv: false,
      },
    );
    const theirs = JSON.parse(ccusage.stdout) as { daily: Array<Row & { period: string }> };
    const byDay = new Map(theirs.daily.map((day) => [day.period, day]));
    const fields = ["inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens"] as const;
    // The 2nd: the requestId shape, streamed blocks, sync's copies, compaction, the 200k tier. The 3rd: 2.1.330's
    // requestRef shape (ccusage 20.0.24 counted its second block again; 20.0.20, pinned here, does not).
    for (const day of ["2026-11-02", "2026-11-03"]) {
      const row = ours.rows.find((candidate) => candidate.key === day);
      for (const field of fields) expect(row?.[field], `${day} ${field}`).toBe(byDay.get(day)?.[field]);
      expect(row?.totalCost).toBeCloseTo(byDay.get(day)?.totalCost ?? -1, 9);
    }
  });

  it("keeps counting what Claude Code deleted, and rebuilds a damaged ledger from the transcripts", async () => {
    const before = await usage(["--by", "day"]);
    rmSync(hostTranscript);
    const after = await usage(["--by", "day"]);
    expect(after.rows).toEqual(before.rows);
    // A line that cannot be read: the ledger keeps its other lines, reads the transcripts again, and says so.
    const ledger = path.join(home, ".claude", "persist-host", "usage-ledger", "records.jsonl");
    appendFileSync(ledger, '{"r": ["half a line\n');
    const run = await runCli(["usage", "--json", "--by", "day"], { env: { HOME: home, TZ: "UTC" }, cwd: repo });
    expect(run.stderr).toContain("usage ledger had 1 unreadable line");
    expect((JSON.parse(run.stdout) as Report).rows).toEqual(before.rows);
  });

  it("prints the last output again only while nothing changed: a new response shows at once", async () => {
    const first = await usage(["--by", "day"]);
    expect((await usage(["--by", "day"])).rows).toEqual(first.rows);
    appendFileSync(
      hostTranscript,
      sessionLines(IDS.host, [
        {
          prompt: "one more",
          time: "2026-11-02T11:00:00.000Z",
          branch: "feat-a",
          cwd: repo,
          responses: [{ id: "msg_a4", model: UNPRICED, time: "2026-11-02T11:00:05.000Z", input: 7, output: 3 }],
        },
      ])
        .map((line) => `${JSON.stringify(line)}\n`)
        .join(""),
    );
    const after = await usage(["--by", "day"]);
    expect(after.rows.find((row) => row.key === "2026-11-02")?.totalTokens).toBe(sum(a1, a2, a3).tokens + 10);
  });

  it("--refresh-prices refuses an answer past 32 MB that gives no length, in one line, and keeps the prices", async () => {
    // Chunked, with no content-length, and never ended: only counting what arrives can refuse it (reading it whole
    // waited for the 30 s limit).
    const chunk = Buffer.alloc(1 << 20, 0x20);
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      let sent = 0;
      const more = (): void => {
        while (sent < 40 && res.write(chunk)) sent++;
        if (sent < 40) res.once("drain", more);
      };
      more();
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prices.json`;
    try {
      const before = await usage([]);
      const huge = await runCli(["usage", "--refresh-prices"], {
        env: { HOME: home, TZ: "UTC", CLAUDE_PERSIST_PRICES_URL: url },
        cwd: repo,
      });
      expect(huge.exitCode).toBe(1);
      expect(huge.stderr.trim().split("\n")).toHaveLength(1);
      expect(huge.stderr).toContain("is larger than 33554432 bytes");
      expect((await usage([])).totals).toEqual(before.totals);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("--refresh-prices takes LiteLLM's Anthropic prices when asked, keeps them, and leaves them when the fetch fails", async () => {
    const litellm = {
      [UNPRICED]: { litellm_provider: "anthropic", input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 },
      "gpt-9": { litellm_provider: "openai", input_cost_per_token: 1, output_cost_per_token: 1 },
      "claude-broken": { litellm_provider: "anthropic", input_cost_per_token: -5, output_cost_per_token: "free" },
    };
    const server = createServer((_req, res) => res.writeHead(200).end(JSON.stringify(litellm)));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prices.json`;
    try {
      // Without the flag nothing is fetched: the worktree's model stays unpriced.
      const before = await usage([], { env: { CLAUDE_PERSIST_PRICES_URL: url } });
      expect(before.totals.unpricedModels).toEqual([UNPRICED]);
      const refreshed = await usage(["--refresh-prices"], { env: { CLAUDE_PERSIST_PRICES_URL: url } });
      const lin2 = { tokens: sum(a2, c1).tokens, cost: a2.cost + 400 * 1e-6 + 200 * 2e-6 };
      expectFigures(refreshed, { "LIN-1": sum(a1, a3, b1, b2, d1), "LIN-2": lin2 });
      expect(refreshed.totals.unpricedModels).toEqual([]);
      // Kept for later runs, which fetch nothing.
      server.close();
      expectFigures(await usage([]), { "LIN-1": sum(a1, a3, b1, b2, d1), "LIN-2": lin2 });
      const failed = await runCli(["usage", "--refresh-prices"], {
        env: { HOME: home, TZ: "UTC", CLAUDE_PERSIST_PRICES_URL: url },
        cwd: repo,
      });
      expect(failed.exitCode).toBe(1);
      expect(failed.stderr).toContain("could not fetch the prices");
      expectFigures(await usage([]), { "LIN-1": sum(a1, a3, b1, b2, d1), "LIN-2": lin2 });
    } finally {
      server.close();
    }
  });

  it("prints a table with a bar per row that fits the terminal", async () => {
    const run = await runCli(["usage"], { env: { HOME: home, TZ: "UTC", COLUMNS: "150" }, cwd: repo });
    expect(run.exitCode, run.stderr).toBe(0);
    const lines = run.stdout.split("\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(150);
    const lin1 = lines.find((line) => line.includes("LIN-1")) ?? "";
    const lin2 = lines.find((line) => line.includes("LIN-2")) ?? "";
    expect(lin1).toContain("LIN-1 Feature A");
    expect(lin1).toContain("$0.92");
    expect(lin2).toContain("$0.03 + unpriced");
    // LIN-1 cost 30 times LIN-2's: the longest bar is its, LIN-2's a sliver.
    const bar = (line: string) => (line.match(/█+/)?.[0] ?? "").length;
    expect(bar(lin1)).toBeGreaterThan(10);
    expect(bar(lin1)).toBeGreaterThan(bar(lin2) * 10);
    expect(run.stdout).toContain(`Unpriced (no price known, not counted in COST): ${UNPRICED}.`);
  });
  it("--html writes one self-contained page: the same figures, a chart, nothing fetched, titles escaped", async () => {
    // A work item's title comes from Linear (or a container): it must not become markup.
    const items = path.join(home, ".claude", "persist-state", "work-items.json");
    const entries = JSON.parse(readFileSync(items, "utf8")) as Array<{ title: string }>;
    if (entries[0]) entries[0].title = '<img src=x onerror="alert(1)">';
    writeFileSync(items, JSON.stringify(entries));
    const page = path.join(tempDir("cp-usage-html-"), "usage.html");
    const run = await runCli(["usage", "--html", page], { env: { HOME: home, TZ: "UTC" }, cwd: repo });
    expect(run.exitCode, run.stderr).toBe(0);
    const html = readFileSync(page, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("<svg");
    expect(html).toContain("$0.92");
    expect(html).toContain("$0.03 + unpriced");
    expect(html).toContain("287,670");
    // No script, no link, no request of any kind; the hostile title is text.
    expect(html).not.toMatch(/<(script|img|link|iframe|object|embed)|href=|url\(|@import/i);
    expect(html).toContain("LIN-1 &#60;img src=x onerror=&#34;alert(1)&#34;&#62;");
  });
});

describe("claude-persist usage on what the real claude writes", () => {
  it("counts each response of a 2.1.330 session once, costed with Claude Code's own cost-state figure", async () => {
    const server = await startMessagesServer();
    try {
      const home = tempHome();
      const repo = tempDir("cp-usage-real-");
      const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "ignore" });
      git("init", "-q", "-b", "lin-7-fix-login");
      git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "start");
      const state = path.join(home, ".claude", "persist-state");
      mkdirSync(state, { recursive: true });
      writeFileSync(
        path.join(state, "work-items.json"),
        JSON.stringify([
          {
            identifier: "LIN-7",
            title: "Fix login",
            url: null,
            branch: "lin-7-fix-login",
            repoPath: repo,
            worktreePath: null,
            time: "2026-11-01T00:00:00.000Z",
            linearAsked: false,
          },
        ]),
      );
      for (const args of [
        ["-p", "hello"],
        ["--continue", "-p", "again"],
      ]) {
        const run = await runClaude(args, { cwd: repo, home, apiUrl: server.url });
        expect(run.exitCode, run.stderr).toBe(0);
      }
      const run = await runCli(["usage", "--json"], { env: { HOME: home, TZ: "UTC" }, cwd: repo });
      expect(run.exitCode, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as Report;
      // The test server answers every request with 10 input and 5 output tokens.
      expect(report.rows.map((row) => [row.key, row.responses, row.totalTokens])).toEqual([["LIN-7", 2, 30]]);
      // The server names its model "claude-test", which no price table knows; Claude Code's cost-state lines say
      // what it cost, and that figure is the one shown (not unpriced, not $0).
      const transcript = readdirSync(path.join(home, ".claude", "projects", encodeProjectSlug(repo))).find((name) =>
        name.endsWith(".jsonl"),
      );
      const lines = readFileSync(
        path.join(home, ".claude", "projects", encodeProjectSlug(repo), transcript ?? ""),
        "utf8",
      )
        .split("\n")
        .filter((line) => line.includes('"cost-state"'))
        .map((line) => JSON.parse(line) as { totalCostUSD: number });
      const claudeCodeCost = Math.max(...lines.map((line) => line.totalCostUSD));
      expect(claudeCodeCost).toBeGreaterThan(0);
      expect(report.totals.totalCost).toBeCloseTo(claudeCodeCost, 12);
      expect(report.totals.unpricedModels).toEqual([]);
      // ccusage sees the same tokens.
      const ccusage = await execa(
        path.join(PROJECT_ROOT, "node_modules", ".bin", "ccusage"),
        ["daily", "--json", "--offline"],
        {
          env: { HOME: home, CLAUDE_CONFIG_DIR: path.join(home, ".claude"), PATH: process.env.PATH ?? "" },
          extendEnv: false,
        },
      );
      expect((JSON.parse(ccusage.stdout) as { totals: Row }).totals.totalTokens).toBe(30);
    } finally {
      await server.close();
    }
  });
});
