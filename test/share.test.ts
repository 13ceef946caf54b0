// `dev-open --isolated` / `claude-persist unshare` and `share`, run as a user would, on copies of the
// project's own fixtures: the round trips give back the config byte for byte.
import { cpSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";

const FIXTURES = path.join(PROJECT_ROOT, "test", "fixtures", "devcontainers");
const CASES: Array<[string, string[]]> = [
  ["tabs-comments-trailing-commas", [".devcontainer/devcontainer.json"]],
  ["crlf-four-spaces", [".devcontainer.json"]],
  ["compose-existing-mounts", [".devcontainer/devcontainer.json", ".devcontainer/compose.yaml"]],
  [
    "compose-override",
    [".devcontainer/devcontainer.json", ".devcontainer/docker-compose.devcontainer.yml", "docker-compose.yml"],
  ],
];

describe("unshare and share", () => {
  let home: string;
  const env = () => ({ HOME: home, DOCKER_HOST: "unix:///nonexistent/docker.sock" });
  beforeAll(async () => {
    home = tempHome();
    expect((await runCli(["install"], { env: env() })).exitCode).toBe(0);
  });

  const read = (repo: string, files: string[]) => files.map((file) => readFileSync(path.join(repo, file), "utf8"));

  it.each(CASES)(
    "%s: share → unshare gives back the original, unshare → share gives back the shared config",
    async (name, files) => {
      const repo = path.join(tempDir(), name);
      cpSync(path.join(FIXTURES, name), repo, { recursive: true });
      const original = read(repo, files);

      const shared = await runCli(["share"], { env: env(), cwd: repo });
      expect(shared.exitCode, shared.stderr).toBe(0);
      const withMounts = read(repo, files);
      expect(withMounts).not.toEqual(original);
      expect(withMounts.join("\n")).toContain("/.claude/projects");

      const isolated = await runCli(["unshare"], { env: env(), cwd: repo });
      expect(isolated.exitCode, isolated.stderr).toBe(0);
      expect(isolated.stdout).toContain("keeps its own Claude sessions");
      expect(read(repo, files)).toEqual(original);

      expect((await runCli(["share"], { env: env(), cwd: repo })).exitCode).toBe(0);
      expect(read(repo, files)).toEqual(withMounts);
      expect((await runCli(["dev-open", "--isolated"], { env: env(), cwd: repo })).exitCode).toBe(0);
      expect(read(repo, files)).toEqual(original);
    },
  );

  it("unshare on a config without our mounts changes nothing and writes no backup", async () => {
    const repo = path.join(tempDir(), "plain");
    cpSync(path.join(FIXTURES, "tabs-comments-trailing-commas"), repo, { recursive: true });
    const before = read(repo, [".devcontainer/devcontainer.json"]);
    expect((await runCli(["unshare"], { env: env(), cwd: repo })).exitCode).toBe(0);
    expect(read(repo, [".devcontainer/devcontainer.json"])).toEqual(before);
    expect(existsSync(path.join(repo, ".devcontainer", "devcontainer.json.claude-persist.bak"))).toBe(false);
  });

  it("refuses options that do not belong, with one line", async () => {
    const result = await runCli(["unshare", "--rebuild"], { env: env(), cwd: tempDir() });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe("claude-persist unshare: unshare takes --config, --dry-run and --json, not --rebuild");
  });

  it.each([
    ["unshare", "--isolated"],
    ["share", "--config-only"],
  ])("%s --help shows only the options it takes", async (command, mode) => {
    const result = await runCli([command, "--help"], { env: env() });
    expect(result.stdout.split("\n")[0]).toBe(
      `Usage: claude-persist ${command} [folder] [--config PATH] [--dry-run] [--json]`,
    );
    // The old spelling is named once, as the same thing, never as the usage.
    expect(result.stdout).toContain(`'dev-open ${mode}' is the same`);
    expect(result.stdout).not.toContain("Usage: dev-open");
    expect(result.stdout).not.toMatch(/--rebuild|--init|--same-path|--shell/);
  });

  it("takes the folder as an argument and checks option values, as dev-open does", async () => {
    const repo = path.join(tempDir(), "elsewhere");
    cpSync(path.join(FIXTURES, "tabs-comments-trailing-commas"), repo, { recursive: true });
    const before = read(repo, [".devcontainer/devcontainer.json"]);
    const dryRun = await runCli(["share", "--dry-run", repo], { env: env(), cwd: tempDir() });
    expect(dryRun.exitCode, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain("+++ b/.devcontainer/devcontainer.json");
    expect(read(repo, [".devcontainer/devcontainer.json"])).toEqual(before);
    const missing = await runCli(["unshare", "--config"], { env: env(), cwd: repo });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe(
      "claude-persist unshare: option '--config' needs a value (--config PATH); see 'claude-persist unshare --help'",
    );
  });
});
