import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  appendFileSync,
  symlinkSync,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
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
import { mapProject } from "../src/devcontainer/mapping.ts";
import type { SnapshotProject } from "../src/snapshot/format.ts";
import { withSnapshotLock } from "../src/snapshot/project.ts";
import { readTarGz } from "../src/snapshot/tar-read.ts";
import { writeTarGz, type TarEntry } from "../src/snapshot/tar.ts";
import { startMessagesServer, type MessagesServer } from "./support/messages-server.ts";
import { runClaude, runCli, tempDir, tempHome } from "./support/claude.ts";

/** Every entry under `root`: type, mode (unless `modes` is false) and content hash (or link target), by relative path. */
function treeState(root: string, keep: (rel: string) => boolean = () => true, modes = true): Map<string, string> {
  const state = new Map<string, string>();
  const visit = (rel: string) => {
    const abs = path.join(root, rel);
    const stats = lstatSync(abs);
    const mode = modes ? (stats.mode & 0o7777).toString(8) : "";
    if (rel && !keep(rel)) return;
    if (stats.isSymbolicLink()) state.set(rel, `link -> ${readlinkSync(abs)}`);
    else if (stats.isFile())
      state.set(rel, `file ${mode} ${createHash("sha256").update(readFileSync(abs)).digest("hex")}`);
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
const projectData = (rel: string) =>
  rel === "persist-state" || PROJECT_ROOTS.some((root) => rel === root || rel.startsWith(`${root}/`));

function newSessionIds(dir: string, before: Set<string>): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl") && !before.has(f.slice(0, -".jsonl".length)))
    .map((f) => f.slice(0, -".jsonl".length));
}

function listIds(dir: string): Set<string> {
  return existsSync(dir)
    ? new Set(
        readdirSync(dir)
          .filter((f) => f.endsWith(".jsonl"))
          .map((f) => f.slice(0, -".jsonl".length)),
      )
    : new Set();
}

/** A ustar header made by hand, independent of src/snapshot/tar.ts: the archives an attacker would make. */
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
  return gzipSync(handMadeArchiveRaw(entries));
}

function handMadeArchiveRaw(entries: Array<{ name: string; type?: string; body?: string; linkname?: string }>): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? "");
    parts.push(ustarHeader(entry.name, entry.type ?? "0", body.length, entry.linkname));
    parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

type Created = { id: string; archive: string; sessionCount: number; fileCount: number };

/**
 * A process that races a restore, as one in a dev container would: `body` runs in a loop-friendly scope with
 * `fs`, `path`, `args`, `list(dir)` and `deadline`. It starts before the restore does (it says when it is ready).
 */
async function startRacer(body: string, args: string[], runMs = 120_000): Promise<{ stop(): Promise<void> }> {
  const script = `const fs = require("node:fs"); const path = require("node:path");
    const args = process.argv.slice(1); const deadline = Date.now() + ${runMs};
    const list = (dir) => { try { return fs.readdirSync(dir); } catch { return []; } };
    fs.writeSync(1, "ready\\n");
    ${body}`;
  const child = spawn(process.execPath, ["-e", script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`the racer exited ${code} before it was ready`)));
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    // Once the restore is over: the racer's last move, or its end.
    async stop() {
      await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 2_000))]);
      child.kill();
    },
  };
}

/** A work item as /start-work records it. */
function workItem(identifier: string, branch: string, repoPath: string, title: string) {
  return {
    identifier,
    title,
    url: null,
    branch,
    repoPath,
    worktreePath: null,
    time: "2026-05-01T09:00:00.000Z",
    linearAsked: false,
  };
}

type CraftedFile = { path: string; body?: string; mode?: number };
type CraftedManifest = {
  slugs: string[];
  /** Listed in the manifest, not in the archive; and the other way round. */
  manifestOnly?: CraftedFile[];
  archiveOnly?: CraftedFile[];
  sessions?: Array<{ id: string; slug: string; bytes: number }>;
  directories?: Array<{ path: string; mode: number }>;
  files?: CraftedFile[];
  state?: { mappings?: unknown[]; workItems?: unknown[] };
};

/** A well-formed snapshot archive with a valid manifest, holding what a container could plant in persist-state/. */
async function craftSnapshot(
  archive: string,
  project: { path: string; slug: string },
  m: CraftedManifest,
): Promise<void> {
  const withBytes = (list: CraftedFile[] = []) => list.map((f) => ({ ...f, bytes: Buffer.from(f.body ?? "") }));
  const files = withBytes(m.files);
  const listed = [...files, ...withBytes(m.manifestOnly)];
  const archived = [...files, ...withBytes(m.archiveOnly)];
  const directories = (m.directories ?? []).map((d) => ({ ...d, mtimeMs: 0 }));
  const manifest = {
    format: 1,
    id: path.basename(archive, ".tar.gz"),
    kind: "manual",
    created: "2000-01-01T00:00:00.000Z",
    project,
    environment: { kind: "container", machine: "crafted" },
    claudePersistVersion: "0.1.0",
    slugs: m.slugs,
    sessionCount: m.sessions?.length ?? 0,
    fileCount: files.length,
    bytes: files.reduce((sum, f) => sum + f.bytes.length, 0),
    sessions: m.sessions ?? [],
    directories,
    files: listed.map((f) => ({
      path: f.path,
      size: f.bytes.length,
      mode: f.mode ?? 0o600,
      mtimeMs: 0,
      sha256: createHash("sha256").update(f.bytes).digest("hex"),
    })),
    state: { mappings: m.state?.mappings ?? [], workItems: m.state?.workItems ?? [] },
  };
  const body = Buffer.from(JSON.stringify(manifest));
  const entries: TarEntry[] = [
    ...directories.map((d): TarEntry => ({ type: "dir", path: d.path, mode: d.mode, mtimeMs: 0 })),
    ...archived.map(
      (f): TarEntry => ({
        type: "file",
        path: f.path,
        mode: 0o600,
        mtimeMs: 0,
        size: f.bytes.length,
        source: { bytes: f.bytes },
      }),
    ),
    {
      type: "file",
      path: ".claude-persist/manifest.json",
      mode: 0o600,
      mtimeMs: 0,
      size: body.length,
      source: { bytes: body },
    },
  ];
  mkdirSync(path.dirname(archive), { recursive: true });
  await writeTarGz(archive, entries);
}

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
    writeFileSync(
      path.join(config, "todos", `${one}-agent-${one}.json`),
      `[{"content":"write tests","status":"pending"}]`,
      { mode: 0o600 },
    );
    writeFileSync(path.join(config, "todos", `${two}-agent-${two}.json`), "[]", { mode: 0o644 });
    mkdirSync(path.join(config, "tasks", one), { recursive: true, mode: 0o755 });
    writeFileSync(path.join(config, "tasks", one, "1.json"), `{"id":"1","subject":"tests"}`);
    mkdirSync(path.join(config, "file-history", two), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(config, "file-history", two, "3f2a9c@v1"), Buffer.from([0, 1, 2, 255, 254, 10]), {
      mode: 0o644,
    });
    writeFileSync(path.join(config, "file-history", two, "3f2a9c@v2"), "", { mode: 0o600 });
    mkdirSync(path.join(slugDir, "memory"), { recursive: true });
    writeFileSync(path.join(slugDir, "memory", "MEMORY.md"), "# Notes\n");
    // Another project's data, which no snapshot or restore of this one may touch.
    const other = path.join(config, "projects", "-some-other-project");
    mkdirSync(other, { recursive: true });
    writeFileSync(
      path.join(other, "c0c0c0c0-0000-4000-8000-000000000009.jsonl"),
      `{"sessionId":"c0c0c0c0-0000-4000-8000-000000000009","cwd":"/some/other/project"}\n`,
    );
    writeFileSync(
      path.join(
        config,
        "todos",
        "c0c0c0c0-0000-4000-8000-000000000009-agent-c0c0c0c0-0000-4000-8000-000000000009.json",
      ),
      "[]",
    );
    writeFileSync(
      path.join(config, "persist-state", "work-items.json"),
      JSON.stringify([
        workItem("LIN-1", "lin-1-tests", repo, "Tests"),
        workItem("LIN-2", "lin-2-other", "/some/other/project", "Other"),
      ]),
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  it("round trip: restore puts back every file byte for byte (as 0600), keeps newer sessions unless --exact", async () => {
    const before = treeState(config, projectData, false);
    const otherBefore = treeState(path.join(config, "projects", "-some-other-project"));
    const created = await cli("snapshot", "create", "--json");
    expect(created.exitCode, created.stderr).toBe(0);
    const snapshot = JSON.parse(created.stdout) as Created;
    expect(snapshot.sessionCount).toBe(2);
    // 2 transcripts, 2 todos, 1 task, 2 file-history files, the memory file, 2 session-start records.
    expect(snapshot.fileCount).toBe(10);
    expect(existsSync(snapshot.archive)).toBe(true);
    // In the host-only folder, which no container mounts.
    expect(path.dirname(snapshot.archive)).toBe(
      path.join(config, "persist-host", "snapshots", encodeProjectSlug(repo)),
    );
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
    writeFileSync(
      path.join(config, "persist-state", "work-items.json"),
      JSON.stringify([workItem("LIN-2", "lin-2-other", "/some/other/project", "Other")]),
    );
    // A session created after the snapshot.
    const beforeThird = listIds(slugDir);
    const third = await runClaude(["-p", "third task"], { cwd: repo, home, apiUrl: server.url });
    expect(third.exitCode, third.stderr).toBe(0);
    const [newer = ""] = newSessionIds(slugDir, beforeThird);
    expect(newer).not.toBe("");

    const restored = await cli("snapshot", "restore", "latest");
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored snapshot ${snapshot.id}`);
    const after = treeState(config, projectData, false);
    for (const [rel, state] of before) expect(after.get(rel), rel).toBe(state);
    // Modes are never taken from a snapshot: what it puts back is the user's alone (it was 0644).
    expect(statSync(path.join(config, "file-history", two, "3f2a9c@v1")).mode & 0o777).toBe(0o600);
    expect(existsSync(path.join(slugDir, `${newer}.jsonl`))).toBe(true);
    expect(existsSync(path.join(config, "persist-state", "session-starts", `${newer}.jsonl`))).toBe(true);
    const items = JSON.parse(readFileSync(path.join(config, "persist-state", "work-items.json"), "utf8")) as Array<{
      identifier: string;
    }>;
    expect(items.map((i) => i.identifier).sort()).toEqual(["LIN-1", "LIN-2"]);

    // --exact: the newer session goes too, into the undo snapshot, from which it comes back.
    const exact = await cli("snapshot", "restore", "latest", "--exact", "--json");
    expect(exact.exitCode, exact.stderr).toBe(0);
    const result = JSON.parse(exact.stdout) as { id: string; removed: number; undo: { id: string; folder: string } };
    expect(result.id).toBe(snapshot.id);
    expect(result.removed).toBe(2); // The newer transcript and its session-start record.
    expect(treeState(config, projectData, false)).toEqual(before);
    expect(treeState(path.join(config, "projects", "-some-other-project"))).toEqual(otherBefore);
    // The undo is the replaced files themselves, moved aside (not compressed again) in the host-only folder.
    const movedAside = path.join(result.undo.folder, "files", "projects", encodeProjectSlug(repo), `${newer}.jsonl`);
    expect(readFileSync(movedAside, "utf8")).toContain(newer);
    const undo = await cli("snapshot", "restore", result.undo.id);
    expect(undo.exitCode, undo.stderr).toBe(0);
    expect(existsSync(path.join(slugDir, `${newer}.jsonl`))).toBe(true);
    const withNewer = treeState(config, projectData, false);
    // Used up: its files are back in place, and the undo of the undo holds what that replaced.
    expect(existsSync(result.undo.folder)).toBe(false);
    const again = JSON.parse((await cli("snapshot", "restore", "latest", "--exact", "--json")).stdout) as {
      undo: { id: string };
    };
    expect(treeState(config, projectData, false)).toEqual(before);
    expect((await cli("snapshot", "restore", again.undo.id)).exitCode).toBe(0);
    expect(treeState(config, projectData, false)).toEqual(withNewer);

    // Back to the snapshot for the tests that follow.
    expect((await cli("snapshot", "restore", snapshot.id, "--exact")).exitCode).toBe(0);
    expect(treeState(config, projectData, false)).toEqual(before);
  });

  it("undoes a restore that put back a session's files whose transcript had gone", async () => {
    const [one = ""] = sessions;
    const transcript = path.join(slugDir, `${one}.jsonl`);
    const task = path.join(config, "tasks", one, "1.json");
    const created = JSON.parse((await cli("snapshot", "create", "--json")).stdout) as Created;
    const kept = path.join(tempDir("cp-kept-"), "transcript.jsonl");
    renameSync(transcript, kept);
    const taskThen = readFileSync(task, "utf8");
    writeFileSync(task, `{"id":"1","subject":"changed since"}`);
    const restored = await cli("snapshot", "restore", created.id, "--json");
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(readFileSync(task, "utf8")).toBe(taskThen);
    const undo = await cli("snapshot", "restore", (JSON.parse(restored.stdout) as { undo: { id: string } }).undo.id);
    expect(undo.exitCode, undo.stderr).toBe(0);
    expect(readFileSync(task, "utf8")).toBe(`{"id":"1","subject":"changed since"}`);
    expect(existsSync(transcript)).toBe(false);
    renameSync(kept, transcript);
    writeFileSync(task, taskThen);
  });

  it("lists snapshots newest first and prunes to the newest N", async () => {
    for (let i = 0; i < 2; i++) expect((await cli("snapshot", "create")).exitCode).toBe(0);
    const listed = (
      JSON.parse((await cli("snapshot", "list", "--json")).stdout) as {
        snapshots: Array<{ id: string; kind: string; created: string; sessionCount: number; archiveBytes: number }>;
      }
    ).snapshots;
    expect(listed.length).toBeGreaterThanOrEqual(3);
    const times = listed.map((s) => s.created);
    expect(times).toEqual([...times].sort().reverse());
    expect(listed[0]?.sessionCount).toBe(2);
    const table = await cli("snapshot", "list");
    expect(table.stdout).toContain("SESSIONS");
    expect(table.stdout).toContain(listed[0]?.id ?? "?");

    // Empty, blank, zero or not a number: refused before anything is deleted (Number("") is 0).
    for (const bad of [
      ["--keep="],
      ["--keep", " "],
      ["--keep", "0"],
      ["--keep", "nope"],
      ["--keep", "1.5"],
      ["--keep", "-1"],
    ]) {
      const refused = await cli("snapshot", "prune", ...bad);
      expect(refused.exitCode, bad.join(" ")).toBe(2);
      expect(refused.stderr.trimEnd().split("\n"), bad.join(" ")).toHaveLength(1);
      expect(refused.stderr).toContain("--keep");
    }
    expect(
      (JSON.parse((await cli("snapshot", "list", "--json")).stdout) as { snapshots: unknown[] }).snapshots.length,
    ).toBe(listed.length);

    // The round trip's restores made pre-restore snapshots: they do not count against N, and the newest stays.
    const pruned = await cli("snapshot", "prune", "--keep", "2", "--json");
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    const { kept, removed } = JSON.parse(pruned.stdout) as { kept: string[]; removed: string[] };
    const manual = listed.filter((s) => s.kind === "manual");
    const preRestore = listed.filter((s) => s.kind === "pre-restore");
    expect(preRestore.length).toBeGreaterThan(1);
    expect(kept).toEqual(
      listed
        .filter((s) => s.id === preRestore[0]?.id || manual.slice(0, 2).some((m) => m.id === s.id))
        .map((s) => s.id),
    );
    expect(removed).toEqual(listed.filter((s) => !kept.includes(s.id)).map((s) => s.id));
    const left = (JSON.parse((await cli("snapshot", "list", "--json")).stdout) as { snapshots: Array<{ id: string }> })
      .snapshots;
    expect(left.map((s) => s.id)).toEqual(kept);
  });

  it("prune --keep 1 after create and restore keeps the user's snapshot, not only the restore's undo", async () => {
    const created = JSON.parse((await cli("snapshot", "create", "--json")).stdout) as Created;
    const restored = await cli("snapshot", "restore", created.id, "--json");
    expect(restored.exitCode, restored.stderr).toBe(0);
    const undo = (JSON.parse(restored.stdout) as { undo: { id: string } }).undo;
    const pruned = await cli("snapshot", "prune", "--keep", "1", "--json");
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect((JSON.parse(pruned.stdout) as { kept: string[] }).kept).toEqual([undo.id, created.id]);
    expect(existsSync(created.archive)).toBe(true);
  });

  it("restore without --exact puts back the snapshot's entry for an issue restarted on another branch, not a second one", async () => {
    const file = path.join(config, "persist-state", "work-items.json");
    const saved = readFileSync(file, "utf8");
    const created = JSON.parse((await cli("snapshot", "create", "--json")).stdout) as Created;
    // What /start-work LIN-1 on another branch leaves: the issue's entry replaced, not a second one.
    writeFileSync(
      file,
      JSON.stringify([
        workItem("LIN-1", "lin-1-again", repo, "Tests"),
        workItem("LIN-2", "lin-2-other", "/some/other/project", "Other"),
      ]),
    );
    const restored = await cli("snapshot", "restore", created.id);
    expect(restored.exitCode, restored.stderr).toBe(0);
    const items = JSON.parse(readFileSync(file, "utf8")) as Array<{ identifier: string; branch: string }>;
    expect(items.filter((i) => i.identifier === "LIN-1").map((i) => i.branch)).toEqual(["lin-1-tests"]);
    writeFileSync(file, saved);
  });

  it.each([
    [
      "a byte flipped in the middle",
      (file: string) => {
        const bytes = readFileSync(file);
        const middle = Math.floor(bytes.length / 2);
        bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
        writeFileSync(file, bytes);
      },
    ],
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
    expect(result.stderr).toMatch(
      /^claude-persist snapshot: snapshot \S+ is damaged \(.+\); nothing was restored or changed$/,
    );
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
    const dir = path.join(config, "persist-host", "snapshots", encodeProjectSlug(repo));
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

  describe("a crafted but well-formed archive", () => {
    const id = "2000-01-02T00-00-00-000Z";
    const archive = () => path.join(config, "persist-host", "snapshots", encodeProjectSlug(repo), `${id}.tar.gz`);
    const craft = (m: CraftedManifest) => craftSnapshot(archive(), { path: repo, slug: encodeProjectSlug(repo) }, m);
    const mine = () => encodeProjectSlug(repo);
    const session = () => ({ id: sessions[0] ?? "", slug: mine(), bytes: 1 });

    it.each<[string, () => CraftedManifest, RegExp]>([
      [
        "a file in another project's slug folder",
        () => ({
          slugs: [mine()],
          files: [
            { path: "projects/-some-other-project/c0c0c0c0-0000-4000-8000-000000000009.jsonl", body: "overwritten\n" },
          ],
        }),
        /'projects\/-some-other-project\/c0c0c0c0-0000-4000-8000-000000000009\.jsonl'/,
      ],
      [
        "another project's slug in its slug list",
        () => ({ slugs: [mine(), "-some-other-project"] }),
        /the slug folder '-some-other-project'/,
      ],
      [
        "a slug that climbs out of projects/",
        () => ({ slugs: ["../../precious-link"] }),
        /the slug folder '\.\.\/\.\.\/precious-link'/,
      ],
      [
        "another session's todo",
        () => ({
          slugs: [mine()],
          sessions: [session()],
          files: [
            {
              path: "todos/c0c0c0c0-0000-4000-8000-000000000009-agent-c0c0c0c0-0000-4000-8000-000000000009.json",
              body: "[]",
            },
          ],
        }),
        /todos\/c0c0c0c0/,
      ],
      [
        "a file beside the session folders",
        () => ({ slugs: [mine()], sessions: [session()], files: [{ path: "tasks/evil.json", body: "{}" }] }),
        /'tasks\/evil\.json'/,
      ],
      [
        "a mapping this version cannot read",
        () => ({ slugs: [mine()], state: { mappings: [{ hostPath: 42, containerPath: "/workspaces/x" }] } }),
        /the mapping \{"hostPath":42/,
      ],
      [
        "a mapping of another project",
        () => ({
          slugs: [mine()],
          state: {
            mappings: [
              {
                hostPath: "/some/other/project",
                hostSlug: "-some-other-project",
                containerPath: "/workspaces/x",
                containerSlug: "-workspaces-x",
                time: "2026-05-01T00:00:00.000Z",
              },
            ],
          },
        }),
        /the mapping/,
      ],
      [
        "an unreadable work item",
        () => ({ slugs: [mine()], state: { workItems: [{ identifier: "LIN-9", repoPath: repo }] } }),
        /the work item/,
      ],
    ])("with %s is refused with one line naming it, changing nothing", async (_name, manifest, named) => {
      const precious = path.join(home, "precious-link");
      symlinkSync(tempDir("cp-precious-"), precious);
      await craft(manifest());
      const before = treeState(home);
      const result = await cli("snapshot", "restore", id, "--exact");
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(
        /^claude-persist snapshot: snapshot \S+ holds .+, which is not this project's data; nothing was restored or changed$/,
      );
      expect(result.stderr).toMatch(named);
      expect(treeState(home)).toEqual(before);
      expect(
        readFileSync(
          path.join(config, "projects", "-some-other-project", "c0c0c0c0-0000-4000-8000-000000000009.jsonl"),
          "utf8",
        ),
      ).not.toContain("overwritten");
      rmSync(archive());
      rmSync(precious);
    });

    it("never applies the manifest's modes (0777, 000, setuid): files get 0600 and new folders 0700", async () => {
      const folder = `projects/${mine()}/crafted`;
      await craft({
        slugs: [mine()],
        directories: [
          { path: folder, mode: 0o3777 },
          { path: `${folder}/locked`, mode: 0 },
        ],
        files: [
          { path: `${folder}/tool`, body: "#!/bin/sh\n", mode: 0o4777 },
          { path: `${folder}/open.md`, body: "anyone\n", mode: 0o777 },
          { path: `${folder}/locked/none.md`, body: "no one\n", mode: 0 },
        ],
      });
      const result = await cli("snapshot", "restore", id);
      expect(result.exitCode, result.stderr).toBe(0);
      for (const file of ["tool", "open.md", "locked/none.md"])
        expect(statSync(path.join(config, folder, file)).mode & 0o7777, file).toBe(0o600);
      expect(readFileSync(path.join(config, folder, "locked", "none.md"), "utf8")).toBe("no one\n");
      for (const dir of ["", "locked"]) expect(statSync(path.join(config, folder, dir)).mode & 0o7777, dir).toBe(0o700);
      rmSync(path.join(config, folder), { recursive: true });
      rmSync(archive());
    });

    it("listing a file twice in its manifest (and an unlisted one in the archive) is refused before anything changes", async () => {
      const twice = `projects/${mine()}/memory/twice.md`;
      await craft({
        slugs: [mine()],
        files: [{ path: twice, body: "one\n" }],
        manifestOnly: [{ path: twice, body: "one\n" }],
        archiveOnly: [{ path: `projects/${mine()}/memory/extra.md`, body: "two\n" }],
      });
      appendFileSync(path.join(slugDir, `${sessions[0]}.jsonl`), `{"type":"user","later":true}\n`);
      const before = treeState(home);
      const result = await cli("snapshot", "restore", id, "--exact");
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(`its manifest lists '${twice}' twice`);
      expect(result.stderr).toContain("nothing was restored or changed");
      expect(treeState(home)).toEqual(before);
      rmSync(archive());
    });

    it("is refused before anything changes when a folder stands where it puts a file", async () => {
      const target = `projects/${mine()}/memory/MEMORY.md`;
      const blocker = path.join(config, "projects", mine(), "memory", "notes");
      await craft({
        slugs: [mine()],
        files: [
          { path: `projects/${mine()}/memory/ok.md`, body: "fine\n" },
          { path: `projects/${mine()}/memory/notes`, body: "a file\n" },
          { path: target, body: "# Other\n" },
        ],
      });
      mkdirSync(blocker);
      writeFileSync(path.join(blocker, "keep.md"), "keep\n");
      const before = treeState(home);
      const result = await cli("snapshot", "restore", id);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(`${blocker} is a folder where the snapshot has a file`);
      expect(result.stderr).toContain("nothing was restored or changed");
      expect(treeState(home)).toEqual(before);
      rmSync(blocker, { recursive: true });
      rmSync(archive());
    });
  });

  describe("a container racing the restore", () => {
    let saved: Created;
    let outside: string;
    const big = () => path.join(config, "file-history", sessions[1] ?? "", "big.bin");
    const snapshotDirs = () => [
      path.join(config, "persist-host", "snapshots", encodeProjectSlug(repo)),
      path.join(config, "persist-state", "snapshots", encodeProjectSlug(repo)),
    ];

    beforeAll(async () => {
      saved = JSON.parse((await cli("snapshot", "create", "--json")).stdout) as Created;
      // Incompressible data the snapshot lacks: what a pre-restore copy would take long to compress.
      writeFileSync(big(), randomBytes(40 * 1024 * 1024));
    });

    afterAll(async () => {
      rmSync(big(), { force: true });
      expect((await cli("snapshot", "restore", saved.id, "--exact")).exitCode).toBe(0);
    });

    it("swapping tasks/<id> for a link while it runs gets nothing written or chmod'ed outside ~/.claude", async () => {
      outside = tempDir("cp-outside-");
      chmodSync(outside, 0o700);
      const tasks = path.join(config, "tasks", sessions[0] ?? "");
      // Swaps the folder for a link once the restore is past its checks: when its undo appears, or while an
      // undo snapshot is being compressed.
      const racer = await startRacer(
        `const [tasks, outside, ...dirs] = args;
        const known = new Set(dirs.flatMap(list));
        while (Date.now() < deadline) {
          for (const dir of dirs) for (const name of list(dir)) {
            if (known.has(name) || !name.includes("pre-restore")) continue;
            let stats; try { stats = fs.statSync(path.join(dir, name)); } catch { continue; }
            if (stats.isDirectory() || stats.size > 2 * 1024 * 1024) {
              fs.renameSync(tasks, tasks + ".moved");
              fs.symlinkSync(outside, tasks);
              process.exit(0);
            }
          }
        }`,
        [tasks, outside, ...snapshotDirs()],
      );
      const result = await cli("snapshot", "restore", saved.id);
      await racer.stop();
      expect(readdirSync(outside)).toEqual([]);
      expect(statSync(outside).mode & 0o7777).toBe(0o700);
      // Refused at the write (the restore says how to undo what it did), or written to the real folder it holds.
      if (result.exitCode !== 0)
        expect(result.stderr).toMatch(
          /stopped half-way \(.*no longer a folder.*\); put everything back as it was with 'claude-persist snapshot restore \S+-pre-restore'/,
        );
      rmSync(tasks);
      renameSync(`${tasks}.moved`, tasks);
    });

    it("a decoy written into the staged files is not what gets restored", async () => {
      const [one = ""] = sessions;
      const transcript = path.join(slugDir, `${one}.jsonl`);
      const [, legacy = ""] = snapshotDirs();
      mkdirSync(legacy, { recursive: true });
      const savedTranscript = readFileSync(transcript);
      appendFileSync(transcript, `{"type":"user","later":true}\n`);
      const racer = await startRacer(
        `const [legacy, rel] = args;
        while (Date.now() < deadline) {
          for (const name of list(legacy)) {
            if (!name.startsWith(".restore-")) continue;
            try { fs.writeFileSync(path.join(legacy, name, rel), '{"type":"user","decoy":true}\\n'); } catch {}
          }
        }`,
        [legacy, path.join("projects", encodeProjectSlug(repo), `${one}.jsonl`)],
        5_000,
      );
      const result = await cli("snapshot", "restore", saved.id);
      await racer.stop();
      expect(result.exitCode, result.stderr).toBe(0);
      expect(readFileSync(transcript)).toEqual(savedTranscript);
    });

    it("a summary planted in the old shared folder cannot claim the user's snapshot id, be 'latest' or push it out of prune", async () => {
      const memory = path.join(slugDir, "memory", "MEMORY.md");
      const mine = JSON.parse((await cli("snapshot", "create", "--json")).stdout) as Created & { created: string };
      const saidThen = readFileSync(memory, "utf8");
      const [, legacy = ""] = snapshotDirs();
      mkdirSync(legacy, { recursive: true });
      const planted = path.join(legacy, "2099-01-01T00-00-00-000Z.tar.gz");
      const slug = encodeProjectSlug(repo);
      try {
        await craftSnapshot(
          planted,
          { path: repo, slug },
          { slugs: [slug], files: [{ path: `projects/${slug}/memory/MEMORY.md`, body: "# planted\n" }] },
        );
        const listed = (
          JSON.parse((await cli("snapshot", "list", "--json")).stdout) as { snapshots: Array<Record<string, unknown>> }
        ).snapshots;
        const summary = listed.find((s) => s.id === mine.id);
        writeFileSync(
          planted.replace(/\.tar\.gz$/, ".json"),
          JSON.stringify({ ...summary, created: "2099-01-01T00:00:00.000Z" }),
        );
        writeFileSync(memory, "# changed since\n");

        const result = await cli("snapshot", "restore", mine.id);
        expect(result.exitCode, result.stderr).toBe(0);
        expect(readFileSync(memory, "utf8")).toBe(saidThen);
        const ids = (
          JSON.parse((await cli("snapshot", "list", "--json")).stdout) as { snapshots: Array<{ id: string }> }
        ).snapshots.map((s) => s.id);
        expect(ids.filter((id) => id === mine.id)).toHaveLength(1);
        expect(ids).toContain("2099-01-01T00-00-00-000Z");

        // Dated in the future, it would be the newest: 'latest' still means the user's own.
        writeFileSync(memory, "# changed again\n");
        const latest = await cli("snapshot", "restore", "latest");
        expect(latest.exitCode, latest.stderr).toBe(0);
        expect(latest.stdout).toContain(mine.id);
        expect(readFileSync(memory, "utf8")).toBe(saidThen);
        // Nor does it push one of the user's own snapshots out of prune --keep <as many as the user has>.
        type Listed = { snapshots: Array<{ id: string; kind: string }> };
        const own = (JSON.parse((await cli("snapshot", "list", "--json")).stdout) as Listed).snapshots
          .filter((s) => s.kind === "manual" && s.id !== "2099-01-01T00-00-00-000Z")
          .map((s) => s.id);
        const pruned = await cli("snapshot", "prune", "--keep", String(own.length));
        expect(pruned.exitCode, pruned.stderr).toBe(0);
        const left = (JSON.parse((await cli("snapshot", "list", "--json")).stdout) as Listed).snapshots.map(
          (s) => s.id,
        );
        for (const id of own) expect(left).toContain(id);
      } finally {
        rmSync(planted, { force: true });
        rmSync(planted.replace(/\.tar\.gz$/, ".json"), { force: true });
      }
    });

    it("what the old shared folder holds reaches the terminal only as plain text", async () => {
      const [, legacy = ""] = snapshotDirs();
      const slug = encodeProjectSlug(repo);
      const named = path.join(legacy, "\u001b]52;c;ZWNobyBvd25lZA==\u0007.tar.gz");
      const planted = path.join(legacy, "2098-01-01T00-00-00-000Z.tar.gz");
      for (const file of [named, planted]) await craftSnapshot(file, { path: repo, slug }, { slugs: [slug] });
      const summary = {
        format: 1,
        id: "2098-01-01T00-00-00-000Z",
        kind: "manual",
        created: "2098-01-01T00:00:00.000Z",
        project: { path: repo, slug },
        environment: { kind: "container", machine: "\u001b[2J\u001b]0;pwned\u0007" },
        claudePersistVersion: "0.1.0",
        slugs: [slug],
        sessionCount: 0,
        fileCount: 0,
        bytes: 0,
      };
      writeFileSync(planted.replace(/\.tar\.gz$/, ".json"), JSON.stringify(summary));
      const listed = await cli("snapshot", "list");
      expect(listed.exitCode, listed.stderr).toBe(0);
      expect(listed.stdout).toContain("2098-01-01T00-00-00-000Z");
      expect(listed.stdout.split("\n").find((line) => line.includes("2098-01-01T00-00-00-000Z"))).toMatch(/ \?$/);
      expect(listed.stdout).not.toMatch(/\u001b|\u0007/);
      for (const file of [named, planted, planted.replace(/\.tar\.gz$/, ".json")]) rmSync(file);
    });
  });

  it("tells a waiting snapshot that a snapshot or restore is running, not to remove the lock", async () => {
    const locks = tempDir("cp-lock-");
    const project: SnapshotProject = {
      path: repo,
      hostPath: repo,
      slug: encodeProjectSlug(repo),
      slugs: [],
      dir: path.join(locks, "snaps"),
      legacyDir: path.join(locks, "old"),
    };
    let release: () => void = () => {};
    const held = withSnapshotLock(project, () => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(withSnapshotLock(project, () => "ran", 300)).rejects.toThrow(
      `a snapshot or restore of ${repo} is running; wait for it to finish, then try again`,
    );
    release();
    await held;
    expect(await withSnapshotLock(project, () => "ran", 300)).toBe("ran");
  });

  describe("while a Claude session of the project is live", () => {
    let sleeper: ChildProcess;
    const record = (pid: number, fields: Record<string, unknown>) => {
      mkdirSync(path.join(config, "sessions"), { recursive: true });
      const file = path.join(config, "sessions", `${pid}.json`);
      // As Claude Code 2.1.330 writes it while a session runs (and deletes it when the session ends).
      writeFileSync(
        file,
        JSON.stringify({
          pid,
          sessionId: sessions[0],
          cwd: repo,
          startedAt: Date.now(),
          procStart: processStartTime(pid),
          version: "2.1.330",
          kind: "interactive",
          entrypoint: "cli",
          pidDomain: pidDomain(),
          status: "idle",
          ...fields,
        }),
      );
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
      expect(result.stderr).toContain(
        `a Claude session of this project is running (pid ${pid}, session ${sessions[0]}`,
      );
      expect(treeState(config)).toEqual(before);
      rmSync(file);
    });

    it("finds it by its session id when it runs in another folder, changing nothing", async () => {
      const pid = sleeper.pid ?? 0;
      const file = record(pid, { cwd: "/somewhere/else" });
      const before = treeState(config);
      const result = await cli("snapshot", "restore", "latest");
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain(
        `a Claude session of this project is running (pid ${pid}, session ${sessions[0]}, in /somewhere/else)`,
      );
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
    writeFileSync(path.join(containerDir, `${id}.jsonl`), `{"sessionId":"${id}","cwd":"${containerPath}"}\n`, {
      mode: 0o600,
    });
    const before = treeState(config, projectData, false);

    const mapped = await mapProject(env(), { hostPath: repo, containerPath });
    expect(mapped.merged).toEqual([`${id}.jsonl`]);
    expect(lstatSync(containerDir).isSymbolicLink()).toBe(true);
    const listed = (
      JSON.parse((await cli("snapshot", "list", "--json")).stdout) as {
        snapshots: Array<{ id: string; kind: string; slugs: string[] }>;
      }
    ).snapshots;
    const preMerge = listed.find((s) => s.kind === "pre-merge");
    expect(preMerge?.slugs).toContain(encodeProjectSlug(containerPath));

    const restored = await cli("snapshot", "restore", preMerge?.id ?? "?", "--exact");
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(lstatSync(containerDir).isDirectory()).toBe(true);
    expect(treeState(config, projectData, false)).toEqual(before);
  });

  it("restoring a pre-merge snapshot without --exact never writes through the container slug's link into the host's files", async () => {
    const containerPath = "/workspaces/snapshot-app-2";
    const containerDir = path.join(config, "projects", encodeProjectSlug(containerPath));
    const id = "c0c0c0c0-0000-4000-8000-00000000000d";
    mkdirSync(path.join(containerDir, "memory"), { recursive: true });
    writeFileSync(path.join(containerDir, `${id}.jsonl`), `{"sessionId":"${id}","cwd":"${containerPath}"}\n`, {
      mode: 0o600,
    });
    writeFileSync(path.join(containerDir, "memory", "MEMORY.md"), "# The container's old notes\n");
    const hostMemory = path.join(slugDir, "memory", "MEMORY.md");
    writeFileSync(hostMemory, "# The host's notes\n");
    await mapProject(env(), { hostPath: repo, containerPath });
    expect(lstatSync(containerDir).isSymbolicLink()).toBe(true);
    const hostBefore = treeState(slugDir);

    const restored = await cli("snapshot", "restore", "latest");
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(readFileSync(hostMemory, "utf8")).toBe("# The host's notes\n");
    expect(treeState(slugDir)).toEqual(hostBefore);
    // The container's folder is back as it was, beside the host's: the next /dev-open merges it again.
    expect(lstatSync(containerDir).isDirectory()).toBe(true);
    expect(readFileSync(path.join(containerDir, "memory", "MEMORY.md"), "utf8")).toBe("# The container's old notes\n");
    expect(readFileSync(path.join(containerDir, `${id}.jsonl`), "utf8")).toContain(id);
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
    writeFileSync(
      file,
      JSON.stringify({
        pid: dead,
        sessionId: "s1",
        cwd: "/workspaces/app",
        pidDomain: "linux:0123abcd:pid:[4026532999]",
      }),
    );
    const here = pidDomain({ ...linux, machineIdFile: path.join(home, "no-machine-id") });
    expect(runningSessions({ HOME: home }, here)).toEqual([
      { pid: dead, sessionId: "s1", cwd: "/workspaces/app", file, state: "unknown" },
    ]);
  });
});

describe("tar", () => {
  it("round-trips long paths (pax), empty and binary files, modes, and GNU tar reads them", async () => {
    const dir = tempDir("cp-tar-");
    const long = `projects/${"-x".repeat(110)}-sn3264/${"a".repeat(36)}.jsonl`;
    const entries: TarEntry[] = [
      { type: "dir", path: "projects", mode: 0o700, mtimeMs: 0 },
      {
        type: "file",
        path: long,
        mode: 0o600,
        mtimeMs: 1_700_000_000_000,
        size: 5,
        source: { bytes: Buffer.from("long\n") },
      },
      { type: "file", path: "todos/empty.json", mode: 0o644, mtimeMs: 0, size: 0, source: { bytes: Buffer.alloc(0) } },
      {
        type: "file",
        path: "tasks/ünï côde/blob",
        mode: 0o640,
        mtimeMs: 0,
        size: 1025,
        source: { bytes: Buffer.alloc(1025, 0xfe) },
      },
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
      return {
        write: (c) => chunks.push(Buffer.from(c)),
        end: () => read.push({ path: entry.path, mode: entry.mode, bytes: Buffer.concat(chunks).toString("hex") }),
      };
    });
    expect(read).toEqual(
      entries.map((e) => ({
        path: e.path,
        mode: e.mode,
        bytes: e.type === "file" && "bytes" in e.source ? Buffer.from(e.source.bytes).toString("hex") : "",
      })),
    );
    const out = path.join(dir, "out");
    mkdirSync(out);
    expect(spawnSync("tar", ["-xzf", archive, "-C", out]).status).toBe(0);
    expect(readFileSync(path.join(out, long), "utf8")).toBe("long\n");
    expect(statSync(path.join(out, "tasks/ünï côde/blob")).size).toBe(1025);
  });

  describe("reading crafted archives", () => {
    const pax = (records: Record<string, string>): { name: string; type: string; body: string } => {
      const body = Object.entries(records)
        .map(([key, value]) => {
          const rest = ` ${key}=${value}\n`;
          let length = rest.length + 1;
          while (String(length).length + rest.length !== length) length++;
          return `${length}${rest}`;
        })
        .join("");
      return { name: "PaxHeader", type: "x", body };
    };
    /** What the reader hands its caller, as the names it would create; it never creates anything itself. */
    const readAll = async (bytes: Buffer): Promise<string[]> => {
      const file = path.join(tempDir("cp-tar-crafted-"), "a.tar.gz");
      writeFileSync(file, bytes);
      const handed: string[] = [];
      await readTarGz(file, (entry) => {
        handed.push(entry.path);
        return undefined;
      });
      return handed;
    };
    const withHeader = (change: (block: Buffer) => void, body = "x"): Buffer => {
      const block = ustarHeader("projects/x/a.jsonl", "0", body.length);
      change(block);
      let sum = 0;
      block.write("        ", 148);
      for (const byte of block) sum += byte;
      block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
      return gzipSync(Buffer.concat([block, Buffer.from(body), Buffer.alloc(511), Buffer.alloc(1024)]));
    };

    it.each<[string, Buffer, RegExp]>([
      [
        "a '../' name",
        handMadeArchive([{ name: "projects/../../../.ssh/authorized_keys", body: "key" }]),
        /climbs out of the archive/,
      ],
      ["an absolute name", handMadeArchive([{ name: "/home/user/.bashrc", body: "evil" }]), /absolute path/],
      [
        "a symlink",
        handMadeArchive([{ name: "projects/x/link", type: "2", linkname: "/home/user/.ssh" }]),
        /symbolic link/,
      ],
      ["a hard link", handMadeArchive([{ name: "projects/x/hard", type: "1", linkname: "/etc/shadow" }]), /hard link/],
      ["a character device", handMadeArchive([{ name: "projects/x/zero", type: "3" }]), /character device/],
      ["a block device", handMadeArchive([{ name: "projects/x/sda", type: "4" }]), /block device/],
      ["a FIFO", handMadeArchive([{ name: "projects/x/fifo", type: "6" }]), /a fifo/],
      [
        "a pax path climbing out",
        handMadeArchive([pax({ path: "../../escaped" }), { name: "projects/x/ok", body: "x" }]),
        /climbs out of the archive/,
      ],
      [
        "a pax path that is absolute",
        handMadeArchive([pax({ path: "/tmp/escaped" }), { name: "projects/x/ok", body: "x" }]),
        /absolute path/,
      ],
      [
        "a pax path with a NUL",
        handMadeArchive([pax({ path: "projects/x/a\u0000/../../b" }), { name: "projects/x/ok", body: "x" }]),
        /NUL byte/,
      ],
      [
        "a global pax header",
        handMadeArchive([{ name: "pax_global_header", type: "g", body: "" }]),
        /global pax header/,
      ],
      [
        "a GNU long name",
        handMadeArchive([{ name: "././@LongLink", type: "L", body: "../../escaped" }]),
        /GNU long name/,
      ],
      [
        "a file name twice",
        handMadeArchive([
          { name: "projects/x/a", body: "one" },
          { name: "projects/x/a", body: "two" },
        ]),
        /'projects\/x\/a' appears twice/,
      ],
      [
        "a folder and a file of one name",
        handMadeArchive([
          { name: "projects/x/a/", type: "5" },
          { name: "projects/x/a", body: "two" },
        ]),
        /appears twice/,
      ],
      [
        "a pax header of 100 kB",
        handMadeArchive([{ name: "PaxHeader", type: "x", body: "x".repeat(100_000) }, { name: "projects/x/ok" }]),
        /pax header is implausibly large/,
      ],
      [
        "a pax size of 10^20 bytes",
        handMadeArchive([pax({ size: "100000000000000000000" }), { name: "projects/x/ok", body: "x" }]),
        /pax size is malformed or implausibly large/,
      ],
      [
        "a declared size far beyond the data",
        gzipSync(Buffer.concat([ustarHeader("projects/x/huge", "0", 0o77777777777), Buffer.alloc(4096)])),
        /truncated/,
      ],
      [
        "a header cut short",
        gzipSync(handMadeArchiveRaw([{ name: "projects/x/a", body: "one" }]).subarray(0, 300)),
        /truncated/,
      ],
      [
        "a header with a bad checksum",
        gzipSync(
          Buffer.concat([Buffer.from(ustarHeader("projects/x/a", "0", 0)).fill(0x31, 0, 1), Buffer.alloc(1024)]),
        ),
        /checksum/,
      ],
      [
        "a size in base-256",
        withHeader((block) => block.fill(0x80, 124, 125).fill(0xff, 125, 136)),
        /malformed number/,
      ],
      [
        "data after the end",
        gzipSync(Buffer.concat([Buffer.alloc(1024), Buffer.from("hidden")])),
        /data after the end/,
      ],
    ])("refuses %s, handing nothing unsafe to its caller", async (_name, bytes, reason) => {
      const handed: string[] = [];
      await expect(readAll(bytes).then((paths) => handed.push(...paths))).rejects.toThrow(reason);
      expect(handed.filter((p) => p.startsWith("/") || p.split("/").includes(".."))).toEqual([]);
    });

    it("refuses an archive that is a FIFO or a link without waiting on it", async () => {
      const dir = tempDir("cp-tar-crafted-");
      const fifo = path.join(dir, "fifo.tar.gz");
      expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
      await expect(readTarGz(fifo, () => undefined)).rejects.toThrow(/not a regular file/);
      const real = path.join(dir, "real.tar.gz");
      writeFileSync(real, handMadeArchive([{ name: "projects/x/a", body: "one" }]));
      symlinkSync(real, path.join(dir, "link.tar.gz"));
      await expect(readTarGz(path.join(dir, "link.tar.gz"), () => undefined)).rejects.toThrow(/ELOOP|symbolic link/);
    });
  });

  it("archives a file's own bytes only: a file swapped for a link or a FIFO after it was listed is refused, without waiting", async () => {
    const dir = tempDir("cp-tar-");
    const secret = path.join(dir, "id_ed25519");
    writeFileSync(secret, "PRIVATE KEY\n");
    const link = path.join(dir, "session.jsonl");
    symlinkSync(secret, link);
    const entry = (file: string): TarEntry => ({
      type: "file",
      path: "projects/x/session.jsonl",
      mode: 0o600,
      mtimeMs: 0,
      size: 12,
      source: { file },
    });
    await expect(writeTarGz(path.join(dir, "a.tar.gz"), [entry(link)])).rejects.toThrow(/ELOOP|symbolic link/);
    const fifo = path.join(dir, "fifo.jsonl");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    await expect(writeTarGz(path.join(dir, "b.tar.gz"), [entry(fifo)])).rejects.toThrow(/no longer a regular file/);
  });

  it("refuses to write an unsafe path", async () => {
    const dir = tempDir("cp-tar-");
    await expect(
      writeTarGz(path.join(dir, "b.tar.gz"), [{ type: "dir", path: "a/../../b", mode: 0o700, mtimeMs: 0 }]),
    ).rejects.toThrow(/climbs out/);
  });
});
