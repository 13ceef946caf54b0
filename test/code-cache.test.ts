// The CLI's code cache (src/code-cache.ts): V8's compiled code for each command's bundle, kept in the host-only
// folder. Cached code is code, so a damaged, planted or unreachable cache must cost only the cache, never the command.
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { CLI, PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";
import { existsOnPath } from "./support/checks.ts";

/** A HOME where the pack is installed: its host-only folder exists (0700), as install makes it. */
function installedHome(): { home: string; hostDir: string; cacheDir: string } {
  const home = tempHome();
  const hostDir = path.join(home, ".claude", "persist-host");
  mkdirSync(hostDir, { mode: 0o700 });
  return { home, hostDir, cacheDir: path.join(hostDir, "code-cache") };
}

const env = (home: string) => ({ HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" });

/** `dev-open --help` as the `!` line of /dev-open starts it (dist/bin/dev-open.cjs); its usage. */
async function devOpenHelp(home: string, extra: Record<string, string> = {}): Promise<string> {
  const result = await execa(process.execPath, [path.join(PROJECT_ROOT, "dist", "bin", "dev-open.cjs"), "--help"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env(home), ...extra },
    extendEnv: false,
    reject: false,
    stdin: "ignore",
    // A cache read that blocked (a FIFO) would hang the command: fail instead of waiting for ever.
    timeout: 60_000,
  });
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  return result.stdout;
}

function cacheFiles(cacheDir: string): string[] {
  return readdirSync(cacheDir).filter((name) => name.startsWith("dev-open-"));
}

describe("the CLI's code cache", () => {
  it("is made in persist-host/code-cache/ (0700, files 0600) at a command's first run and reused after", async () => {
    const { home, cacheDir } = installedHome();
    const usage = await devOpenHelp(home);
    expect(usage).toMatch(/^Usage: dev-open/);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const [file] = cacheFiles(cacheDir);
    expect(file).toBeDefined();
    const cache = path.join(cacheDir, file as string);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect(readFileSync(cache).subarray(0, 27).toString()).toBe("claude-persist code cache 1");
    const first = statSync(cache);
    // A second run reads it (V8 accepted it, so it is not written again) and prints the same.
    expect(await devOpenHelp(home)).toBe(usage);
    const second = statSync(cache);
    expect([second.ino, second.mtimeMs]).toEqual([first.ino, first.mtimeMs]);
    expect(cacheFiles(cacheDir)).toEqual([file]);
  });

  it("is not made where the pack has no host-only folder, nor in a dev container", async () => {
    const home = tempHome();
    await devOpenHelp(home);
    expect(readdirSync(path.join(home, ".claude"))).toEqual([]);
    const { home: installed, hostDir } = installedHome();
    await devOpenHelp(installed, { CLAUDE_PERSIST_ENVIRONMENT: "container" });
    expect(readdirSync(hostDir)).toEqual([]);
  });

  it.each([
    ["garbage", (file: string) => writeFileSync(file, "not V8's code at all\n".repeat(100))],
    ["a truncated copy", (file: string) => writeFileSync(file, readFileSync(file).subarray(0, 5000))],
    [
      "its header with garbage after it",
      (file: string) => {
        const bytes = readFileSync(file);
        const header = bytes.subarray(0, bytes.indexOf(10, 28) + 1);
        writeFileSync(file, Buffer.concat([header, Buffer.alloc(bytes.length - header.length, 0x5a)]));
      },
    ],
  ])("%s in place of a cache file is ignored, and replaced by a good one", async (_name, damage) => {
    const { home, cacheDir } = installedHome();
    const usage = await devOpenHelp(home);
    const cache = path.join(cacheDir, cacheFiles(cacheDir)[0] as string);
    damage(cache);
    const damaged = readFileSync(cache);
    expect(await devOpenHelp(home)).toBe(usage);
    const replaced = statSync(cache);
    expect(readFileSync(cache).equals(damaged)).toBe(false);
    // The next run takes the new one (V8 accepts it, so it is not written again).
    expect(await devOpenHelp(home)).toBe(usage);
    expect([statSync(cache).ino, statSync(cache).mtimeMs]).toEqual([replaced.ino, replaced.mtimeMs]);
  });

  it("a link or a FIFO in place of a cache file is never followed nor waited on: it is replaced", async () => {
    const { home, cacheDir } = installedHome();
    const usage = await devOpenHelp(home);
    const cache = path.join(cacheDir, cacheFiles(cacheDir)[0] as string);
    const good = readFileSync(cache);
    const elsewhere = path.join(tempDir(), "elsewhere");
    writeFileSync(elsewhere, good);
    unlinkSync(cache);
    symlinkSync(elsewhere, cache);
    expect(await devOpenHelp(home)).toBe(usage);
    expect(lstatSync(cache).isFile()).toBe(true);
    expect(readFileSync(elsewhere).equals(good)).toBe(true);
    unlinkSync(cache);
    await execa("mkfifo", [cache]);
    expect(await devOpenHelp(home)).toBe(usage);
    expect(lstatSync(cache).isFile()).toBe(true);
  });

  it("a cache folder that is a link, or a host-only folder others may write, is not used", async () => {
    const { home, hostDir, cacheDir } = installedHome();
    const target = tempDir();
    symlinkSync(target, cacheDir);
    await devOpenHelp(home);
    expect(readdirSync(target)).toEqual([]);
    const { home: open, hostDir: openDir } = installedHome();
    chmodSync(openDir, 0o777);
    await devOpenHelp(open);
    expect(readdirSync(openDir)).toEqual([]);
    expect(readdirSync(hostDir)).toEqual(["code-cache"]);
    // Nor a host-only folder that is a link, even to a private folder.
    const linked = tempHome();
    const privateDir = path.join(tempDir(), "private");
    mkdirSync(privateDir, { mode: 0o700 });
    symlinkSync(privateDir, path.join(linked, ".claude", "persist-host"));
    await devOpenHelp(linked);
    expect(readdirSync(privateDir)).toEqual([]);
  });

  it("keeps at most 24 files: older builds' go first", async () => {
    const { home, cacheDir } = installedHome();
    mkdirSync(cacheDir, { mode: 0o700 });
    for (let i = 0; i < 30; i++) {
      const old = path.join(cacheDir, `dev-open-old${i}.v8`);
      writeFileSync(old, "an older build's code", { mode: 0o600 });
      utimesSync(old, 1_000_000 + i, 1_000_000 + i);
    }
    await devOpenHelp(home);
    const kept = readdirSync(cacheDir);
    expect(kept).toHaveLength(24);
    expect(kept.filter((name) => !name.startsWith("dev-open-old"))).toHaveLength(1);
    expect(kept).not.toContain("dev-open-old0.v8");
    expect(kept).toContain("dev-open-old29.v8");
  });

  it("leaves with uninstall's host-only folder", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: env(home) })).exitCode).toBe(0);
    await devOpenHelp(home);
    expect(readdirSync(path.join(home, ".claude", "persist-host"))).toContain("code-cache");
    const removed = await runCli(["uninstall"], { env: env(home) });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(readdirSync(path.join(home, ".claude"))).not.toContain("persist-host");
  });

  const canDropPrivileges = process.getuid?.() === 0 && existsOnPath("setpriv");
  it.skipIf(!canDropPrivileges)("a read-only HOME costs only the cache: commands still work", async () => {
    const { home, hostDir } = installedHome();
    for (const dir of [home, path.join(home, ".claude"), hostDir]) chownSync(dir, 65534, 65534);
    for (const dir of [home, path.join(home, ".claude"), hostDir]) chmodSync(dir, 0o500);
    const result = await execa(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI, "--help"],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env(home) }, extendEnv: false, reject: false },
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Usage: claude-persist/);
    expect(readdirSync(hostDir)).toEqual([]);
  });
});
