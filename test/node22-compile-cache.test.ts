// Node 22.1 and later keep compiled code themselves (module.enableCompileCache): src/code-cache.ts points that cache at
// the same host-only folder as its own Node 20 cache, and nowhere else. Everything else runs on the Node 20 of the
// tests; this file runs the CLI with a Node 22 binary that .ci/provision-node.sh fetches from the npm registry.
import { spawnSync } from "node:child_process";
import { accessSync, chmodSync, constants, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT, tempHome } from "./support/claude.ts";

const NODE22 =
  process.env.CLAUDE_PERSIST_NODE22 ??
  path.join(process.env.CLAUDE_PERSIST_NODE22_DIR ?? "/var/tmp/claude-persist-node", "v22.23.3", "bin", "node");

/** Why Node 22 cannot be run here, or undefined when it can. With CI set it throws: CI must never skip this file. */
function node22UnavailableReason(): string | undefined {
  let reason: string | undefined;
  try {
    accessSync(NODE22, constants.X_OK);
    const version = spawnSync(NODE22, ["--version"], { encoding: "utf8" }).stdout.trim();
    if (!/^v22\./.test(version)) reason = `${NODE22} is ${version || "not a node binary"}, not Node 22`;
  } catch {
    reason = `no Node 22 at ${NODE22}: run .ci/provision-node.sh`;
  }
  if (reason && process.env.CI) throw new Error(`CI must run the Node 22 compile cache tests, but: ${reason}`);
  return reason;
}

const unavailable = node22UnavailableReason();
// Said where the run shows it, not only in a skipped test's title.
if (unavailable) console.warn(`test/node22-compile-cache.test.ts skipped: ${unavailable}`);
const DEV_OPEN = path.join(PROJECT_ROOT, "dist", "bin", "dev-open.cjs");
const BUNDLE = path.join(PROJECT_ROOT, "dist", "bin", "lib", "dev-open.cjs");

/** `dev-open --help` as /dev-open's `!` line starts it, with `node`; Node's compile cache log is on stderr. */
function devOpenHelp(node: string, home: string, extra: Record<string, string> = {}) {
  const result = spawnSync(node, [DEV_OPEN, "--help"], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      CLAUDE_PERSIST_ENVIRONMENT: "host",
      NODE_DEBUG_NATIVE: "COMPILE_CACHE",
      ...extra,
    },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/^Usage: dev-open/);
  return result;
}

/** A HOME where the pack is installed: its host-only folder exists (0700), as install makes it. */
function installedHome(): { home: string; hostDir: string; cacheDir: string } {
  const home = tempHome();
  const hostDir = path.join(home, ".claude", "persist-host");
  mkdirSync(hostDir, { mode: 0o700 });
  return { home, hostDir, cacheDir: path.join(hostDir, "code-cache") };
}

describe.skipIf(unavailable !== undefined)(
  `Node 22's own compile cache for the CLI${unavailable ? ` (skipped: ${unavailable})` : ""}`,
  () => {
    it("on the host it is kept in persist-host/code-cache/ and taken on the next run; Node 20 keeps its own beside it", () => {
      const { home, cacheDir } = installedHome();
      const first = devOpenHelp(NODE22, home);
      expect(first.stderr).toContain(`writing cache for ${BUNDLE}`);
      expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
      // Node's own layout: one folder per Node version, architecture and uid; none of our Node 20 files.
      const [versioned, ...others] = readdirSync(cacheDir);
      expect(others).toEqual([]);
      expect(versioned).toMatch(/^v22\.\d+\.\d+-x64-[0-9a-f]+-\d+$/);
      const files = readdirSync(path.join(cacheDir, versioned as string));
      expect(files).toHaveLength(1);
      expect(statSync(path.join(cacheDir, versioned as string, files[0] as string)).mode & 0o077).toBe(0);

      const second = devOpenHelp(NODE22, home);
      expect(second.stderr).toContain(`cache for ${BUNDLE} was accepted`);
      expect(second.stdout).toBe(first.stdout);

      // Node 20 (the tests' own) takes its path, as before: its own file beside Node 22's folder.
      const node20 = devOpenHelp(process.execPath, home);
      expect(node20.stdout).toBe(first.stdout);
      expect(readdirSync(cacheDir).filter((name) => /^dev-open-\w+\.v8$/.test(name))).toHaveLength(1);
      expect(devOpenHelp(NODE22, home).stderr).toContain(`cache for ${BUNDLE} was accepted`);
    });

    it("is not kept in a dev container, nor where the host-only folder is missing or others may write it", () => {
      const { home, hostDir } = installedHome();
      const inContainer = devOpenHelp(NODE22, home, { CLAUDE_PERSIST_ENVIRONMENT: "container" });
      expect(inContainer.stderr).not.toContain("[compile cache]");
      expect(readdirSync(hostDir)).toEqual([]);

      const bare = tempHome();
      expect(devOpenHelp(NODE22, bare).stderr).not.toContain("[compile cache]");
      expect(readdirSync(path.join(bare, ".claude"))).toEqual([]);

      const { home: open, hostDir: openDir } = installedHome();
      chmodSync(openDir, 0o777);
      expect(devOpenHelp(NODE22, open).stderr).not.toContain("[compile cache]");
      expect(readdirSync(openDir)).toEqual([]);
    });
  },
);
