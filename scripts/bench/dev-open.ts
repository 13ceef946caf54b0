// dev-open on a container that already runs with the mounts, against `devcontainer up` of the same container,
// interleaved; and, before the timed runs, the processes one such open starts (docker, git, …) with their times.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cli, compare, report, root } from "./measure.ts";

export async function benchDevOpen(): Promise<boolean> {
  const { dockerUnavailableReason, ensureBaseImage, removeDevcontainers, startDockerEngine } = await import(
    "../../test/support/docker.ts"
  );
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
  // As a person opens it: an ordinary user of the host (the end-to-end tests' own), not root, whose ~/.claude the
  // container's user could not open (dev-open would then say so, and ask again, at every open).
  const { chownTree, ensureTestUser } = await import("../../test/support/users.ts");
  const user = await ensureTestUser();
  const asUser = (command: string[]) => [
    "setpriv",
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    "--init-groups",
    "--",
    ...command,
  ];
  const work = mkdtempSync(path.join(tmpdir(), "cp-bench-devopen-"));
  const repo = path.join(work, "app");
  try {
    const image = await ensureBaseImage(engine);
    const home = path.join(work, "home");
    mkdirSync(path.join(repo, ".devcontainer"), { recursive: true });
    mkdirSync(home);
    writeFileSync(
      path.join(repo, ".devcontainer", "devcontainer.json"),
      JSON.stringify({ image, remoteUser: "vscode", runArgs: ["--network=host"] }, null, 2),
    );
    await chownTree(work, user);
    const env = {
      ...process.env,
      ...engine.env,
      HOME: home,
      USER: user.name,
      LOGNAME: user.name,
      CLAUDE_PERSIST_ENVIRONMENT: "host",
    };
    const run = (command: string[]) =>
      spawnSync(command[0] ?? "", command.slice(1), { cwd: repo, env, encoding: "utf8" });
    for (const args of [["install"], ["dev-open"]]) {
      const result = run(asUser([process.execPath, cli, ...args]));
      if (result.status !== 0) throw new Error(`claude-persist ${args.join(" ")} failed: ${result.stderr}`);
    }
    const devOpen = [process.execPath, path.join(root, "dist", "bin", "dev-open.cjs"), repo];
    // Traced as it runs from the second open on (the first one after a launch keeps what later ones reuse).
    run(asUser(devOpen));
    traceProcesses(asUser(devOpen), env, work);
    // BENCH_DEVOPEN_PROFILE=<folder>: one more open under `node --cpu-prof`, its profile written there.
    const profiles = process.env.BENCH_DEVOPEN_PROFILE;
    if (profiles) {
      const [node = "", ...args] = devOpen;
      run(asUser([node, "--cpu-prof", "--cpu-prof-dir", profiles, "--cpu-prof-interval", "100", ...args]));
    }
    const devcontainer = path.join(root, "node_modules", "@devcontainers", "cli", "devcontainer.js");
    const count = Number(process.env.BENCH_DEVOPEN_RUNS ?? 15);
    const result = compare(
      { command: asUser([process.execPath, devcontainer, "up", "--workspace-folder", repo]), env },
      { command: asUser(devOpen), env },
      count,
    );
    return report(`dev-open on a running container (${count} runs each)`, "devcontainer up", result, 0.6, {
      what: "`dev-open` on a running container vs `devcontainer up`",
      bench: "dev-open",
    });
  } finally {
    await removeDevcontainers(engine, repo).catch(() => undefined);
    await engine.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Runs `command` once with docker, git and node on PATH replaced by scripts that log each call and its time, and
 * prints them: the round trips an open of a running container makes.
 */
function traceProcesses(command: string[], env: NodeJS.ProcessEnv, work: string): void {
  const shims = path.join(work, "trace-bin");
  const log = path.join(work, "trace.log");
  mkdirSync(shims, { recursive: true });
  for (const program of ["docker", "git", "node", "ssh"]) {
    const real = spawnSync("sh", ["-c", 'command -v "$1"', "sh", program], { env, encoding: "utf8" }).stdout.trim();
    if (!real) continue;
    const shim = path.join(shims, program);
    writeFileSync(
      shim,
      `#!/bin/sh\nstart=$(date +%s%N)\n${JSON.stringify(real)} "$@"\ncode=$?\nend=$(date +%s%N)\n` +
        `what=$(printf '%s' "${program} $*" | tr '\\n' ' ' | cut -c1-150)\n` +
        `printf '%s %s %s\\n' "$start" "$end" "$what" >> ${JSON.stringify(log)}\nexit $code\n`,
    );
    chmodSync(shim, 0o755);
  }
  const started = process.hrtime.bigint();
  const wallStart = BigInt(Date.now()) * 1_000_000n;
  const [file = "", ...args] = command;
  const run = spawnSync(file, args, { env: { ...env, PATH: `${shims}:${env.PATH ?? ""}` }, encoding: "utf8" });
  const total = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`dev-open (traced) exited ${run.status}: ${run.stderr}`);
  let lines: string[] = [];
  try {
    lines = readFileSync(log, "utf8").trim().split("\n");
  } catch {
    // No process at all.
  }
  console.log(`dev-open on a running container, traced: ${total.toFixed(0)} ms, ${lines.length} processes:`);
  for (const line of lines) {
    const [start = "0", end = "0", ...what] = line.split(" ");
    const at = Number(BigInt(start) - wallStart) / 1e6;
    const took = Number(BigInt(end) - BigInt(start)) / 1e6;
    console.log(`  at ${at.toFixed(0).padStart(5)} ms, ${took.toFixed(0).padStart(4)} ms: ${what.join(" ")}`);
  }
}
