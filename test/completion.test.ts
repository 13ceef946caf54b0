// Shell completion (issue 26): `claude-persist completion bash|zsh|fish`, generated from the command tables; the bash
// script passes `bash -n` and, driven through COMP_WORDS in a real bash, completes commands, actions, flags and
// snapshot ids.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli.ts";
import { CLI, runCli, tempDir, tempHome } from "./support/claude.ts";

let script: string;
let bin: string;

beforeAll(async () => {
  const result = await runCli(["completion", "bash"], { env: { HOME: tempHome() } });
  expect(result.exitCode, result.stderr).toBe(0);
  script = path.join(tempDir(), "claude-persist.bash");
  writeFileSync(script, `${result.stdout}\n`);
  // `claude-persist` on PATH, as an installed pack puts it, for the completion that asks it for snapshot ids.
  bin = path.join(tempDir(), "bin");
  mkdirSync(bin);
  writeFileSync(path.join(bin, "claude-persist"), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(path.join(bin, "claude-persist"), 0o755);
});

/** What bash completes `line` (ending where the cursor is) to, with the script loaded. */
async function complete(line: string, env: Record<string, string> = {}, cwd = tempDir()): Promise<string[]> {
  const words = line.split(" ");
  const program = [
    `source "$1"`,
    'COMP_WORDS=("${@:3}")',
    "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))",
    'COMP_LINE="$2"',
    "_claude_persist",
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  const result = await execa("bash", ["--norc", "--noprofile", "-c", program, "bash", script, line, ...words], {
    env: { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: tempHome(), ...env },
    extendEnv: false,
    cwd,
  });
  return result.stdout.split("\n").filter(Boolean);
}

describe("claude-persist completion", () => {
  it("bash -n accepts the bash script, and zsh's wraps the same functions", async () => {
    await execa("bash", ["-n", script]);
    const zsh = await runCli(["completion", "zsh"], { env: { HOME: tempHome() } });
    expect(zsh.stdout).toContain("bashcompinit");
    expect(zsh.stdout).toContain("complete -F _claude_persist claude-persist dev-open start-work");
    const fish = await runCli(["completion", "fish"], { env: { HOME: tempHome() } });
    expect(fish.stdout).toContain("complete -c claude-persist -n __fish_use_subcommand -a sessions");
    expect(fish.stdout).toContain("complete -c dev-open -l config -r -F");
  });

  it("completes a command, every command of the table, an action and a flag", async () => {
    expect(await complete("claude-persist sess")).toEqual(["sessions"]);
    expect(await complete("claude-persist ")).toEqual(expect.arrayContaining([...Object.keys(COMMANDS), "help"]));
    expect(await complete("claude-persist sync add")).toEqual(["add-device"]);
    expect(await complete("claude-persist sessions --j")).toEqual(["--json"]);
    expect(await complete("claude-persist snapshot prune --")).toEqual(["--keep", "--dry-run", "--json", "--help"]);
    expect(await complete("dev-open --rem")).toEqual(["--remote-home"]);
    expect(await complete("start-work --dry")).toEqual(["--dry-run"]);
    expect(await complete("claude-persist help doc")).toEqual(["doctor"]);
  });

  it("completes a file after --config, nothing after a flag whose value is not a file", async () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, "devcontainer.json"), "{}\n");
    expect(await complete("dev-open --config dev", {}, cwd)).toEqual(["devcontainer.json"]);
    expect(await complete("claude-persist snapshot prune --keep ", {}, cwd)).toEqual([]);
  });

  it("completes snapshot restore with 'latest' and this project's snapshot ids", async () => {
    const home = tempHome();
    const repo = tempDir();
    await execa("git", ["init", "-q"], { cwd: repo });
    const made = await runCli(["snapshot", "create", "--json"], { env: { HOME: home }, cwd: repo });
    expect(made.exitCode, made.stderr).toBe(0);
    const { id } = JSON.parse(made.stdout) as { id: string };
    expect(await complete("claude-persist snapshot restore ", { HOME: home }, repo)).toEqual(["latest", id]);
  });

  it("completion with no shell lists the shells on stderr, exit 2; an unknown shell is one line", async () => {
    const bare = await runCli(["completion"], { env: { HOME: tempHome() } });
    expect(bare.exitCode).toBe(2);
    expect(bare.stderr).toMatch(/^Usage: claude-persist completion bash\|zsh\|fish/);
    const help = await runCli(["completion", "--help"], { env: { HOME: tempHome() } });
    expect(help.stdout).toContain('eval "$(claude-persist completion bash)"');
    const wrong = await runCli(["completion", "tcsh"], { env: { HOME: tempHome() } });
    expect(wrong).toMatchObject({ exitCode: 2, stdout: "" });
    expect(wrong.stderr).toBe(
      "claude-persist completion: give one shell: bash, zsh or fish; see 'claude-persist completion --help'",
    );
  });
});
