// Snapshots: create against `tar -czf`, restore against `tar -xzf`.
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeProjectSlug } from "../../src/claude/home.ts";
import { cli, median, report, cachedTree, timeCommand } from "./measure.ts";

// `snapshot create` of 1 GB of transcripts against `tar -czf` of the same files (both gzip level 6, one stream).
// The tree is built once into the OS temp folder and reused: 120 sessions (4 of 100 MB), their todos, file
// history and session-start records. Lines are drawn from a pool of varied text, code and base64 blobs, so it
// compresses about as well as real transcripts do (3-6×), not like one repeated line.
const SNAPSHOT_TREE = { version: 1, sessions: 120, big: 4, bigMb: 100, totalMb: 1000 };

export async function benchSnapshot(): Promise<boolean> {
  const { realpathSync } = await import("node:fs");
  const cache = cachedTree("snapshot", SNAPSHOT_TREE, writeSnapshotTree);
  const home = path.join(cache, "home");
  const repo = realpathSync(path.join(cache, "repo"));
  const config = path.join(home, ".claude");
  const env = { ...process.env, HOME: home, CLAUDE_CONFIG_DIR: "", CLAUDE_PERSIST_ENVIRONMENT: "host" };
  const out = path.join(tmpdir(), `cp-bench-snapshot-${process.pid}.tar.gz`);
  const snapshots = path.join(config, "persist-host", "snapshots");
  const files = [`projects/${encodeProjectSlug(repo)}`, "todos", "file-history", "persist-state/session-starts"];
  const timed = (command: string[]) => timeCommand(command, repo, env);
  const count = Number(process.env.BENCH_SNAPSHOT_RUNS ?? 3);
  const tar: number[] = [];
  const create: number[] = [];
  let created = { bytes: 0, archiveBytes: 0, sessionCount: 0 };
  try {
    for (let i = 0; i <= count; i++) {
      rmSync(out, { force: true });
      rmSync(snapshots, { recursive: true, force: true });
      const a = timed(["tar", "-czf", out, "-C", config, ...files]);
      const b = timed([process.execPath, cli, "snapshot", "create", "--json"]);
      created = JSON.parse(b.stdout) as typeof created;
      if (i === 0) continue; // The first pair warms the page cache.
      tar.push(a.ms);
      create.push(b.ms);
    }
    // Restore (verify every checksum, take the undo snapshot, put the files back) once, for scale.
    const untar = path.join(tmpdir(), `cp-bench-untar-${process.pid}`);
    mkdirSync(untar, { recursive: true });
    const extract = timed(["tar", "-xzf", out, "-C", untar]);
    rmSync(untar, { recursive: true, force: true });
    const restore = timed([process.execPath, cli, "snapshot", "restore", "latest"]);
    const mb = created.bytes / 1e6;
    const ratio = median(create) / median(tar);
    const budget = 1.25;
    const ok = ratio <= budget;
    console.log(
      `snapshot create of ${mb.toFixed(0)} MB (${created.sessionCount} sessions, ${(created.bytes / created.archiveBytes).toFixed(1)}× compression; ${count} runs each, warm cache): ` +
        `median ${(median(create) / 1000).toFixed(1)} s, ${(mb / (median(create) / 1000)).toFixed(0)} MB/s vs tar -czf ${(median(tar) / 1000).toFixed(1)} s, ` +
        `${(mb / (median(tar) / 1000)).toFixed(0)} MB/s → ratio ${ratio.toFixed(3)} (budget ${budget}) ${ok ? "ok" : "OVER BUDGET"}`,
    );
    console.log(
      `snapshot restore of it (verify, undo snapshot, put back; 1 run): ${(restore.ms / 1000).toFixed(1)} s, ${(mb / (restore.ms / 1000)).toFixed(0)} MB/s ` +
        `vs tar -xzf ${(extract.ms / 1000).toFixed(1)} s → ratio ${(restore.ms / extract.ms).toFixed(2)}`,
    );
    return ok;
  } finally {
    rmSync(out, { force: true });
    rmSync(snapshots, { recursive: true, force: true });
  }
}

/** The synthetic home and repo the snapshot bench reads, built into `building`, which becomes `cache`. */
function writeSnapshotTree(building: string, cache: string, spec: typeof SNAPSHOT_TREE = SNAPSHOT_TREE): void {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  // The project folder is named for where the cache ends up, so that its slug is the one the CLI computes there.
  const repo = path.join(cache, "repo");
  mkdirSync(path.join(building, "repo"));
  const config = path.join(building, "home", ".claude");
  const slugDir = path.join(config, "projects", encodeProjectSlug(repo));
  const starts = path.join(config, "persist-state", "session-starts");
  for (const dir of [slugDir, starts, path.join(config, "todos"), path.join(config, "file-history")])
    mkdirSync(dir, { recursive: true });
  const syllables = [
    "ka",
    "ro",
    "te",
    "mi",
    "sun",
    "der",
    "pol",
    "ex",
    "an",
    "it",
    "con",
    "fig",
    "ure",
    "build",
    "test",
    "cache",
    "read",
    "path",
    "ing",
    "ed",
    "tion",
    "er",
    "al",
    "ly",
  ];
  const words = Array.from({ length: 3000 }, () =>
    Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(syllables)).join(""),
  );
  // Zipf-like: common words much more often, as in prose.
  const word = () => words[Math.floor(random() * random() * random() * words.length)] ?? "a";
  const sentence = (n: number) => Array.from({ length: n }, word).join(" ");
  const code = () =>
    Array.from(
      { length: 3 + Math.floor(random() * 20) },
      () =>
        `${"  ".repeat(Math.floor(random() * 4))}const ${word()}_${word()} = ${word()}(${word()}, ${Math.floor(random() * 1000)});`,
    ).join("\n");
  const blob = () =>
    Buffer.from(Array.from({ length: 1500 + Math.floor(random() * 6000) }, () => Math.floor(random() * 256))).toString(
      "base64",
    );
  const pool: Buffer[] = [];
  for (let i = 0; i < 4000; i++) {
    const kind = random();
    const text = kind < 0.08 ? blob() : kind < 0.35 ? code() : sentence(20 + Math.floor(random() * 300));
    const line = {
      parentUuid: `${Math.floor(random() * 2 ** 31).toString(16)}-4000-8000`,
      isSidechain: false,
      type: kind < 0.5 ? "assistant" : "user",
      message: {
        role: kind < 0.5 ? "assistant" : "user",
        content: [{ type: kind < 0.08 ? "tool_result" : "text", text }],
      },
      uuid: Math.floor(random() * 2 ** 48).toString(16),
      timestamp: new Date(Date.UTC(2026, 0, 1) + i * 7_919).toISOString(),
      cwd: repo,
      version: "2.1.330",
      gitBranch: "main",
    };
    pool.push(Buffer.from(`${JSON.stringify(line)}\n`));
  }
  const smallMb = (spec.totalMb - spec.big * spec.bigMb) / (spec.sessions - spec.big);
  for (let s = 0; s < spec.sessions; s++) {
    const id = `5a5a5a5a-0000-4000-8000-${String(s).padStart(12, "0")}`;
    const target = (s < spec.big ? spec.bigMb : smallMb) * 1e6;
    const fd = openSync(path.join(slugDir, `${id}.jsonl`), "w", 0o600);
    for (let written = 0; written < target; ) {
      const batch: Buffer[] = [];
      let size = 0;
      while (size < 1 << 20 && written + size < target) {
        const line = pick(pool);
        batch.push(line);
        size += line.length;
      }
      writeSync(fd, Buffer.concat(batch));
      written += size;
    }
    closeSync(fd);
    writeFileSync(
      path.join(config, "todos", `${id}-agent-${id}.json`),
      JSON.stringify([{ content: sentence(8), status: "pending" }]),
      { mode: 0o600 },
    );
    mkdirSync(path.join(config, "file-history", id));
    for (let v = 1; v <= 3; v++)
      writeFileSync(path.join(config, "file-history", id, `${s.toString(16)}abc@v${v}`), code(), { mode: 0o600 });
    writeFileSync(
      path.join(starts, `${id}.jsonl`),
      `${JSON.stringify({ sessionId: id, cwd: repo, environment: "host", machine: "bench", source: "startup", time: new Date().toISOString() })}\n`,
    );
  }
}

// `snapshot restore --exact` of 300 MB (verify every checksum while extracting, move what it replaces aside as the
// undo, put the files in place) against `tar -xzf` of the same archive into an empty folder, interleaved.
const RESTORE_TREE = { version: 1, sessions: 40, big: 1, bigMb: 100, totalMb: 300 };

export async function benchRestore(): Promise<boolean> {
  const { realpathSync } = await import("node:fs");
  const cache = cachedTree("restore", RESTORE_TREE, (building, dir) => writeSnapshotTree(building, dir, RESTORE_TREE));
  const home = path.join(cache, "home");
  const repo = realpathSync(path.join(cache, "repo"));
  const snapshots = path.join(home, ".claude", "persist-host", "snapshots");
  const env = { ...process.env, HOME: home, CLAUDE_CONFIG_DIR: "", CLAUDE_PERSIST_ENVIRONMENT: "host" };
  const untar = path.join(tmpdir(), `cp-bench-untar-${process.pid}`);
  const timed = (command: string[]) => timeCommand(command, repo, env);
  const count = Number(process.env.BENCH_RESTORE_RUNS ?? 5);
  const tar: number[] = [];
  const restore: number[] = [];
  try {
    rmSync(snapshots, { recursive: true, force: true });
    const created = JSON.parse(timed([process.execPath, cli, "snapshot", "create", "--json"]).stdout) as {
      id: string;
      archive: string;
      bytes: number;
    };
    for (let i = 0; i <= count; i++) {
      rmSync(untar, { recursive: true, force: true });
      mkdirSync(untar);
      const a = timed(["tar", "-xzf", created.archive, "-C", untar]);
      const b = timed([process.execPath, cli, "snapshot", "restore", created.id, "--exact", "--json"]);
      rmSync((JSON.parse(b.stdout) as { undo: { folder: string } }).undo.folder, { recursive: true, force: true });
      if (i === 0) continue; // The first pair warms the page cache.
      tar.push(a.ms);
      restore.push(b.ms);
    }
    const mb = created.bytes / 1e6;
    const result = { subject: median(restore), baseline: median(tar), ratio: median(restore) / median(tar) };
    return report(`snapshot restore --exact of ${mb.toFixed(0)} MB (${count} runs each)`, "tar -xzf", result, 1.5, {
      what: "`snapshot restore --exact` of 300 MB vs `tar -xzf`",
      bench: "restore",
    });
  } finally {
    rmSync(untar, { recursive: true, force: true });
    rmSync(snapshots, { recursive: true, force: true });
  }
}
