// `claude-persist doctor`, run as a user would: a healthy host, each broken host setup built by the test (the ✗
// line and the fix, and the fix then works), and a real dev container: without its mounts, with another uid, with
// a stale single-file mount; and from the inside.
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { READ_WRITE_ENTRIES } from "../src/claude/shared.ts";
import { checkProjectLink, quickContainerCheck } from "../src/doctor/container-checks.ts";
import { HOOK_COMMAND } from "../src/install/settings.ts";
import type { DoctorReport } from "../src/doctor/report.ts";
import { CLI, runCli, tempDir, tempHome } from "./support/claude.ts";
import {
  cacheDir,
  DEVCONTAINER_BIN,
  type DockerEngine,
  docker,
  dockerUnavailableReason,
  ensureBaseImage,
  removeDevcontainers,
  startDockerEngine,
} from "./support/docker.ts";
import { asUser, chownTree, ensureTestUser, makeUserTempDir, type TestUser } from "./support/users.ts";

const SHARED_DIRS = READ_WRITE_ENTRIES.filter((entry) => entry.kind === "dir").map((entry) => entry.name);
const UNREACHABLE_DOCKER = "unix:///nonexistent/docker.sock";

/** The status lines of doctor's text output (the ones that start with a symbol). */
function statusLines(stdout: string): string[] {
  return stdout.split("\n").filter((line) => /^ {2}[✓⚠✗] /.test(line));
}

/** The `fix:` line right under the status line that matches `pattern`. */
function fixUnder(stdout: string, pattern: RegExp): string | undefined {
  const lines = stdout.split("\n");
  const index = lines.findIndex((line) => pattern.test(line));
  const next = lines[index + 1]?.trim();
  return index >= 0 && next?.startsWith("fix: ") ? next.slice("fix: ".length) : undefined;
}

function checksOf(report: DoctorReport, sectionStart: string) {
  return report.sections
    .filter((section) => section.title.startsWith(sectionStart))
    .flatMap((section) => section.checks);
}

describe("doctor on the host", () => {
  let dockerHost = UNREACHABLE_DOCKER;

  beforeAll(async () => {
    // The tests' own engine, when it runs: then a healthy setup is all ✓, Docker included.
    const candidate = `unix://${path.join(cacheDir(), "docker.sock")}`;
    const probe = await execa("docker", ["version", "--format", "{{.Server.Version}}"], {
      env: { DOCKER_HOST: candidate },
      reject: false,
      timeout: 10_000,
    });
    if (probe.exitCode === 0) dockerHost = candidate;
  });

  const env = (home: string) => ({
    HOME: home,
    CLAUDE_PERSIST_ENVIRONMENT: "host",
    DOCKER_HOST: dockerHost,
    CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-test",
  });
  const doctor = (home: string, cwd: string, ...args: string[]) => runCli(["doctor", ...args], { env: env(home), cwd });
  /** Runs a printed fix as the user would type it, in a shell whose HOME is the test's. */
  const runFix = (home: string, fix: string) =>
    execa("/bin/sh", ["-c", fix], { env: { PATH: process.env.PATH ?? "", HOME: home } });

  async function healthyHome(): Promise<string> {
    const home = tempHome();
    const installed = await runCli(["install"], { env: env(home) });
    expect(installed.exitCode, installed.stderr).toBe(0);
    // Nothing else: install makes the shared folders, so a fresh install is all ✓.
    return home;
  }

  it("passes every check on a healthy setup and exits 0", async () => {
    const home = await healthyHome();
    const result = await doctor(home, tempDir());
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const lines = statusLines(result.stdout);
    expect(lines.length).toBeGreaterThanOrEqual(8);
    const notOk = lines.filter((line) => !line.startsWith("  ✓"));
    // Without an engine only the Docker line may warn: this folder has no dev container config.
    expect(notOk).toEqual(
      dockerHost === UNREACHABLE_DOCKER ? [expect.stringMatching(/^ {2}⚠ Docker is not reachable/)] : [],
    );
    expect(result.stdout).toContain("✓ ~/.claude is yours and private");
    expect(result.stdout).toContain(`✓ shared folders there, yours and private: ${SHARED_DIRS.join(", ")}`);
    expect(result.stdout).toContain("✓ the SessionStart hook is registered in ~/.claude/settings.json");
    expect(result.stdout).toMatch(/✓ the SessionStart hook runs and answers \(\d+ ms\)/);
    expect(result.stdout).toMatch(/✓ node \d+\.\d+\.\d+/);
    expect(result.stdout).toMatch(/✓ devcontainers CLI \d+\.\d+\.\d+/);
    expect(result.stdout).toContain(
      "✓ sessions stay on this machine: sync with your other machines is not set up (optional: 'claude-persist sync init')",
    );
    // Running the hook left no session-start record behind.
    expect(readdirSync(path.join(home, ".claude", "persist-state", "session-starts"))).toEqual([]);
  });

  it("shows sync's health among the host checks: set up here, but Syncthing is not running", async () => {
    const home = await healthyHome();
    const syncthingHome = path.join(home, ".claude", "persist-host", "syncthing");
    mkdirSync(syncthingHome, { recursive: true });
    const config = `<configuration><gui><address>${syncthingHome}/api.sock</address><apikey>k</apikey></gui></configuration>`;
    writeFileSync(path.join(syncthingHome, "config.xml"), config);
    const settings = {
      home: syncthingHome,
      own: true,
      relay: false,
      deviceId: "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA",
    };
    writeFileSync(path.join(home, ".claude", "persist-host", "sync.json"), JSON.stringify(settings));
    const result = await doctor(home, tempDir());
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("✓ sync: sync is set up on this machine");
    expect(result.stdout).toContain("✗ sync: Syncthing is not running: 'claude-persist sync start'");
  });

  it("says plainly that Claude in a container will ask for a login when the host has no credential variable", async () => {
    const home = await healthyHome();
    const result = await runCli(["doctor"], {
      env: { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host", DOCKER_HOST: dockerHost },
      cwd: tempDir(),
    });
    expect(result.stdout).toContain(
      "⚠ Neither ANTHROPIC_API_KEY nor CLAUDE_CODE_OAUTH_TOKEN is set here, so Claude in the container will ask you to log in",
    );
    expect(result.stdout).toContain("claude setup-token");
    expect(result.exitCode).toBe(0);
  });

  it("--json prints one object with every check", async () => {
    const home = await healthyHome();
    const result = await doctor(home, tempDir(), "--json");
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report).toMatchObject({
      environment: "host",
      configDir: path.join(home, ".claude"),
      ok: true,
      counts: { fail: 0 },
    });
    expect(report.sections.map((section) => section.title)).toEqual([
      expect.stringMatching(/^Claude Code home/),
      "Tools",
      expect.stringMatching(/^This repo/),
    ]);
    for (const check of report.sections.flatMap((section) => section.checks)) {
      expect(check).toEqual({
        id: expect.stringMatching(/^[a-z]+\.[a-z-]+$/),
        status: expect.stringMatching(/^(ok|warn|fail)$/),
        label: expect.any(String),
        ...(check.detail ? { detail: expect.any(String) } : {}),
        ...(check.fix ? { fix: expect.any(String) } : {}),
      });
    }
  });

  it("a missing shared folder: ✗ and the mkdir that fixes it", async () => {
    const home = await healthyHome();
    rmSync(path.join(home, ".claude", "todos"), { recursive: true });
    rmSync(path.join(home, ".claude", "plans"), { recursive: true });
    const result = await doctor(home, tempDir());
    expect(result.exitCode).toBe(1);
    expect(statusLines(result.stdout)).toContain("  ✗ ~/.claude/todos, ~/.claude/plans are missing");
    const fix = fixUnder(result.stdout, /✗ ~\/\.claude\/todos, ~\/\.claude\/plans are missing/);
    expect(fix).toBe("mkdir -p -m 700 ~/.claude/todos ~/.claude/plans");
    await runFix(home, fix ?? "");
    expect((await doctor(home, tempDir())).exitCode).toBe(0);
  });

  it("a folder other users can write (0777): ✗ and chmod 700; one they can read (0755): ⚠ only", async () => {
    const home = await healthyHome();
    chmodSync(path.join(home, ".claude", "todos"), 0o777);
    chmodSync(path.join(home, ".claude", "tasks"), 0o755);
    const result = await doctor(home, tempDir());
    expect(result.exitCode).toBe(1);
    expect(statusLines(result.stdout)).toEqual(
      expect.arrayContaining([
        "  ✗ ~/.claude/todos is writable by other users (mode 0777)",
        "  ⚠ ~/.claude/tasks is readable by other users (mode 0755)",
      ]),
    );
    const fix = fixUnder(result.stdout, /✗ ~\/\.claude\/todos is writable/);
    expect(fix).toBe("chmod 700 ~/.claude/todos");
    await runFix(home, fix ?? "");
    const after = await doctor(home, tempDir());
    expect(after.exitCode, "a warning alone exits 0").toBe(0);
    expect(fixUnder(after.stdout, /⚠ ~\/\.claude\/tasks is readable/)).toBe("chmod 700 ~/.claude/tasks");
  });

  it("settings.json without the hook: ✗ and claude-persist install, which fixes it", async () => {
    const home = await healthyHome();
    writeFileSync(path.join(home, ".claude", "settings.json"), '{\n  "model": "opus"\n}\n');
    const result = await doctor(home, tempDir());
    expect(result.exitCode).toBe(1);
    expect(statusLines(result.stdout)).toContain(
      "  ✗ the SessionStart hook is not registered in ~/.claude/settings.json",
    );
    expect(fixUnder(result.stdout, /✗ the SessionStart hook is not registered/)).toBe("claude-persist install");
    expect((await runCli(["install"], { env: env(home) })).exitCode).toBe(0);
    expect((await doctor(home, tempDir())).exitCode).toBe(0);
  });

  it("settings.json with the current hook command, its slashes escaped (\\/): ✓, read as JSON rather than as text", async () => {
    const home = await healthyHome();
    const file = path.join(home, ".claude", "settings.json");
    const text = readFileSync(file, "utf8");
    expect(text).toContain(JSON.stringify(HOOK_COMMAND));
    writeFileSync(
      file,
      text.replace(JSON.stringify(HOOK_COMMAND), JSON.stringify(HOOK_COMMAND).replaceAll("/", "\\/")),
    );
    const result = await doctor(home, tempDir());
    expect(statusLines(result.stdout)).toContain("  ✓ the SessionStart hook is registered in ~/.claude/settings.json");
  });

  it("malformed settings.json: ✗ with the file, line and column", async () => {
    const home = await healthyHome();
    writeFileSync(path.join(home, ".claude", "settings.json"), '{\n  "model": ,\n}\n');
    const result = await doctor(home, tempDir());
    expect(result.exitCode).toBe(1);
    expect(statusLines(result.stdout)).toContain(
      "  ✗ ~/.claude/settings.json:2:12: invalid JSON: a value was expected",
    );
    expect(fixUnder(result.stdout, /✗ ~\/\.claude\/settings\.json:2:12/)).toMatch(
      /^correct ~\/\.claude\/settings\.json by hand.*claude-persist install$/,
    );
  });

  it("claude-persist's runtime gone: ✗ and claude-persist install", async () => {
    const home = await healthyHome();
    rmSync(path.join(home, ".claude", "persist"), { recursive: true });
    const result = await doctor(home, tempDir());
    expect(result.exitCode).toBe(1);
    expect(statusLines(result.stdout)).toContain(
      "  ✗ claude-persist's runtime is not installed (no ~/.claude/persist/hooks/session-start.cjs)",
    );
    expect(fixUnder(result.stdout, /✗ claude-persist's runtime is not installed/)).toBe("claude-persist install");
  });

  it("two host repos mapped to the same container path: ✗ and dev-open --same-path for the one the link does not serve", async () => {
    const home = await healthyHome();
    const first = path.join(tempDir(), "app");
    const second = path.join(tempDir(), "app");
    mkdirSync(first);
    mkdirSync(second);
    const containerSlug = encodeProjectSlug("/workspaces/app");
    const mapping = (hostPath: string, time: string) => ({
      hostPath,
      hostSlug: encodeProjectSlug(hostPath),
      containerPath: "/workspaces/app",
      containerSlug,
      time,
    });
    writeFileSync(
      path.join(home, ".claude", "persist-state", "mappings.json"),
      JSON.stringify([mapping(first, "2026-11-20T10:00:00.000Z"), mapping(second, "2026-11-21T10:00:00.000Z")]),
    );
    symlinkSync(encodeProjectSlug(first), path.join(home, ".claude", "projects", containerSlug));
    const result = await doctor(home, tempDir());
    expect(result.exitCode).toBe(1);
    expect(statusLines(result.stdout)).toContain(
      `  ✗ /workspaces/app is mapped to 2 repos: ${first}, ${second} — sessions made there go into the history of ${first}`,
    );
    expect(fixUnder(result.stdout, /✗ \/workspaces\/app is mapped to 2 repos/)).toBe(
      `cd ${second} && dev-open --same-path`,
    );
  });

  /** What dev-open leaves in the shared state of a repo it opened: a mapping of its folder (its config may lose our lines since). */
  function openedBefore(home: string, repo: string): void {
    const record = {
      hostPath: repo,
      hostSlug: encodeProjectSlug(repo),
      containerPath: "/workspaces/svc",
      containerSlug: encodeProjectSlug("/workspaces/svc"),
      time: new Date().toISOString(),
    };
    writeFileSync(path.join(home, ".claude", "persist-state", "mappings.json"), JSON.stringify([record]));
  }

  it("a repo never opened with dev-open: says so as information, with the command to run, and exits 0", async () => {
    const home = await healthyHome();
    const repo = path.join(tempDir(), "svc");
    mkdirSync(path.join(repo, ".devcontainer"), { recursive: true });
    writeFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), '{ "image": "debian:bookworm" }\n');
    await execa("git", ["init", "-q", repo]);
    const result = await runCli(["doctor"], { env: { ...env(home), DOCKER_HOST: UNREACHABLE_DOCKER }, cwd: repo });
    expect(result.exitCode, result.stdout).toBe(0);
    expect(statusLines(result.stdout)).toContain("  ✓ not opened with dev-open yet: run dev-open");
    expect(result.stdout).not.toContain("lacks persistence mounts");
    // dev-open will need Docker: said, as a warning, with its fix.
    expect(statusLines(result.stdout)).toContainEqual(expect.stringMatching(/^ {2}⚠ Docker is not reachable — /));
    expect(result.stdout).toMatch(/\n0 problems, \d+ warnings?\.$/);
  });

  it("a repo whose config lacks the mounts, with the Docker engine on another machine: the fix is dev-open, which launches it with that machine's folders", async () => {
    const home = await healthyHome();
    const repo = path.join(tempDir(), "svc");
    mkdirSync(path.join(repo, ".devcontainer"), { recursive: true });
    writeFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), '{ "image": "debian:bookworm" }\n');
    await execa("git", ["init", "-q", repo]);
    openedBefore(home, repo);
    // An engine on another machine, and no docker command to try it: nothing here reaches past loopback.
    const bin = tempDir("cp-bin-");
    symlinkSync(process.execPath, path.join(bin, "node"));
    symlinkSync((await execa("sh", ["-c", "command -v git"])).stdout, path.join(bin, "git"));
    const remote = { ...env(home), DOCKER_HOST: "tcp://192.0.2.1:2375", PATH: bin };
    const result = await runCli(["doctor"], { env: remote, cwd: repo });
    expect(fixUnder(result.stdout, /lacks persistence mounts/)).toBe("dev-open");
  });

  it("a repo opened before whose config lacks the mounts: ✗ and claude-persist share, which fixes it; Docker is then required", async () => {
    const home = await healthyHome();
    const repo = path.join(tempDir(), "svc");
    mkdirSync(path.join(repo, ".devcontainer"), { recursive: true });
    writeFileSync(
      path.join(repo, ".devcontainer", "devcontainer.json"),
      '{ "image": "debian:bookworm", "remoteUser": "vscode" }\n',
    );
    await execa("git", ["init", "-q", repo]);
    openedBefore(home, repo);
    const noDocker = { ...env(home), DOCKER_HOST: UNREACHABLE_DOCKER };
    const result = await runCli(["doctor"], { env: noDocker, cwd: repo });
    expect(result.exitCode).toBe(1);
    const lacks = statusLines(result.stdout).find((line) =>
      line.startsWith("  ✗ .devcontainer/devcontainer.json lacks persistence mounts: "),
    );
    expect(lacks).toContain("projects, todos, tasks");
    expect(fixUnder(result.stdout, /lacks persistence mounts/)).toBe("claude-persist share");
    expect(statusLines(result.stdout)).toContain(
      "  ⚠ .devcontainer/devcontainer.json does not set containerEnv.CLAUDE_PERSIST_HOST_WORKSPACE: the hook in the container cannot map sessions opened from an editor",
    );
    expect(statusLines(result.stdout)).toContainEqual(
      expect.stringMatching(/^ {2}✗ Docker is not reachable, and this repo has a dev container config/),
    );

    // The fix as printed.
    expect((await runCli(["share"], { env: noDocker, cwd: repo })).exitCode).toBe(0);
    const after = await runCli(["doctor", "--json"], { env: noDocker, cwd: repo });
    const repoChecks = checksOf(JSON.parse(after.stdout) as DoctorReport, "This repo");
    expect(repoChecks.map((check) => check.status)).toEqual(["ok", "ok", "ok"]);
    expect(repoChecks[0]?.label).toBe(
      ".devcontainer/devcontainer.json mounts the shared entries into /home/vscode/.claude",
    );
  });

  it("an engine that answers `docker version` but hangs on `docker ps`: doctor still finishes, and says which call hung", {
    timeout: 60_000,
  }, async () => {
    const home = await healthyHome();
    const repo = path.join(tempDir(), "svc");
    mkdirSync(path.join(repo, ".devcontainer"), { recursive: true });
    writeFileSync(
      path.join(repo, ".devcontainer", "devcontainer.json"),
      '{ "image": "debian:bookworm", "remoteUser": "vscode" }\n',
    );
    await execa("git", ["init", "-q", repo]);
    openedBefore(home, repo);
    const bin = tempDir();
    writeFileSync(
      path.join(bin, "docker"),
      '#!/bin/sh\n[ "$1" = version ] && { echo 27.0.0; exit 0; }\nexec sleep 600\n',
      { mode: 0o755 },
    );
    const result = await runCli(["doctor"], {
      env: { ...env(home), PATH: `${bin}:${process.env.PATH ?? ""}` },
      cwd: repo,
    });
    expect(statusLines(result.stdout)).toContain(
      "  ✗ docker ps did not answer within 20 s: is the engine at DOCKER_HOST stuck?",
    );
  });

  it("inside a container, a missing project link: ✗ and the ln that fixes it", async () => {
    const home = tempHome();
    mkdirSync(path.join(home, ".claude", "projects"));
    const env = {
      HOME: home,
      CLAUDE_PERSIST_HOST_WORKSPACE: "/Users/ana/code/app",
      CLAUDE_PERSIST_CONTAINER_WORKSPACE: "/workspaces/app",
    };
    const missing = checkProjectLink(env, "/workspaces/app/api");
    expect(missing).toEqual({
      status: "fail",
      label: "~/.claude/projects/-workspaces-app-api is missing: sessions here do not continue the host's",
      fix: "ln -s -- -Users-ana-code-app-api ~/.claude/projects/-workspaces-app-api",
    });
    await runFix(home, missing.fix ?? "");
    expect(checkProjectLink(env, "/workspaces/app/api")).toEqual({
      status: "ok",
      label: "sessions here continue the host's (projects/-workspaces-app-api → -Users-ana-code-app-api)",
    });
  });

  it("inside a container, a folder named ..cache in the workspace is mapped like any other", async () => {
    const home = tempHome();
    mkdirSync(path.join(home, ".claude", "projects"));
    const env = {
      HOME: home,
      CLAUDE_PERSIST_HOST_WORKSPACE: "/Users/ana/code/app",
      CLAUDE_PERSIST_CONTAINER_WORKSPACE: "/workspaces/app",
    };
    const missing = checkProjectLink(env, "/workspaces/app/..cache");
    expect(missing).toEqual({
      status: "fail",
      label: "~/.claude/projects/-workspaces-app---cache is missing: sessions here do not continue the host's",
      fix: "ln -s -- -Users-ana-code-app---cache ~/.claude/projects/-workspaces-app---cache",
    });
    await runFix(home, missing.fix ?? "");
    expect(checkProjectLink(env, "/workspaces/app/..cache").status).toBe("ok");
  });

  it("quickContainerCheck (for the hook) finds unshared folders from the mount table, and says how to fix it", () => {
    const home = tempHome();
    for (const name of SHARED_DIRS) mkdirSync(path.join(home, ".claude", name), { mode: 0o700 });
    const config = realpathSync(path.join(home, ".claude"));
    const mounted = new Map(
      [path.join(config, "projects"), path.join(config, "todos")].map((dir) => [dir, { readOnly: false }]),
    );
    const problems = quickContainerCheck({ HOME: home }, mounted);
    const unmounted = SHARED_DIRS.filter((name) => name !== "projects" && name !== "todos");
    expect(problems.map((p) => p.label)).toEqual([
      `~/.claude/{${unmounted.join(",")}} are not mounted: what is written there stays in this container`,
      "~/.claude/persist is missing: the SessionStart hook does not run here",
    ]);
    expect(problems.every((p) => p.fix?.includes("dev-open --rebuild"))).toBe(true);
  });
});

// Throws when CI is set and Docker is unavailable: CI must run this, never skip it.
const skipReason = dockerUnavailableReason();

describe.skipIf(skipReason !== undefined)("doctor and a real dev container", () => {
  let engine: DockerEngine;
  let user: TestUser;
  let home: string;
  let repo: string;

  const hostEnv = () => ({
    ...engine.env,
    PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    CLAUDE_PERSIST_ENVIRONMENT: "host",
    ANTHROPIC_API_KEY: "sk-ant-test-key-0000000000000000000000",
  });
  const onHost = (file: string, args: string[]) =>
    asUser(user, file, args, { home, cwd: repo, env: hostEnv(), reject: false, timeout: 300_000 });
  const devOpen = (...args: string[]) => onHost(process.execPath, [CLI, "dev-open", ...args]);
  async function doctor(): Promise<{ exitCode: number | undefined; report: DoctorReport; text: string }> {
    const json = await onHost(process.execPath, [CLI, "doctor", "--json"]);
    const text = await onHost(process.execPath, [CLI, "doctor"]);
    expect(text.exitCode).toBe(json.exitCode);
    return { exitCode: json.exitCode, report: JSON.parse(json.stdout) as DoctorReport, text: text.stdout };
  }
  const containerChecks = (report: DoctorReport) => checksOf(report, "Its dev container");
  /** The hook command from settings.json, run in the container the way Claude Code runs it there. */
  const hookInContainer = () =>
    asUser(user, process.execPath, [DEVCONTAINER_BIN, "exec", "--workspace-folder", repo, "sh", "-c", HOOK_COMMAND], {
      home,
      cwd: repo,
      env: hostEnv(),
      reject: false,
      timeout: 120_000,
      input: JSON.stringify({
        session_id: "doctor-hook-check",
        cwd: "/workspaces/app",
        hook_event_name: "SessionStart",
        source: "startup",
      }),
    });

  beforeAll(async () => {
    const started = await startDockerEngine();
    if ("skipped" in started) throw new Error(started.skipped);
    engine = started;
    const image = await ensureBaseImage(engine);
    user = await ensureTestUser();
    home = await makeUserTempDir(user, "cp-home-");
    const parent = await makeUserTempDir(user, "cp-doctor-");
    repo = path.join(parent, "app");
    await mkdir(path.join(repo, ".devcontainer"), { recursive: true });
    // The image's vscode has uid 1000, the host user another: without updateRemoteUserUID they differ.
    const config = {
      name: "app",
      image,
      remoteUser: "vscode",
      runArgs: ["--network=host"],
      updateRemoteUserUID: false,
    };
    await writeFile(path.join(repo, ".devcontainer", "devcontainer.json"), `${JSON.stringify(config, null, 2)}\n`);
    await chownTree(parent, user);
    await onHost("git", ["init", "-q", "-b", "main"]);
    const installed = await asUser(user, process.execPath, [CLI, "install"], { home, env: hostEnv(), reject: false });
    expect(installed.exitCode, installed.stderr).toBe(0);
  });

  afterAll(async () => {
    if (repo) await removeDevcontainers(engine, repo).catch(() => undefined);
    await engine?.stop();
  });

  it("a container made before dev-open lacks the mounts: ✗ with dev-open --rebuild", async () => {
    const up = await onHost(process.execPath, [DEVCONTAINER_BIN, "up", "--workspace-folder", repo]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect((await devOpen("--config-only")).exitCode).toBe(0);
    const { exitCode, report, text } = await doctor();
    expect(exitCode).toBe(1);
    const mounts = containerChecks(report)[0];
    expect(mounts).toMatchObject({
      status: "fail",
      label: expect.stringMatching(/^the container lacks \d+ mount\(s\) of the config: projects, todos, /),
      fix: "dev-open --rebuild",
    });
    expect(text).toContain(`  ✗ ${mounts?.label}`);
    expect(text).toContain("      fix: dev-open --rebuild");
  });

  it("a container user whose uid differs from the host's: ✗ with updateRemoteUserUID", async () => {
    const opened = await devOpen("--rebuild", "--json");
    expect(opened.exitCode, opened.stderr).toBe(0);
    // dev-open asked inside: it says why in place of "shared".
    const said = (JSON.parse(opened.stdout) as { messages: string[] }).messages.join("\n");
    expect(said).toContain(
      `vscode (uid 1000) cannot read and write /home/vscode/.claude/projects in the container; it belongs to uid ${user.uid} with mode 700: its sessions are not shared there.`,
    );
    expect(said).not.toContain("are shared with");
    const { exitCode, report } = await doctor();
    expect(exitCode).toBe(1);
    const checks = containerChecks(report);
    expect(checks[0]).toMatchObject({
      status: "ok",
      label: expect.stringMatching(/^the container has the config's \d+ mount\(s\)$/),
    });
    expect(checks).toContainEqual({
      id: "devcontainer.uid",
      status: "fail",
      label: `vscode is uid 1000 in the container, but the host's transcripts belong to uid ${user.uid} (mode 0600): it cannot read them`,
      fix: 'set "updateRemoteUserUID": true in .devcontainer/devcontainer.json, then: dev-open --rebuild',
    });
    expect(checks).toContainEqual({
      id: "devcontainer.mapping",
      status: "ok",
      label: `sessions in /workspaces/app continue the host's (projects/${encodeProjectSlug("/workspaces/app")} → ${encodeProjectSlug(repo)})`,
    });
  });

  // Two launches, doctor twice and the hook inside: about 30 s alone, past 60 s in a loaded full run.
  it("a healthy container passes every check, from the host and from the inside", { timeout: 300_000 }, async () => {
    const file = path.join(repo, ".devcontainer", "devcontainer.json");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace('"updateRemoteUserUID": false', '"updateRemoteUserUID": true'),
    );
    const opened = await devOpen("--rebuild", "--json");
    expect(opened.exitCode, opened.stderr).toBe(0);
    const { exitCode, report, text } = await doctor();
    expect(exitCode, text).toBe(0);
    expect(
      statusLines(text).filter((line) => !line.startsWith("  ✓")),
      text,
    ).toEqual([]);
    expect(containerChecks(report).map((check) => check.label)).toEqual([
      expect.stringMatching(/^the container has the config's \d+ mount\(s\)$/),
      `vscode has uid ${user.uid} in the container, like the owner of the host's transcripts`,
      "single-file mounts are current: settings.json",
      expect.stringMatching(/^sessions in \/workspaces\/app continue the host's/),
      "cleanupPeriodDays is 30 on both sides (settings.json is the host's)",
      expect.stringMatching(/^node \d+\.\d+\.\d+ in the container runs the hook and \/start-work$/),
    ]);

    const insideDoctor = () =>
      onHost(process.execPath, [
        DEVCONTAINER_BIN,
        "exec",
        "--workspace-folder",
        repo,
        "node",
        "/home/vscode/.claude/persist/bin/claude-persist.mjs",
        "doctor",
        "--json",
      ]);
    const inside = await insideDoctor();
    expect(inside.exitCode, inside.stdout + inside.stderr).toBe(0);
    const hook = await hookInContainer();
    expect(hook).toMatchObject({ exitCode: 0, stderr: "" });
    expect(JSON.parse(hook.stdout).hookSpecificOutput.additionalContext).toContain("runs in a dev container");
    const insideReport = JSON.parse(inside.stdout) as DoctorReport;
    expect(insideReport).toMatchObject({
      environment: "container",
      configDir: "/home/vscode/.claude",
      ok: true,
      counts: { warn: 0, fail: 0 },
    });
    expect(checksOf(insideReport, "Inside this dev container").map((check) => check.label)).toEqual([
      "~/.claude is yours",
      `shared with the host and writable: ${READ_WRITE_ENTRIES.filter((e) => e.kind === "dir")
        .map((e) => e.name)
        .join(", ")}`,
      "read-only from the host: agents, commands, skills, rules, output-styles, hooks, settings.json, persist",
      expect.stringMatching(/^sessions here continue the host's/),
    ]);

    // The project link gone: doctor reports it, and the hook it runs links it again.
    const link = path.join(home, ".claude", "projects", encodeProjectSlug("/workspaces/app"));
    rmSync(link);
    const relinked = JSON.parse((await insideDoctor()).stdout) as DoctorReport;
    expect(checksOf(relinked, "Inside this dev container").at(-1)).toEqual({
      id: "container.project-link",
      status: "ok",
      label: "~/.claude/projects/-workspaces-app was missing: the SessionStart hook that doctor ran has just linked it",
    });
    expect(readlinkSync(link)).toBe(encodeProjectSlug(repo));
  });

  it("settings.json replaced on the host by a rename: ✗ stale, and docker restart fixes it", async () => {
    const settings = path.join(home, ".claude", "settings.json");
    const changed = readFileSync(settings, "utf8").replace(/^\{/, '{\n  "cleanupPeriodDays": 7,');
    const temp = `${settings}.tmp`;
    writeFileSync(temp, changed);
    await execa("chown", [`${user.uid}:${user.gid}`, temp]);
    renameSync(temp, settings);

    const { exitCode, report, text } = await doctor();
    expect(exitCode).toBe(1);
    const checks = containerChecks(report);
    const stale = checks.find((check) => check.label.startsWith("settings.json in the container is an old copy"));
    expect(stale).toMatchObject({ status: "fail", fix: expect.stringMatching(/^docker restart [0-9a-f]{12}$/) });
    expect(checks).toContainEqual(
      expect.objectContaining({
        status: "warn",
        label: "cleanupPeriodDays is 30 in the container but 7 on the host",
        fix: stale?.fix,
      }),
    );
    expect(text).toContain(`      fix: ${stale?.fix}`);

    await docker(engine, ["restart", (stale?.fix ?? "").split(" ").at(-1) ?? ""]);
    const after = await doctor();
    expect(after.exitCode, after.text).toBe(0);
    expect(containerChecks(after.report).map((check) => check.label)).toContain(
      "cleanupPeriodDays is 7 on both sides (settings.json is the host's)",
    );
  });
});

if (skipReason !== undefined) {
  it("doctor and a real dev container", (ctx) => {
    ctx.skip(skipReason);
  });
}
