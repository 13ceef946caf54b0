import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { pidDomain, processStartTime, runningSessions } from "../src/claude/running-sessions.ts";
import { mapProject } from "../src/mapping.ts";
import { readTarGz, writeTarGz, type TarEntry } from "../src/tar.ts";
import { startMessagesServer, type MessagesServer } from "./support/messages-server.ts";
import { runClaude, runCli, tempDir, tempHome } from "./support/claude.ts";

/** Every entry under `root`: type, mode and content hash (or link target), by relative path. */
function treeState(root: string, keep: (rel: string) => boolean = () => true): Map<string, string> {
  const state = new Map<string, string>();
  const visit = (rel: string) => {
    const abs = path.join(root, rel);
    const stats = lstatSync(abs);
    const mode = (stats.mode & 0o7777).toString(8);
    if (rel && !keep(rel)) return;
    if (stats.isSymbolicLink()) state.set(rel, `link -> ${readlinkSync(abs)}`);
    else if (stats.isFile()) state.set(rel, `file ${mode} ${createHash("sha256").update(readFileSync(abs)).digest("hex")}`);
    else if (stats.isDirectory()) {
      if (rel) state.set(rel, `dir ${mode}`);
      for (const name of readdirSync(abs).sort()) visit(rel ? `${rel}/${name}` : name);
    }
  };
  visit("");
  return state;
}

/** Project data only: what a snapshot holds, not what claude itself or the snapshots change around it. */
const PROJECT_ROOTS = ["projects", "todos", "tasks", "file-history", "persist-state/session-starts"];
const projectData = (rel: string) => rel === "persist-state" || PROJECT_ROOTS.some((root) => rel === root || rel.startsWith(`${root}/`));

function newSessionIds(dir: string, before: Set<string>): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl") && !before.has(f.slice(0, -".jsonl".length)))
    .map((f) => f.slice(0, -".jsonl".length));
}

function listIds(dir: string): Set<string> {
  return existsSync(dir) ? new Set(readdirSync(dir).filter((f) => f.endsWith(".jsonl")).map((f) => f.slice(0, -".jsonl".length))) : new Set();
}

/** A ustar header made by hand, independent of src/tar.ts: the archives an attacker would make. */
function ustarHeader(name: string, type: string, size: number, linkname = ""): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100);
  block.write("0000644\0", 100);
  block.write("0000000\0", 108);
  block.write("0000000\0", 116);
  block.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  block.write("00000000000\0", 136);
  block.write("        ", 148);
  block.write(type, 156);
  block.write(linkname, 157, 100);
  block.write("ustar\u000000", 257, "latin1");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return block;
}

function handMadeArchive(entries: Array<{ name: string; type?: string; body?: string; linkname?: string }>): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? "");
    parts.push(ustarHeader(entry.name, entry.type ?? "0", body.length, entry.linkname));
    parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

type Created = { id: string; archive: string; sessionCount: number; fileCount: number };

describe("claude-persist snapshot", () => {
  let server: MessagesServer;
  let home: string;
  let config: string;
  let repo: string;
  let slugDir: string;
  const env = () => ({ HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" });
  const cli = (...args: string[]) => runCli(args, { env: env(), cwd: repo });
  const sessions: string[] = [];

  beforeAll(async () => {
    server = await startMessagesServer({ reply: () => "Here is a longer answer. ".repeat(200) });
    home = tempHome();
    config = path.join(home, ".claude");
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    repo = tempDir("cp-snap-repo-");
    await execa("git", ["init", "-q", "-b", "main"], { cwd: repo });
    slugDir = path.join(config, "projects", encodeProjectSlug(repo));
    // Two real sessions, made by the real CLI (the installed hook records their starts).
    for (const prompt of ["first task", "second task"]) {
      const before = listIds(slugDir);
      const result = await runClaude(["-p", prompt], { cwd: repo, home, apiUrl: server.url });
      expect(result.exitCode, result.stderr).toBe(0);
      sessions.push(...newSessionIds(slugDir, before));
    }
    expect(sessions).toHaveLength(2);
    const [one = "", two = ""] = sessions;
    // What the real CLI writes beside them when tools run: todos, tasks, file history, the project's memory.
    mkdirSync(path.join(config, "todos"), { recursive: true });
    writeFileSync(path.join(config, "todos", `${one}-agent-${one}.json`), `[{"content":"write tests","status":"pending"}]`, { mode: 0o600 });
    writeFileSync(path.join(config, "todos", `${two}-agent-${two}.json`), "[]", { mode: 0o644 });
    mkdirSync(path.join(config, "tasks", one), { recursive: true, mode: 0o755 });
    writeFileSync(path.join(config, "tasks", one, "1.json"), `{"id":"1","subject":"tests"}`);
    mkdirSync(path.join(config, "file-history", two), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(config, "file-history", two, "3f2a9c@v1"), Buffer.from([0, 1, 2, 255, 254, 10]), { mode: 0o644 });
    writeFileSync(path.join(config, "file-history", two, "3f2a9c@v2"), "", { mode: 0o600 });
    mkdirSync(path.join(slugDir, "memory"), { recursive: true });
    writeFileSync(path.join(slugDir, "memory", "MEMORY.md"), "# Notes\n");
    // Another project's data, which no snapshot or restore of this one may touch.
    const other = path.join(config, "projects", "-some-other-project");
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(other, "c0c0c0c0-0000-4000-8000-000000000009.jsonl"), `{"sessionId":"c0c0c0c0-0000-4000-8000-000000000009","cwd":"/some/other/project"}\n`);
    writeFileSync(path.join(config, "todos", "c0c0c0c0-0000-4000-8000-000000000009-agent-c0c0c0c0-0000-4000-8000-000000000009.json"), "[]");
    writeFileSync(
      path.join(config, "persist-state", "work-items.json"),
      JSON.stringify([
        { identifier: "LIN-1", branch: "lin-1-tests", repoPath: repo, title: "Tests" },
        { identifier: "LIN-2", branch: "lin-2-other", repoPath: "/some/other/project", title: "Other" },
      ]),
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  it("round trip: restore puts back every file byte for byte with its mode, keeps newer sessions unless --exact", async () => {
    const before = treeState(config, projectData);
    const otherBefore = treeState(path.join(config, "projects", "-some-other-project"));
    const created = await cli("snapshot", "create", "--json");
    expect(created.exitCode, created.stderr).toBe(0);
    const snapshot = JSON.parse(created.stdout) as Created;
    expect(snapshot.sessionCount).toBe(2);
    // 2 transcripts, 2 todos, 1 task, 2 file-history files, the memory file, 2 session-start records.
    expect(snapshot.fileCount).toBe(10);
    expect(existsSync(snapshot.archive)).toBe(true);
    // GNU tar reads the archive as it is.
    const listed = spawnSync("tar", ["-tzf", snapshot.archive], { encoding: "utf8" });
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(`projects/${encodeProjectSlug(repo)}/${sessions[0]}.jsonl`);

    // Damage: a transcript grows, another goes, a todo goes, a task changes, a mode changes, a work item changes.
    const [one = "", two = ""] = sessions;
    appendFileSync(path.join(slugDir, `${one}.jsonl`), `{"type":"user","garbage":true}\n`);
    rmSync(path.join(slugDir, `${two}.jsonl`));
    rmSync(path.join(config, "todos", `${one}-agent-${one}.json`));
    writeFileSync(path.join(config, "tasks", one, "1.json"), "{}");
    chmodSync(path.join(config, "file-history", two, "3f2a9c@v1"), 0o600);
    rmSync(path.join(config, "file-history", two, "3f2a9c@v2"));
    writeFileSync(path.join(config, "persist-state", "work-items.json"), JSON.stringify([{ identifier: "LIN-2", branch: "lin-2-other", repoPath: "/some/other/project", title: "Other" }]));
    // A session created after the snapshot.
    const beforeThird = listIds(slugDir);
    const third = await runClaude(["-p", "third task"], { cwd: repo, home, apiUrl: server.url });
    expect(third.exitCode, third.stderr).toBe(0);
    const [newer = ""] = newSessionIds(slugDir, beforeThird);
    expect(newer).not.toBe("");

    const restored = await cli("snapshot", "restore", "latest");
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored snapshot ${snapshot.id}`);
    const after = treeState(config, projectData);
    for (const [rel, state] of before) expect(after.get(rel), rel).toBe(state);
    expect(existsSync(path.join(slugDir, `${newer}.jsonl`))).toBe(true);
    expect(existsSync(path.join(config, "persist-state", "session-starts", `${newer}.jsonl`))).toBe(true);
    const items = JSON.parse(readFileSync(path.join(config, "persist-state", "work-items.json"), "utf8")) as Array<{ identifier: string }>;
    expect(items.map((i) => i.identifier).sort()).toEqual(["LIN-1", "LIN-2"]);

    // --exact: the newer session goes too, into the undo snapshot, from which it comes back.
    const exact = await cli("snapshot", "restore", "latest", "--exact", "--json");
    expect(exact.exitCode, exact.stderr).toBe(0);
    const result = JSON.parse(exact.stdout) as { id: string; removed: number; undo: Created };
    expect(result.id).toBe(snapshot.id);
    expect(result.removed).toBe(2); // The newer transcript and its session-start record.
    expect(treeState(config, projectData)).toEqual(before);
    expect(treeState(path.join(config, "projects", "-some-other-project"))).toEqual(otherBefore);
    const inUndo = spawnSync("tar", ["-tzf", result.undo.archive], { encoding: "utf8" });
    expect(inUndo.stdout).toContain(`${newer}.jsonl`);
    const undo = await cli("snapshot", "restore", result.undo.id, "--exact");
    expect(undo.exitCode, undo.stderr).toBe(0);
    expect(existsSync(path.join(slugDir, `${newer}.jsonl`))).toBe(true);

    // Back to the snapshot for the tests that follow.
    expect((await cli("snapshot", "restore", snapshot.id, "--exact")).exitCode).toBe(0);
    expect(treeState(config, projectData)).toEqual(before);
  });

  it("lists snapshots newest first and prunes to the newest N", async () => {
    for (let i = 0; i < 2; i++) expect((await cli("snapshot", "create")).exitCode).toBe(0);
    const listed = JSON.parse((await cli("snapshot", "list", "--json")).stdout) as Array<{ id: string; created: string; sessionCount: number; archiveBytes: number }>;
    expect(listed.length).toBeGreaterThanOrEqual(3);
    const times = listed.map((s) => s.created);
    expect(times).toEqual([...times].sort().reverse());
    expect(listed[0]?.sessionCount).toBe(2);
    const table = await cli("snapshot", "list");
    expect(table.stdout).toContain("SESSIONS");
    expect(table.stdout).toContain(listed[0]?.id ?? "?");

    const pruned = await cli("snapshot", "prune", "--keep", "2", "--json");
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    const { kept, removed } = JSON.parse(pruned.stdout) as { kept: string[]; removed: string[] };
    expect(kept).toEqual(listed.slice(0, 2).map((s) => s.id));
    expect(removed).toEqual(listed.slice(2).map((s) => s.id));
    const left = JSON.parse((await cli("snapshot", "list", "--json")).stdout) as Array<{ id: string }>;
    expect(left.map((s) => s.id)).toEqual(kept);
    expect((await cli("snapshot", "prune", "--keep", "nope")).exitCode).toBe(2);
  });

  it.each([
    ["a byte flipped in the middle", (file: string) => {
      const bytes = readFileSync(file);
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
      writeFileSync(file, bytes);
    }],
    ["truncated", (file: string) => truncateSync(file, Math.floor(statSync(file).size * 0.6))],
    ["truncated to the gzip header", (file: string) => truncateSync(file, 10)],
  ])("refuses a corrupted archive (%s) with one line and changes nothing", async (_name, damage) => {
    const created = JSON.parse((await cli("snapshot", "create", "--json")).stdout) as Created;
    damage(created.archive);
    // Something to put back, so that a restore would change things.
    appendFileSync(path.join(slugDir, `${sessions[0]}.jsonl`), `{"type":"user","later":true}\n`);
    const before = treeState(config);
    const result = await cli("snapshot", "restore", created.id, "--exact");
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^claude-persist snapshot: snapshot \S+ is damaged \(.+\); nothing was restored or changed$/);
    expect(treeState(config)).toEqual(before);
    rmSync(created.archive);
    rmSync(created.archive.replace(/\.tar\.gz$/, ".json"));
  });

  it.each([
    ["a '..' path", [{ name: "projects/../../escaped.txt", body: "owned" }], /climbs out of the archive/],
    ["a leading '..'", [{ name: "../escaped.txt", body: "owned" }], /climbs out of the archive/],
    ["an absolute path", [{ name: "/tmp/escaped.txt", body: "owned" }], /absolute path/],
    ["a symlink", [{ name: "projects/x/link", type: "2", linkname: "/etc/passwd" }], /symbolic link/],
    ["a device", [{ name: "projects/x/dev", type: "3" }], /character device/],
    ["a file outside what a snapshot holds", [{ name: "settings.json", body: "{}" }], /outside what a snapshot holds/],
  ])("refuses a hand-made archive with %s", async (_name, entries, reason) => {
    const dir = path.join(config, "persist-state", "snapshots", encodeProjectSlug(repo));
    mkdirSync(dir, { recursive: true });
    const archive = path.join(dir, "2000-01-01T00-00-00-000Z.tar.gz");
    writeFileSync(archive, handMadeArchive(entries));
    const before = treeState(home);
    const result = await cli("snapshot", "restore", "2000-01-01T00-00-00-000Z");
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(reason);
    expect(treeState(home)).toEqual(before);
    expect(existsSync(path.join(home, "escaped.txt"))).toBe(false);
    expect(existsSync(path.join(config, "escaped.txt"))).toBe(false);
    rmSync(archive);
  });

  describe("while a Claude session of the project is live", () => {
    let sleeper: ChildProcess;
    const record = (pid: number, fields: Record<string, unknown>) => {
      mkdirSync(path.join(config, "sessions"), { recursive: true });
      const file = path.join(config, "sessions", `${pid}.json`);
      // As Claude Code 2.1.330 writes it while a session runs (and deletes it when the session ends).
      writeFileSync(file, JSON.stringify({ pid, sessionId: sessions[0], cwd: repo, startedAt: Date.now(), procStart: processStartTime(pid), version: "2.1.330", kind: "interactive", entrypoint: "cli", pidDomain: pidDomain(), status: "idle", ...fields }));
      return file;
    };

    beforeAll(async () => {
      sleeper = spawn("sleep", ["600"], { stdio: "ignore" });
      await new Promise((resolve) => sleeper.once("spawn", resolve));
    });

    afterAll(() => {
      sleeper.kill();
    });

    it("refuses to restore, with one line, changing nothing", async () => {
      expect((await cli("snapshot", "create")).exitCode).toBe(0);
      const pid = sleeper.pid ?? 0;
      const file = record(pid, {});
      const before = treeState(config);
      const result = await cli("snapshot", "restore", "latest");
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(`a Claude session of this project is running (pid ${pid}, session ${sessions[0]}`);
      expect(treeState(config)).toEqual(before);
      rmSync(file);
    });

    it("finds it by its folder when the session is new, also from a subfolder", async () => {
      mkdirSync(path.join(repo, "src"), { recursive: true });
      const pid = sleeper.pid ?? 0;
      const file = record(pid, { sessionId: "11111111-2222-4333-8444-555555555555", cwd: path.join(repo, "src") });
      const result = await cli("snapshot", "restore", "latest");
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain("is running");
      rmSync(file);
    });

    it("is not stopped by a dead session's record, a reused pid, or another project's live session", async () => {
      const dead = spawnSync("true").pid ?? 999_999;
      const files = [
        record(dead, {}),
        // This test's own pid is alive, but it started at another time than the record says: a reused pid.
        record(process.pid, { procStart: "1" }),
        record(sleeper.pid ?? 0, { sessionId: "99999999-0000-4000-8000-000000000000", cwd: "/some/other/project" }),
      ];
      const result = await cli("snapshot", "restore", "latest");
      expect(result.exitCode, result.stderr).toBe(0);
      for (const file of files) rmSync(file);
    });
  });

  it("takes a pre-merge snapshot before /dev-open merges a container-only slug folder, and restoring it undoes the merge", async () => {
    const containerPath = "/workspaces/snapshot-app";
    const containerDir = path.join(config, "projects", encodeProjectSlug(containerPath));
    const id = "c0c0c0c0-0000-4000-8000-00000000000c";
    mkdirSync(containerDir, { recursive: true });
    writeFileSync(path.join(containerDir, `${id}.jsonl`), `{"sessionId":"${id}","cwd":"${containerPath}"}\n`, { mode: 0o600 });
    const before = treeState(config, projectData);

    const mapped = await mapProject(env(), { hostPath: repo, containerPath });
    expect(mapped.merged).toEqual([`${id}.jsonl`]);
    expect(lstatSync(containerDir).isSymbolicLink()).toBe(true);
    const listed = JSON.parse((await cli("snapshot", "list", "--json")).stdout) as Array<{ id: string; kind: string; slugs: string[] }>;
    const preMerge = listed.find((s) => s.kind === "pre-merge");
    expect(preMerge?.slugs).toContain(encodeProjectSlug(containerPath));

    const restored = await cli("snapshot", "restore", preMerge?.id ?? "?", "--exact");
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(lstatSync(containerDir).isDirectory()).toBe(true);
    expect(treeState(config, projectData)).toEqual(before);
  });
});

describe("running sessions", () => {
  const linux = { platform: "linux", machineIdFile: "/etc/machine-id", pidNamespaceLink: "/proc/self/ns/pid" } as const;

  it("names the pid domain as Claude Code does: '' for a missing machine-id or namespace, plain 'linux' elsewhere", () => {
    const missing = path.join(tempDir("cp-mid-"), "machine-id");
    const namespace = readlinkSync("/proc/self/ns/pid");
    expect(pidDomain({ ...linux, machineIdFile: missing })).toBe(`linux::${namespace}`);
    expect(pidDomain({ ...linux, machineIdFile: missing, pidNamespaceLink: missing })).toBe("linux::");
    expect(pidDomain({ ...linux, platform: "darwin" })).toBe("linux");
  });

  it("without /etc/machine-id, a record from another pid domain is still a session that may run, not a dead local pid", () => {
    const home = tempHome();
    const dir = path.join(home, ".claude", "sessions");
    mkdirSync(dir);
    const dead = spawnSync("true").pid ?? 999_999;
    const file = path.join(dir, `${dead}.json`);
    writeFileSync(file, JSON.stringify({ pid: dead, sessionId: "s1", cwd: "/workspaces/app", pidDomain: "linux:0123abcd:pid:[4026532999]" }));
    const here = pidDomain({ ...linux, machineIdFile: path.join(home, "no-machine-id") });
    expect(runningSessions({ HOME: home }, here)).toEqual([{ pid: dead, sessionId: "s1", cwd: "/workspaces/app", file, state: "unknown" }]);
  });
});

describe("tar", () => {
  it("round-trips long paths (pax), empty and binary files, modes, and GNU tar reads them", async () => {
    const dir = tempDir("cp-tar-");
    const long = `projects/${"-x".repeat(110)}-sn3264/${"a".repeat(36)}.jsonl`;
    const entries: TarEntry[] = [
      { type: "dir", path: "projects", mode: 0o700, mtimeMs: 0 },
      { type: "file", path: long, mode: 0o600, mtimeMs: 1_700_000_000_000, size: 5, source: { bytes: Buffer.from("long\n") } },
      { type: "file", path: "todos/empty.json", mode: 0o644, mtimeMs: 0, size: 0, source: { bytes: Buffer.alloc(0) } },
      { type: "file", path: "tasks/ünï côde/blob", mode: 0o640, mtimeMs: 0, size: 1025, source: { bytes: Buffer.alloc(1025, 0xfe) } },
    ];
    const archive = path.join(dir, "a.tar.gz");
    await writeTarGz(archive, entries);
    const read: Array<{ path: string; mode: number; bytes: string }> = [];
    await readTarGz(archive, (entry) => {
      if (entry.type === "dir") {
        read.push({ path: entry.path, mode: entry.mode, bytes: "" });
        return undefined;
      }
      const chunks: Buffer[] = [];
      return { write: (c) => chunks.push(Buffer.from(c)), end: () => read.push({ path: entry.path, mode: entry.mode, bytes: Buffer.concat(chunks).toString("hex") }) };
    });
    expect(read).toEqual(
      entries.map((e) => ({ path: e.path, mode: e.mode, bytes: e.type === "file" && "bytes" in e.source ? Buffer.from(e.source.bytes).toString("hex") : "" })),
    );
    const out = path.join(dir, "out");
    mkdirSync(out);
    expect(spawnSync("tar", ["-xzf", archive, "-C", out]).status).toBe(0);
    expect(readFileSync(path.join(out, long), "utf8")).toBe("long\n");
    expect(statSync(path.join(out, "tasks/ünï côde/blob")).size).toBe(1025);
  });

  it("refuses to write an unsafe path", async () => {
    const dir = tempDir("cp-tar-");
    await expect(writeTarGz(path.join(dir, "b.tar.gz"), [{ type: "dir", path: "a/../../b", mode: 0o700, mtimeMs: 0 }])).rejects.toThrow(/climbs out/);
  });
});
