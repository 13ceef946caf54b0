// The attacks of issue 22, each as a container would do it: host-side code walking, reading, merging or renaming in
// a folder the container writes, while the container plants links there or swaps a folder for a link between two of
// our system calls. The gate (src/container-tree.ts) must make each one harmless.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { syncAtSessionStart } from "../src/sync/session-start.ts";
import { tempDir, tempHome } from "./support/claude.ts";

const line = (uuid: string, time: string, text: string): string =>
  JSON.stringify({ uuid, timestamp: time, type: "user", message: { role: "user", content: text } });
const COPY = "abc.sync-conflict-20260101-000002-ABCDEFG.jsonl";

/** A host home with sync set up (the hook merges only then). */
function syncedHome(): { home: string; projects: string } {
  const home = tempHome();
  const hostOnly = path.join(home, ".claude", "persist-host");
  mkdirSync(hostOnly, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(hostOnly, "sync.json"), "{}\n");
  const projects = path.join(home, ".claude", "projects");
  mkdirSync(projects, { recursive: true });
  return { home, projects };
}

/** A host folder the container wants written: it holds a "session" and a conflict copy named by the container. */
function victimFolder(): string {
  const victim = tempDir("cp-victim-");
  writeFileSync(path.join(victim, "abc.jsonl"), "host's own file\n");
  writeFileSync(path.join(victim, COPY), `${line("u9", "2026-01-01T00:00:02Z", "planted")}\n`);
  return victim;
}

describe("the SessionStart hook's conflict merge", () => {
  it("does not merge through a link a container planted at projects/<slug>: the folder it names is left as it was", () => {
    const { home, projects } = syncedHome();
    const cwd = tempDir("cp-work-");
    const victim = victimFolder();
    symlinkSync(victim, path.join(projects, encodeProjectSlug(cwd)));
    const result = syncAtSessionStart(
      { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
      { session_id: "abc", cwd },
      "host",
      new Date(),
    );
    expect(result.notes).toEqual([]);
    expect(readdirSync(victim).sort()).toEqual(["abc.jsonl", COPY]);
    expect(readFileSync(path.join(victim, "abc.jsonl"), "utf8")).toBe("host's own file\n");
  });

  it("still merges in the project's own folder, and in the travelling folder sync's link names", () => {
    const { home, projects } = syncedHome();
    const cwd = tempDir("cp-work-");
    mkdirSync(path.join(projects, "repo-github.com-ana-app-12345678"));
    symlinkSync("repo-github.com-ana-app-12345678", path.join(projects, encodeProjectSlug(cwd)));
    const folder = path.join(projects, "repo-github.com-ana-app-12345678");
    writeFileSync(path.join(folder, "abc.jsonl"), `${line("u1", "2026-01-01T00:00:01Z", "one")}\n`);
    writeFileSync(path.join(folder, COPY), `${line("u9", "2026-01-01T00:00:02Z", "other machine")}\n`);
    const result = syncAtSessionStart(
      { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
      { session_id: "abc", cwd },
      "host",
      new Date(),
    );
    expect(result.notes.join("")).toContain("merged its 1 line(s) back");
    expect(readdirSync(folder)).toEqual(["abc.jsonl"]);
    expect(readFileSync(path.join(folder, "abc.jsonl"), "utf8")).toContain("other machine");
  });
});
