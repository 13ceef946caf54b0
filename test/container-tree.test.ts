// The attacks of issue 22, each as a container would do it: host-side code walking, reading, merging or renaming in
// a folder the container writes, while the container plants links there or swaps a folder for a link between two of
// our system calls. The gate (src/container-tree.ts) must make each one harmless.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { createSnapshot } from "../src/snapshot/create.ts";
import { raceWindow } from "../src/container-tree.ts";
import { linkProject } from "../src/sync/identity.ts";
import { syncAtSessionStart } from "../src/sync/session-start.ts";
import { spawn } from "node:child_process";
import { CLI, tempDir, tempHome } from "./support/claude.ts";

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

describe("snapshot create", () => {
  it("does not archive the host's ~/.ssh when a container swaps file-history/<id>/ for a link to it after the listing", async () => {
    const home = tempHome();
    const claude = path.join(home, ".claude");
    const cwd = tempDir("cp-work-");
    const id = "0b7e4a8c-1111-4222-8333-944445555666";
    const slugDir = path.join(claude, "projects", encodeProjectSlug(cwd));
    mkdirSync(slugDir, { recursive: true });
    // Archived first, and slow to compress: the window in which the container swaps the folder.
    writeFileSync(path.join(slugDir, `${id}.jsonl`), randomBytes(24 << 20));
    const ssh = path.join(home, ".ssh");
    mkdirSync(ssh, { mode: 0o700 });
    const key = `-----BEGIN OPENSSH PRIVATE KEY-----\n${randomBytes(300).toString("base64")}\n`;
    writeFileSync(path.join(ssh, "id_ed25519"), key, { mode: 0o600 });
    // The container's decoy: the key's name and size, listed by the host as the session's file history.
    const history = path.join(claude, "file-history", id);
    mkdirSync(history, { recursive: true });
    writeFileSync(path.join(history, "id_ed25519"), "x".repeat(key.length));
    const snapshots = path.join(claude, "persist-host", "snapshots", encodeProjectSlug(cwd));
    // As soon as the archive is being written, the listing is done: swap the folder for a link to ~/.ssh.
    let swapped = false;
    const watcher = setInterval(() => {
      if (swapped || !existsSync(snapshots) || !readdirSync(snapshots).some((n) => n.endsWith(".tmp"))) return;
      renameSync(history, `${history}.decoy`);
      symlinkSync(ssh, history);
      swapped = true;
    }, 1);
    let archived: Buffer | undefined;
    try {
      const result = await createSnapshot({ HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" }, cwd);
      archived = gunzipSync(readFileSync(result.archive));
    } catch (error) {
      expect(String(error)).toMatch(/no longer the file that was listed|no longer a folder|symbolic link/);
    } finally {
      clearInterval(watcher);
    }
    expect(swapped).toBe(true);
    expect(archived?.includes(Buffer.from(key)) ?? false).toBe(false);
  });
});

describe("snapshot create's bounds", () => {
  it("leaves out a 1 TB sparse file a container planted, naming it, instead of reading it for hours", async () => {
    const home = tempHome();
    const cwd = tempDir("cp-work-");
    const slugDir = path.join(home, ".claude", "projects", encodeProjectSlug(cwd));
    mkdirSync(slugDir, { recursive: true });
    writeFileSync(path.join(slugDir, "0b7e4a8c-1111-4222-8333-944445555666.jsonl"), '{"type":"user"}\n');
    const fd = openSync(path.join(slugDir, "huge.bin"), "w");
    ftruncateSync(fd, 2 ** 40);
    closeSync(fd);
    const result = await createSnapshot({ HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" }, cwd);
    expect(result.skipped).toEqual([expect.stringMatching(/huge\.bin \(1099511627776 bytes: too large\)/)]);
    expect(result.fileCount).toBe(1);
  }, 60_000);

  it("SIGTERM while the archive is written leaves neither the temporary archive nor the lock", async () => {
    const home = tempHome();
    const cwd = tempDir("cp-work-");
    const slugDir = path.join(home, ".claude", "projects", encodeProjectSlug(cwd));
    mkdirSync(slugDir, { recursive: true });
    writeFileSync(path.join(slugDir, "0b7e4a8c-1111-4222-8333-944445555666.jsonl"), randomBytes(64 << 20));
    const snapshots = path.join(home, ".claude", "persist-host", "snapshots", encodeProjectSlug(cwd));
    const child = spawn(process.execPath, [CLI, "snapshot", "create"], {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
      stdio: "ignore",
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    const list = () => (existsSync(snapshots) ? readdirSync(snapshots) : []);
    while (!list().some((name) => name.endsWith(".tmp"))) await new Promise((resolve) => setTimeout(resolve, 5));
    child.kill("SIGTERM");
    expect(await exited).toBe("SIGTERM");
    expect(list()).toEqual([]);
  }, 60_000);
});

describe("sync's first link of a project", () => {
  it("never makes a container's link the travelling folder when the slug folder is swapped for one after the look", () => {
    const victim = tempDir("cp-victim-");
    writeFileSync(path.join(victim, "id_ed25519"), "key\n");
    const home = tempHome();
    const projects = path.join(home, ".claude", "projects");
    const repo = tempDir("cp-repo-");
    mkdirSync(path.join(repo, ".git"));
    writeFileSync(path.join(repo, ".git", "config"), '[remote "origin"]\n\turl = git@github.com:ana/app.git\n');
    const slug = path.join(projects, encodeProjectSlug(repo));
    mkdirSync(slug, { recursive: true });
    writeFileSync(path.join(slug, "0b7e4a8c-1111-4222-8333-944445555666.jsonl"), "{}\n");
    raceWindow.hook = (at) => {
      if (at !== "link-project") return;
      renameSync(slug, `${slug}.moved`);
      symlinkSync(victim, slug);
    };
    try {
      linkProject({ HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" }, repo);
    } catch (error) {
      expect(String(error)).toMatch(/is a link or not a folder/);
    } finally {
      raceWindow.hook = undefined;
    }
    for (const name of readdirSync(projects).filter((n) => n.startsWith("repo-")))
      expect(lstatSync(path.join(projects, name)).isSymbolicLink()).toBe(false);
    expect(readdirSync(victim)).toEqual(["id_ed25519"]);
  });
});

describe("conflict-copy names on the terminal", () => {
  it("a session name carrying escape sequences (OSC 52 writes the clipboard) is told without them", () => {
    const { home, projects } = syncedHome();
    const cwd = tempDir("cp-work-");
    const folder = path.join(projects, encodeProjectSlug(cwd));
    mkdirSync(folder);
    const name = "\x1b]52;c;cm0gLXJmIH4K\x07abc";
    writeFileSync(path.join(folder, `${name}.jsonl`), `${line("u1", "2026-01-01T00:00:01Z", "one")}\n`);
    writeFileSync(
      path.join(folder, `${name}.sync-conflict-20260101-000002-ABCDEFG.jsonl`),
      `${line("u9", "2026-01-01T00:00:02Z", "two")}\n`,
    );
    const result = syncAtSessionStart(
      { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
      { session_id: "abc", cwd },
      "host",
      new Date(),
    );
    expect(result.notes.join("")).toContain("merged its 1 line(s) back");
    expect(result.notes.join("")).not.toMatch(/[\x00-\x1f]/);
  });
});
