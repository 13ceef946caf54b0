// Git as a tool, never as a runner: the workspace's `.git` is writable from its dev container, so the hooks, the
// fsmonitor and the commands a checkout's own config names (filter drivers, core.sshCommand) are the container's,
// not the user's. Every git call of the pack goes through runGit, which switches all of them off.
import { statSync } from "node:fs";
import { runProcess } from "../child-process.ts";
import { UserError } from "../errors.ts";
import type { GitResult } from "./git-errors.ts";

/** One config entry given to a git call; it wins over every config file. */
type ConfigEntry = readonly [key: string, value: string];

// No hook runs (git looks for /dev/null/<hook> and finds none) and no fsmonitor is asked. Given last, so nothing a
// checkout's config could smuggle into the entries before them overrides these.
const ALWAYS_OFF: readonly ConfigEntry[] = [
  ["core.hooksPath", "/dev/null"],
  ["core.fsmonitor", "false"],
];

// Commands a repo's (or worktree's) own config can name that the pack's git calls could run: a checkout runs the
// smudge filter, status the clean filter; a network call would run core.sshCommand.
const REPO_COMMANDS = "^(filter\\..+\\.(clean|smudge|process|required)|core\\.sshcommand)$";
const REPO_SCOPES = new Set(["local", "worktree"]);

// Per checkout folder: the entries that neutralise what its config names. One `git config` a folder a run.
const neutralisers = new Map<string, Promise<ConfigEntry[]>>();

/** Runs `git args` in `cwd` with hooks, fsmonitor and the checkout's own filter and ssh commands off. */
export async function runGit(cwd: string, args: readonly string[]): Promise<GitResult> {
  let off = neutralisers.get(cwd);
  if (!off) {
    off = repoCommandsOff(cwd);
    neutralisers.set(cwd, off);
  }
  return spawnGit(cwd, args, [...(await off), ...ALWAYS_OFF]);
}

/** Entries that switch off each filter driver and ssh command set by the checkout's own config (not yours). */
async function repoCommandsOff(cwd: string): Promise<ConfigEntry[]> {
  // NUL-separated: a value holding a line break cannot pose as another entry.
  const listed = await spawnGit(cwd, ["config", "-z", "--show-scope", "--get-regexp", REPO_COMMANDS], ALWAYS_OFF);
  // Exit 1: none set; anything else (not a repo yet, a broken config) is for the real call to report.
  if (listed.exitCode !== 0) return [];
  return neutralisersFor(listed.stdout);
}

/** The entries for `git config -z --show-scope --get-regexp` output (`<scope>\0<key>\n<value>\0` records). */
export function neutralisersFor(listing: string): ConfigEntry[] {
  const entries = new Map<string, string>();
  const fields = listing.split("\0");
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (!REPO_SCOPES.has(fields[i] ?? "")) continue;
    const record = fields[i + 1] ?? "";
    const key = record.includes("\n") ? record.slice(0, record.indexOf("\n")) : record;
    if (key.toLowerCase() === "core.sshcommand") {
      // No pack call goes over the network; should one, it uses plain ssh, with GIT_SSH_COMMAND still winning.
      entries.set("core.sshCommand", "ssh");
      continue;
    }
    const driver = key.slice(0, key.lastIndexOf("."));
    // An empty command is no filter at all; not required, so the checkout keeps the bytes as committed.
    for (const part of ["clean", "smudge", "process"]) entries.set(`${driver}.${part}`, "");
    entries.set(`${driver}.required`, "false");
  }
  return [...entries];
}

/**
 * The hook `name` that git would have run in `cwd`'s checkout, where one is there and executable: the pack's calls
 * skip it, and the user may rely on it (git-lfs's post-checkout, say).
 */
export async function skippedHook(cwd: string, name: string): Promise<string | undefined> {
  // rev-parse runs no hook; asked without ALWAYS_OFF's hooksPath, it names where git would look.
  const found = await spawnGit(
    cwd,
    ["rev-parse", "--path-format=absolute", "--git-path", `hooks/${name}`],
    [["core.fsmonitor", "false"]],
  );
  if (found.exitCode !== 0 || !found.stdout) return undefined;
  try {
    const stat = statSync(found.stdout);
    return stat.isFile() && (stat.mode & 0o111) !== 0 ? found.stdout : undefined;
  } catch {
    return undefined; // no such hook: nothing was skipped
  }
}

/**
 * Config entries go in through GIT_CONFIG_COUNT/KEY/VALUE (git ≥ 2.31), after any the caller's environment has:
 * unlike `-c key=value`, a key that holds "=" (a filter's subsection may) cannot shift into another key.
 */
async function spawnGit(cwd: string, args: readonly string[], config: readonly ConfigEntry[]): Promise<GitResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" };
  const given = Number.parseInt(process.env.GIT_CONFIG_COUNT ?? "", 10);
  const first = Number.isSafeInteger(given) && given > 0 ? given : 0;
  config.forEach(([key, value], n) => {
    env[`GIT_CONFIG_KEY_${first + n}`] = key;
    env[`GIT_CONFIG_VALUE_${first + n}`] = value;
  });
  env.GIT_CONFIG_COUNT = String(first + config.length);
  // English messages, so that the few we recognise are recognised; never wait for a password prompt.
  const result = await runProcess("git", args, { cwd, env });
  if (result.exitCode === undefined) {
    throw new UserError(`could not run git (${result.code ?? result.message}); install git, or put it on PATH`);
  }
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}
