// dev-open with a Docker engine on another machine: a "devbox" reached over real ssh (Debian's sshd on loopback, in
// a mount namespace where the client's home is an empty tmpfs, with a home of its own), whose `docker` reaches the
// tests' engine. What it proves and what it does not: see the describe below and test/support/devbox.ts.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { checkRemotePath, classifyEndpoint, parseSshEndpoint } from "../src/devcontainer/remote/engine.ts";
import { withRemoteSources } from "../src/devcontainer/remote/machine.ts";
import { planEngineSync } from "../src/sync/engine-machine.ts";
import { treeOf } from "./support/checks.ts";
import { CLAUDE_BIN, CLI, runCli, tempDir, tempHome } from "./support/claude.ts";
import { type Devbox, hasSshd, startDevbox } from "./support/devbox.ts";
import { DEVCONTAINER_BIN, type DockerEngine, dockerUnavailableReason, removeDevcontainers } from "./support/docker.ts";
import { type HostUser, startHostUser } from "./support/host-user.ts";
import type { MessagesServer } from "./support/messages-server.ts";
import { asUser, chownTree, type TestUser } from "./support/users.ts";

describe("where the Docker engine is, and the mounts' sources there", () => {
  it.each([
    ["unix:///var/run/docker.sock", "local"],
    ["tcp://127.0.0.1:2375", "local"],
    ["tcp://localhost:2375", "local"],
    ["tcp://build-box:2376", "files-unreachable"],
    ["ssh://ana@devbox:2222", "ssh"],
  ])("%s is %s", (endpoint, kind) => {
    expect(classifyEndpoint(endpoint, "DOCKER_HOST").kind).toBe(kind);
  });

  const badEndpoints = [
    "ssh://-oProxyCommand=touch%20x",
    "ssh://devbox/some/path",
    "ssh://ana@dev box",
    "ssh://devbox:99999",
  ];
  it.each(badEndpoints)("refuses %s", (endpoint) => {
    expect(() => parseSshEndpoint(endpoint)).toThrow(/not ssh:\/\/\[user@\]host\[:port\]/);
  });

  const hostileAnswers = [
    "relative/home",
    "/home/ana\n/etc",
    "/home/../etc",
    "/home/$(reboot)",
    "/home/a b",
    `/${"x".repeat(1100)}`,
  ];
  it.each(hostileAnswers)("takes no path like %j from the other machine", (answer) => {
    expect(() => checkRemotePath(answer, "The home of devbox")).toThrow(/dev-open needs an absolute path of letters/);
  });

  it("points only the pack's mounts at the engine machine's config dir, comments kept", () => {
    const text = `{
  // the team's
  "mounts": [
    "source=/opt/tools,target=/opt/tools,type=bind",
    // claude-persist: …
    "source=\${localEnv:HOME}/.claude/projects,target=/home/vscode/.claude/projects,type=bind",
    "source=\${localEnv:HOME}/.claude/persist-host/host-files/settings.json,\
target=/home/vscode/.claude/settings.json,type=bind,readonly"
  ]
}`;
    const targets = ["/home/vscode/.claude/projects", "/home/vscode/.claude/settings.json"];
    const out = withRemoteSources(text, "/home/vscode", targets, "/srv/ana/.claude");
    expect(out).toContain('"source=/opt/tools,target=/opt/tools,type=bind"');
    expect(out).toContain('"source=/srv/ana/.claude/projects,target=/home/vscode/.claude/projects,type=bind"');
    const settings = "/srv/ana/.claude/persist-host/host-files/settings.json";
    expect(out).toContain(`"source=${settings},target=/home/vscode/.claude/settings.json,type=bind,readonly"`);
    expect(out).toContain("// the team's");
    expect(out).not.toContain("localEnv:HOME");
  });

  it("both on Syncthing: dev-open leaves the syncing to it; else unison; no unison there: says so", () => {
    const home = tempHome();
    const machine = {
      label: "devbox",
      home: "/srv/ana",
      configDir: "/srv/ana/.claude",
      runsSyncthing: true,
      hasUnison: true,
    };
    expect(planEngineSync({ HOME: home }, machine).how).toBe("unison");
    mkdirSync(path.join(home, ".claude", "persist-host"), { recursive: true });
    const deviceId = Array.from({ length: 8 }, () => "AAAAAAA").join("-");
    const settings = { home: path.join(home, "st"), own: true, relay: false, deviceId };
    writeFileSync(path.join(home, ".claude", "persist-host", "sync.json"), JSON.stringify(settings));
    const both = planEngineSync({ HOME: home }, machine);
    expect(both).toMatchObject({ how: "syncthing", message: expect.stringContaining("sessions follow continuously") });
    const bare = planEngineSync({ HOME: home }, { ...machine, runsSyncthing: false, hasUnison: false });
    expect(bare).toMatchObject({ how: "none", message: expect.stringContaining("unison is not installed there") });
  });

  it("a tcp:// engine on another machine: one line on what to do, nothing changed", async () => {
    const home = tempHome();
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    const repo = path.join(tempDir("cp-tcp-"), "app");
    mkdirSync(path.join(repo, ".devcontainer"), { recursive: true });
    const config = '{ "image": "debian", "remoteUser": "vscode" }\n';
    writeFileSync(path.join(repo, ".devcontainer", "devcontainer.json"), config);
    const before = [JSON.stringify(treeOf(repo)), JSON.stringify(treeOf(home))];
    // `.invalid` never resolves: nothing is contacted, the check comes before any docker call.
    const env = { HOME: home, DOCKER_HOST: "tcp://engine.invalid:2376" };
    const run = await runCli(["dev-open", "--write-config", repo], { env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("runs on another machine, and its bind mounts name folders on that machine");
    expect(run.stderr).toContain("use DOCKER_HOST=ssh://user@host");
    expect([JSON.stringify(treeOf(repo)), JSON.stringify(treeOf(home))]).toEqual(before);
  });
});

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

/** The one folder under projects/ that travels (`repo-…`), and its transcripts. */
function travellingTranscripts(claudeDir: string): string[] {
  const projects = path.join(claudeDir, "projects");
  const folders = readdirSync(projects).filter((name) => name.startsWith("repo-"));
  return folders.flatMap((folder) =>
    readdirSync(path.join(projects, folder))
      .filter((f) => f.endsWith(".jsonl"))
      .map((f) => path.join(projects, folder, f)),
  );
}

const TITLE = "dev-open with DOCKER_HOST=ssh://devbox (real sshd, real engine, real unison)";
describe.skipIf(skipReason !== undefined)(TITLE, () => {
  let engine: DockerEngine;
  let image: string;
  let user: TestUser;
  let server: MessagesServer;
  let home: string;
  let devbox: Devbox;
  let repo: string;
  let env: Record<string, string>;
  const run = (file: string, args: string[], cwd: string, extra: Record<string, string | undefined> = {}) =>
    asUser(user, file, args, { home, cwd, env: { ...env, ...extra }, reject: false, timeout: 300_000 });

  beforeAll(async () => {
    let host: HostUser;
    ({ engine, image, user, server, home, host } = await startHostUser());
    devbox = await startDevbox(user, home, engine.host);
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
    expect((await run("git", ["remote", "add", "origin", "git@github.com:ana/app.git"], repo)).exitCode).toBe(0);
  }, 600_000);

  afterAll(async () => {
    if (repo) await removeDevcontainers(engine, repo).catch(() => undefined);
    await devbox?.stop();
    await server?.close();
    await engine?.stop();
  });

  const story = "the container uses the devbox's ~/.claude; sessions go there at dev-open and come back after";
  it(story, { timeout: 600_000 }, async () => {
    const devboxClaude = path.join(devbox.home, ".claude");
    // The devbox cannot see the client's home: its ssh sees an empty folder there.
    const peek = await run("ssh", ["devbox", "ls", "-A", home], repo);
    expect(peek.exitCode, peek.stderr).toBe(0);
    expect(peek.stdout.trim()).toBe("");
    // A slash command that only the devbox has (configuration is mounted, never synced).
    mkdirSync(path.join(devboxClaude, "commands"), { recursive: true });
    writeFileSync(path.join(devboxClaude, "commands", "devbox-only.md"), "Only on the devbox.\n");
    await chownTree(devbox.home, user);

    const first = await run(CLAUDE_BIN, ["-p", "remember the word PELICAN"], repo);
    expect(first.exitCode, first.stderr).toBe(0);

    const opened = await run(process.execPath, [CLI, "dev-open", "--json"], repo);
    expect(opened.exitCode, opened.stderr).toBe(0);
    const result = JSON.parse(opened.stdout) as { messages: string[]; containerId: string };
    const said = result.messages.join("\n");
    expect(said).toContain(`The Docker engine runs on devbox: the mounts use its Claude folders (${devboxClaude}).`);
    expect(said).toContain("Installed claude-persist on devbox");
    expect(said).toContain("Synced with devbox by unison: devbox has this machine's sessions.");
    expect(said).toContain("After the session, bring its turns here with: claude-persist sync unison devbox");

    // The pack is installed on the devbox (its runtime and its hook), and the client's session is there.
    expect(existsSync(path.join(devboxClaude, "persist", "runtime.json"))).toBe(true);
    expect(readFileSync(path.join(devboxClaude, "settings.json"), "utf8")).toContain("persist/hooks/session-start.cjs");
    const [clientTranscript] = travellingTranscripts(path.join(home, ".claude"));
    const [devboxTranscript] = travellingTranscripts(devboxClaude);
    expect(path.basename(devboxTranscript ?? "")).toBe(path.basename(clientTranscript ?? "-"));
    expect(readFileSync(devboxTranscript ?? "", "utf8")).toContain("PELICAN");

    // The engine mounted the devbox's folders.
    const inspect = await run("docker", ["inspect", "--format", "{{json .Mounts}}", result.containerId], repo);
    const mounts = JSON.parse(inspect.stdout) as Array<{ Source: string; Destination: string }>;
    const projectsMount = mounts.find((m) => m.Destination === "/home/vscode/.claude/projects");
    expect(projectsMount?.Source).toBe(path.join(devboxClaude, "projects"));
    expect(mounts.some((m) => m.Source.startsWith(home))).toBe(false);

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
    const commands = await inContainer(["ls", "/home/vscode/.claude/commands"]);
    expect(commands.stdout).toContain("devbox-only.md");

    const linesOnClient = conversation(clientTranscript ?? "").length;
    const before = server.requests.length;
    const inside = await inContainer(["/opt/claude/claude", "--continue", "-p", "what was the word?"]);
    expect(inside.exitCode, inside.stderr).toBe(0);
    const sentInside = JSON.stringify(server.requests.slice(before));
    expect(sentInside).toContain("PELICAN");
    // The hook ran in the container: it was registered in the devbox's settings.json by the install there.
    expect(sentInside).toContain("claude-persist: this session runs in a dev container");

    // The turn is on the devbox, not yet here: the container wrote the devbox's folders.
    expect(conversation(devboxTranscript ?? "").length).toBeGreaterThan(linesOnClient);
    expect(conversation(clientTranscript ?? "")).toHaveLength(linesOnClient);
    expect(conversation(devboxTranscript ?? "").at(-1)).toMatchObject({ cwd: "/workspaces/app" });

    // When the session is over, the command dev-open printed brings it here; the client continues it.
    const back = await run(process.execPath, [CLI, "sync", "unison", "devbox"], repo);
    expect(back.exitCode, back.stderr + back.stdout).toBe(0);
    expect(conversation(clientTranscript ?? "").at(-1)).toMatchObject({ cwd: "/workspaces/app" });
    const slug = path.join(home, ".claude", "projects", encodeProjectSlug(repo));
    const again = await run(CLAUDE_BIN, ["--continue", "-p", "and now?"], repo);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(readdirSync(slug).filter((f) => f.endsWith(".jsonl"))).toEqual([path.basename(clientTranscript ?? "")]);

    // Through a docker context instead of DOCKER_HOST: the same machine, the running container found again.
    const createArgs = ["context", "create", "devbox", "--docker", "host=ssh://devbox"];
    const context = await run("docker", createArgs, repo, { DOCKER_HOST: undefined });
    expect(context.exitCode, context.stderr).toBe(0);
    expect((await run("docker", ["context", "use", "devbox"], repo, { DOCKER_HOST: undefined })).exitCode).toBe(0);
    const viaContext = await run(process.execPath, [CLI, "dev-open", "--json"], repo, { DOCKER_HOST: undefined });
    expect(viaContext.exitCode, viaContext.stderr).toBe(0);
    const reopened = JSON.parse(viaContext.stdout) as { messages: string[]; containerId: string };
    expect(reopened.containerId).toBe(result.containerId);
    expect(reopened.messages.join("\n")).toContain("The pack on devbox is the same as here.");

    // `dev-open --shell`: when the shell in the container ends, what was made there comes back here by itself.
    const todo = "/home/vscode/.claude/todos/made-in-the-container.json";
    expect((await inContainer(["sh", "-c", `echo '[{"content":"ship it"}]' > ${todo}`])).exitCode).toBe(0);
    expect(existsSync(path.join(home, ".claude", "todos", "made-in-the-container.json"))).toBe(false);
    const shell = await asUser(user, process.execPath, [CLI, "dev-open", "--shell"], {
      home,
      cwd: repo,
      env,
      input: "exit\n",
      reject: false,
      timeout: 300_000,
    });
    expect(shell.exitCode, shell.stderr).toBe(0);
    expect(shell.stdout).toContain("Synced with devbox by unison: this machine has the sessions made on devbox.");
    // doctor looks at the project's link where it is: on the devbox, from inside the container.
    const doctor = await run(process.execPath, [CLI, "doctor"], repo);
    expect(doctor.stdout).toContain("✓ sessions in /workspaces/app continue the project's");
    expect(doctor.exitCode, doctor.stdout).toBe(0);
    const arrived = path.join(home, ".claude", "todos", "made-in-the-container.json");
    expect(readFileSync(arrived, "utf8")).toContain("ship it");
  });
});
