// dev-open on a cloned repo that attacks the host (issue 22): what its files carry reaches the terminal shown, not
// run; mounts of the host's credentials are named; links planted in the host's projects/ stop it.
import { mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { treeOf } from "./support/checks.ts";
import { runCli, tempDir, tempHome } from "./support/claude.ts";

const NO_DOCKER = "unix:///nonexistent/docker.sock";

/** A clone of a repo whose author committed `files`: what a person gets from `git clone`. */
async function clonedRepo(files: Record<string, string>): Promise<string> {
  const origin = path.join(tempDir(), "origin");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(origin, name)), { recursive: true });
    writeFileSync(path.join(origin, name), text);
  }
  const git = (args: string[], cwd: string) => execa("git", args, { cwd });
  await git(["init", "-q", "-b", "main"], origin);
  await git(["add", "-A"], origin);
  await git(["-c", "user.name=a", "-c", "user.email=a@example.com", "commit", "-qm", "init"], origin);
  const clone = path.join(tempDir(), "app");
  await git(["clone", "-q", origin, clone], path.dirname(clone));
  return clone;
}

// OSC 52 (writes the clipboard), a CSI that clears the screen, an 8-bit CSI (C1), a bidi override, BEL.
const OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07";
const CSI = "\x1b[2J\x1b[H";
const C1 = "\u009b31m";
const BIDI = "\u202e";
const HOSTILE_CONFIG = `{
  // build ${OSC52}${CSI} notes
  "name": "app${BIDI}gnp.exe${C1}",
  "image": "debian",
  "remoteUser": "vscode"
}
`;
/** What a terminal would act on: ESC, BEL, C1 controls, bidi overrides. */
const RAW = /[\x07\x1b\x80-\x9f\u202a-\u202e\u2066-\u2069]/;

describe("dev-open on a cloned repo whose config carries escape sequences", () => {
  let home: string;
  const env = () => ({ HOME: home, DOCKER_HOST: NO_DOCKER });
  beforeAll(async () => {
    home = tempHome();
    expect((await runCli(["install"], { env: env() })).exitCode).toBe(0);
  });

  it.each([["dev-open"], ["claude-persist share"], ["claude-persist unshare"]])(
    "%s --dry-run shows them as \\xNN escapes, never raw, and says so",
    async (command) => {
      const repo = await clonedRepo({ ".devcontainer/devcontainer.json": HOSTILE_CONFIG });
      const before = treeOf(repo);
      const args = command === "dev-open" ? ["dev-open"] : [command.split(" ")[1] as string];
      const result = await runCli([...args, "--dry-run"], { env: env(), cwd: repo });
      expect(result.exitCode, result.stderr).toBe(0);
      const shown = result.stdout + result.stderr;
      expect(shown).not.toMatch(RAW);
      if (command !== "claude-persist unshare") {
        // The lines near the edit are in the diff, each hostile character written out.
        expect(result.stdout).toContain("\\x1b]52;c;cm0gLXJmIH4K\\x07\\x1b[2J\\x1b[H");
        expect(result.stdout).toContain('"name": "app\\u202egnp.exe\\u009b31m"');
      }
      expect(result.stderr).toContain(
        ".devcontainer/devcontainer.json holds control or invisible characters (escape sequences, bidi overrides): they are shown as \\xNN or \\uNNNN, not run; '--json' gives the exact text",
      );
      expect(treeOf(repo)).toEqual(before);
    },
  );

  it("--json keeps the exact bytes, as JSON escapes only", async () => {
    const repo = await clonedRepo({ ".devcontainer/devcontainer.json": HOSTILE_CONFIG });
    const result = await runCli(["dev-open", "--dry-run", "--json"], { env: env(), cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(RAW);
    expect(result.stdout).toContain("\\u001b]52;c;cm0gLXJmIH4K\\u0007");
    expect(result.stdout).toContain("\\u202e");
    const diff = (JSON.parse(result.stdout) as { messages: string[] }).messages.join("\n");
    expect(diff).toContain(`// build ${OSC52}${CSI} notes`);
    expect(diff).toContain(`"name": "app${BIDI}gnp.exe${C1}"`);
  });
});

type Check = { id?: string; status: string; label: string; fix?: string };

/** doctor's checks of one id, run in `repo`. */
async function doctorChecks(home: string, repo: string, id: string): Promise<Check[]> {
  const result = await runCli(["doctor", "--json"], { env: { HOME: home, DOCKER_HOST: NO_DOCKER }, cwd: repo });
  const report = JSON.parse(result.stdout) as { sections: Array<{ checks: Check[] }> };
  return report.sections.flatMap((section) => section.checks).filter((check) => check.id === id);
}

describe("a cloned repo's config that mounts the host's credentials", () => {
  let home: string;
  const env = () => ({ HOME: home, DOCKER_HOST: NO_DOCKER });
  beforeAll(async () => {
    home = tempHome();
    expect((await runCli(["install"], { env: env() })).exitCode).toBe(0);
  });
  const config = (fields: string) => `{ "image": "debian", "remoteUser": "vscode", ${fields} }\n`;
  const composed = (volumes: string) => ({
    ".devcontainer/devcontainer.json":
      '{ "dockerComposeFile": "compose.yaml", "service": "app", "remoteUser": "vscode" }\n',
    ".devcontainer/compose.yaml": `services:\n  app:\n    image: debian\n    volumes:\n${volumes}`,
  });

  it.each<[string, (home: string) => Record<string, string>, (home: string) => string]>([
    [
      "mounts: ${localEnv:HOME}/.ssh",
      () => ({
        ".devcontainer/devcontainer.json": config(
          '"mounts": ["source=${localEnv:HOME}/.ssh,target=/home/vscode/.ssh,type=bind"]',
        ),
      }),
      () =>
        ".devcontainer/devcontainer.json (mounts) mounts ${localEnv:HOME}/.ssh into the container: your SSH keys, for anything the repo runs there to read and change",
    ],
    [
      "mounts: all of ~/.claude, as an object",
      () => ({
        ".devcontainer/devcontainer.json": config(
          '"mounts": [{ "source": "${localEnv:HOME}/.claude", "target": "/home/vscode/.claude", "type": "bind" }]',
        ),
      }),
      (h) =>
        `.devcontainer/devcontainer.json (mounts) mounts \${localEnv:HOME}/.claude into the container: all of ${h}/.claude (Claude Code's login and settings)`,
    ],
    [
      "mounts: the resolved host path of ~/.claude",
      (h) => ({
        ".devcontainer/devcontainer.json": config(`"mounts": ["type=bind,src=${h}/.claude/,dst=/root/.claude"]`),
      }),
      (h) => `mounts ${h}/.claude/ into the container: all of ${h}/.claude`,
    ],
    [
      "mounts: ${localEnv:HOME}${localEnv:USERPROFILE}/.gnupg, the cross-platform idiom",
      () => ({
        ".devcontainer/devcontainer.json": config(
          '"mounts": ["source=${localEnv:HOME}${localEnv:USERPROFILE}/.gnupg,target=/home/vscode/.gnupg,type=bind"]',
        ),
      }),
      () => "mounts ${localEnv:HOME}${localEnv:USERPROFILE}/.gnupg into the container: your GPG keys",
    ],
    [
      "runArgs: --volume=…/.aws",
      () => ({
        ".devcontainer/devcontainer.json": config('"runArgs": ["--volume=${localEnv:HOME}/.aws:/root/.aws:ro"]'),
      }),
      () => "(runArgs) mounts ${localEnv:HOME}/.aws into the container: your AWS credentials",
    ],
    [
      "runArgs: -v with the whole home",
      () => ({ ".devcontainer/devcontainer.json": config('"runArgs": ["-v", "${localEnv:HOME}:/host"]') }),
      (h) => `(runArgs) mounts \${localEnv:HOME} into the container: ${h} and with it all of ${h}/.claude`,
    ],
    [
      "compose short syntax: ~/.ssh",
      () => composed("      - ~/.ssh:/home/vscode/.ssh:ro\n"),
      () => ".devcontainer/compose.yaml (service app) mounts ~/.ssh into the container: your SSH keys",
    ],
    [
      "compose short syntax: $HOME/.config/gh",
      () => composed("      - $HOME/.config/gh:/home/vscode/.config/gh\n"),
      () => "mounts $HOME/.config/gh into the container: your GitHub CLI token",
    ],
    [
      "compose long syntax: ${HOME:-/root}/.claude",
      () =>
        composed("      - type: bind\n        source: ${HOME:-/root}/.claude\n        target: /home/vscode/.claude\n"),
      (h) => `mounts \${HOME:-/root}/.claude into the container: all of ${h}/.claude`,
    ],
  ])("%s: dev-open and doctor name the mount and the risk", async (_name, files, expected) => {
    const repo = await clonedRepo(files(home));
    const before = treeOf(repo);
    const opened = await runCli(["dev-open", "--dry-run"], { env: env(), cwd: repo });
    expect(opened.exitCode, opened.stderr).toBe(0);
    const warnings = opened.stderr.split("\n").filter((line) => line.startsWith("warning: "));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(expected(home));
    expect(warnings[0]).toMatch(
      /; take that mount out of \.devcontainer\/\S+ unless you mean the container to have it/,
    );
    const checks = await doctorChecks(home, repo, "repo.risky-mounts");
    expect(checks.map((check) => check.status)).toEqual(["warn"]);
    expect(checks[0]?.label).toContain(expected(home));
    expect(treeOf(repo)).toEqual(before);
  });

  it("the pack's own mounts, a cache in the home and the workspace's folders: no warning", async () => {
    const repo = await clonedRepo({
      ".devcontainer/devcontainer.json": config(
        '"mounts": ["source=${localEnv:HOME}/.npm,target=/home/vscode/.npm,type=bind", "source=${localWorkspaceFolder}/data,target=/data,type=bind", "source=node_modules,target=/w/node_modules,type=volume"]',
      ),
    });
    const shared = await runCli(["share"], { env: env(), cwd: repo });
    expect(shared.exitCode, shared.stderr).toBe(0);
    expect(readFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), "utf8")).toContain("/.claude/projects");
    const opened = await runCli(["dev-open", "--dry-run"], { env: env(), cwd: repo });
    expect(opened.exitCode, opened.stderr).toBe(0);
    expect(opened.stderr).not.toContain("warning:");
    expect(await doctorChecks(home, repo, "repo.risky-mounts")).toEqual([]);
  });
});

describe("a link at the host's own project folder of the repo", () => {
  const env = (home: string) => ({ HOME: home, DOCKER_HOST: NO_DOCKER });
  async function setup(): Promise<{ home: string; repo: string; folder: string; projects: string }> {
    const home = tempHome();
    expect((await runCli(["install"], { env: env(home) })).exitCode).toBe(0);
    const repo = await clonedRepo({
      ".devcontainer/devcontainer.json": '{ "image": "debian", "remoteUser": "vscode" }\n',
    });
    const projects = path.join(home, ".claude", "projects");
    return { home, repo, projects, folder: path.join(projects, encodeProjectSlug(repo)) };
  }

  it.each([
    ["out of projects/, to the host's ~/.ssh", (home: string) => path.join(home, ".ssh")],
    ["to another repo's project folder in projects/", () => "-home-ana-other"],
  ])(
    "%s: dev-open and share stop in one line before anything is written; a dry run and doctor say it",
    async (_name, to) => {
      const { home, repo, projects, folder } = await setup();
      mkdirSync(path.join(home, ".ssh"), { recursive: true });
      writeFileSync(path.join(home, ".ssh", "id_ed25519"), "PRIVATE\n");
      mkdirSync(path.join(projects, "-home-ana-other"), { recursive: true });
      const target = to(home);
      symlinkSync(target, folder);
      // What a run could have written: the repo, the link's targets, projects/ and the link itself.
      const state = () => ({
        repo: treeOf(repo),
        ssh: treeOf(path.join(home, ".ssh")),
        other: treeOf(path.join(projects, "-home-ana-other")),
        projects: readdirSync(projects).sort(),
        link: readlinkSync(folder),
      });
      const before = state();
      const line = `${folder} is not a folder of ${projects} but a link to ${target} that claude-persist did not make (a container, or another program, may have planted it): Claude Code on this host keeps this repo's sessions there, and dev-open does not write through it; look at what it points to, move it away (mv ${folder} ${folder}.planted), then run dev-open again`;
      for (const args of [["dev-open"], ["dev-open", "--config-only"], ["share"]]) {
        const result = await runCli(args, { env: env(home), cwd: repo });
        expect(result.exitCode, args.join(" ")).toBe(1);
        expect(result.stderr.trim(), args.join(" ")).toBe(
          `claude-persist ${args[0] === "share" ? "share" : "dev-open"}: ${line} (nothing was changed)`,
        );
      }
      const dry = await runCli(["dev-open", "--dry-run"], { env: env(home), cwd: repo });
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.stderr).toContain(`warning: ${line}.\n`);
      expect(state()).toEqual(before);
      const checks = await doctorChecks(home, repo, "repo.host-project-folder");
      expect(checks).toEqual([
        expect.objectContaining({
          status: "fail",
          label: line.slice(0, line.indexOf("; look at")),
          fix: expect.stringContaining("move it away"),
        }),
      ]);
    },
  );

  it("sync's own link to the project's travelling folder: no warning, and the sessions are mapped into that folder", async () => {
    const { home, repo, projects, folder } = await setup();
    mkdirSync(path.join(projects, "repo-github.com-ana-app-12345678"));
    symlinkSync("repo-github.com-ana-app-12345678", folder);
    const shared = await runCli(["share"], { env: env(home), cwd: repo });
    expect(shared.exitCode, shared.stderr).toBe(0);
    expect(shared.stderr).not.toContain("warning:");
    expect(readlinkSync(path.join(projects, encodeProjectSlug("/workspaces/app")))).toBe(encodeProjectSlug(repo));
    expect(await doctorChecks(home, repo, "repo.host-project-folder")).toEqual([]);
  });
});
