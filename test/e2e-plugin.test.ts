// The plugin's story end to end, with everything real: the pack installed only as a Claude Code plugin (the real
// `claude plugin` commands, from a clone's files), /persist:dev-open run through `claude -p` on the host as an
// ordinary user, a real Docker engine and base image, and the pinned `claude` binary inside the container, where
// the plugin is not: the hook must still run there.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { CLAUDE_BIN } from "./support/claude.ts";
import type { MessagesServer } from "./support/messages-server.ts";
import { type DockerEngine, dockerUnavailableReason, removeDevcontainers } from "./support/docker.ts";
import { PLUGIN_ID, PLUGIN_INSTALL_STEPS, pluginCheckout } from "./support/plugin.ts";
import { type HostUser, startHostUser } from "./support/host-user.ts";
import { chownTree, makeUserTempDir, type TestUser } from "./support/users.ts";

// Throws when CI is set and Docker is unavailable: CI must run this, never skip it.
const skipReason = dockerUnavailableReason();

describe.skipIf(skipReason !== undefined)("the plugin, and the hook in a container opened by its /dev-open", () => {
  let engine: DockerEngine;
  let image: string;
  let user: TestUser;
  let server: MessagesServer;
  let home: string;
  let checkout: string;
  let repo: string | undefined;

  let host: HostUser;
  const claudeOnHost = (args: string[], cwd: string) => host.run(CLAUDE_BIN, args, cwd);
  const inContainer = (dir: string, command: string[]) => host.inContainer(dir, command);
  const makeRepo = (name: string) => host.makeRepo(name, image);

  beforeAll(async () => {
    ({ engine, image, user, server, home, host } = await startHostUser());
    // The user's clone of the repository, which they add as a marketplace: only the plugin, no `npm install`.
    checkout = await pluginCheckout(path.join(await makeUserTempDir(user, "cp-clone-"), "claude-persist"));
    await chownTree(path.dirname(checkout), user);
    for (const step of PLUGIN_INSTALL_STEPS(checkout)) {
      const result = await claudeOnHost(step, home);
      expect(result.exitCode, `claude ${step.join(" ")}: ${result.stdout}${result.stderr}`).toBe(0);
    }
  });

  afterAll(async () => {
    if (repo) await removeDevcontainers(engine, repo).catch(() => undefined);
    await server?.close();
    await engine?.stop();
  });

  it("host session → /persist:dev-open in claude → the container's claude continues it, with the hook's context", async () => {
    repo = await makeRepo("app");
    const hostSlug = encodeProjectSlug(repo);
    const transcripts = () =>
      readdirSync(path.join(home, ".claude", "projects", hostSlug)).filter((f) => f.endsWith(".jsonl"));

    // The first session on the host: the plugin's hook sets up persist/ and the settings.json hook.
    let before = server.requests.length;
    const first = await claudeOnHost(["-p", "remember the word PELICAN"], repo);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(JSON.stringify(server.requests.slice(before))).toContain("claude-persist: this session runs on the host");
    const [transcript] = transcripts();
    const sessionId = path.basename(transcript ?? "", ".jsonl");

    // /persist:dev-open, the way a user types it. Claude Code's `!` commands wait two minutes at most, and dev-open
    // leaves a longer launch in the background; the base image is built already, so this one finishes in time.
    before = server.requests.length;
    const opened = await claudeOnHost(["-p", "/persist:dev-open"], repo);
    expect(opened.exitCode, opened.stderr).toBe(0);
    const sentByDevOpen = JSON.stringify(server.requests.slice(before));
    expect(sentByDevOpen).toContain("<command-name>/persist:dev-open</command-name>");
    expect(sentByDevOpen).toMatch(/Container [0-9a-f]{12} is running; vscode works in \/workspaces\/app\./);
    expect(sentByDevOpen).toContain(`Sessions of ${repo} are shared with /workspaces/app`);

    // Inside, there is no plugin (its folder is a host path and never shared), but the hook runs: the settings.json
    // entry and the runtime the plugin set up are mounted read-only.
    const noPlugin = await inContainer(repo, [
      "sh",
      "-c",
      "test -e /home/vscode/.claude/plugins/installed_plugins.json && echo present || echo absent",
    ]);
    expect(noPlugin.stdout.trim()).toBe("absent");
    before = server.requests.length;
    const inside = await inContainer(repo, ["/opt/claude/claude", "--resume", sessionId, "-p", "what was the word?"]);
    expect(inside.exitCode, inside.stderr).toBe(0);
    expect(inside.stdout).toContain("Hello from the test server.");
    const sentInside = server.requests.slice(before).map((body) => JSON.stringify(body));
    const all = sentInside.join("\n");
    expect(all).toContain("PELICAN");
    expect(all).toContain("claude-persist: this session runs in a dev container");
    expect(all).toContain(`on the host this folder is ${repo}`);
    // Once: only the settings.json hook runs there.
    for (const body of sentInside)
      expect(body.split("this session runs in a dev container").length).toBeLessThanOrEqual(2);

    // The container's start of the host's session is recorded once, as a container start.
    const starts = readFileSync(
      path.join(home, ".claude", "persist-state", "session-starts", `${sessionId}.jsonl`),
      "utf8",
    )
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { environment: string; source: string; cwd: string });
    expect(starts).toEqual([
      expect.objectContaining({ environment: "host", source: "startup", cwd: repo }),
      expect.objectContaining({ environment: "container", source: "resume", cwd: "/workspaces/app" }),
    ]);

    // The host's plugin is still installed and enabled, untouched by the container's claude.
    const listed = await claudeOnHost(["plugin", "list", "--json"], repo);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: PLUGIN_ID, enabled: true })]);
  });
});
