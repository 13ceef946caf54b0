import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import { parseDevcontainerConfig, readDevcontainerConfig } from "../src/devcontainer/config/config.ts";
import { readTextToEdit } from "../src/fs.ts";
import {
  chooseComposeFile,
  composeServiceTargets,
  ensureComposeMounts,
  removeComposeMounts,
  splitShortVolume,
  YAML_MARKER,
} from "../src/devcontainer/config/compose.ts";
import { planPersistenceMounts, type PersistencePlan } from "../src/devcontainer/config/mount-plan.ts";
import { configMountTargets } from "../src/devcontainer/config/read-mounts.ts";
import { UserError } from "../src/errors.ts";
import {
  configFilesIn,
  fixtureName,
  hasSharedCorpus,
  isOnlyInsertions,
  linesNotKept,
  OWN_CORPUS,
  planForFixture,
  SHARED_CORPUS,
} from "./fixtures/devcontainers/corpus.ts";

/** Two mounts only, to keep expected texts short: one read-write folder, one read-only file. */
function smallPlan(): PersistencePlan {
  const full = planPersistenceMounts({
    container: { remoteUser: "vscode" },
    env: { HOME: "/home/ana" },
    fileExists: () => true,
  });
  return {
    ...full,
    mounts: full.mounts.filter((mount) => mount.name === "projects" || mount.name === "settings.json"),
  };
}

const OUR_LINES = [
  YAML_MARKER,
  "- type: bind",
  "  source: ${HOME}/.claude/projects",
  "  target: /home/vscode/.claude/projects",
  "- type: bind",
  "  source: ${HOME}/.claude/persist-host/host-files/settings.json",
  "  target: /home/vscode/.claude/settings.json",
  "  read_only: true",
];
const indented = (indent: string) => OUR_LINES.map((line) => indent + line);

describe("splitShortVolume", () => {
  it.each([
    ["/data", ["/data"]],
    ["vol:/data", ["vol", "/data"]],
    ["./src:/app:ro,consistent", ["./src", "/app", "ro,consistent"]],
    ["${HOME:-/root}/x:/y:ro", ["${HOME:-/root}/x", "/y", "ro"]],
  ])("%s", (volume, parts) => {
    expect(splitShortVolume(volume)).toEqual(parts);
  });
});

describe("composeServiceTargets", () => {
  it("reads short, long and anonymous volumes, normalised", () => {
    const text =
      "services:\n  app:\n    volumes:\n      - /anon\n      - ${HOME:-/root}/x:/y/:ro\n      - type: bind\n        source: ./a\n        target: /b\n";
    expect(composeServiceTargets(text, "app")).toEqual(["/anon", "/y", "/b"]);
  });
});

describe("chooseComposeFile", () => {
  const files: Record<string, string> = {
    "/repo/docker-compose.yml": "services:\n  app:\n    image: x\n  db:\n    image: y\n",
    "/repo/.devcontainer/override.yml": "services:\n  app:\n    command: sleep infinity\n",
    "/repo/.devcontainer/other.yml": "services:\n  db:\n    command: z\n",
    "/repo/.devcontainer/broken.yml": "services:\n  app:\n    image: x\n   bad: y\n",
  };
  const read = (file: string) => files[file];
  const configFile = "/repo/.devcontainer/devcontainer.json";
  const choose = (dockerComposeFile: string | string[], service = "app") =>
    chooseComposeFile(configFile, { dockerComposeFile, service }, read);

  it.each<[string, string | string[], string, string]>([
    ["the only file", "../docker-compose.yml", "app", "/repo/docker-compose.yml"],
    [
      "the last file that defines the service",
      ["../docker-compose.yml", "override.yml"],
      "app",
      "/repo/.devcontainer/override.yml",
    ],
    [
      "not a later file without the service",
      ["../docker-compose.yml", "override.yml", "other.yml"],
      "app",
      "/repo/.devcontainer/override.yml",
    ],
    [
      "another service, another file",
      ["../docker-compose.yml", "override.yml", "other.yml"],
      "db",
      "/repo/.devcontainer/other.yml",
    ],
    ["missing files are passed over", ["missing.yml", "override.yml"], "app", "/repo/.devcontainer/override.yml"],
  ])("%s", (_name, dockerComposeFile, service, expected) => {
    expect(choose(dockerComposeFile, service).file).toBe(expected);
  });

  it("says so when no file defines the service", () => {
    expect(() => choose(["../docker-compose.yml", "missing.yml"], "web")).toThrow(
      new UserError(
        `${configFile}: service "web" is not defined in any readable compose file (../docker-compose.yml, missing.yml).`,
      ),
    );
  });

  it("refuses malformed YAML with file:line:col", () => {
    expect(() => choose(["broken.yml"])).toThrow(
      new UserError("/repo/.devcontainer/broken.yml:4:1: All mapping items must start at the same column"),
    );
  });
});

describe("ensureComposeMounts: small cases", () => {
  const plan = smallPlan();

  it.each<[string, string, string]>([
    [
      "appends after the last volume, before what follows",
      "services:\n  app:\n    volumes:\n      - .:/work # the repo\n\n    # keep running\n    command: sleep infinity\n",
      [
        "services:",
        "  app:",
        "    volumes:",
        "      - .:/work # the repo",
        ...indented("      "),
        "",
        "    # keep running",
        "    command: sleep infinity",
        "",
      ].join("\n"),
    ],
    [
      "adds a volumes key after the service's last line",
      "services:\n  app:\n    image: x\n    environment:\n      A: b\n  # db next\n  db:\n    image: y",
      [
        "services:",
        "  app:",
        "    image: x",
        "    environment:",
        "      A: b",
        `    ${YAML_MARKER}`,
        "    volumes:",
        ...indented("      ").slice(1),
        "  # db next",
        "  db:",
        "    image: y",
      ].join("\n"),
    ],
    [
      "fills an empty volumes key",
      "services:\n  app:\n    volumes:\n    command: x\n",
      ["services:", "  app:", "    volumes:", ...indented("      "), "    command: x", ""].join("\n"),
    ],
    [
      "copies the list's own indentation",
      "services:\n  app:\n    volumes:\n    - /a\n",
      ["services:", "  app:", "    volumes:", "    - /a", ...indented("    "), ""].join("\n"),
    ],
  ])("%s", (_name, text, expected) => {
    const result = ensureComposeMounts(text, "app", plan);
    expect(result.text).toBe(expected);
    expect(result.added).toEqual(["projects", "settings.json"]);
    expect(ensureComposeMounts(result.text, "app", plan).changed).toBe(false);
    expect(removeComposeMounts(result.text).text).toBe(text);
  });

  it("keeps CRLF line endings", () => {
    const text = "services:\r\n  app:\r\n    image: x\r\n";
    const result = ensureComposeMounts(text, "app", plan);
    expect(result.text.split("\r\n").join("")).not.toContain("\n");
    expect(removeComposeMounts(result.text).text).toBe(text);
  });

  it("respects targets already mounted, here or in devcontainer.json", () => {
    const text = "services:\n  app:\n    volumes:\n      - /host/projects:/home/vscode/.claude/projects/\n";
    const result = ensureComposeMounts(text, "app", plan, { alreadyMounted: ["/home/vscode/.claude/settings.json"] });
    expect(result.changed).toBe(false);
    expect(result.skipped.map((skip) => skip.name)).toEqual(["projects", "settings.json"]);
  });

  it("never removes long-syntax volumes the user wrote without the marker", () => {
    const text =
      "services:\n  app:\n    volumes:\n      - type: bind\n        source: ${HOME}/.claude/projects\n        target: /home/vscode/.claude/projects\n";
    expect(removeComposeMounts(text)).toEqual({ text, removed: [], changed: false });
  });

  it("names what it removes", () => {
    const result = ensureComposeMounts("services:\n  app:\n    image: x\n", "app", plan);
    expect(removeComposeMounts(result.text).removed).toEqual(["projects", "settings.json"]);
  });

  it.each([
    ["a flow list", "services:\n  app:\n    volumes: [/a]\n", /volumes of service "app" is not a block list/],
    ["an alias", "x: &v\n  - /a\nservices:\n  app:\n    volumes: *v\n", /volumes of service "app" is not a block list/],
    ["a merge key without volumes", "x: &c\n  volumes:\n    - /a\nservices:\n  app:\n    <<: *c\n", /merge key/],
    ["a flow service", "services:\n  app: {image: x}\n", /not a block mapping/],
    ["no such service", "services:\n  db:\n    image: x\n", /no service "app"/],
    ["malformed YAML", "services:\n  app:\n    image: 'x\n", /^docker-compose\.yml:\d+:\d+: /],
  ])("refuses %s, saying what to do", (_name, text, message) => {
    expect(() => ensureComposeMounts(text, "app", plan)).toThrow(message);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Every compose-based fixture

function composeConfigsIn(root: string): string[] {
  return configFilesIn(root).filter((file) => readDevcontainerConfig(file).config.dockerComposeFile !== undefined);
}

function checkComposeFixture(configFile: string): void {
  const { text: configText, config } = readDevcontainerConfig(configFile);
  const target = chooseComposeFile(configFile, config);
  const plan = planForFixture(config);
  const alreadyMounted = configMountTargets(configText, configFile);
  const result = ensureComposeMounts(target.text, target.service, plan, { file: target.file, alreadyMounted });

  // The output parses; the service mounts each planned target exactly once.
  expect(parseDocument(result.text).errors).toEqual([]);
  const targets = composeServiceTargets(result.text, target.service, target.file);
  for (const mount of plan.mounts) {
    expect([...targets, ...alreadyMounted].filter((item) => item === mount.target)).toHaveLength(1);
  }

  // Only whole lines were inserted: every original line, comments and odd whitespace included, is kept as it was.
  expect(result.changed).toBe(true);
  expect(isOnlyInsertions(target.text, result.text)).toBe(true);
  expect(linesNotKept(target.text, result.text)).toEqual([]);

  // A second run is a no-op; removal gives back the original bytes.
  expect(ensureComposeMounts(result.text, target.service, plan, { file: target.file, alreadyMounted }).text).toBe(
    result.text,
  );
  expect(removeComposeMounts(result.text, { file: target.file }).text).toBe(target.text);
  expect(removeComposeMounts(target.text, { file: target.file }).changed).toBe(false);

  // The devcontainer.json side of a compose config: no mounts there.
  const json = parseDevcontainerConfig(configText, configFile);
  expect(json.config.dockerComposeFile).toBeDefined();
}

function checkMalformedCompose(configFile: string): void {
  const { config } = readDevcontainerConfig(configFile);
  const target = chooseComposeFile(configFile, config);
  const broken = `${target.text}\n\tbad: tab\n`;
  const line = target.text.split("\n").length + 1;
  const message = `${target.file}:${line}:1: Tabs are not allowed as indentation`;
  expect(() => ensureComposeMounts(broken, target.service, planForFixture(config), { file: target.file })).toThrow(
    new UserError(message),
  );

  // Read as dev-open reads it, from a copy: the error, and the file left exactly as it was.
  const dir = mkdtempSync(path.join(tmpdir(), "compose-malformed-"));
  const copy = path.join(dir, path.basename(target.file));
  writeFileSync(copy, broken);
  expect(() =>
    ensureComposeMounts(readTextToEdit(copy) ?? "", target.service, planForFixture(config), { file: copy }),
  ).toThrow(new UserError(`${copy}:${line}:1: Tabs are not allowed as indentation`));
  expect(readFileSync(copy, "utf8")).toBe(broken);
  expect(readdirSync(dir)).toEqual([path.basename(copy)]);
  rmSync(dir, { recursive: true, force: true });
}

describe("every compose-based project fixture", () => {
  const files = composeConfigsIn(OWN_CORPUS);
  it("is there", () => expect(files.length).toBeGreaterThanOrEqual(3));
  describe.each(files.map((file) => [fixtureName(OWN_CORPUS, file), file]))("%s", (_name, file) => {
    it("gets the mounts in its compose file, idempotently and reversibly", () => checkComposeFixture(file));
    it("when its compose file is malformed, is refused with line:col", () => checkMalformedCompose(file));
  });

  it.each([
    ["compose-override", "compose-override/.devcontainer/docker-compose.devcontainer.yml"],
    ["compose-existing-mounts", "compose-existing-mounts/.devcontainer/compose.yaml"],
  ])("%s: edits %s", (name, expected) => {
    const file = configFilesIn(path.join(OWN_CORPUS, name))[0] ?? "";
    expect(chooseComposeFile(file, readDevcontainerConfig(file).config).file).toBe(path.join(OWN_CORPUS, expected));
  });

  it("compose-existing-mounts: the user's own mounts on our targets are kept, not duplicated", () => {
    const file = path.join(OWN_CORPUS, "compose-existing-mounts/.devcontainer/devcontainer.json");
    const target = chooseComposeFile(file, readDevcontainerConfig(file).config);
    const result = ensureComposeMounts(target.text, target.service, planForFixture({ remoteUser: "vscode" }));
    expect(result.skipped.map((skip) => skip.name)).toEqual(["mcp.json", "projects", "todos"]);
    expect(result.text).toContain("        target: /home/vscode/.claude/todos/\r\n      # claude-persist:");
  });
});

describe.skipIf(!hasSharedCorpus)(
  "every compose-based shared real-world fixture (skipped: ../shared/fixtures/devcontainers is absent)",
  () => {
    const files = hasSharedCorpus ? composeConfigsIn(SHARED_CORPUS) : [];
    it("is there", () => expect(files.length).toBeGreaterThanOrEqual(11));
    describe.each(files.map((file) => [fixtureName(SHARED_CORPUS, file), file]))("%s", (_name, file) => {
      it("gets the mounts in its compose file, idempotently and reversibly", () => checkComposeFixture(file));
      it("when its compose file is malformed, is refused with line:col", () => checkMalformedCompose(file));
    });
  },
);
