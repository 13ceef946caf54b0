// fork --worktree --open end to end, with everything real: a three-turn session on the host, forked after its second
// turn into a new worktree opened in its own dev container (Docker engine, devcontainers CLI, the pinned claude in
// the container); resumed there, claude sends the first two turns and not the third; drop removes it all.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { CLAUDE_BIN, CLI } from "./support/claude.ts";
import { type DockerEngine, dockerUnavailableReason, removeDevcontainers } from "./support/docker.ts";
import { type HostUser, startHostUser } from "./support/host-user.ts";
import type { MessagesServer } from "./support/messages-server.ts";

const skipReason = dockerUnavailableReason();

describe.skipIf(skipReason !== undefined)("fork --worktree --open in a real container", () => {
  let engine: DockerEngine;
  let image: string;
  let server: MessagesServer;
  let home: string;
  let host: HostUser;
  const folders: string[] = [];

  beforeAll(async () => {
    ({ engine, image, server, home, host } = await startHostUser());
    const installed = await host.run(process.execPath, [CLI, "install"], home);
    expect(installed.exitCode, installed.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const folder of folders) await removeDevcontainers(engine, folder).catch(() => undefined);
    await server?.close();
    await engine?.stop();
  });

  it("the fork resumes in the worktree's container with turns 1-2 and not 3; the original is unchanged", {
    timeout: 600_000,
  }, async () => {
    const repo = await host.makeRepo("app", image);
    folders.push(repo);
    const claude = (args: string[]) => host.run(CLAUDE_BIN, args, repo);
    for (const [i, prompt] of ["turn one ALPHA", "turn two BRAVO", "turn three CHARLIE"].entries()) {
      const run = await claude([...(i > 0 ? ["--continue"] : []), "-p", prompt]);
      expect(run.exitCode, run.stderr).toBe(0);
    }
    const hostFolder = path.join(home, ".claude", "projects", encodeProjectSlug(repo));
    const [name] = readdirSync(hostFolder).filter((f) => f.endsWith(".jsonl"));
    const original = path.join(hostFolder, name ?? "");
    const id = path.basename(original, ".jsonl");
    const hash = () => createHash("sha256").update(readFileSync(original)).digest("hex");
    const before = hash();

    const forked = await host.run(
      process.execPath,
      [CLI, "fork", `${id}@2`, "--worktree", "exp", "--open", "--json"],
      repo,
    );
    expect(forked.exitCode, forked.stderr).toBe(0);
    const result = JSON.parse(forked.stdout) as {
      id: string;
      folder: string;
      worktree: { folder: string };
      open: { status: string; remoteWorkspaceFolder: string } | null;
    };
    folders.push(result.worktree.folder);
    expect(result.open).toMatchObject({ status: "running", remoteWorkspaceFolder: "/workspaces/exp" });

    const asked = server.requests.length;
    const inside = await host.inContainer(result.worktree.folder, [
      "/opt/claude/claude",
      "--resume",
      result.id,
      "-p",
      "turn in the container",
    ]);
    expect(inside.exitCode, inside.stderr).toBe(0);
    const sent = JSON.stringify(server.requests.slice(asked));
    expect(sent).toContain("ALPHA");
    expect(sent).toContain("BRAVO");
    expect(sent).not.toContain("CHARLIE");
    expect(hash()).toBe(before);

    // The tree shows the fork under the original, last written in the container.
    const tree = await host.run(process.execPath, [CLI, "sessions", "--tree"], repo);
    expect(tree.stdout).toContain(`fork of ${id.slice(0, 8)} after turn 2 · session ${result.id}`);
    expect(tree.stdout).toMatch(/turn 3 · "turn in the container" · last written .* on container\S* \/workspaces\/exp/);

    const dropped = await host.run(process.execPath, [CLI, "fork", "drop", "exp"], repo);
    expect(dropped.exitCode, dropped.stderr).toBe(0);
    expect(dropped.stdout).toMatch(/and its dev container [0-9a-f]{12}/);
    expect(existsSync(result.worktree.folder)).toBe(false);
    expect(hash()).toBe(before);
  });
});
