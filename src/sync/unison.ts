// On-demand sync with a machine reached only over ssh (a remote Docker engine's host), without a daemon or an
// extra port: Debian's unison (2.52 on both ends), the same folders and ignores as Syncthing, and the line-union
// merge as unison's merge command, so that a session written on both sides keeps every line.
import { mkdirSync, readFileSync } from "node:fs";
import { runProcess } from "../child-process.ts";
import { configDir, type Env } from "../claude/home.ts";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../fs.ts";
import { STATE, statePath } from "../state/paths.ts";
import { shellWord } from "../text.ts";
import { unionOfLines } from "./conflicts.ts";
import { NEVER_TRAVELLING_NAMES, SYNC_FOLDERS } from "./folders.ts";

/** `ssh://host` or `user@host`: where the other `~/.claude` is (relative to the remote home, or `remoteDir`). */
export function unisonRemoteRoot(target: string, remoteDir?: string): string {
  const host = target.replace(/^ssh:\/\//, "").replace(/\/+$/, "");
  // Neither the user nor the host may start with "-": ssh would take `x@-F` as its own option.
  if (!/^([A-Za-z0-9._][A-Za-z0-9._-]*@)?[A-Za-z0-9][A-Za-z0-9.-]*(:\d+)?$/.test(host))
    throw new UserError(`'${target}' is not an ssh host (user@host or ssh://host)`, 2);
  return remoteDir ? `ssh://${host}/${remoteDir}` : `ssh://${host}/.claude`;
}

/** Unison's arguments: only the shared folders, the same ignores, and our merge for transcripts. */
export function unisonArgs(env: Env, remoteRoot: string, mergeCommand: string, sshCommand?: string): string[] {
  const args = [configDir(env), remoteRoot, "-batch", "-auto", "-times"];
  for (const folder of SYNC_FOLDERS) {
    args.push("-path", folder.name);
    if (folder.only) {
      args.push("-ignore", `Path ${folder.name}/*`);
      for (const name of folder.only) args.push("-ignorenot", `Path ${folder.name}/${name}`);
    }
  }
  // The names Syncthing never sends either, and Syncthing's own files (both may keep one folder in step).
  for (const pattern of [...NEVER_TRAVELLING_NAMES, ".stfolder", ".stignore", ".stversions"]) {
    args.push("-ignore", `Name ${pattern}`);
  }
  args.push("-merge", `Name *.jsonl -> ${mergeCommand} CURRENT1 CURRENT2 NEW`);
  if (sshCommand) args.push("-sshcmd", sshCommand);
  return args;
}

/** Runs unison once against `target`; the archive lives in the host-only state, under a pinned host name. */
export async function unisonOnce(
  env: Env,
  target: string,
  options: { sshCommand?: string | undefined; cliPath: string; remoteDir?: string },
): Promise<{ exitCode: number; output: string }> {
  const remoteRoot = unisonRemoteRoot(target, options.remoteDir);
  const probe = await runProcess("unison", ["-version"], { env: { ...env } });
  if (probe.exitCode !== 0) throw notInstalled();
  mkdirSync(statePath(env, STATE.unisonArchives), { recursive: true, mode: 0o700 });
  const mergeCommand = [process.execPath, options.cliPath, "sync", "merge-files"].map(shellWord).join(" ");
  const result = await runProcess("unison", unisonArgs(env, remoteRoot, mergeCommand, options.sshCommand), {
    env: {
      ...env,
      UNISON: statePath(env, STATE.unisonArchives),
      UNISONLOCALHOSTNAME: env.UNISONLOCALHOSTNAME || "claude-persist-local",
    },
    all: true,
    timeout: 30 * 60_000,
  });
  if (result.code === "ENOENT") throw notInstalled();
  return { exitCode: result.exitCode ?? 1, output: result.all };
}

function notInstalled(): UserError {
  return new UserError(
    "unison is not installed: install it on both machines ('apt-get install unison', 2.52 or later) and run this again",
  );
}

/** Unison's merge protocol: both current versions in, the union of their lines out to NEW. */
export function mergeFiles(current1: string, current2: string, output: string): number {
  const { text, added } = unionOfLines(readFileSync(current1, "utf8"), readFileSync(current2, "utf8"));
  writeFileAtomic(output, text, 0o600);
  return added;
}
