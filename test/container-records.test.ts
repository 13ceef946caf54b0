// dev-open on a running container asks it two things over `docker exec` (its user's $HOME, and whether that user can
// open ~/.claude/projects); host-only records (container-records.ts) spare both round trips when the same container
// is opened again and nothing they depend on changed.
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { DevcontainerConfig } from "../src/devcontainer/config/config.ts";
import { projectsProblemUnlessKnown } from "../src/devcontainer/launch/container-records.ts";
import type { Container } from "../src/devcontainer/launch/docker.ts";
import { findContainerUser, runningContainerOf } from "../src/devcontainer/launch/find-user.ts";
import { tempDir, tempHome } from "./support/claude.ts";

const CONTAINER = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const OTHER = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/**
 * A `docker` first on PATH standing in for an engine with one running container (its ID in the file `id` beside it):
 * it logs each call; `exec … printenv HOME` answers the file `home`, the projects check answers the file `access`.
 */
function fakeDocker(): { env: NodeJS.ProcessEnv; bin: string; calls: () => string[] } {
  const bin = tempDir("cp-docker-records-");
  const log = path.join(bin, "calls.log");
  writeFileSync(log, "");
  writeFileSync(path.join(bin, "id"), CONTAINER);
  writeFileSync(path.join(bin, "home"), "/home/vscode\n");
  writeFileSync(path.join(bin, "access"), "yes\n1000\n1000 700\n");
  const inspect = (id: string) =>
    JSON.stringify([
      {
        Id: id,
        State: { Running: true },
        Mounts: [],
        Config: { Labels: { "devcontainer.metadata": JSON.stringify([{ remoteUser: "vscode" }]) }, User: "" },
      },
    ]);
  writeFileSync(
    path.join(bin, "docker"),
    [
      "#!/bin/sh",
      `dir=${JSON.stringify(bin)}`,
      'echo "$1 $2 $3 $4 $5" >> "$dir/calls.log"',
      'case "$1" in',
      '  ps) cat "$dir/id"; echo ;;',
      `  inspect) if [ "$(cat "$dir/id")" = ${CONTAINER} ]; then echo '${inspect(CONTAINER)}'; else echo '${inspect(OTHER)}'; fi ;;`,
      '  exec) case "$*" in *"printenv HOME"*) cat "$dir/home" ;; *) cat "$dir/access" ;; esac ;;',
      "esac",
      "",
    ].join("\n"),
  );
  chmodSync(path.join(bin, "docker"), 0o755);
  return {
    env: { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: tempHome() },
    bin,
    calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean),
  };
}

const execs = (calls: string[]) => calls.filter((call) => call.startsWith("exec "));

describe("what dev-open asked a running container, kept in host-only state", () => {
  it("the user's $HOME is asked once per container: reopened, no docker exec; another container is asked", async () => {
    const { env, bin, calls } = fakeDocker();
    const workspaceFolder = tempDir();
    const options = {
      config: { image: "mcr.microsoft.com/devcontainers/base" } as DevcontainerConfig,
      configPath: path.join(workspaceFolder, ".devcontainer", "devcontainer.json"),
      workspaceFolder,
      read: () => undefined,
      env,
      lookup: "build" as const,
    };
    const first = await findContainerUser(options);
    expect(first).toMatchObject({ user: "vscode", home: "/home/vscode" });
    expect(execs(calls())).toHaveLength(1);
    // dev-open's launch takes the container found here instead of asking docker again.
    expect(runningContainerOf(first, workspaceFolder, options.configPath)?.Id).toBe(CONTAINER);
    expect(runningContainerOf(first, tempDir(), options.configPath)).toBeUndefined();

    const again = await findContainerUser(options);
    expect(again).toEqual(first);
    expect(execs(calls())).toHaveLength(1);
    const records = path.join(env.HOME ?? "", ".claude", "persist-host", "seeded-containers");
    expect(readdirSync(records)).toEqual([`${CONTAINER}.home`]);
    expect(statSync(path.join(records, `${CONTAINER}.home`)).mode & 0o777).toBe(0o600);

    // Recreated (a new ID), with its user's home elsewhere: asked, and its answer used.
    writeFileSync(path.join(bin, "id"), OTHER);
    writeFileSync(path.join(bin, "home"), "/workspaces/home\n");
    expect(await findContainerUser(options)).toMatchObject({ home: "/workspaces/home" });
    expect(execs(calls())).toHaveLength(2);
  });

  it("access to ~/.claude/projects is asked again when the host folder changes, and every time while it fails", async () => {
    const { env, bin, calls } = fakeDocker();
    const projects = path.join(tempDir(), "projects");
    mkdirSync(projects, { mode: 0o700 });
    const claudeHome = "/home/vscode/.claude";
    const running = {
      Id: CONTAINER,
      State: { Running: true },
      Mounts: [{ Type: "bind", Source: projects, Destination: `${claudeHome}/projects`, RW: true }],
      Config: {},
    } as Container;
    const up = { containerId: CONTAINER, remoteUser: "vscode" };
    expect(await projectsProblemUnlessKnown(env, up, claudeHome, running)).toBeUndefined();
    expect(execs(calls())).toHaveLength(1);
    expect(await projectsProblemUnlessKnown(env, up, claudeHome, running)).toBeUndefined();
    expect(execs(calls())).toHaveLength(1);

    // Another mode on the host: asked again, and now the user cannot open it; said at each open, never kept.
    chmodSync(projects, 0o750);
    writeFileSync(path.join(bin, "access"), "no\n1001\n1000 750\n");
    const problem = await projectsProblemUnlessKnown(env, up, claudeHome, running);
    expect(problem).toMatch(/^vscode \(uid 1001\) cannot read and write \/home\/vscode\/\.claude\/projects/);
    expect(await projectsProblemUnlessKnown(env, up, claudeHome, running)).toBe(problem);
    expect(execs(calls())).toHaveLength(3);

    // A container this run launched (none found running) is always asked.
    writeFileSync(path.join(bin, "access"), "yes\n1000\n1000 750\n");
    await projectsProblemUnlessKnown(env, up, claudeHome, running);
    expect(execs(calls())).toHaveLength(4);
    await projectsProblemUnlessKnown(env, up, claudeHome, undefined);
    expect(execs(calls())).toHaveLength(5);
  });
});
