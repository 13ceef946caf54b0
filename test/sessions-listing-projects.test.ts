// `sessions --all` keeps its output per project: after one transcript changed, only that project is listed again, the
// others print what they printed last time. What a user must never see is a listing that differs from one made with
// nothing kept. Each case lists three projects (kept), marks every kept part so that its reuse shows, changes one
// thing, lists again, and compares the output (marks taken out) byte for byte with a listing made with nothing kept.
import {
  copyFileSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { encodeProjectSlug } from "../src/claude/home.ts";
import { runCli, tempDir, tempHome } from "./support/claude.ts";
import { writeTranscript } from "./support/transcripts.ts";

const HOUR = 3_600_000;
/** Put in place of every `claude --resume` of the kept listing: the same length, so the kept file stays well formed. */
const MARK = "CLAUDE --RESUME";
const TABLE_ENV = { COLUMNS: "200", TZ: "UTC" };

type Session = { project: string; id: string; resume: string };

describe("sessions --all after one change: only the changed project is listed again, and the output is a fresh one's", () => {
  let home: string;
  let kept: string;
  let cwd: string;
  const projects: string[] = [];
  const dirs: string[] = [];

  function idOf(p: number, s: number): string {
    return `d2d2d2d2-0000-4000-8000-${String(p * 100 + s).padStart(12, "0")}`;
  }

  async function list(options: { table?: boolean; stats?: boolean } = {}): Promise<{ stdout: string; stderr: string }> {
    const args = ["sessions", "--all", ...(options.table ? [] : ["--json"]), ...(options.stats ? ["--stats"] : [])];
    const env = { HOME: home, ...(options.table ? TABLE_ENV : {}) };
    const result = await runCli(args, { env, cwd });
    expect(result.exitCode, result.stderr).toBe(0);
    return { stdout: result.stdout, stderr: result.stderr };
  }

  /** What a listing makes with nothing kept (the kept files are put back afterwards, as they were). */
  async function fresh(options: { table?: boolean } = {}): Promise<string> {
    const aside = `${kept}.aside`;
    renameSync(kept, aside);
    try {
      return (await list(options)).stdout;
    } finally {
      rmSync(kept, { recursive: true, force: true });
      renameSync(aside, kept);
    }
  }

  /** Lists (so the output is kept), then marks every kept part. */
  async function keepMarked(options: { table?: boolean } = {}): Promise<void> {
    await list(options);
    const file = path.join(kept, options.table ? "table.listing" : "json.listing");
    writeFileSync(file, readFileSync(file, "latin1").replaceAll("claude --resume", MARK), "latin1");
  }

  beforeEach(() => {
    home = tempHome();
    kept = path.join(home, ".claude", "persist-host", "sessions-listings");
    cwd = tempDir("cp-listing-here-");
    projects.length = 0;
    dirs.length = 0;
    for (let p = 0; p < 3; p++) {
      const folder = tempDir(`cp-listing-p${p}-`);
      const dir = path.join(home, ".claude", "projects", encodeProjectSlug(folder));
      projects.push(folder);
      dirs.push(dir);
      for (let s = 0; s < 3; s++) {
        writeTranscript(path.join(dir, `${idOf(p, s)}.jsonl`), {
          id: idOf(p, s),
          cwd: folder,
          branch: s === 0 ? "main" : `feature/p${p}-s${s}`,
          prompt: `project ${p} session ${s}`,
          start: Date.now() - (10 * p + s + 3) * HOUR,
          end: Date.now() - (10 * p + s + 2) * HOUR,
        });
        // A whole second, which utimes can put back exactly (a time it cannot would tell the rewrite by itself).
        const second = Math.floor(Date.now() / 1000) - 60;
        utimesSync(path.join(dir, `${idOf(p, s)}.jsonl`), second, second);
      }
    }
  });

  const file = (p: number, s: number) => path.join(dirs[p] ?? "", `${idOf(p, s)}.jsonl`);

  const changes: Array<[string, () => void, { opened: number }]> = [
    [
      "a line is appended to a transcript",
      () =>
        writeFileSync(
          file(1, 1),
          `${JSON.stringify({ type: "assistant", sessionId: idOf(1, 1), cwd: projects[1], timestamp: new Date().toISOString(), message: { role: "assistant", content: "more" } })}\n`,
          { flag: "a" },
        ),
      { opened: 1 },
    ],
    [
      "a transcript is rewritten in place to the same size, its mtime put back (its ctime moves)",
      () => {
        const { atime, mtime } = statSync(file(1, 0));
        writeFileSync(
          file(1, 0),
          readFileSync(file(1, 0), "utf8").replaceAll("project 1 session 0", "project 1 session 9"),
        );
        utimesSync(file(1, 0), atime, mtime);
      },
      { opened: 1 },
    ],
    ["a transcript is deleted", () => unlinkSync(file(1, 2)), { opened: 0 }],
    [
      "a transcript is added",
      () =>
        writeTranscript(path.join(dirs[1] ?? "", `${idOf(1, 7)}.jsonl`), {
          id: idOf(1, 7),
          cwd: projects[1] ?? "",
          branch: "main",
          prompt: "a new one",
          start: Date.now() - HOUR,
          end: Date.now(),
        }),
      { opened: 1 },
    ],
    [
      "Syncthing leaves a conflict copy of a transcript",
      () =>
        copyFileSync(file(1, 1), path.join(dirs[1] ?? "", `${idOf(1, 1)}.sync-conflict-20261207-101010-ABCDEF1.jsonl`)),
      { opened: 1 },
    ],
  ];

  it.each(changes)("when %s", async (_what, change, { opened }) => {
    await keepMarked();
    change();
    const after = await list({ stats: true });
    // The unchanged projects print their kept parts; the changed one is made again, reading only what changed.
    const sessions = (JSON.parse(after.stdout) as { sessions: Session[] }).sessions;
    for (const session of sessions) {
      expect(session.resume.includes(MARK), session.id).toBe(session.project !== projects[1]);
    }
    expect(after.stderr).toContain(`opened ${opened} transcripts`);
    expect(after.stdout.replaceAll(MARK, "claude --resume")).toBe(await fresh());
    // And the next listing prints what this one kept.
    expect((await list()).stdout).toBe(after.stdout);
  });

  it("keeps a changed project's part beside the listing, and writes such parts into it past 16 of them", async () => {
    // 17 more projects of one session each: 17 of them changed in turn.
    const more = Array.from({ length: 17 }, (_, i) => {
      const folder = tempDir(`cp-listing-more${i}-`);
      const transcript = path.join(home, ".claude", "projects", encodeProjectSlug(folder), `${idOf(10 + i, 0)}.jsonl`);
      const times = { start: Date.now() - (40 + i) * HOUR, end: Date.now() - (39 + i) * HOUR };
      writeTranscript(transcript, { id: idOf(10 + i, 0), cwd: folder, branch: "main", prompt: `more ${i}`, ...times });
      return transcript;
    });
    await list();
    const listing = readFileSync(path.join(kept, "json.listing"));
    const parts = () => readdirSync(kept).filter((name) => name.endsWith(".part"));
    for (const [turn, transcript] of more.entries()) {
      const line = { type: "assistant", timestamp: new Date(Date.now() - (30 - turn) * 60_000).toISOString() };
      writeFileSync(transcript, `${JSON.stringify(line)}\n`, { flag: "a" });
      const after = await list({ stats: true });
      expect(after.stderr).toContain("opened 1 transcripts");
      if (turn === 0 || turn === 16) expect(after.stdout).toBe(await fresh());
      if (turn < 16) {
        // Only the changed projects' parts are written: the listing's megabytes stay as they were.
        expect(parts()).toHaveLength(turn + 1);
        expect(readFileSync(path.join(kept, "json.listing")).equals(listing)).toBe(true);
      }
    }
    expect(parts()).toEqual([]);
    expect(readFileSync(path.join(kept, "json.listing")).equals(listing)).toBe(false);
    expect((await list()).stdout).toBe(await fresh());
  });

  it("when a project's folder is renamed: every project is listed afresh", async () => {
    await keepMarked();
    renameSync(dirs[1] ?? "", `${dirs[1]}-renamed`);
    const after = await list();
    expect(after.stdout).not.toContain(MARK);
    expect(after.stdout).toBe(await fresh());
  });

  it("as a table: a changed project whose cell is now the widest lays every project out again, as a fresh table", async () => {
    await keepMarked({ table: true });
    writeTranscript(file(2, 1), {
      id: idOf(2, 1),
      cwd: projects[2] ?? "",
      branch: "feature/a-much-longer-branch-name",
      prompt: "project 2 session 1, again",
      start: Date.now() - HOUR,
      end: Date.now(),
    });
    const after = await list({ table: true });
    expect(after.stdout).not.toContain(MARK);
    expect(after.stdout).toContain("feature/a-much-longer-branch-na");
    expect(after.stdout).toBe(await fresh({ table: true }));
  });

  it("as a table: a change within the columns' widths lists only that project again", async () => {
    await keepMarked({ table: true });
    unlinkSync(file(0, 2));
    const after = await list({ table: true });
    expect(after.stdout).toContain(MARK);
    expect(after.stdout.replaceAll(MARK, "claude --resume")).toBe(await fresh({ table: true }));
  });

  it("lists afresh, silently, when a changed project's kept rows are damaged, and keeps the files private", async () => {
    await keepMarked();
    const rows = readdirSync(kept).filter((name) => name.startsWith("json.") && name.endsWith(".rows"));
    expect(rows).toHaveLength(3);
    for (const name of rows) {
      // Its own header, so that its rows are what is read and found wanting.
      const text = readFileSync(path.join(kept, name), "utf8");
      writeFileSync(path.join(kept, name), `${text.slice(0, text.indexOf("\n") + 1)}{"strings":7}`);
    }
    writeFileSync(file(1, 1), "\n", { flag: "a" });
    const after = await list();
    expect(after.stderr).toBe("");
    expect(after.stdout).not.toContain(MARK);
    expect(after.stdout).toBe(await fresh());
    for (const name of readdirSync(kept)) expect(statSync(path.join(kept, name)).mode & 0o777).toBe(0o600);
  });
});
