// `claude-persist sync` with real Syncthing daemons standing in for a user's machines (each with its own home path)
// in a loopback-only network namespace, and the real `claude` CLI on each side.
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { mergeConflicts, unionOfLines } from "../src/sync/conflicts.ts";
import { normaliseRemote } from "../src/sync/identity.ts";
import { endpointOf, rest } from "../src/sync/syncthing.ts";
import { CLAUDE_BIN, claudeEnv, runClaude, runCli, tempDir } from "./support/claude.ts";
import { startMessagesServer, type MessagesServer } from "./support/messages-server.ts";
import {
  address,
  hasSyncthing,
  initMachine,
  makeMachine,
  readIfThere,
  startLoopbackNetwork,
  waitFor,
  type LoopbackNetwork,
  type Machine,
} from "./support/sync-machines.ts";

const line = (uuid: string, parent: string | null, time: string, text: string): string =>
  JSON.stringify({ uuid, parentUuid: parent, timestamp: time, type: "user", message: { role: "user", content: text } });

describe("conflict copies merged by line", () => {
  it("keeps every line of both machines, and both machines write the same bytes whichever copy they start from", () => {
    const common = [
      line("u1", null, "2026-01-01T00:00:01Z", "first"),
      line("u2", "u1", "2026-01-01T00:00:02Z", "second"),
    ];
    const onA = `${[...common, line("a3", "u2", "2026-01-01T00:00:05Z", "from A")].join("\n")}\n`;
    const onB = `${[...common, line("b3", "u2", "2026-01-01T00:00:04Z", "from B"), "not json, a torn line"].join("\n")}\n`;
    const mergedOnA = unionOfLines(onA, onB);
    const mergedOnB = unionOfLines(onB, onA);
    expect(mergedOnA.text).toBe(mergedOnB.text);
    expect(mergedOnA.added).toBe(2);
    for (const text of ["first", "second", "from A", "from B", "not json, a torn line"])
      expect(mergedOnA.text).toContain(text);
    expect(mergedOnA.text.split("\n").filter(Boolean)).toHaveLength(5);
  });

  it("folds a Syncthing conflict copy into its session atomically and removes the copy; other files stay", () => {
    const dir = tempDir("cp-conflict-");
    const session = path.join(dir, "abc.jsonl");
    writeFileSync(session, `${line("u1", null, "2026-01-01T00:00:01Z", "one")}\n`, { mode: 0o600 });
    const copy = path.join(dir, "abc.sync-conflict-20260101-000002-ABCDEFG.jsonl");
    writeFileSync(
      copy,
      `${line("u1", null, "2026-01-01T00:00:01Z", "one")}\n${line("u9", "u1", "2026-01-01T00:00:02Z", "other machine")}\n`,
    );
    writeFileSync(path.join(dir, "notes.sync-conflict-20260101-000002-ABCDEFG.txt"), "not a session");
    expect(mergeConflicts(dir)).toEqual([{ session: "abc.jsonl", added: 1, device: "ABCDEFG" }]);
    expect(readFileSync(session, "utf8")).toContain("other machine");
    expect(statSync(session).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(["abc.jsonl", "notes.sync-conflict-20260101-000002-ABCDEFG.txt"]);
    expect(mergeConflicts(dir)).toEqual([]);
  });

  it("leaves a conflict copy that is a FIFO, or a session that is a link, alone: nothing hangs, nothing is written through", async () => {
    const dir = tempDir("cp-conflict-hostile-");
    const outside = path.join(tempDir("cp-outside-"), "key");
    writeFileSync(outside, "secret\n");
    await execa("mkfifo", [path.join(dir, "abc.sync-conflict-20260101-000002-ABCDEFG.jsonl")]);
    symlinkSync(outside, path.join(dir, "def.jsonl"));
    writeFileSync(
      path.join(dir, "def.sync-conflict-20260101-000002-ABCDEFG.jsonl"),
      `${line("u9", null, "2026-01-01T00:00:02Z", "planted")}\n`,
    );
    expect(mergeConflicts(dir)).toEqual([]);
    expect(readFileSync(outside, "utf8")).toBe("secret\n");
    expect(lstatSync(path.join(dir, "def.jsonl")).isSymbolicLink()).toBe(true);
  });
});

describe("a project is what its remote says", () => {
  it("normalises the spellings of one remote to one name", () => {
    for (const url of [
      "git@github.com:ana/app.git",
      "https://github.com/ana/app",
      "ssh://git@GitHub.com:22/ana/app.git",
      "https://ana@github.com/ana/app/",
    ]) {
      expect(normaliseRemote(url)).toBe("github.com/ana/app");
    }
    expect(normaliseRemote("/srv/git/app.git")).toBe("/srv/git/app");
  });
});

describe("claude-persist sync: bad input and missing pieces", () => {
  it("says what to do in one line, exits non-zero, and writes nothing", async () => {
    const home = path.join(tempDir("cp-sync-bad-"), "home");
    mkdirSync(path.join(home, ".claude"), { recursive: true });
    const before = JSON.stringify(filesUnder(home));
    const notSetUp = await runCli(["sync", "status"], { env: { HOME: home } });
    expect(notSetUp.exitCode).toBe(1);
    expect(notSetUp.stderr).toBe(
      "claude-persist sync: sync is not set up on this machine: run 'claude-persist sync init' first",
    );
    const badId = await runCli(["sync", "add-device", "not-a-device-id"], { env: { HOME: home } });
    expect(badId.exitCode).toBe(2);
    expect(badId.stderr).toContain("give the other device's ID");
    const badListen = await runCli(["sync", "init", "--listen", "0.0.0.0"], { env: { HOME: home } });
    expect(badListen.exitCode).toBe(2);
    expect(badListen.stderr).toContain("must look like tcp://HOST:PORT");
    const noSyncthing = await runCli(["sync", "init", "--own"], {
      env: { HOME: home, CLAUDE_PERSIST_SYNCTHING: "/nonexistent/syncthing" },
    });
    expect(noSyncthing.exitCode).toBe(1);
    expect(noSyncthing.stderr).toContain("syncthing is not installed: install it");
    const badHost = await runCli(["sync", "unison", "devbox; rm -rf ~"], { env: { HOME: home } });
    expect(badHost.exitCode).toBe(2);
    expect(badHost.stderr).toContain("is not an ssh host");
    const noUnison = await runCli(["sync", "unison", "devbox"], { env: { HOME: home, PATH: "/nonexistent" } });
    expect(noUnison.exitCode).toBe(1);
    expect(noUnison.stderr).toContain("unison is not installed: install it on both machines");
    expect(JSON.stringify(filesUnder(home))).toBe(before);
  });
});

describe.skipIf(!hasSyncthing)("sessions that follow the user between two machines (real Syncthing)", () => {
  let net: LoopbackNetwork;
  let server: MessagesServer;
  let laptop: Machine;
  let desktop: Machine;

  beforeAll(async () => {
    server = await startMessagesServer();
    net = await startLoopbackNetwork();
    const origin = path.join(tempDir("cp-origin-"), "app.git");
    await execa("git", ["init", "-q", "--bare", origin]);
    // The same repo, at other paths, its remote spelt two ways.
    laptop = await makeMachine(net, "laptop", 22101, origin, "git@github.com:ana/app.git", "code/app");
    desktop = await makeMachine(net, "desktop", 22102, origin, "https://github.com/ana/app", "src/work/app");
    for (const machine of [laptop, desktop]) {
      expect((await runCli(["install"], { env: { HOME: machine.home } })).exitCode).toBe(0);
      const init = await initMachine(machine);
      expect(init.exitCode, init.stderr).toBe(0);
      expect(init.stdout).toContain("This project travels as github.com/ana/app.");
    }
    expect(
      (await laptop.cli(["sync", "add-device", desktop.deviceId, "--name", "desktop", "--address", address(desktop)]))
        .exitCode,
    ).toBe(0);
    expect(
      (await desktop.cli(["sync", "add-device", laptop.deviceId, "--name", "laptop", "--address", address(laptop)]))
        .exitCode,
    ).toBe(0);
  }, 120_000);

  afterAll(async () => {
    for (const machine of [laptop, desktop]) if (machine) await machine.cli(["sync", "stop"]);
    await net?.close();
    await server?.close();
  }, 60_000);

  it("sets up Syncthing listening only where named, its API on a 0600 socket, the same ignores on both", async () => {
    const listening = await net.exec(["ss", "-Hltun"], { env: {} });
    const ports = listening.stdout
      .split("\n")
      .filter(Boolean)
      .map((row) => row.split(/\s+/)[4]);
    expect(ports.sort()).toEqual(["127.0.0.1:22101", "127.0.0.1:22102"]);
    const socket = path.join(laptop.claudeDir, "persist-host", "syncthing", "api.sock");
    expect(lstatSync(socket).isSocket()).toBe(true);
    expect(lstatSync(socket).mode & 0o777).toBe(0o600);
    for (const folder of ["projects", "todos", "persist-state"]) {
      expect(readFileSync(path.join(laptop.claudeDir, folder, ".stignore"), "utf8")).toBe(
        readFileSync(path.join(desktop.claudeDir, folder, ".stignore"), "utf8"),
      );
    }
    const doctor = await desktop.cli(["sync", "doctor"]);
    expect(doctor.exitCode, doctor.stdout).toBe(0);
    expect(doctor.stdout).toContain("ok   it listens only on tcp://127.0.0.1:22102, no discovery, no public relays");
    // --json on every action that reports (issue 26): one document each.
    const doctorJson = await desktop.cli(["sync", "doctor", "--json"]);
    expect(doctorJson.exitCode, doctorJson.stdout).toBe(0);
    expect(JSON.parse(doctorJson.stdout)).toMatchObject({
      ok: true,
      checks: expect.arrayContaining([
        { status: "ok", text: "it listens only on tcp://127.0.0.1:22102, no discovery, no public relays" },
      ]),
    });
    const paused = await desktop.cli(["sync", "pause", "--json"]);
    expect(JSON.parse(paused.stdout)).toEqual({
      ok: true,
      messages: ["Paused: nothing is sent or fetched until 'claude-persist sync resume'."],
    });
    const resumed = await desktop.cli(["sync", "resume", "--json"]);
    expect(JSON.parse(resumed.stdout)).toEqual({ ok: true, messages: ["Syncing again."] });
  });

  it("a session started on the laptop continues on the desktop with claude --continue; a todo appears across; secrets stay", async () => {
    writeFileSync(path.join(laptop.claudeDir, ".credentials.json"), '{"secret":"laptop-only"}', { mode: 0o600 });
    mkdirSync(path.join(laptop.claudeDir, "plugins"), { recursive: true });
    writeFileSync(path.join(laptop.claudeDir, "plugins", "installed.json"), "{}");
    const first = await runClaude(["-p", "remember the word PELICAN"], {
      cwd: laptop.repo,
      home: laptop.home,
      apiUrl: server.url,
    });
    expect(first.exitCode, first.stderr).toBe(0);
    const laptopProject = path.join(laptop.claudeDir, "projects", encodeProjectSlug(laptop.repo));
    const [transcript] = readdirSync(laptopProject).filter((name) => name.endsWith(".jsonl"));
    expect(transcript).toBeDefined();
    writeFileSync(
      path.join(laptop.claudeDir, "todos", `${path.basename(transcript ?? "", ".jsonl")}-agent-x.json`),
      '[{"content":"ship it","status":"pending"}]',
    );

    const desktopProject = path.join(desktop.claudeDir, "projects", encodeProjectSlug(desktop.repo));
    const laptopText = readFileSync(path.join(laptopProject, transcript ?? ""), "utf8");
    await waitFor(
      "the transcript on the desktop",
      () => readIfThere(path.join(desktopProject, transcript ?? "")) === laptopText,
    );
    await waitFor("the todo on the desktop", () =>
      readdirSync(path.join(desktop.claudeDir, "todos")).some((name) => name.endsWith("-agent-x.json")),
    );

    const before = server.requests.length;
    const resumed = await runClaude(["--continue", "-p", "which word?"], {
      cwd: desktop.repo,
      home: desktop.home,
      apiUrl: server.url,
    });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(JSON.stringify(server.requests.slice(before))).toContain("remember the word PELICAN");
    // The desktop appended to the same session, and the laptop sees that too.
    await waitFor("the desktop's turn on the laptop", () =>
      readIfThere(path.join(laptopProject, transcript ?? ""))?.includes("which word?"),
    );

    // Never across: credentials, plugins, and each machine's own path slug.
    expect(existsSync(path.join(desktop.claudeDir, ".credentials.json"))).toBe(false);
    expect(existsSync(path.join(desktop.claudeDir, "plugins", "installed.json"))).toBe(false);
    expect(existsSync(path.join(desktop.claudeDir, "projects", encodeProjectSlug(laptop.repo)))).toBe(false);
    expect(readlinkSync(desktopProject)).toMatch(/^repo-github\.com-ana-app-[0-9a-f]{8}$/);
  }, 180_000);

  it("interactive, in a terminal: claude --resume on the desktop shows the laptop's conversation and carries it on", async () => {
    const first = await runClaude(["-p", "remember the word HERON"], {
      cwd: laptop.repo,
      home: laptop.home,
      apiUrl: server.url,
    });
    expect(first.exitCode, first.stderr).toBe(0);
    const laptopProject = path.join(laptop.claudeDir, "projects", encodeProjectSlug(laptop.repo));
    const name =
      readdirSync(laptopProject).find(
        (n) => n.endsWith(".jsonl") && readFileSync(path.join(laptopProject, n), "utf8").includes("HERON"),
      ) ?? "";
    const desktopProject = path.join(desktop.claudeDir, "projects", encodeProjectSlug(desktop.repo));
    await waitFor("the HERON session on the desktop", () =>
      readIfThere(path.join(desktopProject, name))?.includes("Hello from the test server."),
    );
    const env = claudeEnv(desktop.home, server.url);
    // What a first interactive start needs: onboarding done, this folder trusted, the API key approved.
    writeFileSync(
      path.join(desktop.home, ".claude.json"),
      JSON.stringify({
        hasCompletedOnboarding: true,
        projects: { [desktop.repo]: { hasTrustDialogAccepted: true } },
        customApiKeyResponses: { approved: [(env.ANTHROPIC_API_KEY ?? "").slice(-20)], rejected: [] },
      }),
    );
    const tmux = `cp-sync-${process.pid}`;
    const envArgs = Object.entries(env).map(([key, value]) => `${key}=${value}`);
    await execa("tmux", [
      "new-session",
      "-d",
      "-s",
      tmux,
      "-x",
      "200",
      "-y",
      "50",
      "-c",
      desktop.repo,
      "env",
      ...envArgs,
      CLAUDE_BIN,
      "--resume",
      path.basename(name, ".jsonl"),
    ]);
    try {
      const pane = async () => (await execa("tmux", ["capture-pane", "-p", "-t", tmux, "-S", "-200"])).stdout;
      await waitFor(
        "the laptop's conversation on the desktop's screen",
        async () => (await pane()).includes("remember the word HERON"),
        60_000,
      );
      const before = server.requests.length;
      await execa("tmux", ["send-keys", "-t", tmux, "-l", "which bird?"]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await execa("tmux", ["send-keys", "-t", tmux, "Enter"]);
      await waitFor("the reply", () => JSON.stringify(server.requests.slice(before)).includes("which bird?"), 60_000);
      expect(JSON.stringify(server.requests.slice(before))).toContain("remember the word HERON");
    } finally {
      await execa("tmux", ["kill-session", "-t", tmux], { reject: false });
    }
  }, 180_000);

  it("resuming on the desktop a session still being written on the laptop: the hook warns", async () => {
    // Each "machine" has its own hostname (a UTS namespace of its own), as the session-start records name it.
    const onHost = (hostname: string, args: string[], machine: Machine) =>
      execa("unshare", ["-u", "--", "sh", "-c", 'hostname "$0" && exec "$@"', hostname, CLAUDE_BIN, ...args], {
        cwd: machine.repo,
        env: claudeEnv(machine.home, server.url),
        extendEnv: false,
        reject: false,
        stdin: "ignore",
        timeout: 120_000,
      });
    const started = await onHost("laptop-host", ["-p", "start of the OSPREY session"], laptop);
    expect(started.exitCode, started.stderr).toBe(0);
    const laptopProject = path.join(laptop.claudeDir, "projects", encodeProjectSlug(laptop.repo));
    const sessionId = readdirSync(laptopProject)
      .filter(
        (name) => name.endsWith(".jsonl") && readFileSync(path.join(laptopProject, name), "utf8").includes("OSPREY"),
      )
      .map((name) => path.basename(name, ".jsonl"))[0];
    expect(sessionId).toBeDefined();
    const record = path.join("persist-state", "session-starts", `${sessionId}.jsonl`);
    await waitFor(
      "the start record and transcript on the desktop",
      () =>
        readIfThere(path.join(desktop.claudeDir, record))?.includes("laptop-host") &&
        readIfThere(
          path.join(desktop.claudeDir, "projects", encodeProjectSlug(desktop.repo), `${sessionId}.jsonl`),
        )?.includes("OSPREY"),
    );
    const before = server.requests.length;
    const resumed = await onHost("desktop-host", ["--resume", sessionId ?? "", "-p", "go on"], desktop);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const sent = JSON.stringify(server.requests.slice(before));
    expect(sent).toContain("start of the OSPREY session");
    expect(sent).toContain(`session ${sessionId} may still be open on laptop-host`);
  }, 180_000);

  it("two machines writing one session at once: the conflict copy is merged at session start and no line is lost", async () => {
    const project = (machine: Machine) => path.join(machine.claudeDir, "projects", encodeProjectSlug(machine.repo));
    const session = "0b7a3c2e-1111-4222-8333-944445555666";
    const base = `${line("c1", null, "2026-01-01T00:00:01Z", "shared start")}\n`;
    writeFileSync(path.join(project(laptop), `${session}.jsonl`), base, { mode: 0o600 });
    await waitFor(
      "the session on the desktop",
      () => readIfThere(path.join(project(desktop), `${session}.jsonl`)) === base,
    );

    // The desktop is offline while both machines write the session.
    expect((await desktop.cli(["sync", "stop"])).exitCode).toBe(0);
    appendFileSync(
      path.join(project(laptop), `${session}.jsonl`),
      `${line("l2", "c1", "2026-01-01T00:00:02Z", "laptop line")}\n`,
    );
    appendFileSync(
      path.join(project(desktop), `${session}.jsonl`),
      `${line("d2", "c1", "2026-01-01T00:00:03Z", "desktop line")}\n`,
    );
    expect((await desktop.cli(["sync", "start"])).exitCode).toBe(0);

    const conflictOn = await waitFor("a conflict copy", () =>
      [laptop, desktop].find((machine) =>
        readdirSync(project(machine)).some((name) => name.includes(".sync-conflict-")),
      ),
    );
    // The next session start in the project merges it and tells the user.
    const hook = await runCli(["hook", "session-start"], {
      env: { HOME: conflictOn.home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
      input: JSON.stringify({
        session_id: "9d9d9d9d-0000-4000-8000-000000000000",
        cwd: conflictOn.repo,
        source: "startup",
        hook_event_name: "SessionStart",
      }),
    });
    expect(hook.stderr).toContain(`session ${session} was continued on two machines at once`);
    expect(hook.stdout).toContain("the session now has two branches");

    const converged = await waitFor("both machines holding every line, and no conflict copy", () => {
      const texts = [laptop, desktop].map(
        (machine) => readIfThere(path.join(project(machine), `${session}.jsonl`)) ?? "",
      );
      const copies = [laptop, desktop].flatMap((machine) =>
        readdirSync(project(machine)).filter((name) => name.includes(".sync-conflict-")),
      );
      return texts[0] === texts[1] && copies.length === 0 && texts[0];
    });
    for (const text of ["shared start", "laptop line", "desktop line"]) expect(converged).toContain(text);
    expect(converged.trim().split("\n")).toHaveLength(3);
  }, 180_000);

  it("one session started on both machines while apart: sync doctor counts the start records' conflict copy, sync merge keeps both starts", async () => {
    const session = "5e55e55e-2222-4333-8444-955556666777";
    const records = (machine: Machine) => path.join(machine.claudeDir, "persist-state", "session-starts");
    const start = (machine: Machine) =>
      runCli(["hook", "session-start"], {
        env: { HOME: machine.home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
        input: JSON.stringify({
          session_id: session,
          cwd: machine.repo,
          source: "resume",
          hook_event_name: "SessionStart",
        }),
      });
    expect((await start(laptop)).exitCode).toBe(0);
    await waitFor("the start record on the desktop", () =>
      readIfThere(path.join(records(desktop), `${session}.jsonl`))?.includes(session),
    );

    // Apart: each machine starts the session once more.
    expect((await desktop.cli(["sync", "stop"])).exitCode).toBe(0);
    expect((await start(laptop)).exitCode).toBe(0);
    expect((await start(desktop)).exitCode).toBe(0);
    expect((await desktop.cli(["sync", "start"])).exitCode).toBe(0);

    const conflictOn = await waitFor("a conflict copy of the start records", () =>
      [laptop, desktop].find((machine) =>
        readdirSync(records(machine)).some((name) => name.startsWith(`${session}.sync-conflict-`)),
      ),
    );
    const doctor = await conflictOn.cli(["sync", "doctor"]);
    // At least this copy (Syncthing may leave more than one while the two machines settle).
    expect(doctor.stdout).toMatch(
      /[1-9]\d* conflict copies of sessions or their start records: 'claude-persist sync merge'/,
    );
    const merged = await conflictOn.cli(["sync", "merge"]);
    expect(merged.exitCode, merged.stderr).toBe(0);
    expect(merged.stdout).toContain(`session ${session} was started on two machines while apart`);

    const converged = await waitFor("both machines holding all three starts, and no conflict copy", () => {
      const texts = [laptop, desktop].map(
        (machine) => readIfThere(path.join(records(machine), `${session}.jsonl`)) ?? "",
      );
      const copies = [laptop, desktop].flatMap((machine) =>
        readdirSync(records(machine)).filter((name) => name.includes(".sync-conflict-")),
      );
      const [first = "", second] = texts;
      return first === second && copies.length === 0 && first.trim().split("\n").length === 3 && first;
    });
    // In the order they happened, so "the last start" is still the newest one.
    const times = converged
      .trim()
      .split("\n")
      .map((record) => (JSON.parse(record) as { time: string }).time);
    expect(times).toEqual([...times].sort());
    expect((await conflictOn.cli(["sync", "doctor"])).stdout).toContain("no conflict copies waiting");
  }, 180_000);

  it("the Stop hook sends a finished turn at once: Syncthing scans exactly the transcript claude just wrote", async () => {
    const endpoint = endpointOf(path.join(laptop.claudeDir, "persist-host", "syncthing"));
    if (!endpoint) throw new Error("the laptop's Syncthing has no API address");
    const projects = (folder: string) => `/rest/config/folders/claude-projects${folder}`;
    const idle = () =>
      waitFor("the laptop's projects folder idle", async () => {
        const status = await rest<{ state?: string }>(endpoint, "GET", "/rest/db/status?folder=claude-projects");
        return status.state === "idle";
      });
    // The watcher off: only a scan asked for sends a change now (the next full rescan is an hour away).
    await rest(endpoint, "PATCH", projects(""), { fsWatcherEnabled: false });
    await idle();
    const laptopProject = path.join(laptop.claudeDir, "projects", encodeProjectSlug(laptop.repo));
    const identity = readlinkSync(laptopProject);
    const other = `${identity}/0f0f0f0f-1111-4222-8333-944445555666.jsonl`;
    try {
      // Another session changed meanwhile: not this turn's, so not this hook's to send.
      writeFileSync(
        path.join(laptop.claudeDir, "projects", other),
        `${line("o1", null, "2026-01-01T00:00:01Z", "x")}\n`,
      );
      const run = await runClaude(["-p", "remember the word KESTREL"], {
        cwd: laptop.repo,
        home: laptop.home,
        apiUrl: server.url,
      });
      expect(run.exitCode, run.stderr).toBe(0);
      const transcript = readdirSync(laptopProject).find((name) =>
        readFileSync(path.join(laptopProject, name), "utf8").includes("KESTREL"),
      );
      expect(transcript).toBeDefined();
      const sent = readFileSync(path.join(laptopProject, transcript ?? ""), "utf8");
      const onDesktop = path.join(desktop.claudeDir, "projects", identity, transcript ?? "");
      // The turn as it stood when the hook ran: the prompt and the answer (Claude Code then notes the hook's run in
      // the transcript, which the watcher, off here, would bring a second later).
      const arrived = await waitFor(
        "the finished turn on the desktop",
        () => readIfThere(onDesktop)?.includes(`"Hello from the test server."`) && readIfThere(onDesktop),
        30_000,
      );
      expect(arrived).toContain("remember the word KESTREL");
      expect(sent.startsWith(arrived)).toBe(true);
      // Nothing else was scanned: the other session is not in the laptop's index, nor on the desktop.
      const query = `/rest/db/file?folder=claude-projects&file=${encodeURIComponent(other)}`;
      await expect(rest(endpoint, "GET", query)).rejects.toThrow(/404/);
      expect(existsSync(path.join(desktop.claudeDir, "projects", other))).toBe(false);
    } finally {
      rmSync(path.join(laptop.claudeDir, "projects", other), { force: true });
      await rest(endpoint, "PATCH", projects(""), { fsWatcherEnabled: true });
    }
  }, 180_000);
});

describe.skipIf(!hasSyncthing)("an untrusted always-on box as an encrypted relay (real Syncthing)", () => {
  let net: LoopbackNetwork;
  let laptop: Machine;
  let desktop: Machine;
  let relay: Machine;

  beforeAll(async () => {
    net = await startLoopbackNetwork();
    const origin = path.join(tempDir("cp-origin-"), "app.git");
    await execa("git", ["init", "-q", "--bare", origin]);
    laptop = await makeMachine(net, "laptop", 22201, origin, "git@github.com:ana/app.git", "code/app");
    desktop = await makeMachine(net, "desktop", 22202, origin, "https://github.com/ana/app.git", "src/app");
    relay = await makeMachine(net, "relay", 22203, origin, "https://github.com/ana/app.git", "app");
    for (const machine of [laptop, desktop]) expect((await initMachine(machine)).exitCode).toBe(0);
    const relayInit = await initMachine(relay, ["--relay"]);
    expect(relayInit.exitCode, relayInit.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    for (const machine of [laptop, desktop, relay]) if (machine) await machine.cli(["sync", "stop"]);
    await net?.close();
  }, 60_000);

  it("carries the laptop's session to the desktop while the laptop is off, and stores no plain text", async () => {
    // The laptop and the desktop never connect to each other: only to the relay.
    const added = await laptop.cli([
      "sync",
      "add-device",
      relay.deviceId,
      "--untrusted",
      "--name",
      "relay",
      "--address",
      address(relay),
    ]);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toContain("copy that file to the same place on your other machines");
    const password = path.join("persist-host", "sync-relay-password");
    writeFileSync(path.join(desktop.claudeDir, password), readFileSync(path.join(laptop.claudeDir, password)), {
      mode: 0o600,
    });
    expect(
      (await desktop.cli(["sync", "add-device", relay.deviceId, "--untrusted", "--address", address(relay)])).exitCode,
    ).toBe(0);
    for (const machine of [laptop, desktop]) {
      expect(
        (
          await relay.cli([
            "sync",
            "add-device",
            machine.deviceId,
            "--name",
            machine.name,
            "--address",
            address(machine),
          ])
        ).exitCode,
      ).toBe(0);
    }
    expect((await desktop.cli(["sync", "stop"])).exitCode).toBe(0);

    const session = "5e55e55e-2222-4333-8444-955556666777";
    const text = `${line("r1", null, "2026-01-01T00:00:01Z", "the word is ALBATROSS")}\n`;
    writeFileSync(path.join(laptop.claudeDir, "projects", encodeProjectSlug(laptop.repo), `${session}.jsonl`), text, {
      mode: 0o600,
    });
    await laptop.cli(["sync", "scan"]);
    await waitFor(
      "the relay holding the laptop's projects",
      async () => {
        const status = await laptop.cli(["sync", "status", "--json"]);
        return status.exitCode === 0 && status.stdout.includes('"connected": true') && (await relayHasAll(laptop));
      },
      90_000,
    );
    expect((await laptop.cli(["sync", "stop"])).exitCode).toBe(0);

    expect((await desktop.cli(["sync", "start"])).exitCode).toBe(0);
    const onDesktop = path.join(desktop.claudeDir, "projects", encodeProjectSlug(desktop.repo), `${session}.jsonl`);
    await waitFor("the session on the desktop, from the relay", () => readIfThere(onDesktop) === text, 90_000);

    const stored = filesUnder(path.join(relay.claudeDir, "persist-host", "syncthing", "encrypted"));
    expect(stored.length).toBeGreaterThan(0);
    for (const file of stored) {
      expect(file).not.toMatch(/repo-|jsonl/);
      expect(readFileSync(file).includes("ALBATROSS")).toBe(false);
    }
  }, 240_000);

  /** The laptop's view: the relay has every file of the projects folder. (Its API socket is a file: reachable from here.) */
  async function relayHasAll(machine: Machine): Promise<boolean> {
    const endpoint = endpointOf(path.join(machine.claudeDir, "persist-host", "syncthing"));
    if (!endpoint) return false;
    const completion = await rest<{ completion?: number; globalItems?: number; needItems?: number }>(
      endpoint,
      "GET",
      `/rest/db/completion?folder=claude-projects&device=${relay.deviceId}`,
    );
    // The project's folder and the session in it.
    return completion.completion === 100 && completion.needItems === 0 && (completion.globalItems ?? 0) >= 2;
  }
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe.skipIf(!hasSyncthing)("a Syncthing the user already runs (real Syncthing)", () => {
  it("is used as it is: the folders are added to it, and sync stop leaves it running", async () => {
    const net = await startLoopbackNetwork();
    const origin = path.join(tempDir("cp-origin-"), "app.git");
    await execa("git", ["init", "-q", "--bare", origin]);
    const machine = await makeMachine(net, "workstation", 22501, origin, "git@github.com:ana/app.git", "app");
    const userHome = path.join(machine.home, ".config", "syncthing");
    mkdirSync(userHome, { recursive: true, mode: 0o700 });
    writeFileSync(
      path.join(userHome, "config.xml"),
      `<configuration version="36"><gui enabled="true" tls="false"><address>127.0.0.1:8384</address><apikey>users-own-key</apikey></gui>` +
        `<options><listenAddress>tcp://127.0.0.1:22501</listenAddress><globalAnnounceEnabled>false</globalAnnounceEnabled><localAnnounceEnabled>false</localAnnounceEnabled>` +
        `<relaysEnabled>false</relaysEnabled><natEnabled>false</natEnabled><urAccepted>-1</urAccepted><autoUpgradeIntervalH>0</autoUpgradeIntervalH><startBrowser>false</startBrowser></options></configuration>`,
    );
    /** The user's API is on a port inside the namespace: asked from a node run there. */
    const userApi = async (method: string, apiPath: string): Promise<string> =>
      (
        await net.exec(
          [
            process.execPath,
            "-e",
            `fetch("http://127.0.0.1:8384${apiPath}", { method: "${method}", headers: { "X-API-Key": "users-own-key" } }).then((r) => r.text()).then(console.log, () => {})`,
          ],
          { env: {} },
        )
      ).stdout;
    const daemon = net.exec(
      [
        "syncthing",
        "serve",
        `--home=${userHome}`,
        "--no-browser",
        "--no-restart",
        "--no-upgrade",
        `--logfile=${path.join(userHome, "log")}`,
      ],
      { env: { HOME: machine.home } },
    );
    try {
      await waitFor("the user's Syncthing", async () => (await userApi("GET", "/rest/system/ping")).includes("pong"));
      const init = await machine.cli(["sync", "init"]);
      expect(init.exitCode, init.stderr).toBe(0);
      expect(init.stdout).toContain(`Using the Syncthing you already run (${userHome})`);
      expect(existsSync(path.join(machine.claudeDir, "persist-host", "syncthing"))).toBe(false);
      const folders = await machine.cli(["sync", "status", "--json"]);
      expect(folders.exitCode, folders.stderr).toBe(0);
      expect(JSON.parse(folders.stdout).folders.map((f: { id: string; state: string }) => f.state)).not.toContain(
        "not configured",
      );
      const stop = await machine.cli(["sync", "stop"]);
      expect(stop.exitCode).toBe(1);
      expect(stop.stderr).toContain("uses the Syncthing you run yourself");
      expect((await machine.cli(["sync", "doctor"])).stdout).toContain("ok   Syncthing answers");
    } finally {
      await userApi("POST", "/rest/system/shutdown");
      await daemon;
      await net.close();
    }
  }, 120_000);
});

const hasUnison =
  (await execa("unison", ["-version"], { reject: false }).catch(() => ({ exitCode: 1 }))).exitCode === 0;

describe.skipIf(!hasUnison)("unison with a machine reached over ssh (real unison, over a pipe)", () => {
  it("brings the devbox in step on demand, and a session written on both sides keeps every line", async () => {
    const laptop = path.join(tempDir("cp-unison-"), "home", "ana");
    const devbox = path.join(tempDir("cp-unison-"), "srv", "ana");
    for (const home of [laptop, devbox]) mkdirSync(path.join(home, ".claude"), { recursive: true, mode: 0o700 });
    // Stands in for ssh: runs the command it is given as the devbox, whose home is elsewhere.
    const ssh = path.join(tempDir("cp-fake-ssh-"), "ssh");
    writeFileSync(
      ssh,
      `#!/bin/sh\nwhile [ $# -gt 0 ] && [ "$1" != unison ]; do shift; done\nexec env HOME=${devbox} UNISON=${devbox}/.unison "$@"\n`,
      { mode: 0o755 },
    );
    const identity = path.join(".claude", "projects", "repo-github.com-ana-app-0123abcd");
    mkdirSync(path.join(laptop, identity), { recursive: true });
    symlinkSync("repo-github.com-ana-app-0123abcd", path.join(laptop, ".claude", "projects", "-home-ana-code-app"));
    const session = path.join(identity, "4c4c4c4c-1111-4222-8333-944445555666.jsonl");
    writeFileSync(path.join(laptop, session), `${line("u1", null, "2026-01-01T00:00:01Z", "common start")}\n`, {
      mode: 0o600,
    });
    writeFileSync(path.join(laptop, ".claude", ".credentials.json"), "{}", { mode: 0o600 });
    mkdirSync(path.join(laptop, ".claude", "todos"), { recursive: true });
    writeFileSync(path.join(laptop, ".claude", "todos", "t-agent-t.json"), "[]");
    const unison = () =>
      runCli(["sync", "unison", "devbox", "--ssh-command", ssh], { env: { HOME: laptop, USER: "ana" } });

    const first = await unison();
    expect(first.exitCode, first.stderr + first.stdout).toBe(0);
    expect(readFileSync(path.join(devbox, session), "utf8")).toContain("common start");
    expect(existsSync(path.join(devbox, ".claude", "todos", "t-agent-t.json"))).toBe(true);
    expect(existsSync(path.join(devbox, ".claude", ".credentials.json"))).toBe(false);
    expect(existsSync(path.join(devbox, ".claude", "projects", "-home-ana-code-app"))).toBe(false);

    appendFileSync(path.join(laptop, session), `${line("a2", "u1", "2026-01-01T00:00:02Z", "laptop turn")}\n`);
    appendFileSync(path.join(devbox, session), `${line("b2", "u1", "2026-01-01T00:00:03Z", "devbox turn")}\n`);
    const second = await unison();
    expect(second.exitCode, second.stderr + second.stdout).toBe(0);
    const onLaptop = readFileSync(path.join(laptop, session), "utf8");
    expect(readFileSync(path.join(devbox, session), "utf8")).toBe(onLaptop);
    for (const text of ["common start", "laptop turn", "devbox turn"]) expect(onLaptop).toContain(text);
    expect(onLaptop.trim().split("\n")).toHaveLength(3);
  }, 120_000);
});
