// Issue 22's unbounded and interrupted work: a snapshot thousands of folders deep (restore recursed once per level in
// Node's rmSync, overflowed the stack and left its staging folder), a container's deep tree merged by /dev-open, and
// Ctrl-C or SIGTERM in the middle of `snapshot restore` or `install`, sent to the real CLI at a point it pauses at
// (CLAUDE_PERSIST_TEST_PAUSE, src/interrupt.ts), then what is left on disk looked at.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { raceWindow } from "../src/container-tree.ts";
import { mergeInto } from "../src/devcontainer/mapping.ts";
import { restoreSnapshot } from "../src/snapshot/restore.ts";
import { writeTarGz, type TarEntry } from "../src/snapshot/tar.ts";
import { CLI, PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";

const HOST = { CLAUDE_PERSIST_ENVIRONMENT: "host" };
const SESSION = "0b7e4a8c-1111-4222-8333-944445555666";

/** `depth` folders named `a` below `root`, made through held folders (the path is longer than any syscall takes). */
function makeDeep(root: string, depth: number, files: Record<string, string>): void {
  let fd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  for (let i = 0; i < depth; i++) {
    mkdirSync(`/proc/self/fd/${fd}/a`);
    const child = openSync(`/proc/self/fd/${fd}/a`, constants.O_RDONLY | constants.O_DIRECTORY);
    closeSync(fd);
    fd = child;
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(`/proc/self/fd/${fd}/${name}`, text);
  closeSync(fd);
}

/** The regular files below `root` (GNU find walks any depth), as their names and depths. */
function deepFiles(root: string): string[] {
  const found = spawnSync("find", [root, "-type", "f", "-printf", "%d %f\\n"], { maxBuffer: 1 << 26 });
  return found.stdout.toString().trim().split("\n").filter(Boolean).sort();
}

/** A snapshot archive as a container could plant (or an old version wrote): one file `depth` folders deep. */
async function deepSnapshot(
  dir: string,
  project: { path: string; slug: string },
  depth: number,
  options: { listDirs: boolean; badChecksum?: boolean },
): Promise<string> {
  const id = "2000-01-02T00-00-00-000Z";
  const dirs: string[] = [];
  let folder = `projects/${project.slug}`;
  for (let i = 0; i < depth; i++) {
    folder += "/a";
    if (options.listDirs) dirs.push(folder);
  }
  const body = Buffer.from("deep down\n");
  const file = `${folder}/notes.md`;
  const manifest = Buffer.from(
    JSON.stringify({
      format: 1,
      id,
      kind: "manual",
      created: "2000-01-01T00:00:00.000Z",
      project,
      environment: { kind: "host", machine: "m" },
      claudePersistVersion: "0.1.0",
      slugs: [project.slug],
      sessionCount: 0,
      fileCount: 1,
      bytes: body.length,
      sessions: [],
      directories: dirs.map((d) => ({ path: d, mode: 0o700, mtimeMs: 0 })),
      files: [
        {
          path: file,
          size: body.length,
          mode: 0o600,
          mtimeMs: 0,
          sha256: options.badChecksum ? "0".repeat(64) : createHash("sha256").update(body).digest("hex"),
        },
      ],
      state: { mappings: [], workItems: [] },
    }),
  );
  const entries: TarEntry[] = [
    ...dirs.map((d): TarEntry => ({ type: "dir", path: d, mode: 0o700, mtimeMs: 0 })),
    { type: "file", path: file, mode: 0o600, mtimeMs: 0, size: body.length, source: { bytes: body } },
    {
      type: "file",
      path: ".claude-persist/manifest.json",
      mode: 0o600,
      mtimeMs: 0,
      size: manifest.length,
      source: { bytes: manifest },
    },
  ];
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await writeTarGz(path.join(dir, `${id}.tar.gz`), entries);
  return id;
}

function project(): { home: string; repo: string; slug: string; slugDir: string; snapshots: string } {
  const home = tempHome();
  const repo = tempDir("cp-deep-repo-");
  const slug = encodeProjectSlug(repo);
  const slugDir = path.join(home, ".claude", "projects", slug);
  mkdirSync(slugDir, { recursive: true });
  const snapshots = path.join(home, ".claude", "persist-host", "snapshots", slug);
  return { home, repo, slug, slugDir, snapshots };
}

describe("snapshot restore of a deep folder tree", () => {
  it.each([
    ["10,000 folders deep (the folders not listed)", 10_000, false],
    ["2,500 folders deep, each listed", 2_500, true],
  ])(
    "puts back a file %s, leaves no staging folder, and its undo takes it out again",
    async (_name, depth, listDirs) => {
      const p = project();
      const id = await deepSnapshot(p.snapshots, { path: p.repo, slug: p.slug }, depth, { listDirs });
      const restored = await runCli(["snapshot", "restore", id], { env: { HOME: p.home, ...HOST }, cwd: p.repo });
      expect(restored.stderr).toBe("");
      expect(restored.exitCode).toBe(0);
      expect(deepFiles(p.slugDir)).toEqual([`${depth + 1} notes.md`]);
      const undo = readdirSync(p.snapshots).find((name) => name.endsWith("-pre-restore"));
      expect(readdirSync(p.snapshots).sort()).toEqual([`${id}.tar.gz`, undo]);
      // Undone: the deep file moves into the next undo, the used-up one is removed (Node's rmSync overflowed there too).
      const undone = await runCli(["snapshot", "restore", undo ?? ""], { env: { HOME: p.home, ...HOST }, cwd: p.repo });
      expect(undone.exitCode, undone.stderr).toBe(0);
      expect(deepFiles(p.slugDir)).toEqual([]);
      expect(readdirSync(p.snapshots).filter((name) => name.startsWith(".restore-"))).toEqual([]);
      expect(readdirSync(p.snapshots)).not.toContain(undo);
    },
    120_000,
  );

  it("refuses a damaged deep snapshot in one line, changing nothing and leaving no staging folder", async () => {
    const p = project();
    const id = await deepSnapshot(p.snapshots, { path: p.repo, slug: p.slug }, 2_500, {
      listDirs: true,
      badChecksum: true,
    });
    const result = await runCli(["snapshot", "restore", id], { env: { HOME: p.home, ...HOST }, cwd: p.repo });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/does not match its checksum\); nothing was restored or changed\n?$/);
    expect(readdirSync(p.snapshots)).toEqual([`${id}.tar.gz`]);
    expect(readdirSync(p.slugDir)).toEqual([]);
  }, 120_000);
});

describe("snapshot restore from the old shared folder (persist-state/snapshots/, which containers write)", () => {
  it("does not read an archive from where a link swapped in after the listing leads", async () => {
    const p = project();
    const legacy = path.join(p.home, ".claude", "persist-state", "snapshots", p.slug);
    const id = await deepSnapshot(legacy, { path: p.repo, slug: p.slug }, 1, { listDirs: true });
    // The host-only folder is there already: the old one stays where it is, listed and restored from there.
    mkdirSync(p.snapshots, { recursive: true, mode: 0o700 });
    // The container's own archive of the same name, in a folder it chose.
    const elsewhere = tempDir("cp-elsewhere-");
    await deepSnapshot(elsewhere, { path: p.repo, slug: p.slug }, 2, { listDirs: true });
    raceWindow.hook = (at) => {
      if (at !== "restore-open-archive") return;
      renameSync(legacy, `${legacy}.listed`);
      symlinkSync(elsewhere, legacy);
    };
    try {
      await expect(restoreSnapshot({ HOME: p.home, ...HOST }, p.repo, id)).rejects.toThrow(
        /persist-state\/snapshots\/\S+ is no longer a folder \(a link or file was put in its place\); not reading it/,
      );
    } finally {
      raceWindow.hook = undefined;
    }
    expect(deepFiles(p.slugDir)).toEqual([]);
    expect(readdirSync(p.snapshots).filter((name) => name.startsWith(".restore-"))).toEqual([]);
  });
});

describe("/dev-open's merge of a container's slug folder (mergeInto)", () => {
  it("merges a tree 10,000 folders deep on both sides without overflowing, losing no file", () => {
    const from = tempDir("cp-merge-from-");
    const to = tempDir("cp-merge-to-");
    makeDeep(from, 10_000, { "container.md": "from the container\n", "same.md": "container's\n" });
    makeDeep(to, 10_000, { "host.md": "the host's\n", "same.md": "host's\n" });
    mergeInto(from, to);
    expect(readdirSync(from)).toEqual([]);
    // Past the depth a merge goes into, the container's folder is kept beside the host's under a new name.
    const files = deepFiles(to).map((line) => line.split(" ")[1]);
    expect(files.sort()).toEqual(["container.md", "host.md", "same.md", "same.md"]);
  }, 120_000);
});

/** The CLI, paused at `at`: resolves once it says so; `exited` gives the signal that ended it. */
async function pausedCli(
  args: string[],
  options: { cwd: string; home: string; at: string },
): Promise<{
  child: ReturnType<typeof spawn>;
  exited: Promise<NodeJS.Signals | number | null>;
  stderr: () => string;
}> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: options.home,
      ...HOST,
      CLAUDE_PERSIST_TEST_PAUSE: options.at,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(signal ?? code)),
  );
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes(`paused at ${options.at}`)) resolve();
    });
    void exited.then((how) => reject(new Error(`the CLI ended (${how}) before pausing: ${stderr}`)));
  });
  return { child, exited, stderr: () => stderr };
}

describe("Ctrl-C and SIGTERM during snapshot restore", () => {
  /** A project whose two files the snapshot holds as "snapshot", now "current". */
  async function snapshotted(): Promise<ReturnType<typeof project> & { id: string; files: string[] }> {
    const p = project();
    const files = [path.join(p.slugDir, `${SESSION}.jsonl`), path.join(p.slugDir, "memory", "MEMORY.md")];
    mkdirSync(path.join(p.slugDir, "memory"));
    for (const file of files) writeFileSync(file, "snapshot\n");
    const created = await runCli(["snapshot", "create", "--json"], { env: { HOME: p.home, ...HOST }, cwd: p.repo });
    expect(created.exitCode, created.stderr).toBe(0);
    for (const file of files) writeFileSync(file, "current\n");
    return { ...p, id: (JSON.parse(created.stdout) as { id: string }).id, files };
  }

  it("Ctrl-C once the snapshot is verified: nothing changed, no staging folder, no lock, no undo", async () => {
    const p = await snapshotted();
    const before = readdirSync(p.snapshots).sort();
    const { child, exited } = await pausedCli(["snapshot", "restore", p.id], {
      cwd: p.repo,
      home: p.home,
      at: "restore-verified",
    });
    expect(readdirSync(p.snapshots).some((name) => name.startsWith(".restore-"))).toBe(true);
    child.kill("SIGINT");
    expect(await exited).toBe("SIGINT");
    expect(p.files.map((file) => readFileSync(file, "utf8"))).toEqual(["current\n", "current\n"]);
    expect(readdirSync(p.snapshots).sort()).toEqual(before);
  }, 60_000);

  it("SIGTERM after the first file is put back: the restore finishes (never a mix), then the process ends by it", async () => {
    const p = await snapshotted();
    const { child, exited, stderr } = await pausedCli(["snapshot", "restore", p.id], {
      cwd: p.repo,
      home: p.home,
      at: "restore-placing",
    });
    child.kill("SIGTERM");
    expect(await exited).toBe("SIGTERM");
    // Its report is not printed, so it says what it finished and how to undo it.
    expect(stderr()).toMatch(
      /^claude-persist snapshot: stopped once the restore of \S+ had finished; undo it with 'claude-persist snapshot restore \S+-pre-restore'$/m,
    );
    expect(p.files.map((file) => readFileSync(file, "utf8"))).toEqual(["snapshot\n", "snapshot\n"]);
    const left = readdirSync(p.snapshots);
    expect(left.filter((name) => name.startsWith(".restore-") || name.endsWith(".lock"))).toEqual([]);
    // Its undo is whole: restoring it gives back what the restore replaced.
    const undo = left.find((name) => name.endsWith("-pre-restore")) ?? "";
    const undone = await runCli(["snapshot", "restore", undo], { env: { HOME: p.home, ...HOST }, cwd: p.repo });
    expect(undone.exitCode, undone.stderr).toBe(0);
    expect(p.files.map((file) => readFileSync(file, "utf8"))).toEqual(["current\n", "current\n"]);
  }, 60_000);
});

/** Every file below `dir`, relative, with its bytes' hash. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = createHash("sha256").update(readFileSync(file)).digest("hex");
  }
  return out;
}

describe("Ctrl-C during install", () => {
  it("never leaves a half-copied runtime: the copy finishes, settings.json is whole, the lock is let go", async () => {
    const home = tempHome();
    const config = path.join(home, ".claude");
    writeFileSync(path.join(config, "settings.json"), '{ "model": "opus" }\n');
    const { child, exited, stderr } = await pausedCli(["install"], { cwd: home, home, at: "install-copying" });
    child.kill("SIGINT");
    expect(await exited).toBe("SIGINT");
    expect(stderr()).toMatch(/^claude-persist install: stopped once the install had finished$/m);
    const runtime = contents(path.join(PROJECT_ROOT, "dist"));
    const installed = contents(path.join(config, "persist"));
    for (const [rel, hash] of Object.entries(runtime)) expect(installed[rel], rel).toBe(hash);
    const settings = JSON.parse(readFileSync(path.join(config, "settings.json"), "utf8")) as Record<string, unknown>;
    expect(settings.model).toBe("opus");
    expect(JSON.stringify(settings.hooks)).toContain("session-start");
    const hostOnly = path.join(config, "persist-host");
    expect(readdirSync(hostOnly).filter((name) => name.endsWith(".lock"))).toEqual([]);
    expect(existsSync(path.join(hostOnly, "install.json"))).toBe(true);
    // And a second install finds nothing to do.
    const again = await runCli(["install", "--json"], { env: { HOME: home } });
    expect(again.exitCode, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { changes: unknown[] }).changes).toEqual([]);
  }, 60_000);
});

describe("Ctrl-C during uninstall", () => {
  it("never leaves the pack half taken out: uninstall finishes, settings.json is the user's again, then the signal ends it", async () => {
    const home = tempHome();
    const config = path.join(home, ".claude");
    writeFileSync(path.join(config, "settings.json"), '{ "model": "opus" }\n');
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    const { child, exited, stderr } = await pausedCli(["uninstall"], { cwd: home, home, at: "uninstall-removing" });
    child.kill("SIGINT");
    expect(await exited).toBe("SIGINT");
    expect(readFileSync(path.join(config, "settings.json"), "utf8")).toBe('{ "model": "opus" }\n');
    expect(existsSync(path.join(config, "persist"))).toBe(false);
    expect(existsSync(path.join(config, "commands", "dev-open.md"))).toBe(false);
    const hostOnly = path.join(config, "persist-host");
    expect(existsSync(path.join(hostOnly, "install.json"))).toBe(false);
    expect(existsSync(path.join(hostOnly, "install.json.lock"))).toBe(false);
    expect(stderr()).toMatch(/^claude-persist uninstall: stopped once the uninstall had finished$/m);
  }, 60_000);
});
