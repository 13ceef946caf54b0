// Help as people type it (issue 26): `help CMD`, "did you mean", --version on every entry point, the parser's errors
// in the project's one-line form, bare command groups, --json on every reporting action, one spelling of times.
import { execa } from "execa";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatJson } from "../src/commands/output.ts";
import { closest } from "../src/suggest.ts";
import { PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";

const version = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string })
  .version;

describe("help and suggestions", () => {
  it("'help sessions' prints what 'sessions --help' prints, exit 0", async () => {
    const env = { HOME: tempHome() };
    const asked = await runCli(["help", "sessions"], { env });
    const flag = await runCli(["sessions", "--help"], { env });
    expect(asked.exitCode).toBe(0);
    expect(asked.stdout).toMatch(/^Usage: claude-persist sessions/);
    expect(asked.stdout).toBe(flag.stdout);
  });

  it.each([
    [["sesions"], "claude-persist: unknown command 'sesions' (did you mean 'sessions'?); see 'claude-persist --help'"],
    [["help", "snapshto"], "claude-persist: unknown command 'snapshto' (did you mean 'snapshot'?)"],
    [["sessions", "--jsn"], "claude-persist sessions: unknown option '--jsn' (did you mean '--json'?)"],
    [["sync", "doctr"], "claude-persist sync: unknown action 'doctr' (did you mean 'doctor'?)"],
    [["snapshot", "prnue"], "claude-persist snapshot: unknown action 'prnue' (did you mean 'prune'?)"],
    [["doctor", "--json=yes"], "claude-persist doctor: option '--json' takes no value"],
    [["share", "--dry-rn"], "claude-persist share: unknown option '--dry-rn' (did you mean '--dry-run'?)"],
    [["snapshot", "prune", "--keep"], "claude-persist snapshot: option '--keep' needs a value (--keep N"],
  ])("%j: one line on stderr, exit 2, with the suggestion", async (args, line) => {
    const result = await runCli(args, { env: { HOME: tempHome() }, cwd: tempDir() });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")).toHaveLength(1);
    expect(result.stderr.startsWith(line)).toBe(true);
  });

  it("an unknown option far from every flag gets no suggestion, and no node parser wording", async () => {
    const result = await runCli(["dev-open", "--frobnicate"], { env: { HOME: tempHome() }, cwd: tempDir() });
    expect(result.stderr).toBe("claude-persist dev-open: unknown option '--frobnicate'; see 'dev-open --help'");
  });

  it("suggests by edit distance: a slip or a prefix, never a far name", () => {
    expect(closest("statsu", ["status", "start", "stop"])).toBe("status");
    expect(closest("add", ["add-device", "autostart"])).toBe("add-device");
    expect(closest("xyzzy", ["status", "start", "stop"])).toBeUndefined();
  });
});

describe("--version on every entry point", () => {
  it.each([["claude-persist.cjs"], ["dev-open.cjs"], ["start-work.cjs"]])("%s --version", async (entry) => {
    const result = await execa(process.execPath, [path.join(PROJECT_ROOT, "dist", "bin", entry), "--version"], {
      env: { HOME: tempHome(), PATH: process.env.PATH ?? "" },
      extendEnv: false,
      reject: false,
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: `claude-persist ${version}`, stderr: "" });
  });
});

describe("bare command groups", () => {
  it.each([
    ["sync", "init"],
    ["hook", "session-start"],
  ])("'%s' alone lists its actions on stderr, exit 2", async (group, action) => {
    const result = await runCli([group], { env: { HOME: tempHome() } });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(new RegExp(`^Usage: claude-persist ${group}`));
    expect(result.stderr).toContain(action);
  });
});

describe("--json on every reporting action, one document each", () => {
  it.each([
    [["sync", "doctor", "--json"], 1],
    [["sync", "link", "--json"], 1],
    [["sync", "merge", "--json"], 1],
    [["sync", "status", "--json"], 1],
    [["sync", "add-device", "--json"], 2],
    [["sync", "init", "--json", "--name", ""], 2],
    [["sync", "pause", "--json"], 1],
    [["sync", "stop", "--json"], 1],
    [["sync", "autostart", "--json"], 1],
    [["sync", "unison", "--json"], 2],
    [["doctor", "--json"], undefined],
    [["snapshot", "list", "--json"], undefined],
  ])("%j prints exactly one JSON document", async (args, exitCode) => {
    const result = await runCli(args, { env: { HOME: tempHome() }, cwd: tempDir() });
    if (exitCode !== undefined) expect(result.exitCode).toBe(exitCode);
    const document = JSON.parse(result.stdout) as { ok: boolean };
    expect(typeof document.ok).toBe("boolean");
  });

  it("sync doctor --json lists its checks", async () => {
    const result = await runCli(["sync", "doctor", "--json"], { env: { HOME: tempHome() } });
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      checks: [{ status: "fail", text: expect.stringContaining("sync init") }],
    });
  });

  it("spells every time one way: toISOString's, with milliseconds, in UTC", () => {
    const out = JSON.parse(
      formatJson({ a: "2025-06-01T10:51:00Z", b: { c: ["2025-06-01T12:51:30+02:00"] }, d: "2025-06-01", e: "x" }),
    );
    expect(out).toEqual({
      a: "2025-06-01T10:51:00.000Z",
      b: { c: ["2025-06-01T10:51:30.000Z"] },
      d: "2025-06-01",
      e: "x",
    });
  });
});
