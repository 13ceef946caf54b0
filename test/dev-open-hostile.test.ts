// dev-open on a cloned repo that attacks the host (issue 22): what its files carry reaches the terminal shown, not
// run; mounts of the host's credentials are named; links planted in the host's projects/ stop it.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
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
