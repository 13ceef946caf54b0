// The Stop hook (hooks/stop.ts, src/sync/stop-scan.ts): at the end of every turn, where sync is set up, it asks the
// local Syncthing to scan the transcript that just changed. Where sync is not set up it must cost next to nothing:
// the settings.json command stats one file and starts no node. (Its scan against real Syncthing: test/sync.test.ts.)
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { STOP_HOOK_COMMAND } from "../src/install/settings.ts";
import { travellingTranscript } from "../src/sync/stop-scan.ts";
import { PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";

const STOP_BUNDLE = path.join(PROJECT_ROOT, "dist", "hooks", "stop.cjs");

/** What Claude Code gives a Stop hook on stdin. */
const stopInput = (transcript: string) =>
  JSON.stringify({
    session_id: "5c6d7e8f-1111-4222-8333-944445555666",
    transcript_path: transcript,
    cwd: "/tmp",
    hook_event_name: "Stop",
    stop_hook_active: false,
  });

/** A HOME with the pack's Stop hook bundle where install puts it. */
function installedStopHook(): string {
  const home = tempHome();
  const hooks = path.join(home, ".claude", "persist", "hooks");
  mkdirSync(hooks, { recursive: true });
  for (const name of ["stop.cjs", "stop-scan.cjs"]) {
    writeFileSync(path.join(hooks, name), readFileSync(path.join(PROJECT_ROOT, "dist", "hooks", name)));
  }
  mkdirSync(path.join(home, ".claude", "persist-host"), { mode: 0o700 });
  return home;
}

const setUpSync = (home: string, syncthingHome = "/nonexistent") =>
  writeFileSync(
    path.join(home, ".claude", "persist-host", "sync.json"),
    JSON.stringify({ home: syncthingHome, own: true, relay: false, deviceId: "X" }),
  );

describe("the Stop hook where sync is not set up", () => {
  it("settings.json's command starts no node at all (one stat in the shell), and exits 0", async () => {
    const home = installedStopHook();
    // A `node` first on PATH that leaves a mark when anything starts it.
    const bin = tempDir("cp-fake-node-");
    const mark = path.join(bin, "node-was-started");
    writeFileSync(path.join(bin, "node"), `#!/bin/sh\ntouch ${JSON.stringify(mark)}\n`);
    chmodSync(path.join(bin, "node"), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: home };
    const run = () =>
      execa("/bin/sh", ["-c", STOP_HOOK_COMMAND], {
        input: stopInput("/x.jsonl"),
        env,
        extendEnv: false,
        reject: false,
      });
    const without = await run();
    expect([without.exitCode, without.stdout, without.stderr]).toEqual([0, "", ""]);
    expect(existsSync(mark)).toBe(false);
    // The probe is sound: with sync set up the same command does start node.
    setUpSync(home);
    expect((await run()).exitCode).toBe(0);
    expect(existsSync(mark)).toBe(true);
  });

  it("run by hand, the bundle loads nothing beyond its stat: not the scan beside it, nor node:http", async () => {
    const home = installedStopHook();
    const dir = tempDir("cp-stop-loaded-");
    const preload = path.join(dir, "loaded.cjs");
    writeFileSync(
      preload,
      'process.on("exit", () => require("node:fs").writeFileSync(process.env.LOADED_OUT, ' +
        "JSON.stringify({ builtins: process.moduleLoadList, files: Object.keys(require.cache) })));\n",
    );
    const loaded = async () => {
      const out = path.join(dir, "loaded.json");
      const env = { PATH: process.env.PATH ?? "", HOME: home, LOADED_OUT: out };
      const script = path.join(home, ".claude", "persist", "hooks", "stop.cjs");
      const run = await execa(process.execPath, ["-r", preload, script], {
        input: stopInput(path.join(home, ".claude", "projects", "-x", "s.jsonl")),
        env,
        extendEnv: false,
        reject: false,
      });
      expect([run.exitCode, run.stderr]).toEqual([0, ""]);
      return JSON.parse(readFileSync(out, "utf8")) as { builtins: string[]; files: string[] };
    };
    const quiet = await loaded();
    expect(quiet.files.map((file) => path.basename(file))).toEqual(["loaded.cjs", "stop.cjs"]);
    expect(quiet.builtins).not.toContain("NativeModule http");
    setUpSync(home);
    const scanning = await loaded();
    expect(scanning.files.map((file) => path.basename(file))).toContain("stop-scan.cjs");
    expect(existsSync(STOP_BUNDLE)).toBe(true);
  });
});

describe("the Stop hook where sync is set up but Syncthing is down", () => {
  it("ends the turn at once, prints nothing and exits 0", async () => {
    const home = installedStopHook();
    const syncthing = path.join(home, ".claude", "persist-host", "syncthing");
    mkdirSync(syncthing, { recursive: true });
    // Its API on a socket no daemon listens on.
    writeFileSync(
      path.join(syncthing, "config.xml"),
      `<configuration><gui enabled="true"><address>${syncthing}/api.sock</address><apikey>k</apikey></gui></configuration>\n`,
    );
    setUpSync(home, syncthing);
    const projects = path.join(home, ".claude", "projects");
    mkdirSync(path.join(projects, "repo-github.com-ana-app-1234abcd"), { recursive: true });
    symlinkSync("repo-github.com-ana-app-1234abcd", path.join(projects, "-home-ana-app"));
    const transcript = path.join(projects, "-home-ana-app", "5c6d7e8f-1111-4222-8333-944445555666.jsonl");
    writeFileSync(transcript, "{}\n");
    const run = await execa("/bin/sh", ["-c", STOP_HOOK_COMMAND], {
      input: stopInput(transcript),
      env: { PATH: process.env.PATH ?? "", HOME: home },
      extendEnv: false,
      reject: false,
      timeout: 30_000,
    });
    expect([run.exitCode, run.stdout, run.stderr, run.timedOut]).toEqual([0, "", "", false]);
  });
});

describe("which file the Stop hook asks Syncthing to scan", () => {
  it("the transcript, named through the project's link to its travelling folder; nothing outside it", () => {
    const home = tempHome();
    const projects = path.join(home, ".claude", "projects");
    mkdirSync(path.join(projects, "repo-github.com-ana-app-1234abcd"), { recursive: true });
    symlinkSync("repo-github.com-ana-app-1234abcd", path.join(projects, "-home-ana-code-app"));
    mkdirSync(path.join(projects, "-home-ana-unlinked"));
    const env = { HOME: home };
    const session = "5c6d7e8f-1111-4222-8333-944445555666.jsonl";
    expect(travellingTranscript(env, path.join(projects, "-home-ana-code-app", session))).toBe(
      `repo-github.com-ana-app-1234abcd/${session}`,
    );
    // A project whose sessions do not travel (not linked), a path outside projects/, and a climb out: nothing.
    expect(travellingTranscript(env, path.join(projects, "-home-ana-unlinked", session))).toBeUndefined();
    expect(travellingTranscript(env, path.join(home, "elsewhere", session))).toBeUndefined();
    expect(travellingTranscript(env, `${projects}/-home-ana-code-app/../../${session}`)).toBeUndefined();
    expect(travellingTranscript(env, path.join(projects, "-home-ana-code-app", "notes.txt"))).toBeUndefined();
  });
});

describe("install and uninstall", () => {
  it("register the Stop hook beside SessionStart where sync is set up (not elsewhere), and take it out again", async () => {
    const home = tempHome();
    const settingsFile = path.join(home, ".claude", "settings.json");
    writeFileSync(settingsFile, '{\n  "theme": "dark"\n}\n');
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    // Without sync there is nothing for it to do: no entry, so not even the shell's stat at each turn.
    expect(JSON.parse(readFileSync(settingsFile, "utf8")).hooks.Stop).toBeUndefined();
    setUpSync(home);
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    const settings = JSON.parse(readFileSync(settingsFile, "utf8"));
    expect(settings.hooks.Stop).toEqual([{ hooks: [{ type: "command", command: STOP_HOOK_COMMAND, timeout: 10 }] }]);
    expect(settings.hooks.SessionStart).toHaveLength(1);
    expect(existsSync(path.join(home, ".claude", "persist", "hooks", "stop.cjs"))).toBe(true);
    // A second install changes nothing.
    expect((await runCli(["install"], { env: { HOME: home } })).exitCode).toBe(0);
    expect(JSON.parse(readFileSync(settingsFile, "utf8"))).toEqual(settings);
    // The user's own edit since: uninstall takes out only our hooks.
    writeFileSync(settingsFile, readFileSync(settingsFile, "utf8").replace('"dark"', '"light"'));
    expect((await runCli(["uninstall"], { env: { HOME: home } })).exitCode).toBe(0);
    expect(JSON.parse(readFileSync(settingsFile, "utf8"))).toEqual({ theme: "light" });
  });
});
