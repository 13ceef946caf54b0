// The Docker test infrastructure itself: a private dockerd, the local base image, and the real
// devcontainer CLI driven against them, as root and as an ordinary host user.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEVCONTAINER_BIN,
  type DockerEngine,
  docker,
  dockerUnavailableReason,
  ensureBaseImage,
  parseDevcontainerUp,
  removeDevcontainers,
  startDockerEngine,
} from "./support/docker.ts";
import { asUser, ensureTestUser, makeUserTempDir, type TestUser } from "./support/users.ts";

// Throws when CI is set and Docker is unavailable: CI must not skip these.
const skipReason = dockerUnavailableReason();

const PROBE =
  "const os=require('os');console.log(JSON.stringify({uid:process.getuid(),user:os.userInfo().username,home:os.homedir()}))";

interface Probe {
  uid: number;
  user: string;
  home: string;
}

function lastJsonLine<T>(stdout: string): T {
  const line = stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as T;
}

async function writeDevcontainerJson(workspace: string, image: string): Promise<void> {
  await mkdir(join(workspace, ".devcontainer"), { recursive: true });
  const config = { image, remoteUser: "vscode", runArgs: ["--network=host"] };
  await writeFile(join(workspace, ".devcontainer", "devcontainer.json"), `${JSON.stringify(config, null, 2)}\n`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

describe.skipIf(skipReason !== undefined)("docker engine and devcontainer CLI", () => {
  let engine: DockerEngine;
  let image: string;
  const workspaces: string[] = [];
  const scratch: string[] = [];

  beforeAll(async () => {
    let started = Date.now();
    const result = await startDockerEngine();
    if ("skipped" in result) throw new Error(`unexpected skip: ${result.skipped}`);
    engine = result;
    console.log(`engine ready in ${seconds(started)} at ${engine.host}`);
    started = Date.now();
    image = await ensureBaseImage(engine);
    console.log(`base image ${image} ready in ${seconds(started)}`);
  });

  afterAll(async () => {
    if (engine) {
      for (const dir of workspaces) await removeDevcontainers(engine, dir).catch(() => undefined);
      await engine.stop();
    }
    for (const dir of [...workspaces, ...scratch]) await rm(dir, { recursive: true, force: true });
  });

  it("imports an image with a vscode user, git and node", async () => {
    const { stdout } = await docker(engine, [
      "run",
      "--rm",
      "--network=host",
      "--user",
      "vscode",
      image,
      "sh",
      "-c",
      "id -u; echo $HOME; git --version >/dev/null && node --version; command -v sudo || echo no-sudo",
    ]);
    const [uid, home, nodeVersion, sudo] = stdout.trim().split("\n");
    expect(uid).toBe("1000");
    expect(home).toBe("/home/vscode");
    expect(nodeVersion).toBe(process.version);
    expect(sudo).toBe("no-sudo");
  });

  it("runs devcontainer up/exec as root and reaches the host's loopback", async () => {
    const workspace = await mkdtemp(join(tmpdir(), "cp-dc-root-"));
    workspaces.push(workspace);
    await execa("git", ["init", "-q", workspace]);
    await writeDevcontainerJson(workspace, image);

    const env = { ...engine.env };
    let started = Date.now();
    const up = await execa(DEVCONTAINER_BIN, ["up", "--workspace-folder", workspace], { env, reject: false });
    const upResult = parseDevcontainerUp(up.stdout);
    expect(upResult, up.stderr).toMatchObject({ outcome: "success", remoteUser: "vscode" });
    console.log(`devcontainer up (root) took ${seconds(started)}`);

    started = Date.now();
    const exec = await execa(DEVCONTAINER_BIN, ["exec", "--workspace-folder", workspace, "node", "-e", PROBE], { env });
    console.log(`devcontainer exec took ${seconds(started)}`);
    // The host user is root, so updateRemoteUserUID leaves the image's uid alone.
    expect(lastJsonLine<Probe>(exec.stdout)).toEqual({ uid: 1000, user: "vscode", home: "/home/vscode" });

    const server: Server = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const fetched = await execa(
        DEVCONTAINER_BIN,
        [
          "exec",
          "--workspace-folder",
          workspace,
          "node",
          "-e",
          `fetch("http://127.0.0.1:${port}/").then(r=>r.text()).then(t=>console.log("body:"+t))`,
        ],
        { env },
      );
      expect(fetched.stdout).toContain("body:ok");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 180_000);

  it("runs devcontainer up/exec as a non-root host user (remote uid follows the host's)", async () => {
    const user: TestUser = await ensureTestUser();
    const home = await makeUserTempDir(user, "cp-home-");
    scratch.push(home);
    const workspace = await makeUserTempDir(user, "cp-dc-user-");
    workspaces.push(workspace);
    await asUser(user, "git", ["init", "-q", workspace], { home });
    await writeDevcontainerJson(workspace, image);
    await execa("chown", ["-R", `${user.uid}:${user.gid}`, join(workspace, ".devcontainer")]);

    const env = { ...engine.env };
    let started = Date.now();
    const up = await asUser(user, DEVCONTAINER_BIN, ["up", "--workspace-folder", workspace], {
      home,
      env,
      reject: false,
    });
    const upResult = parseDevcontainerUp(up.stdout);
    expect(upResult, up.stderr).toMatchObject({ outcome: "success", remoteUser: "vscode" });
    console.log(`devcontainer up (uid ${user.uid}) took ${seconds(started)}`);

    started = Date.now();
    const exec = await asUser(user, DEVCONTAINER_BIN, ["exec", "--workspace-folder", workspace, "node", "-e", PROBE], {
      home,
      env,
    });
    console.log(`devcontainer exec (uid ${user.uid}) took ${seconds(started)}`);
    // updateRemoteUserUID gave vscode the host user's uid (through a locally built `-uid` image).
    expect(lastJsonLine<Probe>(exec.stdout)).toEqual({ uid: user.uid, user: "vscode", home: "/home/vscode" });

    const { stdout: containerImage } = await docker(engine, [
      "inspect",
      "--format",
      "{{.Config.Image}}",
      upResult.containerId ?? "",
    ]);
    expect(containerImage.trim()).toMatch(/^vsc-.*-uid$/);
  }, 300_000);
});

// Registered only when unavailable, so that the skip and its reason show in the report.
if (skipReason !== undefined) {
  it("docker engine and devcontainer CLI", (ctx) => {
    ctx.skip(skipReason);
  });
}
