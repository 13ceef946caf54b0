// The sessions Claude Code is running now. Each running `claude` (interactive or `-p`) keeps
// `<config>/sessions/<pid>.json` while it lives and deletes it when it exits; a killed one leaves it behind.
// Seen in 2.1.330: {"pid","sessionId","cwd","startedAt","procStart","pidDomain":"linux:<machine-id>:pid:[<ns>]",
// "kind","entrypoint","status","updatedAt",…}. `procStart` is field 22 of /proc/<pid>/stat (the start time in
// clock ticks), which tells a live session from a reused pid, as Claude Code itself checks it.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import * as z from "zod/mini";
import { configDir, type Env } from "./home.ts";

const RUNNING_SESSIONS_DIR = "sessions";

const recordSchema = z.looseObject({
  pid: z.int().check(z.positive()),
  sessionId: z.optional(z.string()),
  cwd: z.optional(z.string()),
  procStart: z.optional(z.string()),
  pidDomain: z.optional(z.string()),
});

export type RunningSession = {
  readonly pid: number;
  readonly sessionId: string | undefined;
  readonly cwd: string | undefined;
  /** The record it was read from. */
  readonly file: string;
  /**
   * "alive": its process runs here. "unknown": it was recorded in another pid namespace or machine (a container
   * sharing the config dir), so its process cannot be checked from here.
   */
  readonly state: "alive" | "unknown";
};

/** The sessions whose record names a live process (or one that cannot be checked from here); dead ones are left out. */
export function runningSessions(env: Env, here: string = pidDomain()): RunningSession[] {
  const dir = path.join(configDir(env), RUNNING_SESSIONS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found: RunningSession[] = [];
  for (const name of names.filter((n) => /^\d+\.json$/.test(n)).sort()) {
    const file = path.join(dir, name);
    let parsed: ReturnType<typeof recordSchema.safeParse>;
    try {
      parsed = recordSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
    } catch {
      continue; // Half-written or gone: its session is starting or ending, and the next look sees it.
    }
    if (!parsed.success) continue;
    const record = parsed.data;
    const base = { pid: record.pid, sessionId: record.sessionId, cwd: record.cwd, file };
    if (record.pidDomain !== undefined && record.pidDomain !== here) {
      found.push({ ...base, state: "unknown" });
    } else if (isAlive(record.pid) && startTimeMatches(record.pid, record.procStart)) {
      found.push({ ...base, state: "alive" });
    }
  }
  return found;
}

/** Where Claude Code's own rule reads the machine and the pid namespace; tests point them elsewhere. */
export type PidDomainSources = {
  readonly platform: NodeJS.Platform;
  readonly machineIdFile: string;
  readonly pidNamespaceLink: string;
};

const HERE: PidDomainSources = {
  platform: process.platform,
  machineIdFile: "/etc/machine-id",
  pidNamespaceLink: "/proc/self/ns/pid",
};

/**
 * This process's pid domain exactly as Claude Code computes it (2.1.330): on Linux
 * `linux:<machine-id>:<pid namespace>` with "" for a part it cannot read, elsewhere plain "linux". A record
 * from another domain is a process this one cannot check, even when the machine-id is missing.
 */
export function pidDomain(sources: PidDomainSources = HERE): string {
  if (sources.platform !== "linux") return "linux";
  return `linux:${readOr(() => readFileSync(sources.machineIdFile, "utf8").trim())}:${readOr(() => readlinkSync(sources.pidNamespaceLink))}`;
}

function readOr(read: () => string): string {
  try {
    return read();
  } catch {
    return "";
  }
}

/** Field 22 of /proc/<pid>/stat, the process's start time in clock ticks; undefined off Linux. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return error instanceof Error && "code" in error && error.code === "EPERM";
  }
}

function startTimeMatches(pid: number, recorded: string | undefined): boolean {
  if (recorded === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === recorded;
}
