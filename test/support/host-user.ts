// The host side of the end-to-end container tests: an ordinary user's shell talking to the tests' Docker engine
// and Messages-API server, the repos they open in dev containers, and `devcontainer exec` into them.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PROJECT_ROOT } from "./claude.ts";
import { DEVCONTAINER_BIN, type DockerEngine, ensureBaseImage, startDockerEngine } from "./docker.ts";
import { startMessagesServer, type MessagesServer } from "./messages-server.ts";
import { asUser, chownTree, ensureTestUser, makeUserTempDir, type AsUserResult, type TestUser } from "./users.ts";

/** The pinned package's native claude binary (a glibc build), mounted read-only into the containers. */
export const CLAUDE_NATIVE_DIR = path.join(PROJECT_ROOT, "node_modules", "@anthropic-ai", "claude-code-linux-x64");

export type HostUser = {
  /** Runs `file` as the user, in `cwd`, from their shell's environment; never throws on a non-zero exit. */
  readonly run: (file: string, args: string[], cwd: string) => Promise<AsUserResult>;
  /** Runs `command` in the dev container of `repo`, with claude talking to the tests' server. */
  readonly inContainer: (repo: string, command: string[]) => Promise<AsUserResult>;
  /** A git repo of the user's, committed, whose devcontainer.json runs `image` with the pinned claude in it. */
  readonly makeRepo: (name: string, image: string) => Promise<string>;
};

export function hostUser(user: TestUser, home: string, engine: DockerEngine, server: MessagesServer): HostUser {
  const env = {
    ...engine.env,
    PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: "sk-ant-test-key-0000000000000000000000",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_PERSIST_ENVIRONMENT: "host",
  };
  const run = (file: string, args: string[], cwd: string) =>
    asUser(user, file, args, { home, cwd, env, reject: false, timeout: 300_000 });
  const inContainer = (repo: string, command: string[]) =>
    run(
      process.execPath,
      [
        DEVCONTAINER_BIN,
        "exec",
        "--workspace-folder",
        repo,
        "--remote-env",
        `ANTHROPIC_BASE_URL=${server.url}`,
        "--remote-env",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
        // As dev-open's printed entry command hands it over: at exec time, from the caller's environment.
        "--remote-env",
        `ANTHROPIC_API_KEY=${env.ANTHROPIC_API_KEY}`,
        ...command,
      ],
      repo,
    );
  const makeRepo = async (name: string, image: string) => {
    const parent = await makeUserTempDir(user, "cp-e2e-");
    const repo = path.join(parent, name);
    await mkdir(path.join(repo, ".devcontainer"), { recursive: true });
    const config = {
      name,
      image,
      remoteUser: "vscode",
      // The container reaches the test's Messages-API server on the host's loopback.
      runArgs: ["--network=host"],
      mounts: [`source=${CLAUDE_NATIVE_DIR},target=/opt/claude,type=bind,readonly`],
    };
    await writeFile(path.join(repo, ".devcontainer", "devcontainer.json"), `${JSON.stringify(config, null, 2)}\n`);
    await writeFile(path.join(repo, "README.md"), `# ${name}\n`);
    await chownTree(parent, user);
    const git = (args: string[]) =>
      run("git", ["-c", "user.name=Ana", "-c", "user.email=ana@example.com", ...args], repo);
    await git(["init", "-q", "-b", "main"]);
    await git(["add", "."]);
    await git(["commit", "-q", "-m", "init"]);
    return repo;
  };
  return { run, inContainer, makeRepo };
}

export type HostSetup = {
  readonly engine: DockerEngine;
  readonly image: string;
  readonly user: TestUser;
  readonly server: MessagesServer;
  readonly home: string;
  readonly host: HostUser;
};

/**
 * What an end-to-end container test starts from: the engine, the base image, the user (the default test user, or
 * `account`) with a fresh home, the server.
 */
export async function startHostUser(account?: { readonly name: string; readonly uid: number }): Promise<HostSetup> {
  const started = await startDockerEngine();
  if ("skipped" in started) throw new Error(started.skipped);
  const engine = started;
  const image = await ensureBaseImage(engine);
  const user = await ensureTestUser(account?.name, account?.uid);
  const server = await startMessagesServer();
  const home = await makeUserTempDir(user, "cp-home-");
  return { engine, image, user, server, home, host: hostUser(user, home, engine, server) };
}
