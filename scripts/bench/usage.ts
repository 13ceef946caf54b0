// The usage row (`npm run bench -- usage`): `usage --all --by day --json` against ccusage's `daily --json --offline`
// on the same synthetic Claude home, 10,000 sessions of ~17 kB (~170 MB) in 300 projects (BENCH_USAGE_SESSIONS for
// another size). Cold: the usage ledger removed before each run, so every transcript is read; warm: nothing changed
// since the last run. Runs are interleaved with ccusage's; time and peak memory (GNU time's maximum RSS) as ratios.
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { encodeProjectSlug } from "../../src/claude/home.ts";
import { STATE, statePath } from "../../src/state/paths.ts";
import { cachedTree, cli, compare, median, NODE_START, report, root, rows } from "./measure.ts";

const SESSIONS = Number(process.env.BENCH_USAGE_SESSIONS ?? 10_000);
const TREE = { version: 1, sessions: SESSIONS, projects: 300 };
const CCUSAGE = path.join(root, "node_modules", ".bin", "ccusage");
const GNU_TIME = "/usr/bin/time";

export function benchUsage(): boolean {
  const home = usageBenchHome();
  const env = { PATH: process.env.PATH ?? "", HOME: home, CLAUDE_CONFIG_DIR: path.join(home, ".claude"), TZ: "UTC" };
  const ledger = statePath({ HOME: home }, STATE.usageLedger);
  const ours = [process.execPath, cli, "usage", "--all", "--by", "day", "--json"];
  const theirs = [CCUSAGE, "daily", "--json", "--offline"];
  // The same figures first: a bench of two commands that disagree would measure nothing.
  const a = JSON.parse(run(ours, env).stdout) as { totals: { totalTokens: number } };
  const b = JSON.parse(run(theirs, env).stdout) as { totals: { totalTokens: number } };
  if (a.totals.totalTokens !== b.totals.totalTokens)
    throw new Error(`usage counted ${a.totals.totalTokens} tokens, ccusage ${b.totals.totalTokens}`);
  const count = Number(process.env.BENCH_USAGE_RUNS ?? 5);
  let ok = true;
  for (const warm of [false, true]) {
    const times = { ours: [] as number[], theirs: [] as number[] };
    const memory = { ours: [] as number[], theirs: [] as number[] };
    for (let i = 0; i < count; i++) {
      const c = run(theirs, env);
      times.theirs.push(c.ms);
      memory.theirs.push(c.maxRssKb);
      if (!warm) rmSync(ledger, { recursive: true, force: true });
      const o = run(ours, env);
      times.ours.push(o.ms);
      memory.ours.push(o.maxRssKb);
    }
    const target = warm ? 0.2 : 1.0;
    const ratio = median(times.ours) / median(times.theirs);
    const memoryRatio = median(memory.ours) / median(memory.theirs);
    const what = warm ? "nothing changed since the last run" : "cold (no ledger)";
    console.log(
      `usage --all --by day over ${SESSIONS} sessions, ${what}: median ${median(times.ours).toFixed(0)} ms, ` +
        `${(median(memory.ours) / 1024).toFixed(0)} MB vs ccusage daily --offline ${median(times.theirs).toFixed(0)} ms, ` +
        `${(median(memory.theirs) / 1024).toFixed(0)} MB → time ${ratio.toFixed(2)}× (target ≤ ${target}), ` +
        `memory ${memoryRatio.toFixed(2)}×`,
    );
    rows.push({ what: `\`usage --all --by day\`, ${what}, vs ccusage`, ratio, target, bench: "usage" });
    rows.push({ what: `  its peak memory vs ccusage's, ${what}`, ratio: memoryRatio, target: 1.0, bench: "usage" });
    ok &&= ratio <= target && memoryRatio <= 1.0;
  }
  // The status line, which Claude Code runs after every message, with the JSON Claude Code sends it: within 50 ms, on
  // a machine where node -e 0 takes ~40 ms, is node's start and at most a quarter more.
  const input = JSON.stringify({
    hook_event_name: "Status",
    session_id: "00000000-0000-4000-8000-000000000000",
    transcript_path: path.join(home, ".claude", "projects", "x", "00000000-0000-4000-8000-000000000000.jsonl"),
    cwd: root,
    model: { id: "claude-opus-4-5-20251101", display_name: "Opus 4.5" },
    workspace: { current_dir: root, project_dir: root },
    version: "2.1.330",
    output_style: { name: "default" },
    cost: {
      total_cost_usd: 1.5,
      total_duration_ms: 45_000,
      total_api_duration_ms: 2300,
      total_lines_added: 156,
      total_lines_removed: 23,
    },
    context_window: { total_input_tokens: 15_234, total_output_tokens: 4521, context_window_size: 200_000 },
    exceeds_200k_tokens: false,
  });
  const line = compare(
    { command: NODE_START, env },
    { command: [process.execPath, cli, "statusline"], env, input },
    Number(process.env.BENCH_RUNS ?? 30),
  );
  console.log(
    `claude-persist statusline: ${line.subject.toFixed(1)} ms, node -e 0 ${line.baseline.toFixed(1)} ms: ` +
      `${(line.subject - line.baseline).toFixed(1)} ms of its own (goal: within 50 ms, where node -e 0 takes ~40 ms)`,
  );
  const lineOk = report("claude-persist statusline", "node -e 0", line, 1.25, {
    what: "`claude-persist statusline` vs `node -e 0`",
    bench: "usage",
  });
  return ok && lineOk;
}

/** Runs `command` under GNU time: its elapsed ms, peak memory (kB) and stdout. */
function run(command: string[], env: NodeJS.ProcessEnv): { ms: number; maxRssKb: number; stdout: string } {
  const start = process.hrtime.bigint();
  const result = spawnSync(GNU_TIME, ["-f", "%M", ...command], { env, encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command.join(" ")} exited ${result.status}: ${result.stderr}`);
  const maxRssKb = Number(result.stderr.trim().split("\n").at(-1));
  return { ms, maxRssKb, stdout: result.stdout };
}

function usageBenchHome(): string {
  return path.join(
    cachedTree("usage", TREE, (building) => writeTree(path.join(building, "home", ".claude", "projects"))),
    "home",
  );
}

/** Sessions as Claude Code writes them: prompts, attachments, streamed answers with usage (2 blocks each). */
function writeTree(projects: string): void {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const models = ["claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001"];
  const attachment = "x".repeat(1200);
  for (let i = 0; i < SESSIONS; i++) {
    const cwd = `/home/dev/src/project-${i % TREE.projects}`;
    const dir = path.join(projects, encodeProjectSlug(cwd));
    mkdirSync(dir, { recursive: true });
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const common = {
      cwd,
      sessionId: id,
      version: "2.1.100",
      gitBranch: i % 5 ? "main" : `feat/${i}`,
      userType: "external",
    };
    let time = Date.UTC(2026, 9, 1) + i * 300_000;
    const lines: string[] = [];
    const turns = 3 + Math.floor(random() * 6);
    for (let t = 0; t < turns; t++) {
      const stamp = () => {
        time += 1000 + Math.floor(random() * 20_000);
        return new Date(time).toISOString();
      };
      lines.push(
        JSON.stringify({
          ...common,
          type: "user",
          uuid: `${id}-u${t}`,
          timestamp: stamp(),
          message: { role: "user", content: `Step ${t} of task ${i}` },
        }),
      );
      lines.push(
        JSON.stringify({
          ...common,
          type: "attachment",
          uuid: `${id}-t${t}`,
          timestamp: stamp(),
          attachment: { type: "file", content: attachment },
        }),
      );
      const usage = {
        input_tokens: Math.floor(random() * 5000),
        output_tokens: Math.floor(random() * 2000),
        cache_creation_input_tokens: Math.floor(random() * 20_000),
        cache_read_input_tokens: Math.floor(random() * 100_000),
      };
      const message = { id: `msg_${i}_${t}`, type: "message", role: "assistant", model: models[(i + t) % 3], usage };
      for (let block = 0; block < 2; block++) {
        lines.push(
          JSON.stringify({
            ...common,
            type: "assistant",
            uuid: `${id}-a${t}-${block}`,
            requestId: `req_${i}_${t}`,
            timestamp: stamp(),
            message: { ...message, content: [{ type: "text", text: "Working on it. ".repeat(40) }] },
          }),
        );
      }
    }
    const fd = openSync(path.join(dir, `${id}.jsonl`), "w");
    writeSync(fd, `${lines.join("\n")}\n`);
    closeSync(fd);
  }
}
