// Launching a dev container through the devcontainers CLI (a dependency of the pack, run with this node).
// Its logs go to a file that we follow, so a launch that outlives Claude Code's 2-minute `!` limit can go on
// in the background; its one JSON answer is checked with zod.
import { closeSync, constants, mkdirSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { startProcess } from "../../child-process.ts";
import * as z from "zod/mini";
import { DOCKER_UNREACHABLE_FIX, isDockerUnreachable } from "./docker.ts";
import { UserError } from "../../errors.ts";
import { openRegularFile, readRegularText } from "../../fs.ts";
import { once } from "../../once.ts";

/** The CLI's answer, built at the first launch rather than at the command's start. */
const upAnswerSchema = once(() => {
  const upSuccessSchema = z.looseObject({
    outcome: z.literal("success"),
    containerId: z.string().check(z.minLength(1)),
    remoteUser: z.string().check(z.minLength(1)),
    remoteWorkspaceFolder: z.string().check(z.minLength(1)),
  });
  const upErrorSchema = z.looseObject({
    outcome: z.literal("error"),
    message: z.optional(z.string()),
    description: z.optional(z.string()),
  });
  return z.discriminatedUnion("outcome", [upSuccessSchema, upErrorSchema]);
});

export type UpSuccess = Extract<z.infer<ReturnType<typeof upAnswerSchema>>, { outcome: "success" }>;

/** The devcontainers CLI's entry script: beside our bundle once installed, in node_modules in development. */
export function devcontainerScript(): string {
  return createRequire(import.meta.url).resolve("@devcontainers/cli/devcontainer.js");
}

export type UpOptions = {
  readonly workspaceFolder: string;
  readonly configPath: string;
  readonly removeExisting: boolean;
  /** The config to launch with instead of the repo's (`--override-config`); the container's labels still name the repo's. */
  readonly overrideConfig?: string | undefined;
  /** `--mount` values: what only this host needs, never written into a config. */
  readonly mounts?: readonly string[];
  /** More of `up`'s options (an engine on another machine: see remote/container-user.ts). */
  readonly args?: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Where the CLI's log and answer are written. */
  readonly logDir: string;
  /** Called with each new log line (without its timestamp). */
  readonly onProgress: (line: string) => void;
  /** Stop waiting after this long and leave the launch running in the background. */
  readonly waitMs?: number;
};

export type UpOutcome =
  | { readonly done: true; readonly result: UpSuccess }
  | { readonly done: false; readonly logFile: string };

export async function devcontainerUp(options: UpOptions): Promise<UpOutcome> {
  mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
  const stem = path.join(
    options.logDir,
    `up-${path.basename(options.workspaceFolder).replace(/[^A-Za-z0-9._-]/g, "-")}`,
  );
  const logFile = `${stem}.log`;
  const answerFile = `${stem}.json`;
  // Both live in the host-only folder, and are made fresh: what was under the name is removed, not written through.
  createFresh(logFile);
  createFresh(answerFile);
  const args = [
    devcontainerScript(),
    "up",
    "--workspace-folder",
    options.workspaceFolder,
    "--config",
    options.configPath,
  ];
  if (options.overrideConfig) args.push("--override-config", options.overrideConfig);
  for (const mount of options.mounts ?? []) args.push("--mount", mount);
  if (options.removeExisting) args.push("--remove-existing-container");
  args.push(...(options.args ?? []));
  const child = startProcess(process.execPath, args, {
    env: options.env,
    detached: true,
    stdout: { file: answerFile },
    stderr: { file: logFile },
  });
  const follower = followLog(logFile, options.onProgress);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    if (options.waitMs !== undefined) timer = setTimeout(() => resolve("timeout"), options.waitMs);
  });
  const finished = await Promise.race([child.result, deadline]);
  clearTimeout(timer);
  follower.stop();
  if (finished === "timeout") {
    child.unref();
    return { done: false, logFile };
  }
  return {
    done: true,
    result: parseUpAnswer(readRegularText(answerFile) ?? "", readRegularText(logFile) ?? "", logFile),
  };
}

/** A new empty file (0600) under `file`'s name; what was there is removed first, not written through. */
function createFresh(file: string): void {
  rmSync(file, { force: true });
  closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
}

/** The CLI's JSON answer, or a UserError carrying the daemon's own reason from the log. */
export function parseUpAnswer(stdout: string, log: string, logFile: string): UpSuccess {
  const line = stdout.trim().split("\n").filter(Boolean).at(-1) ?? "";
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new UserError(`the devcontainers CLI gave no answer${reasonFromLog(log)}; see ${logFile}`);
  }
  const parsed = upAnswerSchema().safeParse(json);
  if (!parsed.success) throw new UserError(`the devcontainers CLI answered something unexpected; see ${logFile}`);
  if (parsed.data.outcome === "success") return parsed.data;
  const reason = reasonFromLog(log) || `: ${parsed.data.message ?? parsed.data.description ?? "unknown error"}`;
  throw new UserError(`the dev container did not start${reason}; see ${logFile}`);
}

/** The daemon's reason for a failure, which the CLI prints only in its log. */
function reasonFromLog(log: string): string {
  const lines = log.split("\n").map(stripTimestamp);
  if (lines.some(isDockerUnreachable)) return `: Docker is not reachable (${DOCKER_UNREACHABLE_FIX})`;
  const daemon = lines.find((l) => l.includes("Error response from daemon:"));
  if (daemon) return `: ${daemon.slice(daemon.indexOf("Error response from daemon:")).trim()}`;
  const error = lines.find((l) => /^Error: /.test(l) && !l.includes("Failed to fetch control manifest"));
  return error ? `: ${error.replace(/^Error: /, "").trim()}` : "";
}

function stripTimestamp(line: string): string {
  return line.replace(/^\[[^\]]*\]\s*/, "");
}

/** Calls `onLine` for each line appended to `file` until stopped (and once more for what is left then). */
function followLog(file: string, onLine: (line: string) => void): { stop: () => void } {
  let offset = 0;
  let partial = "";
  const drain = () => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      // The log is not there yet: nothing to follow this time.
      return;
    }
    if (size <= offset) return;
    const fd = openRegularFile(file);
    try {
      const buffer = Buffer.alloc(size - offset);
      const read = readSync(fd, buffer, 0, buffer.length, offset);
      offset += read;
      const text = partial + buffer.subarray(0, read).toString("utf8");
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onLine(stripTimestamp(line));
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(drain, 150);
  return {
    stop() {
      clearInterval(timer);
      drain();
      if (partial.trim()) onLine(stripTimestamp(partial));
    },
  };
}
