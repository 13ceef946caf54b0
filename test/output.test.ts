// What commands print: dry-run diffs that are valid patches, and tables that fit the terminal by display width.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import stringWidth from "string-width";
import { describe, expect, it, vi } from "vitest";
import type { Io } from "../src/command.ts";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { unifiedDiff } from "../src/diff.ts";
import { formatBytes, plural, renderColumns, startProgress } from "../src/commands/output.ts";
import { runCli, tempDir, tempHome } from "./support/claude.ts";

describe("unifiedDiff (dry-run diffs)", () => {
  it.each([
    ["a file without a final newline", '{\n  "image": "debian"\n}', '{\n  "image": "debian",\n  "mounts": []\n}'],
    ["a file given one", "a\nb", "a\nb\n"],
    ["a new file", undefined, '{\n  "image": "debian"\n}\n'],
    [
      "a change in the middle of a long file",
      `${Array.from({ length: 40 }, (_, i) => `line ${i}`).join("\n")}\n`,
      `${Array.from({ length: 40 }, (_, i) => (i === 20 ? "changed" : `line ${i}`)).join("\n")}\n`,
    ],
  ])("for %s is a patch that `git apply` takes and that gives the new bytes", async (_name, before, after) => {
    const dir = tempDir("cp-diff-");
    mkdirSync(path.join(dir, ".devcontainer"));
    const file = path.join(dir, ".devcontainer", "devcontainer.json");
    if (before !== undefined) writeFileSync(file, before);
    const patch = unifiedDiff(before, after, ".devcontainer/devcontainer.json");
    if (!before?.endsWith("\n") && before !== undefined) expect(patch).toContain("\n\\ No newline at end of file");
    writeFileSync(path.join(dir, "change.patch"), `${patch}\n`);
    const applied = await execa("git", ["apply", "--unidiff-zero", "change.patch"], { cwd: dir, reject: false });
    expect(applied.stderr).toBe("");
    expect(readFileSync(file, "utf8")).toBe(after);
  });

  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\n", "a\n", "x")).toBe("");
  });
});

describe("renderColumns (tables)", () => {
  const rows = [
    ["WHEN", "BRANCH", "FIRST PROMPT", "RESUME"],
    ["2026-11-27 10:00", "main", "修复登录页面的错误并添加测试用例，然后更新文档", "claude --resume 1"],
    ["2026-11-27 09:00", "feat/🚀-launch", "short", "claude --resume 2"],
    ["2026-11-26 08:00", "x", "a long prompt in plain ASCII that goes on and on and on and on", "claude --resume 3"],
    // ASCII around other characters: a combining accent, a keycap (an ASCII digit its selectors widen), an ellipsis.
    [
      "2026-11-25 07:00",
      "cafe\u0301",
      "step 1\uFE0F\u20E3 then 2\uFE0F\u20E3, fix the ca\u0301che…",
      "claude --resume 4",
    ],
  ];

  it("lines up CJK and emoji by display width, not UTF-16 units", async () => {
    const lines = await renderColumns(rows);
    const starts = lines.map((line) =>
      stringWidth(
        line.slice(0, line.indexOf("claude --resume") >= 0 ? line.indexOf("claude --resume") : line.indexOf("RESUME")),
      ),
    );
    expect(new Set(starts).size).toBe(1);
  });

  it.each([100, 60])("fits %i columns by cutting the widest column, and keeps uncut columns whole", async (columns) => {
    const lines = await renderColumns(rows, columns, { uncut: [3] });
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(columns);
    expect(lines[1]).toContain("…");
    expect(lines.slice(1).map((line) => line.endsWith(`claude --resume ${lines.indexOf(line)}`))).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });
});

describe("claude-persist sessions as a table", () => {
  it("fits $COLUMNS (100) with a CJK prompt and a long branch, the time and the resume command whole", async () => {
    const home = tempHome();
    const folder = tempDir("cp-table-");
    const id = "c0c0c0c0-0000-4000-8000-0000000000aa";
    const prompt = "修复登录页面的错误并添加测试用例，然后更新文档和发布说明，最后检查所有的链接";
    const common = {
      sessionId: id,
      cwd: folder,
      gitBranch: "feature/a-very-long-branch-name-for-the-login-page",
      version: "2.1.330",
      userType: "external",
    };
    const now = new Date().toISOString();
    const lines = [
      {
        ...common,
        parentUuid: null,
        type: "user",
        message: { role: "user", content: prompt },
        uuid: "u1",
        timestamp: now,
      },
      {
        ...common,
        parentUuid: "u1",
        type: "assistant",
        message: { role: "assistant", content: [{ type: "text", text: "ok" }] },
        uuid: "a1",
        timestamp: now,
      },
    ];
    const dir = path.join(home, ".claude", "projects", encodeProjectSlug(folder));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${id}.jsonl`), lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
    const result = await runCli(["sessions"], { env: { HOME: home, COLUMNS: "100", TZ: "UTC" }, cwd: folder });
    expect(result.exitCode, result.stderr).toBe(0);
    const table = result.stdout.split("\n").filter((line) => line.startsWith("  "));
    expect(table).toHaveLength(2);
    for (const line of table) expect(stringWidth(line), line).toBeLessThanOrEqual(100);
    expect(table[1]).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}/);
    expect(table[1]).toMatch(new RegExp(`claude --resume ${id}$`));
    expect(table[1]).toContain("修复");
  });
});

describe("startProgress (snapshot create|restore)", () => {
  it("says nothing for work under two seconds, then one line on stderr every five", () => {
    vi.useFakeTimers();
    try {
      const stderr: string[] = [];
      const io: Io = {
        stdout: () => undefined,
        stderr: (text) => void stderr.push(text),
        env: {},
        cwd: "/",
        stdin: process.stdin,
        isTTY: false,
      };
      const stop = startProgress(io, "claude-persist snapshot: still restoring");
      vi.advanceTimersByTime(1_999);
      expect(stderr).toEqual([]);
      vi.advanceTimersByTime(1);
      vi.advanceTimersByTime(5_000);
      expect(stderr).toEqual([
        "claude-persist snapshot: still restoring… 2 s\n",
        "claude-persist snapshot: still restoring… 7 s\n",
      ]);
      stop();
      vi.advanceTimersByTime(60_000);
      expect(stderr).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("counts and sizes, as every command prints them", () => {
  it("a count goes with its noun in the singular only for one", () => {
    expect([0, 1, 2].map((n) => plural(n, "snapshot"))).toEqual(["0 snapshots", "1 snapshot", "2 snapshots"]);
  });

  it("sizes are in decimal units, one decimal below 10", () => {
    const sizes = [999, 1000, 12_345, 1_234_567, 5e12];
    expect(sizes.map(formatBytes)).toEqual(["999 B", "1.0 kB", "12 kB", "1.2 MB", "5.0 TB"]);
  });
});
