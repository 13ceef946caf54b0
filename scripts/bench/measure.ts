// What every bench row shares: interleaved timing against a baseline, medians, CPU time from /proc, the table's
// rows, and synthetic trees built once into the OS temp folder and reused.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const runs = Number(process.env.BENCH_RUNS ?? 60);
/** The `claude-persist` command as package.json's bin and the slash commands run it. */
export const cli = path.join(root, "dist", "bin", "claude-persist.cjs");
export const NODE_START = [process.execPath, "-e", "0"];
/** The SessionStart hook as settings.json runs it. */
export const HOOK = path.join(root, "dist", "hooks", "session-start.cjs");

/** What Claude Code gives the SessionStart hook on stdin for a new session in `cwd`. */
export function hookInput(cwd: string): string {
  return JSON.stringify({
    session_id: "0b7e4a8c-1111-4222-8333-944445555666",
    cwd,
    hook_event_name: "SessionStart",
    source: "startup",
  });
}

/** A command to time; `before` runs first, untimed (a change the command then sees). */
export type Timed = { command: string[]; input?: string; env?: NodeJS.ProcessEnv; before?: () => void };

/**
 * CPU time (user + system) of the children this process has waited for, in ms, from /proc (Linux; undefined
 * elsewhere). In 10 ms ticks, so it is only read as a sum over many runs: a figure that load on the machine skews far
 * less than elapsed time, printed beside each ratio when the machine is busy.
 */
function childrenCpuMs(): number | undefined {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8")
      .replace(/^.*\) /s, "")
      .split(" ");
    // After the command's name: state is field 3; cutime and cstime are fields 16 and 17 (1-based).
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

export function timeOnce({ command, input, env, before }: Timed, cpu?: { ms: number }): number {
  const [file = "", ...args] = command;
  before?.();
  const cpuBefore = childrenCpuMs();
  const start = process.hrtime.bigint();
  // stdout is a pipe, as for the `!` lines of the slash commands and for Claude Code's hooks.
  const result = spawnSync(file, args, {
    input: input ?? "",
    env: env ?? process.env,
    stdio: ["pipe", "pipe", "ignore"],
    maxBuffer: 1 << 30,
  });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command.join(" ")} exited ${result.status}`);
  const cpuAfter = childrenCpuMs();
  if (cpu && cpuBefore !== undefined && cpuAfter !== undefined) cpu.ms += cpuAfter - cpuBefore;
  return elapsed;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Medians of elapsed time, and the ratio of the CPU time summed over all runs (when the OS tells it). */
export type Comparison = { baseline: number; subject: number; ratio: number; cpuRatio?: number };

/** Median of `subject` over median of `baseline`, interleaved, after one untimed run of each. */
export function compare(baseline: Timed, subject: Timed, count = runs): Comparison {
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
export const rows: Array<{
  what: string;
  ratio: number;
  cpuRatio?: number | undefined;
  target: number;
  bench: string;
}> = [];

export function report(
  name: string,
  baselineName: string,
  result: Comparison,
  target: number,
  row?: { what: string; bench: string },
): boolean {
  const ok = result.ratio <= target;
  console.log(
    `${name}: median ${result.subject.toFixed(1)} ms vs ${baselineName} ${result.baseline.toFixed(1)} ms → ` +
      `ratio ${result.ratio.toFixed(3)} (target ≤ ${target}) ${ok ? "ok" : "OVER TARGET"}` +
      (result.cpuRatio === undefined ? "" : `; CPU time ${result.cpuRatio.toFixed(3)}`),
  );
  if (row) rows.push({ ...row, ratio: result.ratio, cpuRatio: result.cpuRatio, target });
  return ok;
}

/**
 * `<tmp>/claude-persist-bench-<name>/`, built by `build(building, cache)` on first use and again whenever `spec` (its
 * shape, written beside it) changes. It is built in a temporary folder and renamed into place, so that a build cut
 * short is never taken for a complete one.
 */
export function cachedTree(name: string, spec: object, build: (building: string, cache: string) => void): string {
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
  console.log(
    `(built the ${name} tree in ${cache} in ${((Date.now() - started) / 1000).toFixed(1)} s; later runs reuse it)`,
  );
  return cache;
}

/** Runs `command` once in `cwd`; its time in ms and its stdout (a non-zero exit throws, with its stderr). */
export function timeCommand(command: string[], cwd: string, env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const [file = "", ...args] = command;
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { cwd, env, encoding: "utf8", maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`${command.join(" ")} exited ${result.status}: ${result.stderr}`);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, stdout: result.stdout };
}
