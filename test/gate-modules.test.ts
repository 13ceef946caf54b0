// The modules issue 22 moved onto the gate last (src/container-tree.ts): the sessions listing's start records, the
// SessionStart hook's look at them, doctor's removal of its probe record, and the gate calls they use. Each attack is
// a link a container puts where a folder of persist-state/ or projects/ was: nothing behind it may be read or removed.
import { mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { readlinkBeneath, unlinkBeneath } from "../src/container-tree.ts";
import { holdDirBeneath } from "../src/fs-beneath.ts";
import { forgetProbeStart } from "../src/doctor/host.ts";
import { syncAtSessionStart } from "../src/sync/session-start.ts";
import { runCli, tempDir, tempHome } from "./support/claude.ts";
import { writeTranscript } from "./support/transcripts.ts";

const HOUR = 3_600_000;
const ID = "d1d1d1d1-0000-4000-8000-000000000022";

/** A host folder the container points a link at, holding what looks like a session's start records. */
function hostFolderWithRecords(machine: string): string {
  const folder = tempDir("cp-host-private-");
  const record = (time: string) =>
    JSON.stringify({ environment: "container", machine, cwd: "/home/ana/private", time });
  writeFileSync(
    path.join(folder, `${ID}.jsonl`),
    `${record(new Date(Date.now() - HOUR).toISOString())}\n${record(new Date().toISOString())}\n`,
  );
  return folder;
}

/** Puts a link to `target` where persist-state/session-starts is (its folder moved aside). */
function plantStartsLink(home: string, target: string): void {
  const starts = path.join(home, ".claude", "persist-state", "session-starts");
  mkdirSync(starts, { recursive: true });
  renameSync(starts, `${starts}.aside`);
  symlinkSync(target, starts);
}

describe("sessions and the start records a container can replace", () => {
  it("shows where a session ran from its records, but reads none through a link put in place of their folder", async () => {
    const home = tempHome();
    const cwd = tempDir("cp-work-");
    const start = Date.now() - 2 * HOUR;
    const transcript = path.join(home, ".claude", "projects", encodeProjectSlug(cwd), `${ID}.jsonl`);
    writeTranscript(transcript, { id: ID, cwd, branch: "main", prompt: "hello", start, end: start + HOUR });
    const starts = path.join(home, ".claude", "persist-state", "session-starts");
    mkdirSync(starts, { recursive: true });
    writeFileSync(
      path.join(starts, `${ID}.jsonl`),
      `${JSON.stringify({ environment: "container", machine: "devbox", time: new Date(start).toISOString() })}\n`,
    );
    const list = async () => {
      const result = await runCli(["sessions", "--json"], { env: { HOME: home }, cwd });
      expect(result.exitCode, result.stderr).toBe(0);
      return result.stdout;
    };
    expect(await list()).toContain("devbox");
    plantStartsLink(home, hostFolderWithRecords("host-private-folder"));
    // Twice: the second listing starts from the index the first one wrote.
    for (let run = 0; run < 2; run++) {
      const out = await list();
      expect(out).toContain(ID);
      expect(out).not.toContain("host-private-folder");
    }
  });
});

describe("the SessionStart hook and the start records a container can replace", () => {
  it("does not read the records of a resumed session through a link put in place of their folder", () => {
    const home = tempHome();
    mkdirSync(path.join(home, ".claude", "persist-host"), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(home, ".claude", "persist-host", "sync.json"), "{}\n");
    const cwd = tempDir("cp-work-");
    const folder = path.join(home, ".claude", "projects", encodeProjectSlug(cwd));
    mkdirSync(folder, { recursive: true });
    const transcript = path.join(folder, `${ID}.jsonl`);
    writeFileSync(transcript, "{}\n");
    const env = { HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" };
    const input = { session_id: ID, cwd, source: "resume", transcript_path: transcript };
    // Its own records (a start on another machine, then this one): the warning is given.
    const starts = path.join(home, ".claude", "persist-state", "session-starts");
    mkdirSync(starts, { recursive: true });
    writeFileSync(
      path.join(starts, `${ID}.jsonl`),
      readFileSync(path.join(hostFolderWithRecords("laptop"), `${ID}.jsonl`)),
    );
    expect(syncAtSessionStart(env, input, "host", new Date()).notes.join("")).toContain("may still be open on laptop");
    plantStartsLink(home, hostFolderWithRecords("host-private-folder"));
    const { notes, problems } = syncAtSessionStart(env, input, "host", new Date());
    expect(`${notes.join("")}${problems.join("")}`).not.toContain("host-private-folder");
  });
});

describe("doctor's run of the hook", () => {
  it("removes its probe's start record, and nothing through a link put in place of the records' folder", () => {
    const home = tempHome();
    const env = { HOME: home };
    const starts = path.join(home, ".claude", "persist-state", "session-starts");
    mkdirSync(starts, { recursive: true });
    const probe = "claude-persist-doctor-0000";
    writeFileSync(path.join(starts, `${probe}.jsonl`), "{}\n");
    forgetProbeStart(env, probe);
    expect(readdirSync(starts)).toEqual([]);
    const target = tempDir("cp-host-private-");
    writeFileSync(path.join(target, `${probe}.jsonl`), "the host's own file\n");
    plantStartsLink(home, target);
    forgetProbeStart(env, probe);
    expect(readdirSync(target)).toEqual([`${probe}.jsonl`]);
  });
});

describe("the gate's link and removal calls", () => {
  it("read a link and remove a name only where no component on the way is a link", () => {
    const root = tempDir("cp-root-");
    const outside = tempDir("cp-outside-");
    mkdirSync(path.join(root, "projects"));
    symlinkSync("repo-x", path.join(root, "projects", "-work-app"));
    writeFileSync(path.join(outside, "file"), "kept\n");
    symlinkSync("elsewhere", path.join(outside, "link"));
    symlinkSync(outside, path.join(root, "planted"));
    expect(readlinkBeneath(root, "projects/-work-app")).toBe("repo-x");
    expect(readlinkBeneath(root, "projects")).toBeUndefined();
    expect(readlinkBeneath(root, "projects/missing")).toBeUndefined();
    expect(readlinkBeneath(root, "planted/link")).toBeUndefined();
    expect(() => unlinkBeneath(root, "planted/file")).toThrow(/is a link or not a folder/);
    expect(readFileSync(path.join(outside, "file"), "utf8")).toBe("kept\n");
    unlinkBeneath(root, "projects/-work-app");
    unlinkBeneath(root, "projects/-work-app");
    expect(readdirSync(path.join(root, "projects"))).toEqual([]);
  });
});

describe.skipIf(process.platform !== "linux")("a folder held across calls", () => {
  it("stays the folder it was when a link is put in its place, closes once however often asked; a link is never held", () => {
    const root = tempDir("cp-root-");
    const outside = tempDir("cp-outside-");
    writeFileSync(path.join(outside, "host-file"), "the host's\n");
    mkdirSync(path.join(root, "starts"));
    writeFileSync(path.join(root, "starts", "record.jsonl"), "{}\n");
    const held = holdDirBeneath(root, "starts");
    renameSync(path.join(root, "starts"), path.join(root, "aside"));
    symlinkSync(outside, path.join(root, "starts"));
    expect(readdirSync(held.dir)).toEqual(["record.jsonl"]);
    held.close();
    held.close();
    expect(() => holdDirBeneath(root, "starts")).toThrow(/is a link or not a folder/);
  });
});
