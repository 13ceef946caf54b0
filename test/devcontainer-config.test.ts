import { lineAndColumn } from "../src/jsonc.ts";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import {
  CLAUDE_CODE_FEATURE,
  findDevcontainerConfig,
  findRepoRoot,
  INITIAL_IMAGE,
  listDevcontainerConfigs,
  parseDevcontainerConfig,
  planInitialConfig,
  readDevcontainerConfig,
} from "../src/devcontainer/config/config.ts";
import { UserError } from "../src/errors.ts";
import {
  configFilesIn,
  fixtureName,
  hasSharedCorpus,
  OWN_CORPUS,
  SHARED_CORPUS,
} from "./fixtures/devcontainers/corpus.ts";

const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

function scratch(files: Record<string, string> = {}): string {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), "devcontainer-config-")));
  scratchDirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return root;
}

describe("findRepoRoot", () => {
  it("is the git root, from any folder inside", async () => {
    const root = scratch({ "a/b/file": "" });
    await execa("git", ["init", "-q"], { cwd: root });
    expect(await findRepoRoot(path.join(root, "a", "b"))).toBe(root);
  });

  it("is the folder itself outside git", async () => {
    const root = scratch({ "a/file": "" });
    expect(await findRepoRoot(path.join(root, "a"))).toBe(path.join(root, "a"));
  });
});

describe("findDevcontainerConfig", () => {
  const config = "{}";
  it.each<[string, Record<string, string>, string]>([
    [
      ".devcontainer/devcontainer.json",
      { ".devcontainer/devcontainer.json": config },
      ".devcontainer/devcontainer.json",
    ],
    [".devcontainer.json", { ".devcontainer.json": config }, ".devcontainer.json"],
    [
      ".devcontainer/<name>/devcontainer.json",
      { ".devcontainer/python/devcontainer.json": config },
      ".devcontainer/python/devcontainer.json",
    ],
    [
      "other files in .devcontainer do not count",
      {
        ".devcontainer/devcontainer.json": config,
        ".devcontainer/docker-compose.yml": "",
        ".devcontainer/x/Dockerfile": "",
      },
      ".devcontainer/devcontainer.json",
    ],
  ])("finds %s", (_name, files, expected) => {
    const root = scratch(files);
    expect(findDevcontainerConfig(root)).toBe(path.join(root, expected));
  });

  it("lists several and says to pick one with --config", () => {
    const root = scratch({
      ".devcontainer/devcontainer.json": config,
      ".devcontainer.json": config,
      ".devcontainer/b/devcontainer.json": config,
      ".devcontainer/a/devcontainer.json": config,
    });
    expect(listDevcontainerConfigs(root).map((file) => path.relative(root, file))).toEqual([
      ".devcontainer/devcontainer.json",
      ".devcontainer.json",
      ".devcontainer/a/devcontainer.json",
      ".devcontainer/b/devcontainer.json",
    ]);
    expect(() => findDevcontainerConfig(root)).toThrow(
      new UserError(
        `Several dev container configs in ${root}: .devcontainer/devcontainer.json, .devcontainer.json, .devcontainer/a/devcontainer.json, .devcontainer/b/devcontainer.json. Pick one with --config <path>.`,
        2,
      ),
    );
  });

  it("points at dev-open --init when there is none", () => {
    const root = scratch({ "README.md": "" });
    expect(() => findDevcontainerConfig(root)).toThrow(UserError);
    expect(() => findDevcontainerConfig(root)).toThrow(/Run `dev-open --init`/);
  });

  it("takes --config over the search, relative to the current folder", () => {
    const root = scratch({ ".devcontainer/a/devcontainer.json": config, ".devcontainer/b/devcontainer.json": config });
    expect(findDevcontainerConfig(root, { config: "b/devcontainer.json", cwd: path.join(root, ".devcontainer") })).toBe(
      path.join(root, ".devcontainer/b/devcontainer.json"),
    );
    expect(() => findDevcontainerConfig(root, { config: "nope.json" })).toThrow(/--config nope.json: no such file/);
  });
});

describe("planInitialConfig", () => {
  it("plans a minimal Debian config with the Claude Code feature, which our reader accepts", () => {
    const root = scratch();
    const { file, text } = planInitialConfig(root);
    expect(existsSync(file)).toBe(false);
    mkdirSync(path.dirname(file));
    writeFileSync(file, text);
    expect(file).toBe(path.join(root, ".devcontainer", "devcontainer.json"));
    const { config } = readDevcontainerConfig(file);
    expect(config).toMatchObject({ image: INITIAL_IMAGE, remoteUser: "vscode", name: path.basename(root) });
    expect(Object.keys(config.features as object)).toContain(CLAUDE_CODE_FEATURE);
    expect(findDevcontainerConfig(root)).toBe(file);
  });

  it.each([".devcontainer/devcontainer.json", ".devcontainer.json", ".devcontainer/x/devcontainer.json"])(
    "refuses when %s exists, and changes nothing",
    (existing) => {
      const root = scratch({ [existing]: "// mine\n{}" });
      expect(() => planInitialConfig(root)).toThrow(/not overwriting/);
      expect(readFileSync(path.join(root, existing), "utf8")).toBe("// mine\n{}");
      expect(listDevcontainerConfigs(root)).toHaveLength(1);
    },
  );
});

describe("parseDevcontainerConfig", () => {
  it.each([
    [
      "comments and trailing commas",
      '// c\n{\n  /* b */ "image": "x", // d\n  "runArgs": ["--init",],\n}',
      { image: "x", runArgs: ["--init"] },
    ],
    ["unknown fields are kept", '{"features": {"a": {}}, "customizations": {"vscode": {}}}', { features: { a: {} } }],
    [
      "string and object mounts",
      '{"mounts": ["type=volume,target=/x", {"type": "volume", "target": "/y"}, {"type": "volume"}]}',
      { mounts: ["type=volume,target=/x", { type: "volume", target: "/y" }, { type: "volume" }] },
    ],
    [
      "lifecycle commands in all three forms",
      '{"onCreateCommand": "a", "postCreateCommand": ["b"], "postStartCommand": {"c": "c", "d": ["d"]}}',
      { onCreateCommand: "a" },
    ],
    [
      "compose fields",
      '{"dockerComposeFile": ["a.yml", "b.yml"], "service": "app"}',
      { dockerComposeFile: ["a.yml", "b.yml"], service: "app" },
    ],
  ])("reads %s", (_name, text, expected) => {
    expect(parseDevcontainerConfig(text, "c.json").config).toMatchObject(expected);
  });

  it.each([
    [
      "a missing comma",
      '{\n  "a": 1\n  "b": 2\n}',
      "c.json:3:3: invalid JSON: ',' was expected; fix the file and run again (nothing was changed)",
    ],
    [
      "a bad symbol after CRLF lines",
      '{\r\n\r\n\t"a": @\r\n}',
      "c.json:3:7: invalid JSON: unexpected character; fix the file and run again (nothing was changed)",
    ],
    [
      "an unterminated string (where it starts)",
      '{"a": "b',
      "c.json:1:7: invalid JSON: unterminated string; fix the file and run again (nothing was changed)",
    ],
    [
      "an empty file",
      "",
      "c.json:1:1: invalid JSON: a value was expected; fix the file and run again (nothing was changed)",
    ],
    ["a wrong type", '{"remoteUser": 1}', "c.json: remoteUser: Invalid input: expected string, received number"],
    ["a wrong lifecycle shape", '{"postStartCommand": 5}', "c.json: postStartCommand: Invalid input"],
  ])("refuses %s with where and why", (_name, text, message) => {
    expect(() => parseDevcontainerConfig(text, "c.json")).toThrow(new UserError(message));
  });

  it("counts lines and columns from 1", () => {
    expect(lineAndColumn("ab\r\ncd", 5)).toEqual({ line: 2, column: 2 });
    expect(lineAndColumn("", 0)).toEqual({ line: 1, column: 1 });
  });
});

function checkCorpus(root: string): void {
  const files = configFilesIn(root);
  describe.each(files.map((file) => [fixtureName(root, file), file]))("%s", (_name, file) => {
    it("parses with comments and trailing commas, and passes the schema", () => {
      expect(() => readDevcontainerConfig(file)).not.toThrow();
    });
  });

  // Each fixture folder that holds a dev container config the way a repo root does.
  const repoRoots = [
    ...new Set(files.map((file) => repoRootOf(file)).filter((dir): dir is string => dir !== undefined)),
  ];
  it.each(repoRoots.map((dir) => [fixtureName(root, dir) || ".", dir]))(
    "finds the config of %s, or lists several",
    (_name, dir) => {
      const found = listDevcontainerConfigs(dir);
      expect(found.length).toBeGreaterThan(0);
      if (found.length === 1) expect(findDevcontainerConfig(dir)).toBe(found[0]);
      else expect(() => findDevcontainerConfig(dir)).toThrow(/Pick one with --config/);
    },
  );
}

function repoRootOf(file: string): string | undefined {
  const dir = path.dirname(file);
  if (path.basename(file) === ".devcontainer.json") return dir;
  if (path.basename(dir) === ".devcontainer") return path.dirname(dir);
  if (path.basename(path.dirname(dir)) === ".devcontainer") return path.dirname(path.dirname(dir));
  return undefined;
}

describe("the project's own fixtures", () => checkCorpus(OWN_CORPUS));

describe.skipIf(!hasSharedCorpus)(
  "the shared real-world fixtures (skipped: ../shared/fixtures/devcontainers is absent)",
  () => {
    if (existsSync(SHARED_CORPUS)) checkCorpus(SHARED_CORPUS);
    else it("needs ../shared/fixtures/devcontainers", () => undefined);
  },
);
