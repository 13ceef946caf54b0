// `npm run bench`: speed measured as ratios against a baseline taken in the same run, on this machine.
// Runs are interleaved (baseline, subject, baseline, …) so that drift in the machine's load hits both alike.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { encodeProjectSlug } from "../src/claude/home.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.env.BENCH_RUNS ?? 60);

type Timed = { command: string[]; input?: string; env?: NodeJS.ProcessEnv };

function timeOnce({ command, input, env }: Timed): number {
  const [file = "", ...args] = command;
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { input: input ?? "", env: env ?? process.env, stdio: ["pipe", "ignore", "ignore"] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command.join(" ")} exited ${result.status}`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Median of `subject` over median of `baseline`, interleaved. */
function compare(baseline: Timed, subject: Timed, count = runs): { baseline: number; subject: number; ratio: number } {
  timeOnce(baseline);
  timeOnce(subject);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < count; i++) {
    a.push(timeOnce(baseline));
    b.push(timeOnce(subject));
  }
  const base = median(a);
  const subj = median(b);
  return { baseline: base, subject: subj, ratio: subj / base };
}

function report(name: string, baselineName: string, result: { baseline: number; subject: number; ratio: number }, budget: number): boolean {
  const ok = result.ratio <= budget;
  console.log(
    `${name}: median ${result.subject.toFixed(1)} ms vs ${baselineName} ${result.baseline.toFixed(1)} ms → ` +
      `ratio ${result.ratio.toFixed(3)} (budget ${budget}) ${ok ? "ok" : "OVER BUDGET"}`,
  );
  return ok;
}

function benchHook(): boolean {
  const home = mkdtempSync(path.join(tmpdir(), "cp-bench-"));
  try {
    mkdirSync(path.join(home, ".claude", "persist-state"), { recursive: true });
    mkdirSync(path.join(home, ".claude", "projects"), { recursive: true });
    const input = JSON.stringify({ session_id: "0b7e4a8c-1111-4222-8333-944445555666", cwd: root, hook_event_name: "SessionStart", source: "startup" });
    const env = { ...process.env, HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const result = compare(
      { command: [process.execPath, "-e", "0"], input, env },
      { command: [process.execPath, path.join(root, "dist", "hooks", "session-start.cjs")], input, env },
    );
    return report(`SessionStart hook (${runs} runs each)`, "node -e 0", result, 1.25);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

// `sessions --all` over a large synthetic Claude home: 10,000 transcripts in a few hundred project folders, 20 of
// them 50 MB, some container folders symlinked onto host folders. Built once into the OS temp folder and reused.
const SESSIONS_TREE = { version: 1, projects: 300, transcripts: 10_000, big: 20, bigMb: 50, linked: 30 };

function benchSessions(): boolean {
  const home = sessionsBenchHome();
  const projects = path.join(home, ".claude", "projects");
  const env = { ...process.env, HOME: home, CLAUDE_CONFIG_DIR: "" };
  const cli = path.join(root, "dist", "bin", "claude-persist.mjs");
  const stats = spawnSync(process.execPath, [cli, "sessions", "--all", "--json", "--stats"], { env, encoding: "utf8", maxBuffer: 1 << 30 });
  const listed = (JSON.parse(stats.stdout) as unknown[]).length;
  const [, read = "0", total = "0", files = "0"] = /read (\d+) of (\d+) bytes .* in (\d+) transcripts/.exec(stats.stderr) ?? [];
  // summarizeTranscript reads a 64 KiB window at each end: what it reads must not grow with the transcripts' size.
  const perTranscript = Number(read) / Number(files);
  const budget = 128 * 1024;
  const sessionRuns = Number(process.env.BENCH_SESSIONS_RUNS ?? 7);
  const find: number[] = [];
  const sessions: number[] = [];
  for (let i = 0; i <= sessionRuns; i++) {
    const a = timeOnce({ command: ["find", projects, "-name", "*.jsonl"], env });
    const b = timeOnce({ command: [process.execPath, cli, "sessions", "--all", "--json"], env });
    if (i === 0) continue; // The first pair warms the page cache.
    find.push(a);
    sessions.push(b);
  }
  const ok = perTranscript <= budget;
  console.log(
    `sessions --all: ${listed} sessions from ${files} transcripts of ${(Number(total) / 1e6).toFixed(0)} MB: read ` +
      `${(Number(read) / 1e6).toFixed(0)} MB (${((100 * Number(read)) / Number(total)).toFixed(1)}%), ` +
      `${(perTranscript / 1024).toFixed(0)} KiB per transcript (budget ${budget / 1024} KiB) ${ok ? "ok" : "OVER BUDGET"}`,
  );
  console.log(
    `sessions --all (${sessionRuns} runs each, warm cache): median ${median(sessions).toFixed(0)} ms vs find -name '*.jsonl' ` +
      `${median(find).toFixed(0)} ms → ratio ${(median(sessions) / median(find)).toFixed(1)}`,
  );
  return ok;
}

/** The synthetic home, built on first use (under ~2 minutes) into `<tmp>/claude-persist-bench-sessions/`. */
function sessionsBenchHome(): string {
  const cache = path.join(tmpdir(), "claude-persist-bench-sessions");
  const marker = path.join(cache, "tree.json");
  const wanted = JSON.stringify(SESSIONS_TREE);
  if (existsSync(marker) && readFileSync(marker, "utf8") === wanted) return path.join(cache, "home");
  const started = Date.now();
  rmSync(cache, { recursive: true, force: true });
  const building = mkdtempSync(path.join(tmpdir(), "claude-persist-bench-building-"));
  const home = path.join(building, "home");
  const projects = path.join(home, ".claude", "projects");
  const starts = path.join(home, ".claude", "persist-state", "session-starts");
  mkdirSync(starts, { recursive: true });
  mkdirSync(projects, { recursive: true });
  try {
    writeSessionsTree(projects, starts);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
  writeFileSync(path.join(building, "tree.json"), wanted);
  renameSync(building, cache);
  console.log(`(built the sessions tree in ${cache} in ${((Date.now() - started) / 1000).toFixed(1)} s; later runs reuse it)`);
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
    const cli = path.join(root, "dist", "bin", "claude-persist.mjs");
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

const results = [benchHook(), benchSessions(), await benchDevOpen()];
process.exitCode = results.every(Boolean) ? 0 : 1;
