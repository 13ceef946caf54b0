// dev-open with a Docker engine on another machine whose account has another uid than the client's: the client is
// one account (uid 1500), the devbox reached by DOCKER_HOST=ssh://devbox another (uid 1501), both real users behind
// a real sshd (test/support/devbox.ts), the real devcontainers CLI and engine. The folders the engine mounts belong
// to the devbox's account (0700): the container user must get that uid, not the client's (issue 28).
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAUDE_BIN, CLI } from "./support/claude.ts";
import { type Devbox, hasSshd, startDevbox } from "./support/devbox.ts";
import { SET_UID_SCRIPT } from "../src/devcontainer/remote/container-user.ts";
import {
  DEVCONTAINER_BIN,
  type DockerEngine,
  docker,
  dockerUnavailableReason,
  ensureBaseImage,
  removeDevcontainers,
  startDockerEngine,
} from "./support/docker.ts";
import { type HostUser, startHostUser } from "./support/host-user.ts";
import type { MessagesServer } from "./support/messages-server.ts";
import { asUser, ensureTestUser, type TestUser } from "./support/users.ts";

const CLIENT = { name: "cpclient", uid: 1500 };
const DEVBOX_ACCOUNT = { name: "cpdevbox", uid: 1501 };

const skipReason = hasSshd
  ? dockerUnavailableReason()
  : "sshd is not installed (.ci/provision-sync.sh installs openssh-server)";

/** The user and assistant lines of a transcript. */
function conversation(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.type === "user" || line.type === "assistant");
}

/** The transcripts of the travelling project folder (`projects/repo-…`). */
function travellingTranscripts(claudeDir: string): string[] {
  const projects = path.join(claudeDir, "projects");
  if (!existsSync(projects)) return [];
  return readdirSync(projects)
    .filter((name) => name.startsWith("repo-"))
    .flatMap((folder) =>
      readdirSync(path.join(projects, folder))
        .filter((f) => f.endsWith(".jsonl"))
        .map((f) => path.join(projects, folder, f)),
    );
}

describe.skipIf(dockerUnavailableReason() !== undefined)("the root step giving the container user a uid", () => {
  let engine: DockerEngine;
  let image: string;
  beforeAll(async () => {
    const started = await startDockerEngine();
    if ("skipped" in started) throw new Error(started.skipped);
    engine = started;
    image = await ensureBaseImage(engine);
  }, 600_000);
  afterAll(async () => {
    await engine?.stop();
  });

  /** The step's answer, then the user's uid, gid, its home's owner and its own group's line, in a fresh container. */
  const step = async (user: string, uid: number, gid: number) => {
    const after =
      'sh -c "$1" sh "$2" "$3" "$4"; id -u vscode; id -g vscode; stat -c %u:%g /home/vscode; getent group vscode';
    const args = ["run", "--rm", "-u", "root", "--entrypoint", "sh", image, "-c", after];
    const run = await docker(engine, [...args, "sh", SET_UID_SCRIPT, user, String(uid), String(gid)]);
    return run.stdout.trim().split("\n");
  };

  it("moves the user, its own group and its home to the account's ids", { timeout: 120_000 }, async () => {
    expect(await step("vscode", 1501, 1501)).toEqual([
      "changed 1000 1000",
      "1501",
      "1501",
      "1501:1501",
      "vscode:x:1501:",
    ]);
  });
  it("keeps another group's gid as the user's group, leaving its own group as it was", {
    timeout: 120_000,
  }, async () => {
    // gid 100 is Debian's `users`.
    expect(await step("vscode", 1501, 100)).toEqual(["changed 1000 1000", "1501", "100", "1501:100", "vscode:x:1000:"]);
  });
  it("changes nothing when another user has the uid, when it already has it, or when there is no such user", {
    timeout: 120_000,
  }, async () => {
    // uid 2 is Debian's `bin`.
    expect(await step("vscode", 2, 2)).toEqual(["taken bin", "1000", "1000", "1000:1000", "vscode:x:1000:"]);
    expect((await step("vscode", 1000, 1000))[0]).toBe("same");
    expect((await step("nobody-here", 1501, 1501))[0]).toBe("missing");
  });
});

const TITLE = "an engine on a devbox whose account (uid 1501) is not the client's (uid 1500)";
describe.skipIf(skipReason !== undefined)(TITLE, () => {
  let engine: DockerEngine;
  let image: string;
  let user: TestUser;
  let server: MessagesServer;
  let home: string;
  let devbox: Devbox;
  let repo: string;
  let env: Record<string, string>;
  const run = (file: string, args: string[], cwd: string) =>
    asUser(user, file, args, { home, cwd, env, reject: false, timeout: 300_000 });
  const inContainer = (command: string[]) =>
    run(
      process.execPath,
      [
        ...[DEVCONTAINER_BIN, "exec", "--workspace-folder", repo],
        ...["--remote-env", `ANTHROPIC_BASE_URL=${server.url}`],
        ...["--remote-env", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1"],
        ...command,
      ],
      repo,
    );

  beforeAll(async () => {
    let host: HostUser;
    ({ engine, image, user, server, home, host } = await startHostUser(CLIENT));
    const account = await ensureTestUser(DEVBOX_ACCOUNT.name, DEVBOX_ACCOUNT.uid);
    devbox = await startDevbox(user, home, engine.host, account);
    env = {
      PATH: `${devbox.binDir}:${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      DOCKER_HOST: "ssh://devbox",
      ANTHROPIC_BASE_URL: server.url,
      ANTHROPIC_API_KEY: "sk-ant-test-key-0000000000000000000000",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_PERSIST_ENVIRONMENT: "host",
    };
    expect((await run(process.execPath, [CLI, "install"], home)).exitCode).toBe(0);
    repo = await host.makeRepo("app", image);
    // One filesystem here: the devbox's account sees the client's clone (in life it has its own at that path).
    chmodSync(path.dirname(repo), 0o755);
    expect((await run("git", ["remote", "add", "origin", "git@github.com:ana/app.git"], repo)).exitCode).toBe(0);
  }, 600_000);

  afterAll(async () => {
    if (repo) await removeDevcontainers(engine, repo).catch(() => undefined);
    await devbox?.stop();
    await server?.close();
    await engine?.stop();
  });

  it("the container user gets the devbox account's uid, continues the client's session, and its turn comes back", {
    timeout: 600_000,
  }, async () => {
    const devboxClaude = path.join(devbox.home, ".claude");
    const first = await run(CLAUDE_BIN, ["-p", "remember the word PELICAN"], repo);
    expect(first.exitCode, first.stderr).toBe(0);

    // A config that keeps the image's uid: dev-open refuses, says why, and never says the sessions are shared.
    const configFile = path.join(repo, ".devcontainer", "devcontainer.json");
    // The team's own lifecycle command: it must run as the user with its final uid.
    const team = { ...(JSON.parse(readFileSync(configFile, "utf8")) as object), postCreateCommand: "id -u > /tmp/pc" };
    const config = JSON.stringify(team, null, 2);
    writeFileSync(configFile, JSON.stringify({ ...team, updateRemoteUserUID: false }, null, 2));
    const refused = await run(process.execPath, [CLI, "dev-open"], repo);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(
      `vscode (uid 1000) cannot read and write /home/vscode/.claude/projects in the container, ` +
        `the engine's mount of ${devboxClaude}/projects on devbox, your account's there; it belongs to uid 1501`,
    );
    expect(refused.stderr).toContain("remove that line (dev-open then gives vscode uid 1501");
    expect(refused.stdout + refused.stderr).not.toMatch(/are shared with/);
    writeFileSync(configFile, config);

    const opened = await run(process.execPath, [CLI, "dev-open", "--rebuild", "--json"], repo);
    expect(opened.exitCode, opened.stderr).toBe(0);
    const said = (JSON.parse(opened.stdout) as { messages: string[] }).messages.join("\n");
    expect(said).toContain("Synced with devbox by unison: devbox has this machine's sessions.");
    expect(said).toContain("vscode in the container now has uid 1501, gid 1501, like your account on devbox");
    expect(said).toContain("Sessions of");

    const id = await inContainer(["id", "-u"]);
    expect(id.stdout.trim()).toBe("1501");
    expect((await inContainer(["cat", "/tmp/pc"])).stdout.trim()).toBe("1501");
    // The image's files of the user followed it: its home is its own.
    const owner = await inContainer(["stat", "-c", "%u", "/home/vscode", "/home/vscode/.claude"]);
    expect(owner.stdout.trim().split("\n")).toEqual(["1501", "1501"]);

    const [clientTranscript] = travellingTranscripts(path.join(home, ".claude"));
    const [devboxTranscript] = travellingTranscripts(devboxClaude);
    const linesOnClient = conversation(clientTranscript ?? "").length;
    const before = server.requests.length;
    const inside = await inContainer(["/opt/claude/claude", "--continue", "-p", "what was the word?"]);
    expect(inside.exitCode, inside.stderr).toBe(0);
    expect(JSON.stringify(server.requests.slice(before))).toContain("PELICAN");
    expect(conversation(devboxTranscript ?? "").at(-1)).toMatchObject({ cwd: "/workspaces/app" });

    const back = await run(process.execPath, [CLI, "sync", "unison", "devbox"], repo);
    expect(back.exitCode, back.stderr + back.stdout).toBe(0);
    expect(conversation(clientTranscript ?? "").length).toBeGreaterThan(linesOnClient);
    expect(conversation(clientTranscript ?? "").at(-1)).toMatchObject({ cwd: "/workspaces/app" });

    // doctor asks the container too: the user can open the sessions mounted from the devbox.
    const doctor = await run(process.execPath, [CLI, "doctor"], repo);
    expect(doctor.stdout).toContain("✓ vscode (uid 1501) can read and write /home/vscode/.claude/projects");
    expect(doctor.exitCode, doctor.stdout).toBe(0);
  });
});
