// Several "machines" for the sync tests: each its own HOME (at a different path, as on a laptop and a desktop),
// with Syncthing daemons started by the real `claude-persist sync` inside one network namespace that has only
// loopback. The tests' claude runs stay outside it (they talk to the Messages-API server on the host's loopback);
// the daemons share the files with them through the filesystem.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { CLI, PROJECT_ROOT, tempDir, type Run } from "./claude.ts";

export type LoopbackNetwork = {
  /** Runs `argv` inside the namespace. */
  readonly exec: (argv: string[], options: { env: Record<string, string>; cwd?: string }) => Promise<Run>;
  readonly close: () => Promise<void>;
};

export const hasSyncthing =
  (await execa("syncthing", ["--version"], { reject: false }).catch(() => ({ exitCode: 1 }))).exitCode === 0;

/** A network namespace with only `lo`, held open by a sleeping process we own. */
export async function startLoopbackNetwork(): Promise<LoopbackNetwork> {
  const holder: ChildProcess = spawn(
    "unshare",
    ["-n", "--", "sh", "-c", "ip link set lo up && echo ready && exec sleep 3600"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.once("data", () => resolve());
    holder.once("exit", (code) => reject(new Error(`unshare -n failed (${code})`)));
  });
  const pid = String(holder.pid);
  return {
    exec: (argv, options) =>
      execa("nsenter", ["-t", pid, "-n", "--", ...argv], {
        cwd: options.cwd ?? PROJECT_ROOT,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env },
        extendEnv: false,
        reject: false,
        stdin: "ignore",
        timeout: 60_000,
      }),
    close: async () => {
      holder.kill("SIGKILL");
      await new Promise((resolve) => (holder.exitCode !== null ? resolve(undefined) : holder.once("exit", resolve)));
    },
  };
}

export type Machine = {
  readonly name: string;
  readonly home: string;
  readonly claudeDir: string;
  readonly repo: string;
  readonly port: number;
  /** `claude-persist …` run on this machine (inside the namespace, so the daemon it starts is there too). */
  readonly cli: (args: string[], cwd?: string) => Promise<Run>;
  deviceId: string;
};

/** A machine whose home and clone of `origin` sit at paths of their own; its remote URL is spelt `remoteUrl`. */
export async function makeMachine(
  net: LoopbackNetwork,
  name: string,
  port: number,
  origin: string,
  remoteUrl: string,
  repoPath: string,
): Promise<Machine> {
  const root = tempDir(`cp-sync-${name}-`);
  const home = path.join(root, "home", name);
  const claudeDir = path.join(home, ".claude");
  mkdirSync(claudeDir, { recursive: true, mode: 0o700 });
  const repo = path.join(home, repoPath);
  mkdirSync(path.dirname(repo), { recursive: true });
  await execa("git", ["clone", "-q", origin, repo]);
  await execa("git", ["-C", repo, "remote", "set-url", "origin", remoteUrl]);
  const machine: Machine = {
    name,
    home,
    claudeDir,
    repo,
    port,
    cli: (args, cwd) => net.exec([process.execPath, CLI, ...args], { env: { HOME: home }, cwd: cwd ?? repo }),
    deviceId: "",
  };
  return machine;
}

/** `sync init` listening on this machine's loopback port; records the device ID it printed. */
export async function initMachine(machine: Machine, extra: string[] = []): Promise<Run> {
  const result = await machine.cli([
    "sync",
    "init",
    "--listen",
    `tcp://127.0.0.1:${machine.port}`,
    "--name",
    machine.name,
    ...extra,
  ]);
  machine.deviceId = /This device: (\S+)/.exec(result.stdout)?.[1] ?? "";
  return result;
}

export function address(machine: Machine): string {
  return `tcp://127.0.0.1:${machine.port}`;
}

/** Polls `check` until it returns a value (not undefined/false) or `ms` runs out; the last error explains a timeout. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

export function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
