// A container racing a conflict merge (issue 22): while `sync merge` / `sync status` (mergeAllConflicts) and the
// SessionStart hook (syncAtSessionStart) fold a large conflict copy into its session, which takes a good part of a
// second, a process flips the project folder with a link to a host folder, over and over. The merge must never
// create or change anything in the link's target: it works in the folder it holds open, whatever the name leads to.
// The code before the merge was held (path by path) loses this race within seconds.
import { spawn } from "node:child_process";
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { mergeAllConflicts } from "../src/sync/conflicts.ts";
import { syncAtSessionStart } from "../src/sync/session-start.ts";
import { tempDir, tempHome } from "./support/claude.ts";

const COPY = "abc.sync-conflict-20260101-000002-ABCDEFG.jsonl";
/** How long each merger runs against the flipping: the old code lost within 2 to 6 s on a loaded machine. */
const RACE_MS = 8_000;

/** A conflict copy big enough that its union takes a good part of a second: the window the container aims at. */
function bigCopy(): string {
  const lines: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    lines.push(
      JSON.stringify({
        uuid: `u${i}`,
        timestamp: `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}Z`,
        type: "user",
        message: { role: "user", content: `the container's line ${i} ${"x".repeat(80)}` },
      }),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The host folder the container wants written: every name and its bytes. */
function contentsOf(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(path.join(dir, name), "utf8")]));
}

/**
 * A child that swaps `projects/<name>` (a real folder) for a link to `victim` and back, with renames, until `stop`
 * exists; it always ends with the folder back in place.
 */
function flipper(projects: string, name: string, victim: string, stop: string): Promise<number> {
  const script = `
    const fs = require("node:fs");
    const [projects, name, victim, stop] = process.argv.slice(1);
    const real = projects + "/" + name, parked = projects + "/.parked", link = projects + "/.link";
    fs.symlinkSync(victim, link);
    let flips = 0;
    while (!fs.existsSync(stop)) {
      fs.renameSync(real, parked);
      fs.renameSync(link, real);
      // The link stays the longer: a merge that writes while it is there writes into the victim.
      for (const until = performance.now() + 2; performance.now() < until; );
      fs.renameSync(real, link);
      fs.renameSync(parked, real);
      for (const until = performance.now() + 1; performance.now() < until; );
      flips++;
    }
    fs.unlinkSync(link);
    process.stdout.write(String(flips));
  `;
  const child = spawn(process.execPath, ["-e", script, projects, name, victim, stop], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`the flipper exited ${code}`))));
  });
}

/**
 * Runs `merge` again and again for RACE_MS while the flipper swaps the folder, putting the conflict copy back (and
 * the merged session away) through a descriptor of the real folder, which the flipper moves but never replaces.
 * Stops early when the victim changed; returns how many runs there were, how many of them merged, and the flips.
 */
async function race(
  projects: string,
  name: string,
  victim: string,
  merge: () => number,
): Promise<{ runs: number; merged: number; flips: number; ms: number }> {
  const copy = bigCopy();
  const before = contentsOf(victim);
  const stop = path.join(tempDir("cp-stop-"), "stop");
  const held = openSync(path.join(projects, name), constants.O_RDONLY | constants.O_DIRECTORY);
  const inHeld = (file: string) => `/proc/self/fd/${held}/${file}`;
  const flipping = flipper(projects, name, victim, stop);
  const started = Date.now();
  let runs = 0;
  let merged = 0;
  try {
    while (Date.now() - started < RACE_MS) {
      // A fresh copy only after one was merged: a run that found the folder swapped costs a few milliseconds.
      if (!existsSync(inHeld(COPY))) {
        rmSync(inHeld("abc.jsonl"), { force: true });
        writeFileSync(inHeld(COPY), copy);
      }
      try {
        merged += merge();
      } catch {
        // The old code fell over mid-merge (a name gone from under it); what counts is what it left behind.
      }
      runs++;
      // Let the flipper run on its own for a moment, as a container's loop would between our runs.
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (JSON.stringify(contentsOf(victim)) !== JSON.stringify(before)) break;
    }
  } finally {
    writeFileSync(stop, "");
    closeSync(held);
  }
  const flips = await flipping;
  return { runs, merged, flips, ms: Date.now() - started };
}

/** A host home where sync is set up (the hook merges only then), its projects/ folder, and a host folder to guard. */
function setUp(): { home: string; projects: string; victim: string } {
  const home = tempHome();
  mkdirSync(path.join(home, ".claude", "persist-host"), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(home, ".claude", "persist-host", "sync.json"), "{}\n");
  const projects = path.join(home, ".claude", "projects");
  mkdirSync(projects, { recursive: true });
  const victim = tempDir("cp-victim-");
  writeFileSync(path.join(victim, "notes.txt"), "the host's own file\n");
  return { home, projects, victim };
}

describe.skipIf(process.platform !== "linux")("a conflict merge raced by a container flipping the folder", () => {
  it("sync merge and sync status never create or change a file in the folder a swapped-in link names", async () => {
    const { home, projects, victim } = setUp();
    const name = "repo-github.com-ana-app-12345678";
    mkdirSync(path.join(projects, name));
    const before = contentsOf(victim);
    const result = await race(projects, name, victim, () => mergeAllConflicts({ HOME: home }).length);
    expect(
      contentsOf(victim),
      `the victim changed after ${result.runs} runs in ${result.ms} ms (${result.flips} flips)`,
    ).toEqual(before);
    // The race really ran: the flipper flipped and merges went through between its flips.
    expect(result.flips).toBeGreaterThan(50);
    expect(result.merged).toBeGreaterThan(0);
  }, 60_000);

  it("the SessionStart hook never creates or changes a file in the folder a swapped-in link names", async () => {
    const { home, projects, victim } = setUp();
    const cwd = tempDir("cp-work-");
    const name = encodeProjectSlug(cwd);
    mkdirSync(path.join(projects, name));
    const before = contentsOf(victim);
    const env = { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const result = await race(projects, name, victim, () => {
      const { notes } = syncAtSessionStart(env, { session_id: "abc", cwd }, "host", new Date());
      return notes.length;
    });
    expect(
      contentsOf(victim),
      `the victim changed after ${result.runs} runs in ${result.ms} ms (${result.flips} flips)`,
    ).toEqual(before);
    expect(result.flips).toBeGreaterThan(50);
    expect(result.merged).toBeGreaterThan(0);
  }, 60_000);
});
