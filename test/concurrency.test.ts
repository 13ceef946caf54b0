// The pack's own state under many processes at once: hooks of sessions starting together, installers run twice,
// read-modify-write of one state file. Each scenario runs a few rounds so that races get a chance to show.
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, runCli, tempDir, tempHome } from "./support/claude.ts";

const PROCESSES = 20;
const ROUNDS = 3;
const HOOK = path.join(PROJECT_ROOT, "dist", "hooks", "session-start.cjs");
const HOOK_SCRIPT = "persist/hooks/session-start.cjs";

/** Lock folders, breakers, graves and temp files: none may be left once every process has finished. */
function leftovers(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) =>
    /\.lock$|\.break$|\.stale$|\.tmp$/.test(name),
  );
}

function parseLines(text: string): unknown[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as unknown);
}

describe("the pack's state under concurrent processes", () => {
  it(`${PROCESSES} SessionStart hooks at once record every start as one whole line`, { timeout: 600_000 }, async () => {
    const home = tempHome();
    const state = path.join(home, ".claude", "persist-state");
    mkdirSync(state);
    const ids = [
      "0b7e4a8c-1111-4222-8333-000000000001",
      "0b7e4a8c-1111-4222-8333-000000000002",
      "0b7e4a8c-1111-4222-8333-000000000003",
      "solo-session",
    ];
    for (let round = 1; round <= ROUNDS; round++) {
      const runs = await Promise.all(
        Array.from({ length: PROCESSES }, (_, n) => {
          // Three sessions started by six hooks each, and one by two; every start has its own folder.
          const id = ids[n < 18 ? n % 3 : 3] ?? "";
          const input = JSON.stringify({
            session_id: id,
            cwd: `/work/round-${round}/hook-${n}`,
            hook_event_name: "SessionStart",
            source: "startup",
          });
          return execa(process.execPath, [HOOK], {
            input,
            env: { PATH: process.env.PATH ?? "", HOME: home, CLAUDE_PERSIST_ENVIRONMENT: "host" },
            extendEnv: false,
            reject: false,
          });
        }),
      );
      for (const run of runs) {
        expect(run.exitCode).toBe(0);
        expect(run.stderr).toBe("");
      }
      const starts = path.join(state, "session-starts");
      expect(readdirSync(starts).sort()).toEqual(ids.map((id) => `${id}.jsonl`).sort());
      const records = ids.flatMap((id) => {
        const lines = parseLines(readFileSync(path.join(starts, `${id}.jsonl`), "utf8"));
        expect(lines).toHaveLength(round * (id === "solo-session" ? 2 : 6));
        for (const line of lines) expect(line).toMatchObject({ sessionId: id, environment: "host", source: "startup" });
        return lines as Array<{ cwd: string }>;
      });
      const cwds = records.map((r) => r.cwd).filter((cwd) => cwd.startsWith(`/work/round-${round}/`));
      expect(cwds.sort()).toEqual(Array.from({ length: PROCESSES }, (_, n) => `/work/round-${round}/hook-${n}`).sort());
    }
  });

  it(`${PROCESSES} installs at once into one HOME leave one hook, valid JSON and the user's backup`, {
    timeout: 180_000,
  }, async () => {
    const userSettings = `${JSON.stringify({ model: "opus", hooks: { SessionStart: [{ hooks: [{ type: "command", command: "echo mine" }] }] } }, null, 2)}\n`;
    const check = (home: string) => {
      const config = path.join(home, ".claude");
      const settings = JSON.parse(readFileSync(path.join(config, "settings.json"), "utf8")) as {
        model: string;
        hooks: { SessionStart: Array<{ hooks: Array<{ command: string }> }> };
      };
      const commands = settings.hooks.SessionStart.flatMap((group) => group.hooks.map((hook) => hook.command));
      expect(commands.filter((command) => command.includes(HOOK_SCRIPT))).toHaveLength(1);
      expect(commands).toContain("echo mine");
      expect(settings.model).toBe("opus");
      const manifest = JSON.parse(readFileSync(path.join(config, "persist-host", "install.json"), "utf8")) as {
        version: string;
        files: object;
      };
      expect(manifest.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(Object.keys(manifest.files).sort()).toEqual(["commands/dev-open.md", "commands/start-work.md"]);
      // The backup is the user's own file, not a version some other installer had already changed.
      expect(readFileSync(path.join(config, "settings.json.claude-persist.bak"), "utf8")).toBe(userSettings);
      expect(leftovers(config)).toEqual([]);
    };
    const installAll = async (home: string) => {
      const runs = await Promise.all(
        Array.from({ length: PROCESSES }, () => runCli(["install"], { env: { HOME: home } })),
      );
      for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);
    };
    for (let round = 1; round <= ROUNDS; round++) {
      const home = tempHome();
      writeFileSync(path.join(home, ".claude", "settings.json"), userSettings);
      await installAll(home);
      check(home);
      if (round === 1) {
        // And again, all at once, over the installed pack: still one hook, nothing to change.
        await installAll(home);
        check(home);
      }
    }
  });

  describe("updateJsonState", () => {
    let writer: string;
    beforeAll(async () => {
      writer = path.join(tempDir("cp-writer-"), "state-writer.mjs");
      await build({
        entryPoints: [path.join(PROJECT_ROOT, "test", "support", "state-writer.ts")],
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        outfile: writer,
        logLevel: "warning",
      });
    });

    const UPDATES = 5;
    const writeAll = async (file: string, round: number) => {
      // All processes start their first update in the same millisecond, once every one of them is up.
      const startAt = String(Date.now() + 1500);
      const runs = await Promise.all(
        Array.from({ length: PROCESSES }, (_, n) =>
          execa(process.execPath, [writer, file, `r${round}-p${n}`, String(UPDATES), startAt], { reject: false }),
        ),
      );
      for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);
    };
    const expectedKeys = (rounds: number[]) =>
      rounds
        .flatMap((round) =>
          Array.from({ length: PROCESSES * UPDATES }, (_, i) => `r${round}-p${Math.floor(i / UPDATES)}-${i % UPDATES}`),
        )
        .sort();

    it(`${PROCESSES} processes changing one file at once lose no entry`, { timeout: 600_000 }, async () => {
      const dir = tempDir("cp-state-");
      const file = path.join(dir, "nested", "state.json");
      for (let round = 1; round <= ROUNDS; round++) {
        await writeAll(file, round);
        const done = Array.from({ length: round }, (_, i) => i + 1);
        expect(Object.keys(JSON.parse(readFileSync(file, "utf8")) as object).sort()).toEqual(expectedKeys(done));
        expect(leftovers(dir)).toEqual([]);
      }
    });

    // Before the fix, two processes that both saw the stale lock could both remove it, the second one removing the
    // lock the first had just taken: about every other round lost entries. Hence more rounds here.
    it("a stale lock left by a dead process is broken once, and no entry is lost", { timeout: 600_000 }, async () => {
      const dir = tempDir("cp-state-");
      const file = path.join(dir, "state.json");
      const rounds = 2 * ROUNDS;
      for (let round = 1; round <= rounds; round++) {
        // A lock and a breaker a minute old: their processes died half-way.
        const old = new Date(Date.now() - 60_000);
        for (const stale of [`${file}.lock`, ...(round === rounds ? [`${file}.lock.break`] : [])]) {
          mkdirSync(stale);
          utimesSync(stale, old, old);
        }
        await writeAll(file, round);
        const done = Array.from({ length: round }, (_, i) => i + 1);
        expect(Object.keys(JSON.parse(readFileSync(file, "utf8")) as object).sort()).toEqual(expectedKeys(done));
        expect(leftovers(dir)).toEqual([]);
      }
    });
  });
});
