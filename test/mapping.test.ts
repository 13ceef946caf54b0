import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { mapProject } from "../src/devcontainer/mapping.ts";
import { readMappings } from "../src/state/mappings.ts";
import { repairProjectLink } from "../src/devcontainer/project-link.ts";
import { tempHome } from "./support/claude.ts";

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
    const result = await mapProject(env, { hostPath: HOST, containerPath: CONTAINER }, new Date("2026-11-25T10:00:00Z"));
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
    expect(readFileSync(path.join(projects, hostSlug, "memory", "notes.from-container-1.md"), "utf8")).toBe("container notes\n");
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
    expect(repairProjectLink(env, CONTAINER, workspace)).toBe(`linked projects/${containerSlug} to ${hostSlug}, so sessions here are the host's`);
    expect(readlinkSync(path.join(projects, containerSlug))).toBe(hostSlug);
    expect(repairProjectLink(env, CONTAINER, workspace)).toBeUndefined();
    repairProjectLink(env, `${CONTAINER}/src`, workspace);
    expect(readlinkSync(path.join(projects, encodeProjectSlug(`${CONTAINER}/src`)))).toBe(encodeProjectSlug(`${HOST}/src`));
  });

  it("leaves folders outside the workspace alone", () => {
    const { env, projects } = setup();
    expect(repairProjectLink(env, "/tmp", workspace)).toBeUndefined();
    expect(readdirSync(projects)).toEqual([]);
  });

  it("does not replace a folder the container already made, and says how to merge it", () => {
    const { env, projects } = setup();
    mkdirSync(path.join(projects, containerSlug));
    expect(repairProjectLink(env, CONTAINER, workspace)).toMatch(/holds sessions made in this container before it was mapped; run 'dev-open' on the host/);
    expect(lstatSync(path.join(projects, containerSlug)).isDirectory()).toBe(true);
  });
});
