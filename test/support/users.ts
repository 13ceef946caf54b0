// Running commands as a non-root host user, for end-to-end tests that must behave like a developer's
// machine (the devcontainer CLI, Claude Code and our hooks all run as an ordinary user there).
import { chown, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
}

export interface AsUserOptions {
  /** HOME for the command; required so nothing falls back to a home the user cannot write. */
  home: string;
  cwd?: string;
  /** Added on top of the current environment (with HOME, USER and LOGNAME set for the user). */
  env?: Record<string, string | undefined>;
  input?: string;
  timeout?: number;
  /** Like execa: when true (the default) a non-zero exit rejects. */
  reject?: boolean;
}

export interface AsUserResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  failed: boolean;
}

export const DEFAULT_TEST_USER = "cptest";

// The uid of the image's `vscode` user; the test user deliberately gets another one so that the
// devcontainer CLI's updateRemoteUserUID path (an extra `-uid` image) is exercised.
const IMAGE_USER_UID = 1000;
const FIRST_TEST_UID = 2001;

async function lookupUser(name: string): Promise<TestUser | undefined> {
  const { exitCode, stdout } = await execa("getent", ["passwd", name], { reject: false });
  if (exitCode !== 0) return undefined;
  const fields = stdout.trim().split(":");
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(`Unexpected passwd entry for ${name}: ${stdout}`);
  }
  return { name, uid, gid };
}

async function idIsFree(db: "passwd" | "group", id: number): Promise<boolean> {
  const { exitCode } = await execa("getent", [db, String(id)], { reject: false });
  return exitCode !== 0;
}

/**
 * Creates (once) a non-root user with its own group. Needs root. With `uid`, the user and its group get exactly
 * that id (for tests where which uid matters: two accounts of different uids).
 */
export async function ensureTestUser(name: string = DEFAULT_TEST_USER, uid?: number): Promise<TestUser> {
  const existing = await lookupUser(name);
  if (existing && uid !== undefined && existing.uid !== uid) {
    throw new Error(`The test user ${name} exists with uid ${existing.uid}, not ${uid}`);
  }
  if (existing) return existing;
  if (process.getuid?.() !== 0) throw new Error(`Creating the test user ${name} needs root`);

  let id = uid ?? FIRST_TEST_UID;
  while (
    uid === undefined &&
    (id === IMAGE_USER_UID || !(await idIsFree("passwd", id)) || !(await idIsFree("group", id)))
  )
    id++;

  const created = await execa(
    "useradd",
    ["--uid", String(id), "--user-group", "--create-home", "--shell", "/bin/bash", name],
    { reject: false, env: { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` } },
  );
  // Another test worker may have created it in the meantime.
  const user = await lookupUser(name);
  if (!user) throw new Error(`useradd ${name} failed: ${created.stderr || created.stdout}`);
  return user;
}

/** A fresh directory under the system temp dir, owned by `user` (mode 0700). */
export async function makeUserTempDir(user: TestUser, prefix = "cp-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chown(dir, user.uid, user.gid);
  return dir;
}

/** Hands a tree over to `user` (e.g. a git repo prepared by root). */
export async function chownTree(path: string, user: TestUser): Promise<void> {
  await execa("chown", ["-R", `${user.uid}:${user.gid}`, path]);
}

/**
 * Runs `file args…` as `user` via setpriv (which, unlike su/runuser, leaves the environment alone,
 * so the caller decides it). Supplementary groups are the user's own.
 */
export async function asUser(
  user: TestUser,
  file: string,
  args: readonly string[],
  options: AsUserOptions,
): Promise<AsUserResult> {
  const result = await execa(
    "setpriv",
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", "--", file, ...args],
    {
      cwd: options.cwd ?? options.home,
      env: { ...options.env, HOME: options.home, USER: user.name, LOGNAME: user.name },
      extendEnv: true,
      reject: options.reject ?? true,
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    },
  );
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, failed: result.failed };
}
