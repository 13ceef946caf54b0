import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { mapProject, mergeInto } from "../src/devcontainer/mapping.ts";
import { readMappings } from "../src/state/mappings.ts";
import { repairProjectLink } from "../src/devcontainer/project-link.ts";
import { linkProject, projectIdentity } from "../src/sync/identity.ts";
import { tempDir, tempHome } from "./support/claude.ts";

const HOST = "/Users/ana/code/app";
const CONTAINER = "/workspaces/app";
const hostSlug = encodeProjectSlug(HOST);
const containerSlug = encodeProjectSlug(CONTAINER);

function setup() {
  const home = tempHome();
  const env = { HOME: home };
  const projects = path.join(home, ".claude", "projects");
  mkdirSync(projects, { recursive: true });
  return { env, projects };
}

describe("mapProject", () => {
  it("links the container slug to the host slug with a relative symlink, and records the mapping", async () => {
    const { env, projects } = setup();
    const result = await mapProject(
      env,
      { hostPath: HOST, containerPath: CONTAINER },
      new Date("2026-11-25T10:00:00Z"),
    );
    expect(result).toEqual({ hostSlug, containerSlug, link: "linked", merged: [] });
    expect(readlinkSync(path.join(projects, containerSlug))).toBe(hostSlug);
    expect(readMappings(env)).toEqual([
      { hostPath: HOST, hostSlug, containerPath: CONTAINER, containerSlug, time: "2026-11-25T10:00:00.000Z" },
    ]);
    const again = await mapProject(env, { hostPath: HOST, containerPath: CONTAINER });
    expect(again.link).toBe("already");
    expect(readMappings(env)).toHaveLength(1);
  });

  it("moves sessions the container made on its own into the host slug first, losing nothing", async () => {
    const { env, projects } = setup();
    mkdirSync(path.join(projects, hostSlug, "memory"), { recursive: true });
    writeFileSync(path.join(projects, hostSlug, "host-session.jsonl"), "host\n");
    writeFileSync(path.join(projects, hostSlug, "memory", "notes.md"), "host notes\n");
    writeFileSync(path.join(projects, hostSlug, "same.jsonl"), "same\n");
    mkdirSync(path.join(projects, containerSlug, "memory"), { recursive: true });
    writeFileSync(path.join(projects, containerSlug, "container-session.jsonl"), "container\n");
    writeFileSync(path.join(projects, containerSlug, "memory", "notes.md"), "container notes\n");
    writeFileSync(path.join(projects, containerSlug, "same.jsonl"), "same\n");

    const result = await mapProject(env, { hostPath: HOST, containerPath: CONTAINER });
    expect(result.link).toBe("linked");
    expect(result.merged.sort()).toEqual(["container-session.jsonl", path.join("memory", "notes.from-container-1.md")]);
    expect(lstatSync(path.join(projects, containerSlug)).isSymbolicLink()).toBe(true);
    const files = (dir: string) => readdirSync(path.join(projects, hostSlug, dir)).sort();
    expect(files("")).toEqual(["container-session.jsonl", "host-session.jsonl", "memory", "same.jsonl"]);
    expect(files("memory")).toEqual(["notes.from-container-1.md", "notes.md"]);
    expect(readFileSync(path.join(projects, hostSlug, "memory", "notes.md"), "utf8")).toBe("host notes\n");
    expect(readFileSync(path.join(projects, hostSlug, "memory", "notes.from-container-1.md"), "utf8")).toBe(
      "container notes\n",
    );
  });

  it("refuses a second repo whose container path collides, and changes nothing", async () => {
    const { env, projects } = setup();
    await mapProject(env, { hostPath: HOST, containerPath: CONTAINER });
    const before = readFileSync(path.join(projects, "..", "persist-state", "mappings.json"), "utf8");
    await expect(mapProject(env, { hostPath: "/Users/ana/other/app", containerPath: CONTAINER })).rejects.toThrow(
      /\/workspaces\/app in the container is already mapped to \/Users\/ana\/code\/app.*--same-path/,
    );
    expect(readlinkSync(path.join(projects, containerSlug))).toBe(hostSlug);
    expect(readFileSync(path.join(projects, "..", "persist-state", "mappings.json"), "utf8")).toBe(before);
  });

  it("needs no link when the workspace has the same path inside (--same-path)", async () => {
    const { env, projects } = setup();
    const result = await mapProject(env, { hostPath: HOST, containerPath: HOST });
    expect(result.link).toBe("same-path");
    expect(readdirSync(projects)).toEqual([]);
  });
});

describe("repairProjectLink (the hook, in a container opened by an editor)", () => {
  const workspace = { host: HOST, container: CONTAINER };

  it("creates a missing link, for the workspace and for a folder inside it, and leaves existing ones alone", () => {
    const { env, projects } = setup();
    expect(repairProjectLink(env, CONTAINER, workspace)).toBe(
      `linked projects/${containerSlug} to ${hostSlug}, so sessions here are the host's`,
    );
    expect(readlinkSync(path.join(projects, containerSlug))).toBe(hostSlug);
    expect(repairProjectLink(env, CONTAINER, workspace)).toBeUndefined();
    repairProjectLink(env, `${CONTAINER}/src`, workspace);
    expect(readlinkSync(path.join(projects, encodeProjectSlug(`${CONTAINER}/src`)))).toBe(
      encodeProjectSlug(`${HOST}/src`),
    );
  });

  it("leaves folders outside the workspace alone", () => {
    const { env, projects } = setup();
    expect(repairProjectLink(env, "/tmp", workspace)).toBeUndefined();
    expect(readdirSync(projects)).toEqual([]);
  });

  it("does not replace a folder the container already made, and says how to merge it", () => {
    const { env, projects } = setup();
    mkdirSync(path.join(projects, containerSlug));
    expect(repairProjectLink(env, CONTAINER, workspace)).toMatch(
      /holds sessions made in this container before it was mapped; run 'dev-open' on the host/,
    );
    expect(lstatSync(path.join(projects, containerSlug)).isDirectory()).toBe(true);
  });
});

/** Every file under `dir` with its text, and every folder (as "name/"): what a test compares before and after. */
function tree(dir: string, prefix = ""): Record<string, string> {
  const found: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory()) Object.assign(found, { [`${rel}/`]: "" }, tree(path.join(dir, entry.name), `${rel}/`));
    else found[rel] = readFileSync(path.join(dir, entry.name), "utf8");
  }
  return found;
}

describe("a link a container plants under projects/ is never followed", () => {
  it("mapProject refuses when the host's slug folder is a link out of projects/, and moves nothing there", async () => {
    const { env, projects } = setup();
    const outside = path.join(env.HOME, "outside");
    mkdirSync(path.join(outside, ".ssh"), { recursive: true });
    writeFileSync(path.join(outside, "keep.txt"), "mine\n");
    symlinkSync(outside, path.join(projects, hostSlug));
    mkdirSync(path.join(projects, containerSlug, ".ssh"), { recursive: true });
    writeFileSync(path.join(projects, containerSlug, "s.jsonl"), "container\n");
    writeFileSync(path.join(projects, containerSlug, ".ssh", "authorized_keys"), "ssh-ed25519 AAAA attacker\n");
    const outsideBefore = tree(outside);
    const containerBefore = tree(path.join(projects, containerSlug));

    const mapping = mapProject(env, { hostPath: HOST, containerPath: CONTAINER });
    await expect(mapping).rejects.toThrow(/is not a folder of .*move it away/);
    expect(tree(outside)).toEqual(outsideBefore);
    expect(tree(path.join(projects, containerSlug))).toEqual(containerBefore);
    expect(readMappings(env)).toEqual([]);
  });

  it("mapProject still merges into the travelling folder a sync link names (a sibling in projects/)", async () => {
    const { env, projects } = setup();
    mkdirSync(path.join(projects, "repo-github.com-ana-app-12345678"));
    symlinkSync("repo-github.com-ana-app-12345678", path.join(projects, hostSlug));
    mkdirSync(path.join(projects, containerSlug));
    writeFileSync(path.join(projects, containerSlug, "s.jsonl"), "container\n");
    const result = await mapProject(env, { hostPath: HOST, containerPath: CONTAINER });
    expect(result.merged).toEqual(["s.jsonl"]);
    expect(tree(path.join(projects, "repo-github.com-ana-app-12345678"))).toEqual({ "s.jsonl": "container\n" });
  });

  it("sync's linkProject merges between the folders it checked, even when both are swapped for links meanwhile", () => {
    const home = tempHome();
    const env = { HOME: home };
    const projects = path.join(home, ".claude", "projects");
    const repo = tempDir("cp-repo-");
    mkdirSync(path.join(repo, ".git"));
    writeFileSync(path.join(repo, ".git", "config"), '[remote "origin"]\n\turl = git@github.com:ana/app.git\n');
    const folder = projectIdentity(repo)?.folder ?? "";
    const slug = encodeProjectSlug(repo);
    mkdirSync(path.join(projects, slug), { recursive: true });
    writeFileSync(path.join(projects, slug, "here.jsonl"), "this machine\n");
    mkdirSync(path.join(projects, folder));
    writeFileSync(path.join(projects, folder, "travelled.jsonl"), "another machine\n");
    const victim = path.join(home, "victim");
    mkdirSync(victim);
    writeFileSync(path.join(victim, "id_ed25519"), "secret\n");
    const outside = path.join(home, "outside");
    mkdirSync(outside);
    // A container swaps both folders for links at the worst moment: after the checks, before the files move.
    const swapThenMerge = (from: string, to: string): string[] => {
      renameSync(path.join(projects, slug), path.join(projects, `${slug}.aside`));
      symlinkSync(victim, path.join(projects, slug));
      renameSync(path.join(projects, folder), path.join(projects, `${folder}.aside`));
      symlinkSync(outside, path.join(projects, folder));
      return mergeInto(from, to);
    };

    expect(() => linkProject(env, repo, swapThenMerge)).toThrow();
    expect(tree(victim)).toEqual({ id_ed25519: "secret\n" });
    expect(tree(outside)).toEqual({});
    // The files moved between the real folders, wherever those now are.
    expect(tree(path.join(projects, `${folder}.aside`))).toEqual({
      "here.jsonl": "this machine\n",
      "travelled.jsonl": "another machine\n",
    });
  });
});
