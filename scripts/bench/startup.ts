// The start of what runs most often: the SessionStart hook, and each command of the CLI up to its work.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { cli, compare, HOOK, hookInput, median, NODE_START, report, root, rows, runs } from "./measure.ts";

export function benchHook(): boolean {
  const home = mkdtempSync(path.join(tmpdir(), "cp-bench-"));
  try {
    mkdirSync(path.join(home, ".claude", "persist-state"), { recursive: true });
    mkdirSync(path.join(home, ".claude", "projects"), { recursive: true });
    const input = hookInput(root);
    const env = { ...process.env, HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const hook = [process.execPath, HOOK];
    const onHost = compare({ command: NODE_START, input, env }, { command: hook, input, env });
    const hostOk = report(`SessionStart hook on the host (${runs} runs each)`, "node -e 0", onHost, 1.1, {
      what: "SessionStart hook vs `node -e 0`",
      bench: "hook",
    });
    // In a container /dev-open made it also repairs the project link and runs doctor's quick inside checks.
    const inContainer = {
      ...env,
      CLAUDE_PERSIST_ENVIRONMENT: "container",
      CLAUDE_PERSIST_HOST_WORKSPACE: root,
      CLAUDE_PERSIST_CONTAINER_WORKSPACE: root,
    };
    const container = compare(
      { command: NODE_START, input, env: inContainer },
      { command: hook, input, env: inContainer },
    );
    const containerOk = report(
      `SessionStart hook in a dev container (${runs} runs each)`,
      "node -e 0",
      container,
      1.25,
    );
    // The plugin's hook, once its first run has set up persist/ and the settings.json hook: it only checks that.
    const installed = spawnSync(process.execPath, [cli, "install"], { env, encoding: "utf8" });
    if (installed.status !== 0) throw new Error(`install exited ${installed.status}: ${installed.stderr}`);
    const plugin = compare(
      { command: NODE_START, input, env },
      { command: [process.execPath, path.join(root, "dist", "hooks", "plugin-session-start.cjs")], input, env },
    );
    const pluginOk = report(`the plugin's SessionStart hook, set up (${runs} runs each)`, "node -e 0", plugin, 1.25);
    return hostOk && containerOk && pluginOk;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The CLI's start: `--help`, and each command up to the point where it starts its work (its own `--help`): the
 * command's module and all it imports statically, which every run of it loads before doing anything. What a command
 * loads where it is used (node:child_process at its first process, yaml for a compose config, string-width for a table) is paid by
 * the work that needs it, and is not in these rows.
 */
export function benchCli(): boolean {
  const env = { ...process.env, HOME: mkdtempSync(path.join(tmpdir(), "cp-bench-cli-")), CLAUDE_CONFIG_DIR: "" };
  // As where the pack is installed: its host-only folder holds the commands' code cache (src/code-cache.ts), which
  // each row's untimed first run fills.
  mkdirSync(path.join(env.HOME, ".claude", "persist-host"), { recursive: true, mode: 0o700 });
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
      ["dev-open", [path.join(root, "dist", "bin", "dev-open.cjs"), "--help"]],
      ["start-work", [path.join(root, "dist", "bin", "start-work.cjs"), "--help"]],
      ...["sessions", "snapshot", "doctor", "install", "share"].map((name): [string, string[]] => [
        name,
        [cli, name, "--help"],
      ]),
    ];
    for (const [name, args] of starts) {
      const result = compare({ command: NODE_START, env }, { command: [process.execPath, ...args], env }, count);
      ok = report(`  ${name} --help: its modules loaded (${count} runs each)`, "node -e 0", result, 1.5) && ok;
      if (result.ratio > slowest.result.ratio) slowest = { name, result };
    }
    const what = `any command's start (slowest: ${slowest.name || "--help"})`;
    rows.push({ what, ratio: slowest.result.ratio, cpuRatio: slowest.result.cpuRatio, target: 1.5, bench: "cli" });
    return benchSpawnLayer(env, count) && ok;
  } finally {
    rmSync(env.HOME, { recursive: true, force: true });
  }
}

/** Median ms of loading `what` in a fresh node (`import()` with `esm`), timed inside it: node's own start is not in it. */
function loadMs(what: string, count: number, env: NodeJS.ProcessEnv, esm = false): number {
  const load = esm ? `await import(${JSON.stringify(what)})` : `require(${JSON.stringify(what)})`;
  const script = `const t=process.hrtime.bigint();${load};process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const args = esm ? ["--input-type=module", "-e", script] : ["-e", script];
    const run = spawnSync(process.execPath, args, { cwd: root, env, encoding: "utf8" });
    if (run.status !== 0) throw new Error(`loading ${what} failed: ${run.stderr}`);
    times.push(Number(run.stdout));
  }
  return median(times);
}

/**
 * The spawn layer (src/child-process.ts: node:child_process, required at a command's first process) against execa's
 * bundle, which it replaced; and the start of each command that runs processes, with that layer loaded.
 */
function benchSpawnLayer(env: NodeJS.ProcessEnv, count: number): boolean {
  const layer = loadMs("node:child_process", count, env);
  const execaMs = loadMs(
    pathToFileURL(path.join(root, "node_modules", "execa", "index.js")).href,
    Math.min(count, 10),
    env,
    true,
  );
  const layerOk = layer <= 2;
  console.log(
    `loading the spawn layer (node:child_process), median of ${count}: ${layer.toFixed(2)} ms (target ≤ 2 ms) ${layerOk ? "ok" : "OVER TARGET"}; execa, which it replaced: ${execaMs.toFixed(1)} ms`,
  );
  rows.push({ what: "loading the spawn layer, against 2 ms", ratio: layer / 2, target: 1, bench: "cli" });
  const preload = path.join(env.HOME ?? tmpdir(), "spawn-layer.cjs");
  writeFileSync(preload, 'require("node:child_process");\n');
  let ok = layerOk;
  let slowest: { name: string; result: ReturnType<typeof compare> } | undefined;
  const spawning: Array<[string, string[]]> = [
    ["dev-open", [path.join(root, "dist", "bin", "dev-open.cjs"), "--help"]],
    ["start-work", [path.join(root, "dist", "bin", "start-work.cjs"), "--help"]],
    ...["doctor", "sync", "share"].map((name): [string, string[]] => [name, [cli, name, "--help"]]),
  ];
  for (const [name, args] of spawning) {
    const result = compare(
      { command: NODE_START, env },
      { command: [process.execPath, "-r", preload, ...args], env },
      count,
    );
    ok = report(`  ${name}'s start with the spawn layer loaded (${count} runs each)`, "node -e 0", result, 1.1) && ok;
    if (!slowest || result.ratio > slowest.result.ratio) slowest = { name, result };
  }
  if (slowest)
    rows.push({
      what: `a spawning command's start with its spawn layer (slowest: ${slowest.name})`,
      ratio: slowest.result.ratio,
      cpuRatio: slowest.result.cpuRatio,
      target: 1.1,
      bench: "cli",
    });
  return ok;
}
