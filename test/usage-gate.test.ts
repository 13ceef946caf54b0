// `claude-persist usage` reads what containers can write (the session-start records) only through the gate
// (src/container-tree.ts): a link a container puts where the records folder or a record should be is not followed,
// so it cannot choose the machine or environment a session's usage is put down to.
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, symlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempDir, tempHome } from "./support/claude.ts";
import { IDS, writeUsageTree } from "./support/usage-tree.ts";

type Report = { rows: Array<{ key: string; totalTokens: number }> };

function tree(): { home: string; repo: string; starts: string } {
  const home = tempHome();
  const base = tempDir("cp-usage-gate-");
  const repo = path.join(base, "app");
  mkdirSync(repo);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "ignore" });
  git("init", "-q", "-b", "main");
  git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "start");
  git("worktree", "add", "-q", "-b", "feat-b", path.join(base, "app-wt"));
  const other = path.join(base, "other");
  mkdirSync(other);
  writeUsageTree(home, repo, path.join(base, "app-wt"), other);
  return { home, repo, starts: path.join(home, ".claude", "persist-state", "session-starts") };
}

async function machines(home: string, repo: string): Promise<string[]> {
  const run = await runCli(["usage", "--json", "--by", "machine"], { env: { HOME: home, TZ: "UTC" }, cwd: repo });
  expect(run.exitCode, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as Report).rows.map((row) => row.key).sort();
}

describe("usage and the session-start records containers write", () => {
  it("reads the records in session-starts/ itself: the machines they name", async () => {
    const { home, repo } = tree();
    expect(await machines(home, repo)).toEqual(expect.arrayContaining(["app-devcontainer", "bob-laptop"]));
  });

  it("does not follow a link put in place of session-starts/: its records name no machine", async () => {
    const { home, repo, starts } = tree();
    const elsewhere = path.join(tempDir("cp-usage-planted-"), "records");
    renameSync(starts, elsewhere);
    symlinkSync(elsewhere, starts);
    const found = await machines(home, repo);
    expect(found).not.toContain("app-devcontainer");
    expect(found).not.toContain("bob-laptop");
    expect(found).toContain("(unknown)");
  });

  it("does not follow a link put in place of one session's record", async () => {
    const { home, repo, starts } = tree();
    const elsewhere = path.join(tempDir("cp-usage-planted-"), "record.jsonl");
    renameSync(path.join(starts, `${IDS.otherMachine}.jsonl`), elsewhere);
    symlinkSync(elsewhere, path.join(starts, `${IDS.otherMachine}.jsonl`));
    const found = await machines(home, repo);
    expect(found).toContain("app-devcontainer");
    expect(found).not.toContain("bob-laptop");
  });
});
