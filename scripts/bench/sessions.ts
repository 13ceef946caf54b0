// The sessions rows (`npm run bench -- sessions`): a listing over 10,000 transcripts, first, unchanged, and after one changed.
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { encodeProjectSlug } from "../../src/claude/home.ts";
import { sessionsIndexPath } from "../../src/sessions/index-file.ts";
import { STATE, statePath } from "../../src/state/paths.ts";
import { cachedTree, cli, compare, NODE_START, report } from "./measure.ts";

// `sessions --all` over a large synthetic Claude home: 10,000 transcripts in a few hundred project folders, 20 of
// them 50 MB, some container folders symlinked onto host folders. Built once into the OS temp folder and reused.
const SESSIONS_TREE = { version: 1, projects: 300, transcripts: 10_000, big: 20, bigMb: 50, linked: 30 };

export function benchSessions(): boolean {
  const home = sessionsBenchHome();
  const env = { ...process.env, HOME: home, CLAUDE_CONFIG_DIR: "" };
  // A first listing, without the index (or a kept listing): it reads only a window at each end of each transcript.
  rmSync(sessionsIndexPath(env), { force: true });
  rmSync(statePath(env, STATE.sessionsListings), { recursive: true, force: true });
  const stats = spawnSync(process.execPath, [cli, "sessions", "--all", "--json", "--stats"], {
    env,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const listed = (JSON.parse(stats.stdout) as { sessions: unknown[] }).sessions.length;
  const [, read = "0", total = "0", files = "0"] =
    /read (\d+) of (\d+) bytes .* in (\d+) transcripts/.exec(stats.stderr) ?? [];
  // summarizeTranscript reads a 64 KiB window at each end: what it reads must not grow with the transcripts' size.
  const perTranscript = Number(read) / Number(files);
  const budget = 128 * 1024;
  const firstOk = perTranscript <= budget;
  console.log(
    `sessions --all, first run: ${listed} sessions from ${files} transcripts of ${(Number(total) / 1e6).toFixed(0)} MB: read ` +
      `${(Number(read) / 1e6).toFixed(0)} MB (${((100 * Number(read)) / Number(total)).toFixed(1)}%), ` +
      `${(perTranscript / 1024).toFixed(0)} KiB per transcript (budget ${budget / 1024} KiB) ${firstOk ? "ok" : "OVER BUDGET"}`,
  );
  // Then nothing changes: each listing stats the files and reads the index.
  const again = spawnSync(process.execPath, [cli, "sessions", "--all", "--json", "--stats"], {
    env,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const opened = /opened (\d+) transcripts/.exec(again.stderr)?.[1];
  if (opened !== "0")
    throw new Error(`a listing with nothing changed opened ${opened ?? "?"} transcripts: ${again.stderr}`);
  const count = Number(process.env.BENCH_SESSIONS_RUNS ?? 10);
  // As a person runs it (a table), and as a script does (JSON): each kept from its last run.
  const tableEnv = { ...env, COLUMNS: "200" };
  const table = compare(
    { command: NODE_START, env: tableEnv },
    { command: [process.execPath, cli, "sessions", "--all"], env: tableEnv },
    count,
  );
  const tableOk = report(
    `sessions --all (a table) over ${files} transcripts, nothing changed since the last run (${count} runs each)`,
    "node -e 0",
    table,
    3,
    { what: "`sessions --all` over 10,000 transcripts, nothing changed, vs `node -e 0`", bench: "sessions" },
  );
  const json = compare(
    { command: NODE_START, env },
    { command: [process.execPath, cli, "sessions", "--all", "--json"], env },
    count,
  );
  const jsonOk = report(
    `sessions --all --json over ${files} transcripts, nothing changed since the last run (${count} runs each)`,
    "node -e 0",
    json,
    3,
    { what: "`sessions --all --json`, the same", bench: "sessions" },
  );
  // After a turn one transcript changed (a line appended, its project now the newest): that project is made again.
  const one = path.join(home, ".claude", "projects", encodeProjectSlug("/home/dev/src/project-0"));
  const grownFile = path.join(one, readdirSync(one).find((name) => name.endsWith(".jsonl")) ?? "");
  const grow = () =>
    appendFileSync(grownFile, `${JSON.stringify({ type: "assistant", timestamp: new Date().toISOString() })}\n`);
  const changedTable = compare(
    { command: NODE_START, env: tableEnv },
    { command: [process.execPath, cli, "sessions", "--all"], env: tableEnv, before: grow },
    count,
  );
  const changedTableOk = report(
    `sessions --all (a table) over ${files} transcripts, one transcript grown before each run (${count} runs each)`,
    "node -e 0",
    changedTable,
    2,
    { what: "`sessions --all` after one transcript changed, vs `node -e 0`", bench: "sessions" },
  );
  const changedJson = compare(
    { command: NODE_START, env },
    { command: [process.execPath, cli, "sessions", "--all", "--json"], env, before: grow },
    count,
  );
  const changedJsonOk = report(
    `sessions --all --json over ${files} transcripts, one transcript grown before each run (${count} runs each)`,
    "node -e 0",
    changedJson,
    2,
    { what: "`sessions --all --json`, the same", bench: "sessions" },
  );
  // That it is one project made again, not the whole listing: the changed transcript is the one opened.
  grow();
  const statsAfter = spawnSync(process.execPath, [cli, "sessions", "--all", "--json", "--stats"], {
    env,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const openedAfter = /opened (\d+) transcripts/.exec(statsAfter.stderr)?.[1];
  if (openedAfter !== "1")
    throw new Error(
      `a listing after one transcript grew opened ${openedAfter ?? "?"} transcripts: ${statsAfter.stderr}`,
    );
  // Not a row: what no listing of these files can go under, in plain node: stat every session file, print 8 MB.
  const floor = compare(
    { command: NODE_START, env },
    { command: [process.execPath, "-e", FLOOR, one, String(again.stdout.length)], env },
    count,
  );
  console.log(
    `  (not a row: the floor, plain node stat'ing every session file and printing as many bytes: ${floor.ratio.toFixed(2)}× node -e 0` +
      `${floor.cpuRatio === undefined ? "" : `, CPU time ${floor.cpuRatio.toFixed(2)}×`})`,
  );
  const unchangedOk = tableOk && jsonOk;
  return firstOk && unchangedOk && changedTableOk && changedJsonOk;
}

/** The floor (argv: a project folder, then how many bytes to print): every session file's lstat, then the bytes. */
const FLOOR = `
const { lstatSync, readdirSync, writeSync } = require("node:fs");
const path = require("node:path");
const projects = path.dirname(process.argv[1]);
for (const folder of readdirSync(projects, { withFileTypes: true })) {
  if (!folder.isDirectory()) continue;
  const dir = path.join(projects, folder.name);
  for (const name of readdirSync(dir)) if (name.endsWith(".jsonl")) lstatSync(dir + "/" + name);
}
const out = Buffer.alloc(Number(process.argv[2]), 32);
for (let at = 0; at < out.length; ) at += writeSync(1, out, at, out.length - at);
`;

/** The synthetic home, built on first use (under ~2 minutes). */
function sessionsBenchHome(): string {
  const cache = cachedTree("sessions", SESSIONS_TREE, (building) => {
    const projects = path.join(building, "home", ".claude", "projects");
    const starts = path.join(building, "home", ".claude", "persist-state", "session-starts");
    mkdirSync(starts, { recursive: true });
    mkdirSync(projects, { recursive: true });
    writeSessionsTree(projects, starts);
  });
  return path.join(cache, "home");
}

function writeSessionsTree(projects: string, starts: string): void {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const mappings: object[] = [];
  const folders = Array.from({ length: SESSIONS_TREE.projects }, (_, p) => {
    const cwd = `/home/dev/src/project-${p}`;
    const slug = encodeProjectSlug(cwd);
    mkdirSync(path.join(projects, slug));
    if (p < SESSIONS_TREE.linked) {
      const containerPath = `/workspaces/project-${p}`;
      symlinkSync(slug, path.join(projects, encodeProjectSlug(containerPath)), "dir");
      mappings.push({
        hostPath: cwd,
        hostSlug: slug,
        containerPath,
        containerSlug: encodeProjectSlug(containerPath),
        time: new Date(0).toISOString(),
      });
    }
    return { cwd, slug };
  });
  writeFileSync(path.join(path.dirname(starts), "mappings.json"), JSON.stringify(mappings, null, 2));
  const filler = (id: string, cwd: string, text: string) =>
    `${JSON.stringify({ parentUuid: "p", isSidechain: false, type: "assistant", message: { role: "assistant", content: [{ type: "text", text }] }, uuid: "u", timestamp: "2026-01-01T00:00:00.000Z", cwd, sessionId: id, version: "2.1.330", gitBranch: "main" })}\n`;
  const paragraph = "The build reads its configuration from the workspace and caches what it can. ".repeat(50);
  for (let i = 0; i < SESSIONS_TREE.transcripts; i++) {
    const { cwd, slug } = folders[i % folders.length] ?? { cwd: "", slug: "" };
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const start = Date.UTC(2026, 0, 1) + i * 60_000;
    const common = {
      cwd,
      sessionId: id,
      version: "2.1.330",
      gitBranch: i % 7 === 0 ? `feature/item-${i}` : "main",
      userType: "external",
    };
    const head =
      JSON.stringify({
        type: "queue-operation",
        operation: "dequeue",
        timestamp: new Date(start).toISOString(),
        sessionId: id,
      }) +
      "\n" +
      JSON.stringify({
        ...common,
        parentUuid: null,
        type: "attachment",
        attachment: { type: "hook_success", stdout: "x".repeat(1500) },
        timestamp: new Date(start).toISOString(),
      }) +
      "\n" +
      JSON.stringify({
        ...common,
        parentUuid: "a",
        type: "user",
        message: { role: "user", content: `Task ${i}: look at the failing tests in module ${i % 97}` },
        timestamp: new Date(start).toISOString(),
      }) +
      "\n";
    const tail =
      JSON.stringify({
        ...common,
        parentUuid: "z",
        type: "assistant",
        message: { role: "assistant", content: [{ type: "text", text: "Done." }] },
        timestamp: new Date(start + 3_600_000).toISOString(),
      }) +
      "\n" +
      JSON.stringify({ type: "last-prompt", lastPrompt: `Task ${i}`, sessionId: id }) +
      "\n";
    const fd = openSync(path.join(projects, slug, `${id}.jsonl`), "w");
    writeSync(fd, head);
    if (i < SESSIONS_TREE.big) {
      const block = Buffer.from(filler(id, cwd, paragraph).repeat(Math.ceil(1_000_000 / paragraph.length)));
      for (let written = 0; written < SESSIONS_TREE.bigMb * 1_000_000; written += block.length) writeSync(fd, block);
    } else {
      // Most transcripts are tens to a few hundred kilobytes.
      writeSync(fd, filler(id, cwd, paragraph).repeat(Math.floor(2 + random() * random() * 80)));
    }
    writeSync(fd, tail);
    closeSync(fd);
    if (i % 3 === 0) {
      writeFileSync(
        path.join(starts, `${id}.jsonl`),
        `${JSON.stringify({ sessionId: id, cwd, environment: i % 2 ? "host" : "container", machine: "bench", source: "startup", time: new Date(start).toISOString() })}\n`,
      );
    }
  }
}
