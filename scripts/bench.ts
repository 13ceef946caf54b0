// `npm run bench`: speed measured as ratios against a baseline taken in the same run, on this machine.
// Runs are interleaved (baseline, subject, baseline, …) so that drift in the machine's load hits both alike.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

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
function compare(baseline: Timed, subject: Timed): { baseline: number; subject: number; ratio: number } {
  timeOnce(baseline);
  timeOnce(subject);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
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
      { command: [process.execPath, path.join(root, "dist", "hooks", "session-start.mjs")], input, env },
    );
    return report(`SessionStart hook (${runs} runs each)`, "node -e 0", result, 1.25);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const results = [benchHook()];
process.exitCode = results.every(Boolean) ? 0 : 1;
