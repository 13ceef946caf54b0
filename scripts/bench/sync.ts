// `npm run bench -- sync`: two machines syncing Claude Code's folders through real Syncthing daemons in a
// loopback-only network namespace (needs root for unshare, and Debian's syncthing). Prints the latency of one
// appended transcript line (watcher alone, and with a scan asked for right after the write), conflict copies
// merged with no line lost, the daemons' idle cost, and the SessionStart hook with sync set up against without.
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { encodeProjectSlug } from "../../src/claude/home.ts";
import { endpointOf, rest } from "../../src/sync/syncthing.ts";
import { runClaude, runCli, tempDir } from "../../test/support/claude.ts";
import { startMessagesServer } from "../../test/support/messages-server.ts";
import {
  address,
  hasSyncthing,
  initMachine,
  makeMachine,
  readIfThere,
  startLoopbackNetwork,
  waitFor,
  type Machine,
} from "../../test/support/sync-machines.ts";
import { STOP_HOOK_COMMAND } from "../../src/install/settings.ts";
import { compare, HOOK, hookInput, median, NODE_START, report, root, rows } from "./measure.ts";

const LATENCY_RUNS = 5;
const CONFLICTS = 5;
const IDLE_S = 10;

export async function benchSync(): Promise<boolean> {
  const startOk = benchHookWithSync();
  const hookOk = benchStopHookWithoutSync() && startOk;
  if (!hasSyncthing || process.getuid?.() !== 0) {
    console.log(
      "sync: the two-machine rows skipped (they need syncthing, and root for a network namespace: bash .ci/provision-sync.sh)",
    );
    return hookOk;
  }
  const net = await startLoopbackNetwork();
  const machines: Machine[] = [];
  try {
    const origin = path.join(tempDir("cp-bench-origin-"), "app.git");
    await execa("git", ["init", "-q", "--bare", origin]);
    const laptop = await makeMachine(net, "laptop", 22401, origin, "git@github.com:ana/app.git", "code/app");
    const desktop = await makeMachine(net, "desktop", 22402, origin, "https://github.com/ana/app", "src/app");
    machines.push(laptop, desktop);
    for (const machine of machines) {
      // Installed, as a user has it: the Stop hook is in settings.json.
      const installed = await runCli(["install"], { env: { HOME: machine.home } });
      if (installed.exitCode !== 0) throw new Error(`install failed: ${installed.stderr}`);
      await initMachine(machine);
    }
    await laptop.cli(["sync", "add-device", desktop.deviceId, "--address", address(desktop)]);
    await desktop.cli(["sync", "add-device", laptop.deviceId, "--address", address(laptop)]);
    const project = (machine: Machine) => path.join(machine.claudeDir, "projects", encodeProjectSlug(machine.repo));
    const session = "be4c4b3e-1111-4222-8333-944445555666";
    const from = path.join(project(laptop), `${session}.jsonl`);
    const to = path.join(project(desktop), `${session}.jsonl`);
    writeFileSync(from, `${line(0)}\n`, { mode: 0o600 });
    await waitFor("the first line across", () => readIfThere(to) === readFileSync(from, "utf8"), 120_000);

    const endpoint = endpointOf(path.join(laptop.claudeDir, "persist-host", "syncthing"));
    const identity = path.basename(
      readdirSync(path.join(laptop.claudeDir, "projects")).find((n) => n.startsWith("repo-")) ?? "",
    );
    const latency = async (scan: boolean): Promise<number> => {
      const times: number[] = [];
      for (let i = 1; i <= LATENCY_RUNS; i++) {
        const text = `${line(times.length + (scan ? 100 : 1) + i)}\n`;
        const start = performance.now();
        appendFileSync(from, text);
        if (scan && endpoint)
          await rest(
            endpoint,
            "POST",
            `/rest/db/scan?folder=claude-projects&sub=${encodeURIComponent(`${identity}/${session}.jsonl`)}`,
          );
        await waitFor("the appended line", () => readIfThere(to)?.endsWith(text), 60_000);
        times.push(performance.now() - start);
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      return median(times);
    };
    const watched = await latency(false);
    const scanned = await latency(true);
    console.log(
      `sync: one appended line laptop → desktop, median of ${LATENCY_RUNS}: ${watched.toFixed(0)} ms with the watcher (1 s delay), ${scanned.toFixed(0)} ms with a scan asked for right after the write`,
    );

    const turnOk = await benchTurnAcross(laptop, desktop);

    let merged = 0;
    let lost = 0;
    for (let i = 0; i < CONFLICTS; i++) {
      await desktop.cli(["sync", "stop"]);
      const mine = `${line(1000 + i)}\n`;
      const theirs = `${line(2000 + i)}\n`;
      appendFileSync(from, mine);
      appendFileSync(to, theirs);
      await desktop.cli(["sync", "start"]);
      await waitFor(
        "a conflict copy",
        () => machines.some((m) => readdirSync(project(m)).some((n) => n.includes(".sync-conflict-"))),
        120_000,
      );
      // What the next session start on either machine does: merge, until both hold the same lines and no copy.
      const deadline = Date.now() + 120_000;
      let text: string | undefined;
      while (Date.now() < deadline && text === undefined) {
        for (const machine of machines)
          if ((await machine.cli(["sync", "merge"])).stdout.includes("continued on two machines")) merged++;
        const [a, b] = [readIfThere(from), readIfThere(to)];
        const copies = machines.flatMap((m) => readdirSync(project(m)).filter((n) => n.includes(".sync-conflict-")));
        if (a === b && copies.length === 0) text = a;
        else await new Promise((resolve) => setTimeout(resolve, 500));
      }
      if (text === undefined) throw new Error("the two machines did not converge after merging");
      if (!text.includes(mine) || !text.includes(theirs)) lost++;
    }
    console.log(
      `sync: ${CONFLICTS} sessions written on both machines while apart: ${CONFLICTS - lost} of ${CONFLICTS} converged with every line (${merged} merges run, on both sides), ${lost} with a line lost`,
    );

    const pids = machines.map((m) =>
      Number(readFileSync(path.join(m.claudeDir, "persist-host", "syncthing", "syncthing.pid"), "utf8")),
    );
    const before = pids.map(cpuTicks);
    await new Promise((resolve) => setTimeout(resolve, IDLE_S * 1000));
    const after = pids.map(cpuTicks);
    const cpu = after.reduce((sum, t, i) => sum + t - (before[i] ?? 0), 0) / 100 / IDLE_S / machines.length;
    const rss = pids.map(rssMiB).reduce((a, b) => a + b, 0) / machines.length;
    console.log(
      `sync: idle daemon (monitor + worker) per machine: ${rss.toFixed(0)} MiB RSS, ${(cpu * 100).toFixed(2)}% of a core over ${IDLE_S} s`,
    );
    return hookOk && turnOk && lost === 0;
  } finally {
    for (const machine of machines) await machine.cli(["sync", "stop"]);
    await net.close();
    for (const machine of machines) rmSync(path.dirname(path.dirname(machine.home)), { recursive: true, force: true });
  }
}

function line(n: number): string {
  return JSON.stringify({
    uuid: `u-${n}`,
    parentUuid: n > 0 ? `u-${n - 1}` : null,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    type: "user",
    message: { role: "user", content: `line ${n}` },
  });
}

/** utime + stime of a process and its children (the monitor's worker), in clock ticks. */
function cpuTicks(pid: number): number {
  return [pid, ...childrenOf(pid)].reduce((sum, p) => {
    const fields = (readIfThere(`/proc/${p}/stat`) ?? "").split(") ")[1]?.split(" ") ?? [];
    return sum + Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }, 0);
}

function rssMiB(pid: number): number {
  return [pid, ...childrenOf(pid)].reduce(
    (sum, p) => sum + Number(/VmRSS:\s+(\d+)/.exec(readIfThere(`/proc/${p}/status`) ?? "")?.[1] ?? 0) / 1024,
    0,
  );
}

function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => Number((readIfThere(`/proc/${name}/stat`) ?? "").split(") ")[1]?.split(" ")[1]) === pid)
    .map(Number);
}

const HOOK_RUNS = Number(process.env.BENCH_RUNS ?? 60);

/** The SessionStart hook in a linked project with 50 sessions, sync set up against the same home without it. */
function benchHookWithSync(): boolean {
  const home = tempDir("cp-bench-sync-hook-");
  try {
    const repo = path.join(home, "code", "app");
    mkdirSync(path.join(repo, ".git"), { recursive: true });
    writeFileSync(path.join(repo, ".git", "config"), '[remote "origin"]\n\turl = git@github.com:ana/app.git\n');
    const claude = path.join(home, ".claude");
    const identity = path.join(claude, "projects", "repo-github.com-ana-app-00000000");
    mkdirSync(identity, { recursive: true });
    mkdirSync(path.join(claude, "persist-state"), { recursive: true });
    mkdirSync(path.join(claude, "persist-host"), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(path.join(identity, `s${i}.jsonl`), `${line(i)}\n`);
    const settings = path.join(claude, "persist-host", "sync.json");
    const input = hookInput(repo);
    const env = { ...process.env, HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const hook = HOOK;
    writeFileSync(settings, JSON.stringify({ home: "/nonexistent", own: true, relay: false, deviceId: "X" }));
    const first = spawnSync(process.execPath, [hook], { input, env, encoding: "utf8" });
    if (!lstatSync(path.join(claude, "projects", encodeProjectSlug(repo))).isSymbolicLink())
      throw new Error(`the hook did not link the project: ${first.stderr}`);
    const timed = (withSync: boolean): number => {
      if (withSync) writeFileSync(settings, "{}");
      else rmSync(settings, { force: true });
      const start = performance.now();
      spawnSync(process.execPath, [hook], { input, env, stdio: ["pipe", "ignore", "ignore"] });
      return performance.now() - start;
    };
    const without: number[] = [];
    const withSync: number[] = [];
    for (let i = 0; i < HOOK_RUNS; i++) {
      without.push(timed(false));
      withSync.push(timed(true));
    }
    const ratio = median(withSync) / median(without);
    const ok = ratio <= 1.1;
    console.log(
      `sync: SessionStart hook with sync set up (project linked, 50 sessions), ${HOOK_RUNS} runs each: median ${median(withSync).toFixed(1)} ms ` +
        `vs without ${median(without).toFixed(1)} ms → ratio ${ratio.toFixed(3)} (budget 1.1) ${ok ? "ok" : "OVER BUDGET"}`,
    );
    return ok;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const TURN_RUNS = Number(process.env.BENCH_SYNC_TURNS ?? 5);

/**
 * `claude -p` on the laptop, with the pack installed (its Stop hook has Syncthing scan the transcript once quiet): from the
 * end of the claude process to the turn's answer in the desktop's copy. An answer there before claude has ended
 * counts 0.
 */
async function benchTurnAcross(laptop: Machine, desktop: Machine): Promise<boolean> {
  const server = await startMessagesServer({ reply: () => "the answer of this turn" });
  const times: number[] = [];
  try {
    const laptopProject = path.join(laptop.claudeDir, "projects", encodeProjectSlug(laptop.repo));
    const identity = readlinkSync(laptopProject);
    for (let i = 0; i < TURN_RUNS; i++) {
      const word = `TURN${i}X${Date.now()}`;
      const args = i === 0 ? ["-p", word] : ["--continue", "-p", word];
      const run = await runClaude(args, { cwd: laptop.repo, home: laptop.home, apiUrl: server.url });
      const ended = performance.now();
      if (run.exitCode !== 0) throw new Error(`claude -p failed: ${run.stderr}`);
      const session = readdirSync(laptopProject).find((name) =>
        readFileSync(path.join(laptopProject, name), "utf8").includes(word),
      );
      if (!session) throw new Error("claude wrote no transcript with the prompt");
      const there = path.join(desktop.claudeDir, "projects", identity, session);
      const answered = () => {
        const text = readIfThere(there) ?? "";
        const at = text.indexOf(word);
        return at >= 0 && text.indexOf("the answer of this turn", at) > at;
      };
      await waitFor("the turn on the desktop", answered, 60_000).catch((error: unknown) => {
        const files = readdirSync(path.dirname(there)).join(", ");
        const log = readIfThere(path.join(desktop.claudeDir, "persist-host", "syncthing", "syncthing.log")) ?? "";
        console.log(`desktop's Syncthing log, the end:\n${log.split("\n").slice(-15).join("\n")}`);
        console.log(`laptop's copy: ${readIfThere(path.join(laptopProject, session))?.length} bytes`);
        throw new Error(
          `${String(error)}; ${there} holds ${readIfThere(there)?.length ?? "nothing"} (beside: ${files})`,
        );
      });
      times.push(Math.max(0, performance.now() - ended));
      // The watcher's own send of the hook's note, so that the next turn starts from a settled folder.
      await new Promise((resolve) => setTimeout(resolve, 2500));
    }
  } finally {
    await server.close();
  }
  const got = median(times);
  const ok = got <= 200;
  console.log(
    `sync: a finished turn laptop → desktop (claude -p, the Stop hook asking for the scan), median of ${TURN_RUNS}: ` +
      `${got.toFixed(0)} ms after claude's end (target ≤ 200 ms) ${ok ? "ok" : "OVER TARGET"}; each: ${times.map((t) => t.toFixed(0)).join(", ")} ms`,
  );
  rows.push({
    what: "a finished turn laptop → desktop after `claude -p`, against 200 ms",
    ratio: got / 200,
    target: 1,
    bench: "sync",
  });
  return ok;
}

/** The Stop hook where sync is not set up, as settings.json runs it (`sh -c`), and its bundle run by hand. */
function benchStopHookWithoutSync(): boolean {
  const home = tempDir("cp-bench-stop-");
  try {
    const hooks = path.join(home, ".claude", "persist", "hooks");
    mkdirSync(hooks, { recursive: true });
    for (const name of ["stop.cjs", "stop-scan.cjs"])
      writeFileSync(path.join(hooks, name), readFileSync(path.join(root, "dist", "hooks", name)));
    const env = { ...process.env, HOME: home, CLAUDE_CONFIG_DIR: "" };
    const input = JSON.stringify({
      session_id: "s",
      transcript_path: path.join(home, "x.jsonl"),
      hook_event_name: "Stop",
    });
    const command = compare(
      { command: NODE_START, input, env },
      { command: ["/bin/sh", "-c", STOP_HOOK_COMMAND], input, env },
    );
    const commandOk = report(`Stop hook without sync, as settings.json runs it (sh -c)`, "node -e 0", command, 1.05, {
      what: "Stop hook without sync vs `node -e 0`",
      bench: "sync",
    });
    const bundle = compare(
      { command: NODE_START, input, env },
      { command: [process.execPath, path.join(hooks, "stop.cjs")], input, env },
    );
    const bundleOk = report(`  its bundle run with node, without sync`, "node -e 0", bundle, 1.05);
    return commandOk && bundleOk;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
