import { describe, expect, it } from "vitest";
import { ensureSamePath } from "../src/devcontainer/config/same-path.ts";
import { parseJsonc } from "../src/jsonc.ts";

describe("ensureSamePath", () => {
  it("edits a config that starts with a byte order mark, and keeps the mark", () => {
    const text = '\uFEFF{\n  "image": "debian"\n}\n';
    expect(ensureSamePath(text, "c.json", false)).toBe(
      '\uFEFF{\n  "image": "debian",\n  "workspaceMount": "source=${localWorkspaceFolder},target=${localWorkspaceFolder},type=bind",\n  "workspaceFolder": "${localWorkspaceFolder}"\n}\n',
    );
  });

  it("moves a workspaceMount of the repo's folder (Anthropic's /workspace) to the host path, keeping its options", () => {
    const text = [
      "{",
      '  "workspaceMount": "source=${localWorkspaceFolder},target=/workspace,type=bind,consistency=delegated",',
      '  "workspaceFolder": "/workspace/src",',
      '  "remoteUser": "node"',
      "}",
      "",
    ].join("\n");
    const result = ensureSamePath(text, "c.json", false);
    expect(parseJsonc(result, "c.json")).toEqual({
      workspaceMount: "source=${localWorkspaceFolder},target=${localWorkspaceFolder},type=bind,consistency=delegated",
      workspaceFolder: "${localWorkspaceFolder}/src",
      remoteUser: "node",
    });
    expect(result.split("\n")[3]).toBe('  "remoteUser": "node"');
    // Another folder than the repo's is not the workspace: refused as before.
    const other =
      '{ "workspaceMount": "source=/srv/data,target=/workspace,type=bind", "workspaceFolder": "/workspace" }';
    expect(() => ensureSamePath(other, "c.json", false)).toThrow(/"workspaceMount" is already set/);
  });

  it("refuses to replace a workspaceFolder of the user's, behind a byte order mark too", () => {
    expect(() => ensureSamePath('\uFEFF{ "workspaceFolder": "/w" }', "c.json", false)).toThrow(
      /"workspaceFolder" is already set to "\/w"/,
    );
  });
});

describe("parseJsonc", () => {
  it("reads past a byte order mark; syntax errors keep the file's columns", () => {
    expect(parseJsonc('\uFEFF{ "a": 1 }', "c.json")).toEqual({ a: 1 });
    expect(() => parseJsonc('\uFEFF{ "a": @ }', "c.json")).toThrow("c.json:1:9: invalid JSON: unexpected character");
  });
});
