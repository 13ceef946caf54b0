// `claude-persist sync autostart`: the Syncthing that `sync init` configured, started at login by systemd (Linux) or
// launchd (macOS), opt-in. This machine has no systemd user session: that case is one clear line.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planAutostart } from "../src/sync/autostart.ts";
import { treeOf } from "./support/checks.ts";
import { runCli, tempHome } from "./support/claude.ts";

const SYNCTHING = "/usr/bin/syncthing";

function homeWithSync(own = true): { home: string; syncthingHome: string } {
  const home = tempHome();
  const syncthingHome = path.join(home, ".claude", "persist-host", "syncthing");
  mkdirSync(syncthingHome, { recursive: true });
  const deviceId = Array.from({ length: 8 }, () => "AAAAAAA").join("-");
  const settings = { home: syncthingHome, own, relay: false, deviceId };
  writeFileSync(path.join(home, ".claude", "persist-host", "sync.json"), JSON.stringify(settings));
  return { home, syncthingHome };
}

describe("the login files", () => {
  it("a systemd user unit runs the configured syncthing in the foreground, quoted for systemd", () => {
    const env = { HOME: "/home/ana", CLAUDE_PERSIST_SYNCTHING: SYNCTHING };
    const plan = planAutostart(env, "/home/ana/My 100%/st", "linux");
    expect(plan.file).toBe("/home/ana/.config/systemd/user/claude-persist-syncthing.service");
    expect(plan.content).toContain(
      `ExecStart=${SYNCTHING} serve "--home=/home/ana/My 100%%/st" --no-browser --no-restart --no-upgrade ` +
        '"--logfile=/home/ana/My 100%%/st/syncthing.log"',
    );
    expect(plan.content).toContain("WantedBy=default.target");
    expect(plan.content).toContain("Environment=STNODEFAULTFOLDER=1");
  });

  it("a launchd agent on macOS, its arguments escaped for XML", () => {
    const env = { HOME: "/Users/ana", CLAUDE_PERSIST_SYNCTHING: "/opt/homebrew/bin/syncthing" };
    const plan = planAutostart(env, "/Users/ana/a&b", "darwin");
    expect(plan.file).toBe("/Users/ana/Library/LaunchAgents/dev.claude-persist.syncthing.plist");
    expect(plan.content).toContain("<string>/opt/homebrew/bin/syncthing</string>");
    expect(plan.content).toContain("<string>--home=/Users/ana/a&amp;b</string>");
    expect(plan.content).toContain("<key>RunAtLoad</key><true/>");
  });
});

describe("claude-persist sync autostart", () => {
  const unit = (home: string) => path.join(home, ".config", "systemd", "user", "claude-persist-syncthing.service");

  it("writes the unit; no systemd user session is one line and exit 1; --remove takes it out", async () => {
    const { home, syncthingHome } = homeWithSync();
    const env = { HOME: home, CLAUDE_PERSIST_SYNCTHING: SYNCTHING };
    const run = await runCli(["sync", "autostart"], { env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^Wrote .*\.service, but systemctl --user is not available here \(/);
    const advice = "in your login session run 'systemctl --user enable claude-persist-syncthing.service'";
    expect(run.stderr).toContain(advice);
    const written = readFileSync(unit(home), "utf8");
    expect(written).toContain(`ExecStart=${SYNCTHING} serve --home=${syncthingHome} --no-browser`);

    const noSystemctl = await runCli(["sync", "autostart"], { env: { ...env, PATH: "/nonexistent" } });
    expect(noSystemctl.exitCode).toBe(1);
    expect(noSystemctl.stderr).toContain("systemctl --user is not available here (systemctl is not installed)");

    const removed = await runCli(["sync", "autostart", "--remove"], { env });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toContain("Syncthing no longer starts at login");
    expect(existsSync(unit(home))).toBe(false);
  });

  it("leaves a unit of the user's own, and the Syncthing the user runs themselves, alone", async () => {
    const { home } = homeWithSync();
    mkdirSync(path.dirname(unit(home)), { recursive: true });
    writeFileSync(unit(home), "[Service]\nExecStart=/usr/bin/true\n");
    const before = JSON.stringify(treeOf(home));
    const mine = await runCli(["sync", "autostart"], { env: { HOME: home, CLAUDE_PERSIST_SYNCTHING: SYNCTHING } });
    expect(mine.exitCode).toBe(1);
    expect(mine.stderr).toContain("exists and was not written by claude-persist: move it aside");
    expect(JSON.stringify(treeOf(home))).toBe(before);

    const theirs = homeWithSync(false);
    const env = { HOME: theirs.home, CLAUDE_PERSIST_SYNCTHING: SYNCTHING };
    const own = await runCli(["sync", "autostart"], { env });
    expect(own.exitCode).toBe(1);
    expect(own.stderr).toContain("uses the Syncthing you run yourself");
  });
});
