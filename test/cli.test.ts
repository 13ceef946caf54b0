import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempHome } from "./support/claude.ts";

describe("claude-persist <command> --help", () => {
  it.each([
    ["install", "Usage: claude-persist install"],
    ["uninstall", "Usage: claude-persist uninstall"],
    ["doctor", "Usage: claude-persist doctor"],
    ["sessions", "Usage: claude-persist sessions"],
    ["dev-open", "Usage: dev-open"],
    ["share", "Usage: dev-open"],
    ["unshare", "Usage: dev-open"],
    ["start-work", "Usage: start-work"],
    ["snapshot", "Usage: claude-persist snapshot"],
  ])("%s prints its usage wherever -h/--help stands, exits 0 and changes nothing", async (command, usage) => {
    const home = tempHome();
    for (const args of [["--help"], ["--json", "-h"]]) {
      const result = await runCli([command, ...args], { env: { HOME: home } });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout.startsWith(usage)).toBe(true);
      expect(result.stderr).toBe("");
    }
    expect(readdirSync(path.join(home, ".claude"))).toEqual([]);
  });
});
