// Running the real, pinned `claude` CLI offline in a temporary HOME against the tests' own Messages-API server.
import { mkdirSync, mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export type Run = { exitCode?: number; stdout: string; stderr: string };

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLAUDE_BIN = path.join(PROJECT_ROOT, "node_modules", ".bin", "claude");
export const CLI = path.join(PROJECT_ROOT, "dist", "bin", "claude-persist.mjs");

/** A fresh temporary folder, realpath'd (Claude Code names project folders after the realpath). */
export function tempDir(prefix = "cp-"): string {
  return realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
}

/** A temporary HOME with an empty `.claude/`. */
export function tempHome(): string {
  const home = tempDir("cp-home-");
  mkdirSync(path.join(home, ".claude"), { mode: 0o700 });
  return home;
}

/** The environment for a claude run: offline, in `home`, talking to `apiUrl`. */
export function claudeEnv(home: string, apiUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    ANTHROPIC_BASE_URL: apiUrl,
    ANTHROPIC_API_KEY: "sk-ant-test-key-0000000000000000000000",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    // This machine is itself a container; the hook should see the host side here.
    CLAUDE_PERSIST_ENVIRONMENT: "host",
    ...extra,
  };
}

export function runClaude(
  args: string[],
  options: { cwd: string; home: string; apiUrl: string; env?: Record<string, string> },
): Promise<Run> {
  return execa(CLAUDE_BIN, args, {
    cwd: options.cwd,
    env: claudeEnv(options.home, options.apiUrl, options.env),
    extendEnv: false,
    reject: false,
    timeout: 120_000,
    stdin: "ignore",
  });
}

/** Runs the built `claude-persist` CLI as a user would. */
export function runCli(
  args: string[],
  options: { env: Record<string, string>; cwd?: string; input?: string },
): Promise<Run> {
  return execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env },
    extendEnv: false,
    reject: false,
    ...(options.input !== undefined ? { input: options.input } : { stdin: "ignore" }),
  });
}
