// A second machine for the remote-engine tests: Debian's sshd on loopback, started in a mount namespace of its own
// where the client's home is covered by an empty tmpfs (the devbox cannot see the client's files there), logging
// the user into a home of the devbox's own (sshd's SetEnv), with `docker` there reaching the tests' engine. The
// client reaches it as `ssh devbox` through an ssh config of the test's (a wrapper on PATH adds `-F`).
// The engine's daemon runs in the first mount namespace: the devbox's home lies where both see the same folder.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { tempDir } from "./claude.ts";
import { chownTree, makeUserTempDir, type TestUser } from "./users.ts";

export const SSHD = "/usr/sbin/sshd";
export const hasSshd = existsSync(SSHD);

export type Devbox = {
  /** The devbox user's home, as the devbox (and the Docker engine) sees it. */
  readonly home: string;
  /** Put first on the client's PATH: `ssh` there talks to the devbox as `devbox`. */
  readonly binDir: string;
  readonly stop: () => Promise<void>;
};

/**
 * Starts the devbox for the client `user`, who logs in there as `account` (the same user unless given: a devbox
 * account of another uid); the client's home `hiddenHome` is empty inside it.
 */
export async function startDevbox(
  user: TestUser,
  hiddenHome: string,
  dockerHost: string,
  account: TestUser = user,
): Promise<Devbox> {
  const dir = tempDir("cp-devbox-ssh-");
  chmodSync(dir, 0o755);
  const key = (name: string) =>
    execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path.join(dir, name)]);
  await key("host_key");
  await key("client_key");
  writeFileSync(path.join(dir, "authorized_keys"), readFileSync(path.join(dir, "client_key.pub")));
  const boxRoot = await makeUserTempDir(account, "cp-devbox-");
  const home = path.join(boxRoot, "home", account.name);
  mkdirSync(home, { recursive: true });
  await chownTree(boxRoot, account);
  const port = 40000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    path.join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      "StrictModes no",
      // PAM lets the test user (no password, so "locked") in with its key.
      "UsePAM yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      `AllowUsers ${account.name}`,
      `SetEnv HOME=${home} DOCKER_HOST=${dockerHost}`,
      "",
    ].join("\n"),
  );
  const hostKey = readFileSync(path.join(dir, "host_key.pub"), "utf8").split(" ").slice(0, 2).join(" ");
  writeFileSync(path.join(dir, "known_hosts"), `devbox ${hostKey}\n`);
  writeFileSync(
    path.join(dir, "ssh_config"),
    [
      "Host devbox",
      "  HostName 127.0.0.1",
      `  Port ${port}`,
      `  User ${account.name}`,
      `  IdentityFile ${dir}/client_key`,
      "  IdentitiesOnly yes",
      "  HostKeyAlias devbox",
      `  UserKnownHostsFile ${dir}/known_hosts`,
      "  StrictHostKeyChecking yes",
      "  BatchMode yes",
      "",
    ].join("\n"),
  );
  await execa("chown", [`${user.uid}:${user.gid}`, path.join(dir, "client_key")]);
  const binDir = path.join(dir, "bin");
  mkdirSync(binDir);
  writeFileSync(path.join(binDir, "ssh"), `#!/bin/sh\nexec /usr/bin/ssh -F ${dir}/ssh_config "$@"\n`, { mode: 0o755 });
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const log = path.join(dir, "sshd.log");
  const sshd: ChildProcess = spawn(
    "unshare",
    [
      ...["-m", "--propagation", "private", "sh", "-c"],
      'mount -t tmpfs -o mode=0755 devbox-hides-client "$1" && exec "$2" -D -e -f "$3" 2>"$4"',
      ...["sh", hiddenHome, SSHD, path.join(dir, "sshd_config"), log],
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100 && !readIfThere(log).includes("Server listening"); i++) await sleep(100);
  if (!readIfThere(log).includes("Server listening")) throw new Error(`sshd did not start: ${readIfThere(log)}`);
  return {
    home,
    binDir,
    stop: async () => {
      sshd.kill("SIGTERM");
      await sleep(100);
    },
  };
}

function readIfThere(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
