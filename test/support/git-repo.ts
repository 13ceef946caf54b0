// Git repositories the tests build, shared by the git verbs' tests and start-work's.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";

/**
 * In `repo`, on main: `branch` (made from main when it does not exist yet) tracks secret.env, main ignores it, and a
 * local secret.env holding `localSecret` sits in the working tree: switching to `branch` would overwrite it.
 * `env` is added to git's environment (the tests' own git config).
 */
export async function mainIgnoresSecretThatBranchTracks(
  repo: string,
  branch: string,
  localSecret: string,
  env: Record<string, string> = {},
): Promise<void> {
  const git = (...args: string[]) => execa("git", args, { cwd: repo, env });
  const exists =
    (await execa("git", ["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], { cwd: repo, env, reject: false }))
      .exitCode === 0;
  await git("switch", "-q", ...(exists ? [] : ["-c"]), branch);
  writeFileSync(path.join(repo, "secret.env"), "TOKEN=committed by mistake\n");
  await git("add", "secret.env");
  await git("commit", "-q", "-m", "secret.env");
  await git("switch", "-q", "main");
  writeFileSync(path.join(repo, ".gitignore"), "secret.env\n");
  await git("add", ".gitignore");
  await git("commit", "-q", "-m", "ignore secret.env");
  writeFileSync(path.join(repo, "secret.env"), localSecret);
}
