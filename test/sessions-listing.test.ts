// `sessions --all` prints the last listing's output again when nothing it was made from changed. What a user must
// never see is a kept output after something changed: each case lists (the output is kept), marks the kept output
// so that its reuse shows, lists again (the mark shows: the kept output is what is printed), changes one input, and
// checks that the next listing is the one a listing with nothing kept makes.
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeEach, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { CLI, runCli, tempDir, tempHome } from "./support/claude.ts";
import { writeTranscript } from "./support/transcripts.ts";

const HOUR = 3_600_000;
/** Put in place of the first `claude --resume` of a kept listing (the same length: the kept file stays well formed). */
const MARK = "CLAUDE --RESUME";
const ids = ["c1c1c1c1-0000-4000-8000-000000000001", "c1c1c1c1-0000-4000-8000-000000000002"];

type Listing = { stdout: string; stderr: string };

describe("sessions --all: the last output, printed again only while nothing it was made from changed", () => {
  let home: string;
  let folder: string;
  let dir: string;
  let kept: string;

  /** `sessions --all`, as JSON or as a table, from `cwd` (the project folder unless said). */
  async function list(options: { table?: boolean; cwd?: string; env?: Record<string, string> } = {}): Promise<Listing> {
    const args = ["sessions", "--all", ...(options.table ? [] : ["--json"])];
    const result = await runCli(args, { env: { HOME: home, ...options.env }, cwd: options.cwd ?? folder });
    expect(result.exitCode, result.stderr).toBe(0);
    return { stdout: result.stdout, stderr: result.stderr };
  }

  /** What a listing makes with nothing kept from the last one. */
  async function fresh(options: Parameters<typeof list>[0] = {}): Promise<string> {
    rmSync(kept, { recursive: true, force: true });
    return (await list(options)).stdout;
  }

  /** Lists, marks the kept output, and checks that the next listing prints it: the kept output is in use. */
  async function keep(options: Parameters<typeof list>[0] = {}): Promise<void> {
    await list(options);
    const file = path.join(kept, options.table ? "table.listing" : "json.listing");
    writeFileSync(file, readFileSync(file, "latin1").replace("claude --resume", MARK), "latin1");
    expect((await list(options)).stdout).toContain(MARK);
  }

  beforeEach(() => {
    home = tempHome();
    folder = tempDir("cp-listing-");
    dir = path.join(home, ".claude", "projects", encodeProjectSlug(folder));
    kept = path.join(home, ".claude", "persist-host", "sessions-listings");
    for (const [i, id] of ids.entries()) {
      writeTranscript(path.join(dir, `${id}.jsonl`), {
        id,
        cwd: folder,
        branch: i === 0 ? "main" : "feature/login",
        prompt: `prompt ${i}`,
        start: Date.now() - (i + 3) * HOUR,
        end: Date.now() - (i + 2) * HOUR,
      });
    }
  });

  const changes: Array<[string, () => Promise<void> | void]> = [
    [
      "a transcript grows",
      () =>
        writeFileSync(
          path.join(dir, `${ids[1]}.jsonl`),
          `${JSON.stringify({ type: "assistant", sessionId: ids[1], cwd: folder, timestamp: new Date().toISOString(), message: { role: "assistant", content: "more" } })}\n`,
          { flag: "a" },
        ),
    ],
    [
      "a transcript is added",
      () =>
        writeTranscript(path.join(dir, "c1c1c1c1-0000-4000-8000-000000000003.jsonl"), {
          id: "c1c1c1c1-0000-4000-8000-000000000003",
          cwd: folder,
          branch: "main",
          prompt: "a new one",
          start: Date.now() - HOUR,
          end: Date.now(),
        }),
    ],
    ["a transcript is deleted", () => unlinkSync(path.join(dir, `${ids[0]}.jsonl`))],
    [
      "a transcript is rewritten with the same size and an older time",
      () => {
        const file = path.join(dir, `${ids[0]}.jsonl`);
        const text = readFileSync(file, "utf8").replace("prompt 0", "prompt 9");
        const { atime, mtime } = statSync(file);
        writeFileSync(file, text);
        utimesSync(file, atime, new Date(mtime.getTime() - 60_000));
      },
    ],
    [
      "the hook records a session start",
      async () => {
        const hook = await runCli(["hook", "session-start"], {
          env: { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
          cwd: folder,
          input: JSON.stringify({ session_id: ids[1], cwd: folder, hook_event_name: "SessionStart", source: "resume" }),
        });
        expect(hook.exitCode, hook.stderr).toBe(0);
      },
    ],
    [
      "start-work records a work item for a session's branch",
      () => {
        const state = path.join(home, ".claude", "persist-state");
        mkdirSync(state, { recursive: true });
        const item = { identifier: "LIN-42", branch: "feature/login", repoPath: folder, title: "Log in" };
        writeFileSync(path.join(state, "work-items.json"), JSON.stringify([item]));
      },
    ],
    [
      "a container path is mapped onto the project",
      () => {
        const state = path.join(home, ".claude", "persist-state");
        mkdirSync(state, { recursive: true });
        const containerPath = "/workspaces/app";
        const mapping = {
          hostPath: folder,
          hostSlug: encodeProjectSlug(folder),
          containerPath,
          containerSlug: encodeProjectSlug(containerPath),
          time: new Date().toISOString(),
        };
        writeFileSync(path.join(state, "mappings.json"), JSON.stringify([mapping]));
        symlinkSync(dir, path.join(home, ".claude", "projects", encodeProjectSlug(containerPath)));
      },
    ],
    [
      "the project folder becomes a linked worktree of another repo",
      () => writeFileSync(path.join(folder, ".git"), "gitdir: /srv/main-repo/.git/worktrees/app\n"),
    ],
  ];

  it.each(changes)("lists anew when %s", async (_what, change) => {
    await keep();
    await change();
    const after = await list();
    expect(after.stdout).not.toContain(MARK);
    expect(after.stdout).toBe(await fresh());
  });

  it("lists anew from another folder: each session's resume command starts with a cd to its own", async () => {
    await keep();
    const elsewhere = tempDir("cp-listing-elsewhere-");
    const after = await list({ cwd: elsewhere });
    expect(after.stdout).not.toContain(MARK);
    expect(after.stdout).toContain(`"resume": "cd ${folder} && claude --resume`);
  });

  it.each([
    ["the terminal is narrower", { COLUMNS: "70" }],
    ["the time zone differs", { TZ: "Pacific/Kiritimati" }],
  ])("prints a table anew when %s", async (_what, env) => {
    await keep({ table: true, env: { COLUMNS: "200", TZ: "UTC" } });
    const after = await list({ table: true, env: { COLUMNS: "200", TZ: "UTC", ...env } });
    expect(after.stdout).not.toContain(MARK);
    expect(after.stdout).toBe(await fresh({ table: true, env: { COLUMNS: "200", TZ: "UTC", ...env } }));
  });

  it("lists a session whose transcript names a file as its folder (a container can write anything there)", async () => {
    const file = path.join(tempDir("cp-listing-file-"), "not-a-folder");
    writeFileSync(file, "");
    const id = "c1c1c1c1-0000-4000-8000-000000000009";
    const odd = path.join(home, ".claude", "projects", encodeProjectSlug(file));
    writeTranscript(path.join(odd, `${id}.jsonl`), {
      id,
      cwd: file,
      branch: "main",
      prompt: "odd",
      start: Date.now() - HOUR,
      end: Date.now(),
    });
    const listed = JSON.parse((await list()).stdout) as { sessions: Array<{ id: string; project: string }> };
    expect(listed.sessions.find((s) => s.id === id)?.project).toBe(file);
  });

  it("in a terminal: the table fits the terminal's width, kept for that width, and made anew when it is resized", async () => {
    const socket = `cp-listing-${process.pid}-${Date.now()}`;
    const tmux = (args: string[]) =>
      execa("tmux", ["-L", socket, ...args], { env: { HOME: home, PATH: process.env.PATH ?? "", TERM: "xterm" } });
    // The session's shell gets the server's environment: this HOME, no COLUMNS (the width is the terminal's own).
    await tmux(["new-session", "-d", "-x", "140", "-y", "40", "-s", "t", "-c", folder, "sh"]);
    try {
      let run = 0;
      const screen = async (): Promise<string[]> => {
        run++;
        await tmux(["send-keys", "-t", "t", "clear; tmux clear-history; ", ""]);
        await tmux(["send-keys", "-t", "t", "-l", `node ${CLI} sessions --all; echo END-${run}`]);
        await tmux(["send-keys", "-t", "t", "Enter"]);
        for (let waited = 0; waited < 30_000; waited += 100) {
          // -J joins what the terminal wrapped: a line longer than the terminal was wrapped.
          const text = (await tmux(["capture-pane", "-p", "-J", "-t", "t"])).stdout;
          const lines = text.split("\n");
          const end = lines.indexOf(`END-${run}`);
          if (end >= 0)
            return lines.slice(
              lines.findIndex((line) => line.includes("sessions, newest first")),
              end,
            );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(
          `the listing did not finish in the terminal:\n${(await tmux(["capture-pane", "-p", "-t", "t"])).stdout}`,
        );
      };
      const wide = await screen();
      expect(wide.find((line) => line.includes("LAST ACTIVITY"))).toContain("RESUME");
      for (const line of wide) expect(line.length).toBeLessThanOrEqual(140);
      expect(await screen()).toEqual(wide);
      expect(readdirSync(kept)).toContain("table.listing");
      await tmux(["resize-window", "-t", "t", "-x", "92"]);
      const narrow = await screen();
      for (const line of narrow) expect(line.length).toBeLessThanOrEqual(92);
      expect(narrow).not.toEqual(wide);
      expect(narrow.filter((line) => line.includes("claude --resume"))).toHaveLength(ids.length);
    } finally {
      await tmux(["kill-server"]).catch(() => undefined);
    }
  });

  it("keeps a JSON listing and a table each, so that using both does not make either anew", async () => {
    await keep();
    await keep({ table: true });
    expect((await list()).stdout).toContain(MARK);
    expect((await list({ table: true })).stdout).toContain(MARK);
  });

  it("lists anew, and replaces the file, when what is kept is damaged or is not a file we wrote", async () => {
    const expected = await fresh();
    mkdirSync(kept, { recursive: true });
    for (const damage of ["not a kept listing\n", '{"format":2,"shared":"","generation":"a","projects":[7]}\n', ""]) {
      writeFileSync(path.join(kept, "json.listing"), damage);
      expect((await list()).stdout).toBe(expected);
    }
    // A link put where the listing is kept is replaced, and what it points at is left alone.
    const target = path.join(tempDir("cp-listing-target-"), "target");
    writeFileSync(target, "keep me");
    rmSync(path.join(kept, "json.listing"));
    symlinkSync(target, path.join(kept, "json.listing"));
    expect((await list()).stdout).toBe(expected);
    expect(readFileSync(target, "utf8")).toBe("keep me");
    expect(lstatSync(path.join(kept, "json.listing")).isFile()).toBe(true);
    expect(statSync(path.join(kept, "json.listing")).mode & 0o777).toBe(0o600);
  });
});
