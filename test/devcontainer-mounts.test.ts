import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parse as parseJsonc, parseTree } from "jsonc-parser";
import { afterAll, describe, expect, it } from "vitest";
import { CONTAINER_WORKSPACE_ENV, HOST_WORKSPACE_ENV, SHARED_ENTRIES } from "../src/claude/shared.ts";
import { parseDevcontainerConfig } from "../src/devcontainer/config/config.ts";
import {
  combinedCommand,
  LIFECYCLE_KEY,
  ORIGINAL_KEY,
  ownershipCommand,
  sourceFoldersCommand,
  splitCombined,
} from "../src/devcontainer/config/lifecycle-commands.ts";
import { collectMcpEnvNames } from "../src/devcontainer/config/mcp-env.ts";
import {
  mountString,
  planPersistenceMounts,
  resolveContainerHome,
  type ContainerUserHints,
  type PersistencePlan,
} from "../src/devcontainer/config/mount-plan.ts";
import { ensurePersistenceMounts, JSON_MARKER, removePersistenceMounts } from "../src/devcontainer/config/mounts.ts";
import { configMountTargets, parseMountString } from "../src/devcontainer/config/read-mounts.ts";
import { UserError } from "../src/errors.ts";
import { existsOnPath } from "./support/checks.ts";
import {
  configFilesIn,
  fixtureName,
  hasSharedCorpus,
  isOnlyInsertions,
  jsonComments,
  inOrder,
  linesNotKept,
  linesOf,
  OWN_CORPUS,
  planForFixture,
  SHARED_CORPUS,
} from "./fixtures/devcontainers/corpus.ts";

const HOME = { HOME: "/home/ana" };

const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}
const allFiles = () => true;

function plan(
  container: ContainerUserHints = { remoteUser: "vscode" },
  extra: Partial<Parameters<typeof planPersistenceMounts>[0]> = {},
): PersistencePlan {
  return planPersistenceMounts({ container, env: HOME, fileExists: allFiles, ...extra });
}

/** The `--mount` shape the devcontainers CLI accepts, taken from the installed CLI itself. */
function cliMountPattern(): RegExp {
  const bundle = readFileSync(
    path.join("node_modules", "@devcontainers", "cli", "dist", "spec-node", "devContainersSpecCLI.js"),
    "utf8",
  );
  const source = /\/(\^type=\(bind\|volume\),source=[^\n]*?\$)\//.exec(bundle)?.[1];
  if (!source) throw new Error("the devcontainers CLI bundle no longer holds its --mount pattern");
  return new RegExp(source);
}

describe("resolveContainerHome", () => {
  it.each<[string, ContainerUserHints, string]>([
    ["remoteUser", { remoteUser: "vscode" }, "/home/vscode"],
    ["root", { remoteUser: "root" }, "/root"],
    ["UID 0", { remoteUser: "0" }, "/root"],
    ["user:group", { remoteUser: "dev:dev" }, "/home/dev"],
    ["containerUser when no remoteUser", { containerUser: "node" }, "/home/node"],
    [
      "the image's remoteUser before containerUser",
      { imageRemoteUser: "codespace", containerUser: "root" },
      "/home/codespace",
    ],
    ["config remoteUser before the image's", { remoteUser: "vscode", imageRemoteUser: "node" }, "/home/vscode"],
    [
      "the image's own user (its metadata's containerUser, through imageRemoteUser)",
      { imageRemoteUser: "app" },
      "/home/app",
    ],
    [
      "a numeric UID says nothing",
      { remoteUser: "1000", image: "mcr.microsoft.com/devcontainers/base:bookworm" },
      "/home/vscode",
    ],
    ["--remote-home wins", { remoteHome: "/opt/dev/", remoteUser: "vscode" }, "/opt/dev"],
    ["devcontainers base image", { image: "mcr.microsoft.com/devcontainers/base:bookworm" }, "/home/vscode"],
    ["older devcontainers path", { image: "mcr.microsoft.com/vscode/devcontainers/base:ubuntu" }, "/home/vscode"],
    ["devcontainers node image", { image: "mcr.microsoft.com/devcontainers/javascript-node:20" }, "/home/node"],
    ["devcontainers universal image", { image: "mcr.microsoft.com/devcontainers/universal:2" }, "/home/codespace"],
    ["any other image", { image: "debian:bookworm" }, "/root"],
    ["nothing known", {}, "/root"],
  ])("%s", (_name, hints, home) => {
    expect(resolveContainerHome(hints)).toBe(home);
  });

  it("refuses a --remote-home a mount or shell word cannot carry", () => {
    expect(() => resolveContainerHome({ remoteHome: "/home/a b" })).toThrow(UserError);
    expect(() => resolveContainerHome({ remoteHome: "home/vscode" })).toThrow(/absolute path/);
  });
});

describe("planPersistenceMounts", () => {
  it("mounts every shared entry from ${localEnv:HOME}/.claude to the container home", () => {
    const result = plan();
    expect(result.mounts.map((mount) => mount.name)).toEqual(SHARED_ENTRIES.map((entry) => entry.name));
    expect(result.mounts[0]).toEqual({
      name: "projects",
      kind: "dir",
      readonly: false,
      hostPath: "/home/ana/.claude/projects",
      source: "${localEnv:HOME}/.claude/projects",
      composeSource: "${HOME}/.claude/projects",
      target: "/home/vscode/.claude/projects",
    });
    for (const mount of result.mounts) {
      const entry = SHARED_ENTRIES.find((candidate) => candidate.name === mount.name);
      expect(mount.readonly).toBe(entry?.access === "read-only");
    }
    expect(result.skipped).toEqual([]);
  });

  it.each([
    [
      "under HOME: relative to ${localEnv:HOME}",
      "/home/ana/.config/claude",
      "${localEnv:HOME}/.config/claude",
      "${HOME}/.config/claude",
    ],
    ["outside HOME: the absolute path", "/srv/claude", "/srv/claude", "/srv/claude"],
    ["the default, spelled out", "/home/ana/.claude", "${localEnv:HOME}/.claude", "${HOME}/.claude"],
  ])("CLAUDE_CONFIG_DIR %s", (_name, dir, sourceRoot, composeSourceRoot) => {
    const result = plan(undefined, { env: { ...HOME, CLAUDE_CONFIG_DIR: dir } });
    expect(result.sourceRoot).toBe(sourceRoot);
    expect(result.composeSourceRoot).toBe(composeSourceRoot);
    expect(result.mounts[0]?.hostPath).toBe(`${dir}/projects`);
    expect(result.mounts[0]?.source).toBe(`${sourceRoot}/projects`);
    expect(result.mounts[0]?.target).toBe("/home/vscode/.claude/projects");
  });

  it.each(["/srv/claude,x", "/srv/$claude", '/srv/"claude'])("refuses a config dir a mount cannot name: %s", (dir) => {
    expect(() => plan(undefined, { env: { ...HOME, CLAUDE_CONFIG_DIR: dir } })).toThrow(UserError);
  });

  it("leaves out single files the host does not have, and says so; folders are always planned", () => {
    const result = plan(undefined, { fileExists: (file) => !file.endsWith(".json") && !file.endsWith(".md") });
    const files = SHARED_ENTRIES.filter((entry) => entry.kind === "file").map((entry) => entry.name);
    expect(result.mounts.map((mount) => mount.name)).toEqual(
      SHARED_ENTRIES.filter((entry) => entry.kind === "dir").map((entry) => entry.name),
    );
    expect(result.skipped.map((skip) => skip.name)).toEqual(files);
    expect(result.skipped[0]?.reason).toContain("/home/ana/.claude/stats-cache.json does not exist");
  });

  it("forwards the credentials, Linear's and the MCP variables, by name, never host-only ones", () => {
    const result = plan(undefined, {
      mcpEnvNames: ["SLACK_TOKEN", "GITHUB_TOKEN", "ANTHROPIC_API_KEY", "HOME", "PATH", "bad-name", "LC_ALL"],
    });
    expect(result.remoteEnvNames).toEqual([
      "ANTHROPIC_API_KEY",
      "CLAUDE_CODE_OAUTH_TOKEN",
      "LINEAR_API_KEY",
      "LINEAR_API_URL",
      "GITHUB_TOKEN",
      "SLACK_TOKEN",
    ]);
  });
});

describe("mountString", () => {
  const mounts = plan().mounts;

  it.each([
    ["projects", "source=${localEnv:HOME}/.claude/projects,target=/home/vscode/.claude/projects,type=bind"],
    [
      "settings.json",
      "source=${localEnv:HOME}/.claude/persist-host/host-files/settings.json,target=/home/vscode/.claude/settings.json,type=bind,readonly",
    ],
  ])("%s", (name, expected) => {
    const mount = mounts.find((candidate) => candidate.name === name);
    expect(mount && mountString(mount)).toBe(expected);
  });

  it("says what the CLI's --mount pattern accepts: type, source and target without commas, plus readonly", () => {
    const pattern = cliMountPattern();
    for (const mount of mounts) {
      const fields = parseMountString(mountString(mount));
      expect(Object.keys(fields).sort()).toEqual(
        mount.readonly ? ["readonly", "source", "target", "type"] : ["source", "target", "type"],
      );
      expect(fields.readonly ?? "").toBe("");
      expect(`type=${fields.type},source=${fields.source},target=${fields.target}`).toMatch(pattern);
      expect(fields).toMatchObject({ type: "bind", source: mount.source, target: mount.target });
    }
  });
});

describe("ensurePersistenceMounts: small cases", () => {
  const small = plan(undefined, { fileExists: (file) => !file.endsWith(".json"), mcpEnvNames: ["GITHUB_TOKEN"] });

  it("an empty config gets one marked block of new properties", () => {
    const result = ensurePersistenceMounts(
      '{\n  "image": "x"\n}\n',
      plan({ remoteUser: "vscode" }, { fileExists: () => false }),
    );
    const dirs = SHARED_ENTRIES.filter((entry) => entry.kind === "dir");
    const mountLines = dirs.map(
      (entry, i) =>
        `    "source=\${localEnv:HOME}/.claude/${entry.name},target=/home/vscode/.claude/${entry.name},type=bind${entry.access === "read-only" ? ",readonly" : ""}"${i < dirs.length - 1 ? "," : ""}`,
    );
    expect(result.text).toBe(
      [
        "{",
        '  "image": "x",',
        `  ${JSON_MARKER}`,
        '  "mounts": [',
        ...mountLines,
        "  ],",
        '  "containerEnv": {',
        `    "${HOST_WORKSPACE_ENV}": "\${localWorkspaceFolder}",`,
        `    "${CONTAINER_WORKSPACE_ENV}": "\${containerWorkspaceFolder}"`,
        "  },",
        `  "initializeCommand": ${JSON.stringify(`mkdir -p -m 700 "\${localEnv:HOME}/.claude" && cd "\${localEnv:HOME}/.claude" && mkdir -p -m 700 ${dirs.map((entry) => entry.name).join(" ")} # claude-persist`)},`,
        `  "onCreateCommand": ${JSON.stringify(ownershipCommand("/home/vscode"))}`,
        "}",
        "",
      ].join("\n"),
    );
    expect(result.changed).toBe(true);
    expect(result.added).toEqual([
      ...dirs.map((entry) => entry.name),
      `containerEnv.${HOST_WORKSPACE_ENV}`,
      `containerEnv.${CONTAINER_WORKSPACE_ENV}`,
      "initializeCommand",
      "onCreateCommand",
    ]);
    expect(result.skipped.map((skip) => skip.name)).toEqual([
      "stats-cache.json",
      "CLAUDE.md",
      "settings.json",
      "mcp.json",
    ]);
  });

  it("respects mounts already on the same targets, in string or object form, with or without a trailing slash", () => {
    const text = `{
  "mounts": [
    "type=bind,src=/elsewhere,dst=/home/vscode/.claude/projects",
    { "source": "/x", "target": "/home/vscode/.claude/todos/", "type": "bind" }
  ]
}`;
    const result = ensurePersistenceMounts(text, small);
    const targets = configMountTargets(result.text);
    expect(targets.filter((target) => target === "/home/vscode/.claude/projects")).toHaveLength(1);
    expect(targets.filter((target) => target === "/home/vscode/.claude/todos")).toHaveLength(1);
    expect(result.added).not.toContain("projects");
    expect(result.skipped).toContainEqual({
      name: "todos",
      reason: "/home/vscode/.claude/todos is already mounted by the config",
    });
  });

  it("writes no remoteEnv into the repo's config: forwarding from a shared file blanks a teammate's variable", () => {
    const text = '{\n\t"remoteEnv": {\n\t\t"ANTHROPIC_API_KEY": "${localEnv:ANTHROPIC_API_KEY:}"\n\t}\n}';
    const result = ensurePersistenceMounts(text, small);
    expect((parseJsonc(result.text) as { remoteEnv: Record<string, string> }).remoteEnv).toEqual({
      ANTHROPIC_API_KEY: "${localEnv:ANTHROPIC_API_KEY:}",
    });
    expect(result.added.filter((name) => name.startsWith("remoteEnv"))).toEqual([]);
  });

  it("takes out the remoteEnv entries an earlier version added, and only those", () => {
    const marked = `{\n  "remoteEnv": {\n    "MINE": "\${localEnv:MINE}",\n    ${JSON_MARKER}\n    "ANTHROPIC_API_KEY": "\${localEnv:ANTHROPIC_API_KEY}",\n    "CLAUDE_CODE_OAUTH_TOKEN": "\${localEnv:CLAUDE_CODE_OAUTH_TOKEN}"\n  }\n}`;
    const fromMarked = parseJsonc(ensurePersistenceMounts(marked, small).text) as { remoteEnv: Record<string, string> };
    expect(fromMarked.remoteEnv).toEqual({ MINE: "${localEnv:MINE}" });
    const whole = `{\n  "image": "x",\n  ${JSON_MARKER}\n  "remoteEnv": {\n    "ANTHROPIC_API_KEY": "\${localEnv:ANTHROPIC_API_KEY}"\n  }\n}`;
    expect(parseJsonc(ensurePersistenceMounts(whole, small).text)).not.toHaveProperty("remoteEnv");
    const users = '{\n  "remoteEnv": {\n    "ANTHROPIC_API_KEY": "${localEnv:ANTHROPIC_API_KEY}"\n  }\n}';
    expect((parseJsonc(ensurePersistenceMounts(users, small).text) as { remoteEnv: unknown }).remoteEnv).toEqual({
      ANTHROPIC_API_KEY: "${localEnv:ANTHROPIC_API_KEY}",
    });
  });

  const ownership = ownershipCommand("/home/vscode");
  it.each<[string, string, unknown]>([
    ["absent: ours alone", "{}", ownership],
    // One script, ours first (issue 21): an object's entries run in parallel, and ours must be done before theirs.
    ["a string: ours, then theirs", '{"onCreateCommand": "npm ci"}', combinedCommand(ownership, "npm ci", '"npm ci"')],
    [
      "an array: ours, then theirs",
      '{"onCreateCommand": ["make", "deps"]}',
      combinedCommand(ownership, ["make", "deps"], '["make", "deps"]'),
    ],
    [
      "an object: one more key",
      '{"onCreateCommand": {"deps": "make deps"}}',
      { deps: "make deps", [LIFECYCLE_KEY]: ownership },
    ],
  ])("onCreateCommand %s", (_name, text, expected) => {
    const result = ensurePersistenceMounts(text, small);
    expect((parseJsonc(result.text) as { onCreateCommand: unknown }).onCreateCommand).toEqual(expected);
    expect(removePersistenceMounts(result.text).text).toBe(text);
  });

  it("an earlier version's parallel object becomes ours-then-theirs; unshare then gives back the user's command", () => {
    const text = `{"onCreateCommand": {"${LIFECYCLE_KEY}": ${JSON.stringify(ownership)}, "${ORIGINAL_KEY}": "npm ci"}}`;
    const result = ensurePersistenceMounts(text, small);
    const value = (parseJsonc(result.text) as { onCreateCommand: unknown }).onCreateCommand;
    expect(value).toEqual(combinedCommand(ownership, "npm ci", '"npm ci"'));
    expect(removePersistenceMounts(result.text).text).toBe('{"onCreateCommand": "npm ci"}');
  });

  it("ours-then-theirs runs in that order in one shell, with theirs' exit code; an array's words stay words", async () => {
    const script = combinedCommand(
      "echo first # claude-persist",
      ["sh", "-c", "printf '%s\\n' \"$0\"; exit 3", "it's second"],
      "[]",
    );
    const run = await execa("sh", ["-c", script], { reject: false });
    expect(run.stdout).toBe("first\nit's second");
    expect(run.exitCode).toBe(3);
  });

  it("updates its own command in place when the plan changes", () => {
    const first = ensurePersistenceMounts("{}", small).text;
    const moved = plan(
      { remoteHome: "/home/other" },
      { fileExists: (file) => !file.endsWith(".json"), mcpEnvNames: ["GITHUB_TOKEN"] },
    );
    const second = ensurePersistenceMounts(first, moved);
    expect((parseJsonc(second.text) as { onCreateCommand: string }).onCreateCommand).toBe(
      ownershipCommand("/home/other"),
    );
    expect(removePersistenceMounts(second.text).text).toBe("{}");
  });

  it("adds no ownership step for root, whose home root already owns; the first-run choices are still copied", () => {
    const result = ensurePersistenceMounts("{}", plan({ remoteUser: "root" }));
    const command = (parseJsonc(result.text) as { onCreateCommand: string }).onCreateCommand;
    expect(command).not.toContain("chown");
    expect(command).toContain("/root/.claude/persist/seeds/container-claude-");
    expect(configMountTargets(result.text)[0]).toBe("/root/.claude/projects");
  });

  it("leaves the mounts to the compose file when told to", () => {
    const result = ensurePersistenceMounts("{}", small, { includeMounts: false });
    expect(parseJsonc(result.text)).not.toHaveProperty("mounts");
    expect(result.skipped).toEqual([]);
    expect(result.added).not.toContain("projects");
  });

  it.each([
    ["a trailing comma is kept", '{\n  "a": 1,\n}', '{\n  "a": 1,\n  // claude-persist'],
    [
      "a comment after the last property stays on its line",
      '{\n  "a": 1 // one\n}',
      '{\n  "a": 1, // one\n  // claude-persist',
    ],
    ["an empty object (no indentation to copy: two spaces)", "{}", "{\n  // claude-persist"],
    [
      "a single-line array grows downwards",
      '{"mounts": ["a=b,target=/t"]}',
      '{"mounts": ["a=b,target=/t",\n  // claude-persist',
    ],
  ])("layout: %s", (_name, text, start) => {
    const result = ensurePersistenceMounts(text, small);
    expect(result.text.startsWith(start)).toBe(true);
    expect(removePersistenceMounts(result.text).text).toBe(text);
  });

  it("keeps CRLF line endings and the absence of a final newline", () => {
    const text = '{\r\n    "image": "x"\r\n}';
    const result = ensurePersistenceMounts(text, small);
    expect(result.text.replaceAll("\r\n", "")).not.toContain("\n");
    expect(result.text.endsWith("\r\n}")).toBe(true);
    expect(result.text).toContain('\r\n    "mounts": [\r\n        "source=');
  });

  it.each([
    [
      "a syntax error",
      '{\n  "a": 1,,\n}',
      "devcontainer.json:2:10: invalid JSON: a property name was expected; fix the file and run again (nothing was changed)",
    ],
    [
      "an unclosed object",
      '{\r\n  "a": 1',
      "devcontainer.json:2:9: invalid JSON: '}' was expected; fix the file and run again (nothing was changed)",
    ],
    [
      "not an object",
      "[1]",
      "devcontainer.json:1:1: the top level is not an object; fix the file and run again (nothing was changed)",
    ],
    [
      "a field of the wrong type",
      '{"mounts": "x"}',
      "devcontainer.json: mounts: Invalid input: expected array, received string",
    ],
  ])("%s is a UserError with file:line:col", (_name, text, message) => {
    expect(() => ensurePersistenceMounts(text, small)).toThrow(new UserError(message));
  });
});

describe("the commands the config carries, run by sh", () => {
  const scratch = () => scratchDir("persist-commands-");
  const canDropPrivileges = process.getuid?.() === 0 && existsOnPath("setpriv");

  it("initializeCommand creates the missing source folders, 0700, and nothing else; a second run is fine", async () => {
    const home = scratch();
    const command = sourceFoldersCommand(plan()) ?? "";
    // The devcontainers CLI substitutes ${localEnv:HOME} before the host's shell runs the command.
    const substituted = command.replaceAll("${localEnv:HOME}", home);
    for (let run = 0; run < 2; run++) expect((await execa("sh", ["-c", substituted])).exitCode).toBe(0);
    for (const entry of SHARED_ENTRIES) {
      const file = path.join(home, ".claude", entry.name);
      if (entry.kind === "file") expect(() => statSync(file)).toThrow();
      else expect(statSync(file).mode & 0o777).toBe(0o700);
    }
  });

  it("the ownership command is quiet when the user owns ~/.claude", async () => {
    const home = scratch();
    mkdirSync(path.join(home, ".claude"));
    const result = await execa("sh", ["-c", ownershipCommand(home)]);
    expect([result.exitCode, result.stderr]).toEqual([0, ""]);
  });

  it.skipIf(!canDropPrivileges)(
    "the ownership command never fails the container; without sudo it says why",
    async () => {
      const home = scratch();
      mkdirSync(path.join(home, ".claude"));
      chmodSync(home, 0o755);
      const result = await execa(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", ownershipCommand(home)],
        { reject: false },
      );
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain(`claude-persist: ${home}/.claude is not owned by`);
    },
  );
});

describe("removePersistenceMounts", () => {
  it("leaves a config without the pack's additions alone, user mounts identical to ours included", () => {
    const text =
      '{\n  "mounts": [\n    "source=${localEnv:HOME}/.claude/todos,target=/home/vscode/.claude/todos,type=bind"\n  ]\n}';
    expect(removePersistenceMounts(text)).toEqual({ text, removed: [], changed: false });
  });

  it("keeps what the user added after the pack's block", () => {
    const added = ensurePersistenceMounts('{\n  "image": "x"\n}', plan()).text;
    const edited = added.replace('"mounts": [', '"mounts": [\n    "source=/mine,target=/mine,type=bind",');
    const result = removePersistenceMounts(edited);
    expect(result.changed).toBe(true);
    expect(parseJsonc(result.text)).toEqual({ image: "x", mounts: ["source=/mine,target=/mine,type=bind"] });
  });
});

describe("collectMcpEnvNames", () => {
  const dir = scratchDir("mcp-names-");
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
    return file;
  };
  const mcpJson = write("mcp.json", {
    mcpServers: {
      github: { command: "npx", args: ["server-github"], env: { GITHUB_PERSONAL_ACCESS_TOKEN: "ghp_secretvalue" } },
      remote: {
        type: "http",
        url: "https://api.example.com/${API_REGION:-eu}/mcp",
        headers: { Authorization: "Bearer ${API_TOKEN}" },
      },
    },
  });
  const claudeJson = write(".claude.json", {
    mcpServers: { linear: { command: "linear-mcp", args: ["--key", "$LINEAR_API_KEY", "--home", "${HOME}"] } },
    projects: {
      "/work/repo": { mcpServers: { db: { command: "db-mcp", env: { DATABASE_URL: "${DATABASE_URL}" } } } },
      "/work/repo/sub": { mcpServers: { sub: { command: "x", env: { SUB_TOKEN: "1" } } } },
      "/work/other": { mcpServers: { other: { command: "x", env: { OTHER_TOKEN: "1" } } } },
    },
  });
  const projectMcp = write(
    ".mcp.json",
    '{ // comments are fine\n "mcpServers": { "s": { "command": "s", "env": { "SENTRY_TOKEN": "" } } },\n}',
  );
  const broken = write("broken.json", "{ nope");

  it("names every referenced variable, of this project only, never a value", () => {
    const names = collectMcpEnvNames([mcpJson, claudeJson, projectMcp, broken, path.join(dir, "missing.json")], {
      projectDir: "/work/repo",
    });
    expect(names).toEqual([
      "API_REGION",
      "API_TOKEN",
      "DATABASE_URL",
      "GITHUB_PERSONAL_ACCESS_TOKEN",
      "LINEAR_API_KEY",
      "SENTRY_TOKEN",
      "SUB_TOKEN",
    ]);
    expect(names.join(" ")).not.toContain("ghp_");
  });

  it("takes every project when no project is given", () => {
    expect(collectMcpEnvNames([claudeJson])).toContain("OTHER_TOKEN");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Every fixture: the real-world corpus (when present) and the project's own

const LIFECYCLE = ["initializeCommand", "onCreateCommand"];

/** Lines of the original that a wrap of a string/array lifecycle command legitimately rewrites. */
function wrappedLines(original: string, output: string): Set<number> {
  const before = parseTree(original.replace(/^\uFEFF/, " "), [], { allowTrailingComma: true });
  const after = parseJsonc(output.replace(/^\uFEFF/, ""), [], { allowTrailingComma: true }) as Record<string, unknown>;
  const lines = new Set<number>();
  for (const property of before?.children ?? []) {
    const [key, value] = property.children ?? [];
    const wrapped = after[String(key?.value)];
    if (!key || !value || !LIFECYCLE.includes(String(key.value)) || value.type === "object") continue;
    if (splitCombined(wrapped) || (typeof wrapped === "object" && wrapped !== null && ORIGINAL_KEY in wrapped)) {
      for (const line of linesOf(original, property.offset, property.offset + property.length + 1)) lines.add(line);
    }
  }
  return lines;
}

/** `text` with every combined lifecycle command replaced by the user's command as its JSON text had it. */
function withOriginalCommands(text: string): string {
  const tree = parseTree(text.replace(/^\uFEFF/, " "), [], { allowTrailingComma: true });
  let result = text;
  const values = (tree?.children ?? []).map((property) => property.children?.[1]).filter((v) => v !== undefined);
  for (const value of values.sort((a, b) => b.offset - a.offset)) {
    const combined = value.type === "string" ? splitCombined(value.value) : undefined;
    if (combined)
      result = result.slice(0, value.offset) + combined.originalText + result.slice(value.offset + value.length);
  }
  return result;
}

function checkFixture(file: string): void {
  const original = readFileSync(file, "utf8");
  const { config } = parseDevcontainerConfig(original, file);
  const thePlan = planForFixture(config);
  const includeMounts = config.dockerComposeFile === undefined;
  const result = ensurePersistenceMounts(original, thePlan, { file, includeMounts });

  // The output parses, and our schema accepts it.
  const edited = parseDevcontainerConfig(result.text, file).config;
  expect(result.changed).toBe(true);

  // Everything the plan asks for is there, exactly once per target.
  if (includeMounts) {
    const targets = configMountTargets(result.text, file);
    for (const mount of thePlan.mounts) expect(targets.filter((target) => target === mount.target)).toHaveLength(1);
  }
  expect(edited.containerEnv?.[HOST_WORKSPACE_ENV] ?? config.containerEnv?.[HOST_WORKSPACE_ENV]).toBeDefined();
  for (const name of thePlan.remoteEnvNames) expect(edited.remoteEnv?.[name]).not.toBe(`\${localEnv:${name}}`);

  // No byte of the original was removed or changed (a command run after ours keeps its JSON text in the script's
  // last line, given back here); comments survive in order; untouched lines are whole.
  expect(isOnlyInsertions(original, withOriginalCommands(result.text))).toBe(true);
  // (Comments inside a command run after ours travel with its JSON text, in the script's last line.)
  expect(inOrder(jsonComments(withOriginalCommands(result.text)), jsonComments(original))).toBe(true);
  // A line holding a whole container may be split where the block goes in; every other line is kept whole.
  const notKept = linesNotKept(original, result.text, wrappedLines(original, result.text));
  expect(notKept.filter((line) => !/[[{].*[\]}]/.test(line))).toEqual([]);

  // A second run is a no-op; removal gives back the original bytes.
  const again = ensurePersistenceMounts(result.text, thePlan, { file, includeMounts });
  expect(again.changed).toBe(false);
  expect(again.text).toBe(result.text);
  expect(removePersistenceMounts(result.text, { file }).text).toBe(original);
  expect(removePersistenceMounts(original, { file }).changed).toBe(false);
}

function checkMalformed(file: string): void {
  const original = readFileSync(file, "utf8");
  const at = original.lastIndexOf("}");
  const broken = `${original.slice(0, at)}@${original.slice(at)}`;
  const line = original.slice(0, at).split("\n").length;
  const column = at - (original.lastIndexOf("\n", at - 1) + 1) + 1;
  expect(() => ensurePersistenceMounts(broken, planForFixture({}), { file })).toThrow(
    new UserError(
      `${file}:${line}:${column}: invalid JSON: unexpected character; fix the file and run again (nothing was changed)`,
    ),
  );
  expect(() => removePersistenceMounts(broken, { file })).toThrow(UserError);
}

describe("every project fixture", () => {
  const files = configFilesIn(OWN_CORPUS);
  it("is there", () => expect(files.length).toBeGreaterThanOrEqual(7));
  describe.each(files.map((file) => [fixtureName(OWN_CORPUS, file), file]))("%s", (_name, file) => {
    it("is patched in place, idempotently and reversibly", () => checkFixture(file));
    it("when malformed, is refused with line:col", () => checkMalformed(file));
  });
});

describe.skipIf(!hasSharedCorpus)(
  "every shared real-world fixture (skipped: ../shared/fixtures/devcontainers is absent)",
  () => {
    const files = hasSharedCorpus ? configFilesIn(SHARED_CORPUS) : [];
    it("is there", () => expect(files.length).toBeGreaterThanOrEqual(30));
    describe.each(files.map((file) => [fixtureName(SHARED_CORPUS, file), file]))("%s", (_name, file) => {
      it("is patched in place, idempotently and reversibly", () => checkFixture(file));
      it("when malformed, is refused with line:col", () => checkMalformed(file));
    });
  },
);

describe("what the own fixtures pin down", () => {
  const read = (name: string) => readFileSync(path.join(OWN_CORPUS, name), "utf8");

  it("tabs-comments-trailing-commas: the user's mounts and key stay, trailing commas continue", () => {
    const text = read("tabs-comments-trailing-commas/.devcontainer/devcontainer.json");
    const result = ensurePersistenceMounts(text, planForFixture({ remoteUser: "vscode" }));
    expect(result.added).not.toContain("projects");
    expect(result.added).not.toContain("todos");
    expect(result.added).not.toContain("remoteEnv.ANTHROPIC_API_KEY");
    expect(result.text).toContain(
      '"source=${localEnv:HOME}/.claude/persist,target=/home/vscode/.claude/persist,type=bind,readonly",\n\t],',
    );
    const value = parseJsonc(result.text, [], { allowTrailingComma: true }) as {
      onCreateCommand: unknown;
      postCreateCommand: unknown;
    };
    expect(value.onCreateCommand).toEqual(combinedCommand(ownershipCommand("/home/vscode"), "npm ci", '"npm ci"'));
    expect(value.postCreateCommand).toBe("npm run build");
  });

  it("crlf-four-spaces: empty containers are filled, CRLF throughout, still no final newline", () => {
    const text = read("crlf-four-spaces/.devcontainer.json");
    const result = ensurePersistenceMounts(text, planForFixture({ remoteUser: "node" }));
    expect(result.text.split("\r\n").join("")).not.toContain("\n");
    expect(result.text.endsWith("}")).toBe(true);
    expect(result.text).toContain('"mounts": [\r\n        // claude-persist:');
    expect(configMountTargets(result.text)).toContain("/home/node/.claude/projects");
  });

  it("one-line: a one-line config is edited without touching the rest of the line", () => {
    const text = read("one-line/.devcontainer/devcontainer.json");
    const result = ensurePersistenceMounts(text, planForFixture({ containerUser: "dev" }));
    expect(
      result.text.startsWith(
        '{"image": "debian:bookworm", "containerUser": "dev", "mounts": ["source=/var/run/docker.sock,target=/var/run/docker.sock,type=bind",',
      ),
    ).toBe(true);
    expect((parseJsonc(result.text) as { onCreateCommand: Record<string, unknown> }).onCreateCommand).toEqual({
      deps: "make deps",
      tools: ["make", "tools"],
      [LIFECYCLE_KEY]: ownershipCommand("/home/dev"),
    });
  });

  it("bom-root: the byte order mark stays first", () => {
    const text = read("bom-root/.devcontainer/devcontainer.json");
    const result = ensurePersistenceMounts(text, planForFixture({ remoteUser: "root" }));
    expect(result.text.startsWith("\uFEFF{")).toBe(true);
    expect(result.text).not.toContain("chown");
  });
});
