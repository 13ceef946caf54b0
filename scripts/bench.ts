// `npm run bench`: speed measured as ratios against a baseline taken in the same run, on this machine.
// Runs are interleaved (baseline, subject, baseline, …) so that drift in the machine's load hits both alike.
// `npm run bench` runs every row; `npm run bench -- hook` (or cli, sessions, restore, dev-open, snapshot, sync) runs one
// bench, and the table at the end names the command that runs each row alone. BENCH_RUNS (and BENCH_CLI_RUNS, …)
// set the number of runs: on a busy machine, more runs give steadier ratios.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { sessionsIndexPath } from "../src/sessions/index-file.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.env.BENCH_RUNS ?? 60);
const cli = path.join(root, "dist", "bin", "claude-persist.mjs");
const NODE_START = [process.execPath, "-e", "0"];

type Timed = { command: string[]; input?: string; env?: NodeJS.ProcessEnv };

/**
 * CPU time (user + system) of the children this process has waited for, in ms, from /proc (Linux; undefined
 * elsewhere). In 10 ms ticks, so it is only read as a sum over many runs: a figure that load on the machine skews far
 * less than elapsed time, printed beside each ratio when the machine is busy.
 */
function childrenCpuMs(): number | undefined {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /s, "").split(" ");
    // After the command's name: state is field 3; cutime and cstime are fields 16 and 17 (1-based).
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function timeOnce({ command, input, env }: Timed, cpu?: { ms: number }): number {
  const [file = "", ...args] = command;
  const cpuBefore = childrenCpuMs();
  const start = process.hrtime.bigint();
  // stdout is a pipe, as for the `!` lines of the slash commands and for Claude Code's hooks.
  const result = spawnSync(file, args, { input: input ?? "", env: env ?? process.env, stdio: ["pipe", "pipe", "ignore"], maxBuffer: 1 << 30 });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command.join(" ")} exited ${result.status}`);
  const cpuAfter = childrenCpuMs();
  if (cpu && cpuBefore !== undefined && cpuAfter !== undefined) cpu.ms += cpuAfter - cpuBefore;
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Medians of elapsed time, and the ratio of the CPU time summed over all runs (when the OS tells it). */
type Comparison = { baseline: number; subject: number; ratio: number; cpuRatio?: number };

/** Median of `subject` over median of `baseline`, interleaved, after one untimed run of each. */
function compare(baseline: Timed, subject: Timed, count = runs): Comparison {
  timeOnce(baseline);
  timeOnce(subject);
  const a: number[] = [];
  const b: number[] = [];
  const cpuA = { ms: 0 };
  const cpuB = { ms: 0 };
  for (let i = 0; i < count; i++) {
    a.push(timeOnce(baseline, cpuA));
    b.push(timeOnce(subject, cpuB));
  }
  const base = median(a);
  const subj = median(b);
  return { baseline: base, subject: subj, ratio: subj / base, ...(cpuA.ms > 0 ? { cpuRatio: cpuB.ms / cpuA.ms } : {}) };
}

/** Every row measured in this run, for the table printed at the end. */
const rows: Array<{ what: string; ratio: number; cpuRatio?: number | undefined; target: number; bench: string }> = [];

function report(name: string, baselineName: string, result: Comparison, target: number, row?: { what: string; bench: string }): boolean {
  const ok = result.ratio <= target;
  console.log(
    `${name}: median ${result.subject.toFixed(1)} ms vs ${baselineName} ${result.baseline.toFixed(1)} ms → ` +
      `ratio ${result.ratio.toFixed(3)} (target ≤ ${target}) ${ok ? "ok" : "OVER TARGET"}` +
      (result.cpuRatio === undefined ? "" : `; CPU time ${result.cpuRatio.toFixed(3)}`),
  );
  if (row) rows.push({ ...row, ratio: result.ratio, cpuRatio: result.cpuRatio, target });
  return ok;
}

function benchHook(): boolean {
  const home = mkdtempSync(path.join(tmpdir(), "cp-bench-"));
  try {
    mkdirSync(path.join(home, ".claude", "persist-state"), { recursive: true });
    mkdirSync(path.join(home, ".claude", "projects"), { recursive: true });
    const input = JSON.stringify({ session_id: "0b7e4a8c-1111-4222-8333-944445555666", cwd: root, hook_event_name: "SessionStart", source: "startup" });
    const env = { ...process.env, HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const hook = [process.execPath, path.join(root, "dist", "hooks", "session-start.cjs")];
    const onHost = compare({ command: NODE_START, input, env }, { command: hook, input, env });
    const hostOk = report(`SessionStart hook on the host (${runs} runs each)`, "node -e 0", onHost, 1.1, {
      what: "SessionStart hook vs `node -e 0`",
      bench: "hook",
    });
    // In a container /dev-open made it also repairs the project link and runs doctor's quick inside checks.
    const inContainer = { ...env, CLAUDE_PERSIST_ENVIRONMENT: "container", CLAUDE_PERSIST_HOST_WORKSPACE: root, CLAUDE_PERSIST_CONTAINER_WORKSPACE: root };
    const container = compare({ command: NODE_START, input, env: inContainer }, { command: hook, input, env: inContainer });
    const containerOk = report(`SessionStart hook in a dev container (${runs} runs each)`, "node -e 0", container, 1.25);
    // The plugin's hook, once its first run has set up persist/ and the settings.json hook: it only checks that.
    const installed = spawnSync(process.execPath, [cli, "install"], { env, encoding: "utf8" });
    if (installed.status !== 0) throw new Error(`install exited ${installed.status}: ${installed.stderr}`);
    const plugin = compare({ command: NODE_START, input, env }, { command: [process.execPath, path.join(root, "dist", "hooks", "plugin-session-start.cjs")], input, env });
    const pluginOk = report(`the plugin's SessionStart hook, set up (${runs} runs each)`, "node -e 0", plugin, 1.25);
    return hostOk && containerOk && pluginOk;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The CLI's start: `--help`, and each command up to the point where it starts its work (its own `--help`): the
 * command's module and all it imports statically, which every run of it loads before doing anything. What a command
 * loads where it is used (execa at its first process, yaml for a compose config, string-width for a table) is paid by
 * the work that needs it, and is not in these rows.
 */
function benchCli(): boolean {
  const env = { ...process.env, HOME: mkdtempSync(path.join(tmpdir(), "cp-bench-cli-")) };
  const count = Number(process.env.BENCH_CLI_RUNS ?? 30);
  try {
    const help = compare({ command: NODE_START, env }, { command: [process.execPath, cli, "--help"], env }, count);
    let ok = report(`claude-persist --help (${count} runs each)`, "node -e 0", help, 1.5, {
      what: "`claude-persist --help` vs `node -e 0`",
      bench: "cli",
    });
    let slowest = { name: "", result: help };
    // The `!` lines of /dev-open and /start-work start their commands through these two files.
    const starts: Array<[string, string[]]> = [
      ["dev-open", [path.join(root, "dist", "bin", "dev-open.mjs"), "--help"]],
      ["start-work", [path.join(root, "dist", "bin", "start-work.mjs"), "--help"]],
      ...["sessions", "snapshot", "doctor", "install", "share"].map((name): [string, string[]] => [name, [cli, name, "--help"]]),
    ];
    for (const [name, args] of starts) {
      const result = compare({ command: NODE_START, env }, { command: [process.execPath, ...args], env }, count);
      ok = report(`  ${name} --help: its modules loaded (${count} runs each)`, "node -e 0", result, 1.5) && ok;
      if (result.ratio > slowest.result.ratio) slowest = { name, result };
    }
    const what = `any command's start (slowest: ${slowest.name || "--help"})`;
    rows.push({ what, ratio: slowest.result.ratio, cpuRatio: slowest.result.cpuRatio, target: 1.5, bench: "cli" });
    return ok;
  } finally {
    rmSync(env.HOME, { recursive: true, force: true });
  }
}

// `sessions --all` over a large synthetic Claude home: 10,000 transcripts in a few hundred project folders, 20 of
// them 50 MB, some container folders symlinked onto host folders. Built once into the OS temp folder and reused.
const SESSIONS_TREE = { version: 1, projects: 300, transcripts: 10_000, big: 20, bigMb: 50, linked: 30 };

function benchSessions(): boolean {
  const home = sessionsBenchHome();
  const env = { ...process.env, HOME: home, CLAUDE_CONFIG_DIR: "" };
  // A first listing, without the index: it reads only a window at each end of each transcript.
  rmSync(sessionsIndexPath(env), { force: true });
  const stats = spawnSync(process.execPath, [cli, "sessions", "--all", "--json", "--stats"], { env, encoding: "utf8", maxBuffer: 1 << 30 });
  const listed = (JSON.parse(stats.stdout) as { sessions: unknown[] }).sessions.length;
  const [, read = "0", total = "0", files = "0"] = /read (\d+) of (\d+) bytes .* in (\d+) transcripts/.exec(stats.stderr) ?? [];
  // summarizeTranscript reads a 64 KiB window at each end: what it reads must not grow with the transcripts' size.
  const perTranscript = Number(read) / Number(files);
  const budget = 128 * 1024;
  const firstOk = perTranscript <= budget;
  console.log(
    `sessions --all, first run: ${listed} sessions from ${files} transcripts of ${(Number(total) / 1e6).toFixed(0)} MB: read ` +
      `${(Number(read) / 1e6).toFixed(0)} MB (${((100 * Number(read)) / Number(total)).toFixed(1)}%), ` +
      `${(perTranscript / 1024).toFixed(0)} KiB per transcript (budget ${budget / 1024} KiB) ${firstOk ? "ok" : "OVER BUDGET"}`,
  );
  // Then nothing changes: each listing stats the files and reads the index.
  const again = spawnSync(process.execPath, [cli, "sessions", "--all", "--json", "--stats"], { env, encoding: "utf8", maxBuffer: 1 << 30 });
  const opened = /opened (\d+) transcripts/.exec(again.stderr)?.[1];
  if (opened !== "0") throw new Error(`a listing with nothing changed opened ${opened ?? "?"} transcripts: ${again.stderr}`);
  const count = Number(process.env.BENCH_SESSIONS_RUNS ?? 10);
  const unchanged = compare({ command: NODE_START, env }, { command: [process.execPath, cli, "sessions", "--all", "--json"], env }, count);
  const unchangedOk = report(
    `sessions --all --json over ${files} transcripts, nothing changed since the last run (${count} runs each)`,
    "node -e 0",
    unchanged,
    3,
    { what: "`sessions --all` over 10,000 transcripts, nothing changed, vs `node -e 0`", bench: "sessions" },
  );
  return firstOk && unchangedOk;
}

/**
 * `<tmp>/claude-persist-bench-<name>/`, built by `build(building, cache)` on first use and again whenever `spec` (its
 * shape, written beside it) changes. It is built in a temporary folder and renamed into place, so that a build cut
 * short is never taken for a complete one.
 */
function cachedTree(name: string, spec: object, build: (building: string, cache: string) => void): string {
  const cache = path.join(tmpdir(), `claude-persist-bench-${name}`);
  const marker = path.join(cache, "tree.json");
  const wanted = JSON.stringify(spec);
  if (existsSync(marker) && readFileSync(marker, "utf8") === wanted) return cache;
  const started = Date.now();
  rmSync(cache, { recursive: true, force: true });
  const building = mkdtempSync(path.join(tmpdir(), "claude-persist-bench-building-"));
  try {
    build(building, cache);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
  writeFileSync(path.join(building, "tree.json"), wanted);
  renameSync(building, cache);
  console.log(`(built the ${name} tree in ${cache} in ${((Date.now() - started) / 1000).toFixed(1)} s; later runs reuse it)`);
  return cache;
}

/** The synthetic home, built on first use (under ~2 minutes). */
function sessionsBenchHome(): string {
  const cache = cachedTree("sessions", SESSIONS_TREE, (building) => {
    const projects = path.join(building, "home", ".claude", "projects");
    const starts = path.join(building, "home", ".claude", "persist-state", "session-starts");
    mkdirSync(starts, { recursive: true });
    mkdirSync(projects, { recursive: true });
    writeSessionsTree(projects, starts);
  });
  return path.join(cache, "home");
}

function writeSessionsTree(projects: string, starts: string): void {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const mappings: object[] = [];
  const folders = Array.from({ length: SESSIONS_TREE.projects }, (_, p) => {
    const cwd = `/home/dev/src/project-${p}`;
    const slug = encodeProjectSlug(cwd);
    mkdirSync(path.join(projects, slug));
    if (p < SESSIONS_TREE.linked) {
      const containerPath = `/workspaces/project-${p}`;
      symlinkSync(slug, path.join(projects, encodeProjectSlug(containerPath)), "dir");
      mappings.push({ hostPath: cwd, hostSlug: slug, containerPath, containerSlug: encodeProjectSlug(containerPath), time: new Date(0).toISOString() });
    }
    return { cwd, slug };
  });
  writeFileSync(path.join(path.dirname(starts), "mappings.json"), JSON.stringify(mappings, null, 2));
  const filler = (id: string, cwd: string, text: string) =>
    JSON.stringify({ parentUuid: "p", isSidechain: false, type: "assistant", message: { role: "assistant", content: [{ type: "text", text }] }, uuid: "u", timestamp: "2026-01-01T00:00:00.000Z", cwd, sessionId: id, version: "2.1.330", gitBranch: "main" }) + "\n";
  const paragraph = "The build reads its configuration from the workspace and caches what it can. ".repeat(50);
  for (let i = 0; i < SESSIONS_TREE.transcripts; i++) {
    const { cwd, slug } = folders[i % folders.length] ?? { cwd: "", slug: "" };
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const start = Date.UTC(2026, 0, 1) + i * 60_000;
    const common = { cwd, sessionId: id, version: "2.1.330", gitBranch: i % 7 === 0 ? `feature/item-${i}` : "main", userType: "external" };
    const head =
      JSON.stringify({ type: "queue-operation", operation: "dequeue", timestamp: new Date(start).toISOString(), sessionId: id }) + "\n" +
      JSON.stringify({ ...common, parentUuid: null, type: "attachment", attachment: { type: "hook_success", stdout: "x".repeat(1500) }, timestamp: new Date(start).toISOString() }) + "\n" +
      JSON.stringify({ ...common, parentUuid: "a", type: "user", message: { role: "user", content: `Task ${i}: look at the failing tests in module ${i % 97}` }, timestamp: new Date(start).toISOString() }) + "\n";
    const tail =
      JSON.stringify({ ...common, parentUuid: "z", type: "assistant", message: { role: "assistant", content: [{ type: "text", text: "Done." }] }, timestamp: new Date(start + 3_600_000).toISOString() }) + "\n" +
      JSON.stringify({ type: "last-prompt", lastPrompt: `Task ${i}`, sessionId: id }) + "\n";
    const fd = openSync(path.join(projects, slug, `${id}.jsonl`), "w");
    writeSync(fd, head);
    if (i < SESSIONS_TREE.big) {
      const block = Buffer.from(filler(id, cwd, paragraph).repeat(Math.ceil(1_000_000 / paragraph.length)));
      for (let written = 0; written < SESSIONS_TREE.bigMb * 1_000_000; written += block.length) writeSync(fd, block);
    } else {
      // Most transcripts are tens to a few hundred kilobytes.
      writeSync(fd, filler(id, cwd, paragraph).repeat(Math.floor(2 + random() * random() * 80)));
    }
    writeSync(fd, tail);
    closeSync(fd);
    if (i % 3 === 0) {
      writeFileSync(path.join(starts, `${id}.jsonl`), JSON.stringify({ sessionId: id, cwd, environment: i % 2 ? "host" : "container", machine: "bench", source: "startup", time: new Date(start).toISOString() }) + "\n");
    }
  }
}

/** dev-open on a container that already runs with the mounts, against a plain `devcontainer up` of it. */
async function benchDevOpen(): Promise<boolean> {
  const { dockerUnavailableReason, ensureBaseImage, removeDevcontainers, startDockerEngine } = await import("../test/support/docker.ts");
  const reason = dockerUnavailableReason();
  if (reason) {
    console.log(`dev-open: skipped (${reason})`);
    return true;
  }
  const engine = await startDockerEngine();
  if ("skipped" in engine) {
    console.log(`dev-open: skipped (${engine.skipped})`);
    return true;
  }
  const work = mkdtempSync(path.join(tmpdir(), "cp-bench-devopen-"));
  const repo = path.join(work, "app");
  try {
    const image = await ensureBaseImage(engine);
    const home = path.join(work, "home");
    mkdirSync(path.join(repo, ".devcontainer"), { recursive: true });
    mkdirSync(home);
    writeFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), JSON.stringify({ image, remoteUser: "vscode", runArgs: ["--network=host"] }, null, 2));
    const env = { ...process.env, ...engine.env, HOME: home };
    for (const args of [["install"], ["dev-open"]]) {
      const result = spawnSync(process.execPath, [cli, ...args], { cwd: repo, env, encoding: "utf8" });
      if (result.status !== 0) throw new Error(`claude-persist ${args.join(" ")} failed: ${result.stderr}`);
    }
    const devcontainer = path.join(root, "node_modules", "@devcontainers", "cli", "devcontainer.js");
    const count = Number(process.env.BENCH_DEVOPEN_RUNS ?? 15);
    const result = compare(
      { command: [process.execPath, devcontainer, "up", "--workspace-folder", repo], env },
      { command: [process.execPath, path.join(root, "dist", "bin", "dev-open.mjs"), repo], env },
      count,
    );
    return report(`dev-open on a running container (${count} runs each)`, "devcontainer up", result, 1.15);
  } finally {
    await removeDevcontainers(engine, repo).catch(() => undefined);
    await engine.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

// `snapshot create` of 1 GB of transcripts against `tar -czf` of the same files (both gzip level 6, one stream).
// The tree is built once into the OS temp folder and reused: 120 sessions (4 of 100 MB), their todos, file
// history and session-start records. Lines are drawn from a pool of varied text, code and base64 blobs, so it
// compresses about as well as real transcripts do (3-6×), not like one repeated line.
const SNAPSHOT_TREE = { version: 1, sessions: 120, big: 4, bigMb: 100, totalMb: 1000 };

/** Runs `command` once in `cwd`; its time in ms and its stdout (a non-zero exit throws, with its stderr). */
function timeCommand(command: string[], cwd: string, env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const [file = "", ...args] = command;
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { cwd, env, encoding: "utf8", maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`${command.join(" ")} exited ${result.status}: ${result.stderr}`);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, stdout: result.stdout };
}

async function benchSnapshot(): Promise<boolean> {
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
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  // The project folder is named for where the cache ends up, so that its slug is the one the CLI computes there.
  const repo = path.join(cache, "repo");
  mkdirSync(path.join(building, "repo"));
  const config = path.join(building, "home", ".claude");
  const slugDir = path.join(config, "projects", encodeProjectSlug(repo));
  const starts = path.join(config, "persist-state", "session-starts");
  for (const dir of [slugDir, starts, path.join(config, "todos"), path.join(config, "file-history")]) mkdirSync(dir, { recursive: true });
  const syllables = ["ka", "ro", "te", "mi", "sun", "der", "pol", "ex", "an", "it", "con", "fig", "ure", "build", "test", "cache", "read", "path", "ing", "ed", "tion", "er", "al", "ly"];
  const words = Array.from({ length: 3000 }, () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(syllables)).join(""));
  // Zipf-like: common words much more often, as in prose.
  const word = () => words[Math.floor(random() * random() * random() * words.length)] ?? "a";
  const sentence = (n: number) => Array.from({ length: n }, word).join(" ");
  const code = () => Array.from({ length: 3 + Math.floor(random() * 20) }, () => `${"  ".repeat(Math.floor(random() * 4))}const ${word()}_${word()} = ${word()}(${word()}, ${Math.floor(random() * 1000)});`).join("\n");
  const blob = () => Buffer.from(Array.from({ length: 1500 + Math.floor(random() * 6000) }, () => Math.floor(random() * 256))).toString("base64");
  const pool: Buffer[] = [];
  for (let i = 0; i < 4000; i++) {
    const kind = random();
    const text = kind < 0.08 ? blob() : kind < 0.35 ? code() : sentence(20 + Math.floor(random() * 300));
    const line = {
      parentUuid: `${Math.floor(random() * 2 ** 31).toString(16)}-4000-8000`,
      isSidechain: false,
      type: kind < 0.5 ? "assistant" : "user",
      message: { role: kind < 0.5 ? "assistant" : "user", content: [{ type: kind < 0.08 ? "tool_result" : "text", text }] },
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
    writeFileSync(path.join(config, "todos", `${id}-agent-${id}.json`), JSON.stringify([{ content: sentence(8), status: "pending" }]), { mode: 0o600 });
    mkdirSync(path.join(config, "file-history", id));
    for (let v = 1; v <= 3; v++) writeFileSync(path.join(config, "file-history", id, `${s.toString(16)}abc@v${v}`), code(), { mode: 0o600 });
    writeFileSync(path.join(starts, `${id}.jsonl`), `${JSON.stringify({ sessionId: id, cwd: repo, environment: "host", machine: "bench", source: "startup", time: new Date().toISOString() })}\n`);
  }
}

// `snapshot restore --exact` of 300 MB (verify every checksum while extracting, move what it replaces aside as the
// undo, put the files in place) against `tar -xzf` of the same archive into an empty folder, interleaved.
const RESTORE_TREE = { version: 1, sessions: 40, big: 1, bigMb: 100, totalMb: 300 };

async function benchRestore(): Promise<boolean> {
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
    const created = JSON.parse(timed([process.execPath, cli, "snapshot", "create", "--json"]).stdout) as { id: string; archive: string; bytes: number };
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

// `npm run bench` runs them all; `npm run bench -- snapshot hook` runs the ones named.
const benches: Record<string, () => boolean | Promise<boolean>> = {
  hook: benchHook,
  cli: benchCli,
  sessions: benchSessions,
  "dev-open": benchDevOpen,
  snapshot: benchSnapshot,
  restore: benchRestore,
  sync: async () => (await import("./bench-sync.ts")).benchSync(),
};
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in benches));
if (unknown.length > 0) throw new Error(`no bench named ${unknown.join(", ")}; there are: ${Object.keys(benches).join(", ")}`);
const results: boolean[] = [];
for (const [name, bench] of Object.entries(benches)) if (chosen.length === 0 || chosen.includes(name)) results.push(await bench());
if (rows.length > 0) {
  console.log("\n| what | ratio | target | CPU time ratio | alone |\n|---|---|---|---|---|");
  for (const { what, ratio, cpuRatio, target, bench } of rows) {
    const verdict = `≤ ${target}× ${ratio <= target ? "ok" : "over"}`;
    const cpu = cpuRatio === undefined ? "-" : `${cpuRatio.toFixed(2)}×`;
    console.log(`| ${what} | ${ratio.toFixed(2)}× | ${verdict} | ${cpu} | \`npm run bench -- ${bench}\` |`);
  }
}
process.exitCode = results.every(Boolean) ? 0 : 1;
