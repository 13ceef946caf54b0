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
