// Where the persistence mounts land: the container user's home, found as the Dev Containers CLI finds the user,
// on a corpus of real-world config shapes (test/fixtures/container-users/cases.json says what each covers and
// the home it must get), run as a user runs them: `share` and `dev-open --config-only`, with no engine to ask.
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { readDockerfileUser } from "../src/devcontainer/config/dockerfile.ts";
import { decideUser } from "../src/devcontainer/launch/container-user.ts";
import { PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";

const CORPUS = path.join(PROJECT_ROOT, "test", "fixtures", "container-users");
type Expected = { user: string; home: string; guessed: boolean };
type Case = Expected & { covers: string; env?: Record<string, string>; configs?: Record<string, Expected> };
const CASES = JSON.parse(readFileSync(path.join(CORPUS, "cases.json"), "utf8")) as Record<string, Case>;
const SINGLE = Object.entries(CASES).filter(([, c]) => !c.configs);

/** Every file of a repo copy, as text: where the mounts were written (the config, or the compose file). */
function allText(root: string): string {
  return readdirSync(root, { recursive: true, encoding: "utf8" })
    .map((rel) => path.join(root, rel))
    .filter((file) => statSync(file).isFile())
    .map((file) => readFileSync(file, "utf8"))
    .join("\n");
}

describe("the container user and home, from the repo's files", () => {
  let home: string;
  // No engine: DOCKER_HOST names a socket that is not there, as on a laptop with Docker stopped.
  const env = (extra: Record<string, string> = {}) => ({
    HOME: home,
    DOCKER_HOST: "unix:///nonexistent/docker.sock",
    ...extra,
  });
  // A home per test: the same fixture shared twice in one home would be two repos on one container path.
  beforeEach(async () => {
    home = tempHome();
    expect((await runCli(["install"], { env: env() })).exitCode).toBe(0);
  });

  it("the corpus has every shape the issue lists", () => {
    const covers = Object.values(CASES)
      .map((c) => c.covers)
      .join("\n");
    for (const shape of [
      "USER",
      "mcr.microsoft.com/devcontainers",
      "user: node",
      "image:",
      "build:",
      "home",
      "uid",
      "${localEnv:USER}",
      "several configs",
      "/workspace",
    ])
      expect(covers).toContain(shape);
  });

  it.each(SINGLE)(
    "%s: share puts the mounts in the user's home and says where that came from",
    async (name, expected) => {
      const repo = path.join(tempDir(), name);
      cpSync(path.join(CORPUS, name), repo, { recursive: true });
      const shared = await runCli(["share", "--json"], { env: env(expected.env), cwd: repo });
      expect(shared.exitCode, shared.stderr).toBe(0);
      const result = JSON.parse(shared.stdout);
      expect(result.containerUser).toMatchObject({
        user: expected.user,
        home: expected.home,
        guessed: expected.guessed,
      });
      expect(result.containerUser.from).toBeTruthy();
      const written = allText(repo);
      expect(written).toContain(`${expected.home}/.claude/projects`);
      if (expected.home !== "/root") expect(written).not.toContain("/root/.claude/projects");
    },
  );

  it.each(SINGLE)(
    "%s: dev-open --config-only says who and where, and says so when it is a guess",
    async (name, expected) => {
      const repo = path.join(tempDir(), name);
      cpSync(path.join(CORPUS, name), repo, { recursive: true });
      const opened = await runCli(["dev-open", "--config-only"], { env: env(expected.env), cwd: repo });
      expect(opened.exitCode, opened.stderr).toBe(0);
      const line = opened.stdout.split("\n").find((l) => l.startsWith("Container user:"));
      expect(line).toContain(`Container user: ${expected.user} (`);
      expect(line).toContain(`home ${expected.home} (`);
      expect(line?.includes("This is a guess") && line.includes("--remote-home DIR")).toBe(expected.guessed);
    },
  );

  it("several configs: refused as a usage error (exit 2); each one, picked, gets its own user's home", async () => {
    const repo = path.join(tempDir(), "multi-config");
    cpSync(path.join(CORPUS, "multi-config"), repo, { recursive: true });
    for (const command of [["share"], ["dev-open", "--config-only"]]) {
      const refused = await runCli(command, { env: env(), cwd: repo });
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain("Pick one with --config <path>.");
    }
    for (const [config, expected] of Object.entries(CASES["multi-config"]?.configs ?? {})) {
      const shared = await runCli(["share", "--config", config, "--json"], { env: env(), cwd: repo });
      expect(shared.exitCode, shared.stderr).toBe(0);
      expect(JSON.parse(shared.stdout).containerUser).toMatchObject(expected);
      expect(readFileSync(path.join(repo, config), "utf8")).toContain(`${expected.home}/.claude/projects`);
    }
  });

  it("${localEnv:USER} with USER unset: one line naming it, and the repo as it was; --remote-home settles it", async () => {
    const repo = path.join(tempDir(), "localenv-user");
    cpSync(path.join(CORPUS, "localenv-user"), repo, { recursive: true });
    const before = allText(repo);
    const refused = await runCli(["share"], { env: env(), cwd: repo });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("USER is not set here");
    expect(refused.stderr).toContain("--remote-home DIR");
    expect(allText(repo)).toBe(before);
    const settled = await runCli(["share", "--remote-home", "/home/dev", "--json"], { env: env(), cwd: repo });
    expect(settled.exitCode, settled.stderr).toBe(0);
    expect(JSON.parse(settled.stdout).containerUser).toMatchObject({ home: "/home/dev", homeFrom: "--remote-home" });
    expect(allText(repo)).toContain("/home/dev/.claude/projects");
  });

  it("${containerEnv:…} in remoteUser: refused by name, since only the container knows it", async () => {
    const repo = path.join(tempDir(), "container-env-user");
    cpSync(path.join(CORPUS, "plain-image-root"), repo, { recursive: true });
    const file = path.join(repo, ".devcontainer.json");
    const config = '{ "image": "python:3.12", "remoteUser": "${containerEnv:APP_USER}" }\n';
    writeFileSync(file, config);
    const refused = await runCli(["dev-open", "--config-only"], { env: env(), cwd: repo });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("APP_USER is known only inside the container");
    expect(readFileSync(file, "utf8")).toBe(config);
  });
});

describe("the order the Dev Containers CLI goes by", () => {
  it("remoteUser, then the image's remoteUser, then containerUser, compose user, the image's USER, then root", () => {
    const metadata = [{ remoteUser: "vscode" }];
    expect(decideUser({ remoteUser: "me", metadata, containerUser: "c", imageKnown: true }).user).toBe("me");
    expect(decideUser({ metadata, containerUser: "c", imageKnown: true }).user).toBe("vscode");
    expect(decideUser({ containerUser: "c", composeUser: "d", imageUser: "e", imageKnown: true }).user).toBe("c");
    expect(decideUser({ composeUser: "d", imageUser: "e", imageKnown: true }).user).toBe("d");
    expect(decideUser({ imageUser: "1000", imageKnown: true }).user).toBe("1000");
    expect(decideUser({ imageKnown: true })).toMatchObject({ user: "root", guessed: false });
    expect(decideUser({ imageKnown: false })).toMatchObject({ user: "root", guessed: true });
  });

  it("a Dockerfile's last stage: stages followed by name, ARG defaults and build args, the last USER", () => {
    const text = [
      "ARG BASE=mcr.microsoft.com/devcontainers/base:bookworm",
      "FROM ${BASE} AS tools",
      "USER vscode",
      "FROM tools AS dev",
      "ARG NAME=app",
      "RUN useradd --home-dir /srv/$NAME -u 2000 $NAME",
      "USER ${NAME}:${NAME}",
      "# USER commented",
    ].join("\n");
    expect(readDockerfileUser(text)).toEqual({
      baseImage: "mcr.microsoft.com/devcontainers/base:bookworm",
      user: "app",
      homes: { app: "/srv/app", "2000": "/srv/app" },
    });
    expect(readDockerfileUser(text, { NAME: "svc" }).user).toBe("svc");
    expect(readDockerfileUser("FROM tools AS dev\nFROM dev\n").user).toBeUndefined();
  });
});
