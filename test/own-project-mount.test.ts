// The repo's own project folder that dev-open mounts over a container path another repo's link names
// (launch/own-project.ts): a link planted there beforehand stops dev-open; a swap after the check, while Docker
// creates the mount (Docker follows links), is caught after the launch by comparing what the container sees.
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { raceWindow } from "../src/container-tree.ts";
import type { PersistenceEdit } from "../src/devcontainer/config/persistence.ts";
import { checkOwnProjectMount, type OwnProject, ownProjectMount } from "../src/devcontainer/launch/own-project.ts";
import { userErrorOf } from "./support/checks.ts";
import { tempDir, tempHome } from "./support/claude.ts";
import {
  type DockerEngine,
  docker,
  dockerUnavailableReason,
  ensureBaseImage,
  startDockerEngine,
} from "./support/docker.ts";

const CONTAINER = "/workspace";

/** A repo whose container path, /workspace, another repo's link already names: dev-open mounts its own folder there. */
function colliding(): {
  env: { HOME: string };
  repo: string;
  projects: string;
  hostSlug: string;
  edit: PersistenceEdit;
} {
  const home = tempHome();
  const repo = path.join(tempDir(), "app");
  mkdirSync(repo);
  const projects = path.join(home, ".claude", "projects");
  mkdirSync(path.join(projects, "-home-ana-other"), { recursive: true });
  symlinkSync("-home-ana-other", path.join(projects, encodeProjectSlug(CONTAINER)));
  const edit: PersistenceEdit = {
    workspaceFolder: repo,
    configPath: path.join(repo, ".devcontainer", "devcontainer.json"),
    containerHome: "/home/vscode",
    files: [],
    added: [],
    skipped: [],
    targets: [],
    forwardedNames: [],
    containerWorkspace: CONTAINER,
  };
  return { env: { HOME: home }, repo, projects, hostSlug: encodeProjectSlug(repo), edit };
}

afterEach(() => {
  raceWindow.hook = undefined;
});

describe("dev-open's own project folder on a colliding container path", () => {
  it("a link planted there beforehand stops it, naming the link; nothing is made in its target", async () => {
    const { env, projects, hostSlug, edit } = colliding();
    const ssh = path.join(env.HOME, ".ssh");
    mkdirSync(ssh);
    symlinkSync(ssh, path.join(projects, hostSlug));
    const error = await userErrorOf(ownProjectMount(env, edit));
    expect(error.message).toMatch(
      new RegExp(
        `^${path.join(projects, hostSlug)} is not a folder of ${projects} but a link to ${ssh} that claude-persist did not make`,
      ),
    );
    expect(error.message).toMatch(/move it away .*\(nothing was changed\)$/);
  });

  it("mounts the folder itself, made without following links, and keeps its device and inode", async () => {
    const { env, projects, hostSlug, edit } = colliding();
    const own = await ownProjectMount(env, edit);
    const folder = path.join(projects, hostSlug);
    expect(own?.sharedWith).toBe("the project folder -home-ana-other");
    expect(own?.mount).toBe(`type=bind,source=${folder},target=/home/vscode/.claude/projects/-workspace`);
    expect(own?.source).toEqual({
      path: folder,
      dev: statSync(folder).dev,
      ino: statSync(folder).ino,
      marker: {
        name: expect.stringMatching(/^\.claude-persist-mount-[0-9a-f]{16}$/),
        token: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
    });
    // The marker a VM's view of the folder must show, made in it for this launch.
    expect(readFileSync(path.join(folder, own?.source.marker.name ?? ""), "utf8")).toBe(own?.source.marker.token);
  });

  it("with sync's link to the travelling folder: mounts that real folder, not the link", async () => {
    const { env, projects, hostSlug, edit } = colliding();
    mkdirSync(path.join(projects, "repo-github.com-ana-app-12345678"));
    symlinkSync("repo-github.com-ana-app-12345678", path.join(projects, hostSlug));
    const own = await ownProjectMount(env, edit);
    expect(own?.mount).toBe(
      `type=bind,source=${path.join(projects, "repo-github.com-ana-app-12345678")},target=/home/vscode/.claude/projects/-workspace`,
    );
  });
});

const skipReason = dockerUnavailableReason();

describe.skipIf(skipReason !== undefined)("the folder swapped for a link while Docker mounts it", () => {
  let engine: DockerEngine;
  let image: string;
  const containers: string[] = [];
  beforeAll(async () => {
    const started = await startDockerEngine();
    if ("skipped" in started) throw new Error(`unexpected skip: ${started.skipped}`);
    engine = started;
    image = await ensureBaseImage(engine);
  }, 600_000);
  afterAll(async () => {
    if (!engine) return;
    if (containers.length > 0) await docker(engine, ["rm", "-f", ...containers], { reject: false });
    await engine.stop();
  });

  /**
   * What `devcontainer up` does with the mounts: a container started with the shared projects/ and, over the
   * container's slug in it (a link there), the repo's own folder. Docker resolves the sources now.
   */
  async function runWith(own: OwnProject, projects: string): Promise<string> {
    const shared = `type=bind,source=${projects},target=/home/vscode/.claude/projects`;
    const { stdout } = await docker(engine, [
      "run",
      "-d",
      "--mount",
      shared,
      "--mount",
      own.mount,
      image,
      "sleep",
      "600",
    ]);
    const id = stdout.trim();
    containers.push(id);
    return id;
  }
  const env = () => ({ ...process.env, ...engine.env });

  it("the folder as checked: the container sees the same device and inode, and dev-open goes on", async () => {
    const { env: home, projects, edit } = colliding();
    const own = await ownProjectMount(home, edit);
    if (!own) throw new Error("no own-project mount");
    const id = await runWith(own, projects);
    expect(await checkOwnProjectMount(env(), id, own)).toBeUndefined();
    expect(readdirSync(own.source.path)).toEqual([]);
  });

  it("an engine in a VM shows other inodes: the marker it sees in the folder passes, and is removed", async () => {
    const { env: home, projects, edit } = colliding();
    const own = await ownProjectMount(home, edit);
    if (!own) throw new Error("no own-project mount");
    const id = await runWith(own, projects);
    const elsewhere = { ...own, source: { ...own.source, ino: own.source.ino + 1 } };
    expect(await checkOwnProjectMount(env(), id, elsewhere)).toBeUndefined();
    expect(readdirSync(own.source.path)).toEqual([]);
    const { stdout: running } = await docker(engine, ["inspect", "-f", "{{.State.Running}}", id]);
    expect(running.trim()).toBe("true");
  });

  it("swapped for a link to ~/.ssh right after the check: Docker mounts ~/.ssh, the check sees it and stops the container", async () => {
    const { env: home, projects, hostSlug, edit } = colliding();
    const ssh = path.join(home.HOME, ".ssh");
    mkdirSync(ssh);
    writeFileSync(path.join(ssh, "id_ed25519"), "PRIVATE\n");
    const folder = path.join(projects, hostSlug);
    // The container's move, at the moment after dev-open's check and before Docker mounts.
    raceWindow.hook = (at) => {
      if (at !== "own-project-mount") return;
      renameSync(folder, `${folder}.moved`);
      symlinkSync(ssh, folder);
    };
    const own = await ownProjectMount(home, edit);
    if (!own) throw new Error("no own-project mount");
    const id = await runWith(own, projects);
    // Docker did follow the link: the host's key is in the container.
    const { stdout: seen } = await docker(engine, ["exec", id, "cat", `${own.target}/id_ed25519`]);
    expect(seen).toBe("PRIVATE");
    const error = await userErrorOf(checkOwnProjectMount(env(), id, own));
    const here = `${statSync(`${folder}.moved`).dev}:${statSync(`${folder}.moved`).ino}`;
    const there = `${statSync(ssh).dev}:${statSync(ssh).ino}`;
    expect(error.message).toBe(
      `the folder Docker mounted at ${own.target} is not ${folder}, which dev-open checked: it was replaced (a link put in its place) while the container started (device:inode ${there} there, ${here} here), so the container (${id.slice(0, 12)}) was stopped; look at ${folder} and move away what is not your sessions folder, then run 'dev-open --rebuild'`,
    );
    const { stdout: running } = await docker(engine, ["inspect", "-f", "{{.State.Running}}", id]);
    expect(running.trim()).toBe("false");
  });
});
