// Git as a tool, never as a runner: the workspace's `.git` is writable from its dev container, so the hooks, the
// fsmonitor and the commands a checkout's own config names (filter drivers, core.sshCommand) are the container's,
// not the user's. Every git call of the pack goes through runGit, which switches all of them off.
import { statSync } from "node:fs";
import { runProcess } from "../child-process.ts";
import { UserError } from "../errors.ts";
import type { GitResult } from "./git-errors.ts";

// No hook runs (git looks for /dev/null/<hook> and finds none) and no fsmonitor is asked.
const ALWAYS_OFF = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"];

// Commands a repo's (or worktree's) own config can name that the pack's git calls could run: a checkout runs the
// smudge filter, status the clean filter; a network call would run core.sshCommand.
const REPO_COMMANDS = "^(filter\\..+\\.(clean|smudge|process|required)|core\\.sshcommand)$";
const REPO_SCOPES = new Set(["local", "worktree"]);

// Per checkout folder: the `-c` pairs that neutralise what its config names. One `git config` a folder a run.
const neutralisers = new Map<string, Promise<string[]>>();

/** Runs `git args` in `cwd` with hooks, fsmonitor and the checkout's own filter and ssh commands off. */
export async function runGit(cwd: string, args: readonly string[]): Promise<GitResult> {
  let off = neutralisers.get(cwd);
  if (!off) {
    off = repoCommandsOff(cwd);
    neutralisers.set(cwd, off);
  }
  return spawnGit(cwd, [...ALWAYS_OFF, ...(await off), ...args]);
}

/** `-c` pairs that switch off each filter driver and ssh command set by the checkout's own config (not yours). */
async function repoCommandsOff(cwd: string): Promise<string[]> {
  const listed = await spawnGit(cwd, [...ALWAYS_OFF, "config", "--show-scope", "--get-regexp", REPO_COMMANDS]);
  // Exit 1: none set; anything else (not a repo yet, a broken config) is for the real call to report.
  if (listed.exitCode !== 0) return [];
  return neutralisersFor(listed.stdout);
}

/** The `-c` pairs for `git config --show-scope --get-regexp` output (`<scope>\t<key> <value>` lines). */
export function neutralisersFor(listing: string): string[] {
  const pairs = new Map<string, string>();
  for (const line of listing.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab === -1 || !REPO_SCOPES.has(line.slice(0, tab))) continue;
    const rest = line.slice(tab + 1);
    const space = rest.indexOf(" ");
    const key = space === -1 ? rest : rest.slice(0, space);
    if (key.toLowerCase() === "core.sshcommand") {
      // No pack call goes over the network; should one, it uses plain ssh, with GIT_SSH_COMMAND still winning.
      pairs.set("core.sshCommand", "ssh");
      continue;
    }
    const driver = key.slice(0, key.lastIndexOf("."));
    // An empty command is no filter at all; not required, so the checkout keeps the bytes as committed.
    for (const part of ["clean", "smudge", "process"]) pairs.set(`${driver}.${part}`, "");
    pairs.set(`${driver}.required`, "false");
  }
  return [...pairs].flatMap(([key, value]) => ["-c", `${key}=${value}`]);
}

/**
 * The hook `name` that git would have run in `cwd`'s checkout, where one is there and executable: the pack's calls
 * skip it, and the user may rely on it (git-lfs's post-checkout, say).
 */
export async function skippedHook(cwd: string, name: string): Promise<string | undefined> {
  // rev-parse runs no hook; asked without ALWAYS_OFF's hooksPath, it names where git would look.
  const found = await spawnGit(cwd, [
    "-c",
    "core.fsmonitor=false",
    "rev-parse",
    "--path-format=absolute",
    "--git-path",
    `hooks/${name}`,
  ]);
  if (found.exitCode !== 0 || !found.stdout) return undefined;
  try {
    const stat = statSync(found.stdout);
    return stat.isFile() && (stat.mode & 0o111) !== 0 ? found.stdout : undefined;
  } catch {
    return undefined; // no such hook: nothing was skipped
  }
}

async function spawnGit(cwd: string, args: readonly string[]): Promise<GitResult> {
  const result = await runProcess("git", args, {
    cwd,
    // English messages, so that the few we recognise are recognised; never wait for a password prompt.
    env: { ...process.env, LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" },
  });
  if (result.exitCode === undefined) {
    throw new UserError(`could not run git (${result.code ?? result.message}); install git, or put it on PATH`);
  }
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}
