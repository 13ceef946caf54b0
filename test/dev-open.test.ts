// dev-open as a user runs it, for everything that happens before a container is involved.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir, tempHome } from "./support/claude.ts";
import { treeOf } from "./support/checks.ts";

const NO_DOCKER = "unix:///nonexistent/docker.sock";

async function gitRepo(): Promise<string> {
  const repo = path.join(tempDir(), "app");
  mkdirSync(repo);
  await execa("git", ["init", "-q", "-b", "main"], { cwd: repo });
  return repo;
}

function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.name === ".git") continue;
      if (entry.isDirectory()) walk(child);
      else files[child] = readFileSync(path.join(dir, child), "utf8");
    }
  };
  walk("");
  return files;
}

describe("dev-open before any container", () => {
  let home: string;
  const env = () => ({ HOME: home, DOCKER_HOST: NO_DOCKER });
  const devOpen = (args: string[], cwd: string) => runCli(["dev-open", ...args], { env: env(), cwd });
  beforeAll(async () => {
    home = tempHome();
    expect((await runCli(["install"], { env: env() })).exitCode).toBe(0);
  });

  it("without a config: one line that points at --init, nothing written", async () => {
    const repo = await gitRepo();
    const result = await devOpen([], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^claude-persist dev-open: No dev container config in .*Run `dev-open --init` to write a minimal one\.$/,
    );
    expect(tree(repo)).toEqual({});
  });

  it("--init --config-only writes a minimal Debian-based config with the Claude Code feature, and the mounts", async () => {
    const repo = await gitRepo();
    const result = await devOpen(["--init", "--config-only"], repo);
    expect(result.exitCode, result.stderr).toBe(0);
    const text = readFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), "utf8");
    expect(text).toContain('"image": "mcr.microsoft.com/devcontainers/base:bookworm"');
    expect(text).toContain('"ghcr.io/anthropics/devcontainer-features/claude-code:1": {}');
    expect(text).toContain("source=${localEnv:HOME}/.claude/projects,target=/home/vscode/.claude/projects,type=bind");
    expect(result.stdout).toContain("Config ready: .devcontainer/devcontainer.json.");
  });

  it("--init --dry-run shows the config it would write and leaves the repo as it was", async () => {
    const repo = await gitRepo();
    const result = await devOpen(["--init", "--dry-run"], repo);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("+++ b/.devcontainer/devcontainer.json");
    expect(result.stdout).toContain('+\t"remoteUser": "vscode"');
    expect(tree(repo)).toEqual({});
  });

  it("--init with a config in .devcontainer/<name>/ uses that config and writes no second one", async () => {
    const repo = await gitRepo();
    mkdirSync(path.join(repo, ".devcontainer", "python"), { recursive: true });
    writeFileSync(
      path.join(repo, ".devcontainer", "python", "devcontainer.json"),
      '{ "image": "debian", "remoteUser": "vscode" }\n',
    );
    const result = await devOpen(["--init", "--dry-run"], repo);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("+++ b/.devcontainer/python/devcontainer.json");
    expect(Object.keys(tree(repo))).toEqual([".devcontainer/python/devcontainer.json"]);
  });

  it("with several configs and no --config: lists them and stops", async () => {
    const repo = await gitRepo();
    for (const name of ["python", "node"]) {
      mkdirSync(path.join(repo, ".devcontainer", name), { recursive: true });
      writeFileSync(path.join(repo, ".devcontainer", name, "devcontainer.json"), '{ "image": "debian" }\n');
    }
    const before = tree(repo);
    const result = await devOpen(["--dry-run"], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("Several dev container configs");
    expect(result.stderr).toContain(".devcontainer/node/devcontainer.json, .devcontainer/python/devcontainer.json");
    expect(result.stderr).toContain("Pick one with --config <path>.");
    const picked = await devOpen(["--dry-run", "--config", ".devcontainer/node/devcontainer.json"], repo);
    expect(picked.exitCode, picked.stderr).toBe(0);
    expect(picked.stdout).toContain("+++ b/.devcontainer/node/devcontainer.json");
    expect(tree(repo)).toEqual(before);
  });

  it("a malformed config: file:line:col and the reason, and the file stays as it was", async () => {
    const repo = await gitRepo();
    mkdirSync(path.join(repo, ".devcontainer"));
    const broken = '{\n  "image": "debian",\n  "mounts": [\n}\n';
    writeFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), broken);
    const result = await devOpen([], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/devcontainer\.json:4:1: /);
    expect(result.stderr.split("\n")).toHaveLength(1);
    expect(tree(repo)).toEqual({ ".devcontainer/devcontainer.json": broken });
  });

  it("with Docker down: the config is ready, and one line says Docker is not reachable", async () => {
    const repo = await gitRepo();
    mkdirSync(path.join(repo, ".devcontainer"));
    writeFileSync(
      path.join(repo, ".devcontainer", "devcontainer.json"),
      '{ "image": "debian", "remoteUser": "vscode" }\n',
    );
    const result = await devOpen([], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^claude-persist dev-open: Docker is not reachable \(.*\): start Docker, or set DOCKER_HOST to a running engine$/,
    );
  });

  it("without the pack installed: says how to install it, and has written nothing, in the repo or the home", async () => {
    const repo = await gitRepo();
    mkdirSync(path.join(repo, ".devcontainer"));
    writeFileSync(
      path.join(repo, ".devcontainer", "devcontainer.json"),
      '{ "image": "debian", "remoteUser": "vscode" }\n',
    );
    const bare = tempHome();
    const before = { repo: tree(repo), home: treeOf(bare) };
    const result = await runCli(["dev-open", "--config-only"], {
      env: { HOME: bare, DOCKER_HOST: NO_DOCKER },
      cwd: repo,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /claude-persist is not installed in .*: run 'claude-persist install' first \(nothing was changed\)$/,
    );
    expect({ repo: tree(repo), home: treeOf(bare) }).toEqual(before);
  });

  it("with ~/.claude/projects a file: one line naming it, and nothing written", async () => {
    const repo = await gitRepo();
    mkdirSync(path.join(repo, ".devcontainer"));
    writeFileSync(
      path.join(repo, ".devcontainer", "devcontainer.json"),
      '{ "image": "debian", "remoteUser": "vscode" }\n',
    );
    const odd = tempHome();
    expect((await runCli(["install"], { env: { HOME: odd } })).exitCode).toBe(0);
    rmSync(path.join(odd, ".claude", "projects"), { recursive: true });
    writeFileSync(path.join(odd, ".claude", "projects"), "not a folder\n");
    const before = { repo: tree(repo), home: treeOf(odd) };
    const result = await runCli(["dev-open", "--config-only"], {
      env: { HOME: odd, DOCKER_HOST: NO_DOCKER },
      cwd: repo,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toBe(
      `claude-persist dev-open: ${path.join(odd, ".claude", "projects")} is a file where the folder a dev container mounts should be: move it out of the way and run again (nothing was changed)`,
    );
    expect({ repo: tree(repo), home: treeOf(odd) }).toEqual(before);
  });

  it.each([
    ["ssh://dev@devbox.example", "run 'claude-persist share' on devbox.example"],
    ["tcp://10.0.0.5:2375", "run 'claude-persist share' on tcp://10.0.0.5:2375"],
  ])(
    "--config-only with the Docker engine on another machine (%s): one line saying where to run it, nothing written",
    async (dockerHost, where) => {
      // An editor on this machine would resolve the config's ${localEnv:HOME} here, and that engine mount those paths there.
      const repo = await gitRepo();
      mkdirSync(path.join(repo, ".devcontainer"));
      writeFileSync(
        path.join(repo, ".devcontainer", "devcontainer.json"),
        '{ "image": "debian", "remoteUser": "vscode" }\n',
      );
      const own = tempHome();
      expect((await runCli(["install"], { env: { HOME: own } })).exitCode).toBe(0);
      const before = { repo: tree(repo), home: treeOf(own) };
      const result = await runCli(["dev-open", "--config-only"], {
        env: { HOME: own, DOCKER_HOST: dockerHost },
        cwd: repo,
      });
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(where);
      expect(result.stderr).toMatch(/\(nothing was changed\)$/);
      expect({ repo: tree(repo), home: treeOf(own) }).toEqual(before);
    },
  );

  it.each([
    [["--remote-home", "/home/x;rm -rf ~"], "--remote-home: must be an absolute path"],
    [["--config", "--upload-pack=x"], "--config"],
    [["--shell", "--claude"], "choose one of --shell and --claude"],
    [["--frobnicate"], "unknown option '--frobnicate'"],
  ])("refuses %j with one line and exit 2, touching nothing", async (args, message) => {
    const repo = await gitRepo();
    const result = await devOpen(args, repo);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.split("\n")).toHaveLength(1);
    expect(existsSync(path.join(repo, ".devcontainer"))).toBe(false);
  });
});

describe("dev-open writing a config", () => {
  let home: string;
  const env = () => ({ HOME: home, DOCKER_HOST: NO_DOCKER });
  // --remote-home: the plan of a config that names a vscode user, without asking Docker about image "x".
  const write = (root: string) =>
    runCli(["dev-open", "--config-only", "--config", "c.json", "--remote-home", "/home/vscode"], {
      env: env(),
      cwd: root,
    });
  const scratch = (content: string | Buffer) => {
    const root = tempDir();
    writeFileSync(path.join(root, "c.json"), content);
    return root;
  };
  beforeAll(async () => {
    home = tempHome();
    expect((await runCli(["install"], { env: env() })).exitCode).toBe(0);
  });

  it("writes the edit atomically and keeps a backup of the original outside the repo, in host-only state", async () => {
    const root = scratch('{\n  "image": "x"\n}\n');
    const file = path.join(root, "c.json");
    const written = await write(root);
    const backup = /^Updated c\.json \(backup: (.*)\)\.$/m.exec(written.stdout)?.[1] ?? "";
    expect(path.dirname(backup)).toBe(path.join(home, ".claude", "persist-host", "backups"));
    expect(readFileSync(backup, "utf8")).toBe('{\n  "image": "x"\n}\n');
    expect(readFileSync(file, "utf8")).toContain("claude-persist");
    expect(readdirSync(root)).toEqual(["c.json"]);
  });

  it("writes nothing when nothing changes", async () => {
    const root = scratch('{\n  "image": "x"\n}\n');
    const file = path.join(root, "c.json");
    await write(root);
    const once = readFileSync(file, "utf8");
    expect((await write(root)).stdout).not.toContain("Updated");
    expect(readFileSync(file, "utf8")).toBe(once);
  });

  it.each([
    ["a syntax error", '{\n  "image": "x",,\n}\n', /c\.json:2:16: invalid JSON: a property name was expected/],
    ["bytes that are not UTF-8", Buffer.from([0x7b, 0xff, 0x7d]), /not valid UTF-8/],
  ])("leaves the file as it was on %s", async (_name, content, message) => {
    const root = scratch(content);
    const file = path.join(root, "c.json");
    const before = readFileSync(file);
    const result = await write(root);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(root)).toEqual(["c.json"]);
  });
});
