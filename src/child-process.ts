// Running other programs: a small layer over node:child_process with what the pack relies on. The outcome is data,
// never thrown (exit code, signal, timeout, a program that is not there); input; stdout and stderr, or both as one
// text; a bound on what is kept; output into a file; detached children. node:child_process (which brings node's
// stream and net modules, a few ms) is loaded at the first process: a command that starts none never loads it.
import { closeSync, constants, openSync } from "node:fs";
import { createRequire } from "node:module";

type ChildProcesses = typeof import("node:child_process");
type ChildProcess = import("node:child_process").ChildProcess;

let loaded: ChildProcesses | undefined;

function childProcesses(): ChildProcesses {
  loaded ??= createRequire(import.meta.url)("node:child_process") as ChildProcesses;
  return loaded;
}

/** Where one of the child's output streams goes: kept (`pipe`), dropped, this process's own, or a file (0600). */
export type Output = "pipe" | "ignore" | "inherit" | { readonly file: string; readonly append?: boolean };

export type ProcessOptions = {
  readonly cwd?: string;
  /** The child's whole environment (default: this process's); spread `process.env` into it to add to it. */
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed. Without it, stdin is `/dev/null` unless `stdin` says. */
  readonly input?: string | Uint8Array;
  readonly stdin?: "ignore" | "inherit";
  readonly stdout?: Output;
  readonly stderr?: Output;
  /** All three streams are this process's (an interactive child): nothing is kept. */
  readonly stdio?: "inherit";
  /** Ends the child (SIGTERM, then SIGKILL) when it runs longer than this many ms. */
  readonly timeout?: number;
  /** How long after SIGTERM a child that is still running gets SIGKILL (default 5 s). */
  readonly forceKillAfterMs?: number;
  /** Bytes kept of stdout and of stderr (default 100 MB); a child that prints more is ended, as by the timeout. */
  readonly maxBuffer?: number;
  /** Also keep stdout and stderr together, in the order they arrived, as `all`. */
  readonly all?: boolean;
  /** Drop one final newline of each text (default true, for one-line answers such as a path). */
  readonly stripFinalNewline?: boolean;
  /** The child leads a process group of its own and may outlive this process (see `unref`). */
  readonly detached?: boolean;
  readonly encoding?: "utf8" | "buffer";
};

export type ProcessResult<Text extends string | Buffer = string> = {
  /** The child's exit code; undefined when it did not start or a signal ended it. */
  readonly exitCode: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  readonly stdout: Text;
  readonly stderr: Text;
  /** stdout and stderr interleaved, with `all: true` (empty otherwise). */
  readonly all: Text;
  readonly timedOut: boolean;
  /** It printed more than `maxBuffer` and was ended; what is kept is cut there. */
  readonly isMaxBuffer: boolean;
  /** Why it did not start, as node names it: `ENOENT` (not found on PATH), `EACCES`, `ELOOP` (an output file). */
  readonly code: string | undefined;
  /** One line saying how it ended, for messages: "exit code 2", "spawn docker ENOENT", "timed out after 30000 ms". */
  readonly message: string;
};

export type StartedProcess<Text extends string | Buffer = string> = {
  readonly pid: number | undefined;
  /** Settles once the child has ended and its output is read; never rejects. */
  readonly result: Promise<ProcessResult<Text>>;
  /** Lets this process exit while the child runs on (a detached child whose output goes to files: pipes break). */
  unref(): void;
};

const DEFAULT_MAX_BUFFER = 100_000_000;
const DEFAULT_FORCE_KILL_MS = 5_000;

export function runProcess(
  file: string,
  args: readonly string[],
  options: ProcessOptions & { readonly encoding: "buffer" },
): Promise<ProcessResult<Buffer>>;
export function runProcess(
  file: string,
  args: readonly string[],
  options?: ProcessOptions & { readonly encoding?: "utf8" },
): Promise<ProcessResult>;
/** Runs `file` with `args` (no shell) to its end. */
export function runProcess(
  file: string,
  args: readonly string[],
  options: ProcessOptions = {},
): Promise<ProcessResult<string | Buffer>> {
  return startProcess(file, args, options).result;
}

/** Starts `file` with `args` (no shell): the child's pid, its result to come, and `unref`. */
export function startProcess(
  file: string,
  args: readonly string[],
  options: ProcessOptions = {},
): StartedProcess<string | Buffer> {
  const opened: number[] = [];
  let child: ChildProcess;
  try {
    const stdin: StreamTarget = options.input !== undefined ? "pipe" : (options.stdin ?? "ignore");
    const stdio = options.stdio ?? [
      stdin,
      outputTarget(options.stdout ?? "pipe", opened),
      outputTarget(options.stderr ?? "pipe", opened),
    ];
    child = childProcesses().spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio,
      detached: options.detached ?? false,
      windowsHide: true,
    });
  } catch (error) {
    // Thrown before a process existed (a file to write into that cannot be made, an argument node refuses).
    return { pid: undefined, result: Promise.resolve(notStarted(error, options)), unref: () => undefined };
  } finally {
    for (const fd of opened) closeSync(fd);
  }
  return { pid: child.pid, result: follow(child, file, options), unref: () => unrefAll(child) };
}

type StreamTarget = "pipe" | "ignore" | "inherit" | number;

/** Lets this process exit while `child` runs: neither the child nor its pipes keep node's event loop alive. */
function unrefAll(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    if (stream && "unref" in stream && typeof stream.unref === "function") stream.unref();
  }
}

/** What spawn takes for one output stream; a file is emptied first unless appended to, never written through a link. */
function outputTarget(output: Output, opened: number[]): StreamTarget {
  if (typeof output === "string") return output;
  const mode = output.append ? constants.O_APPEND : constants.O_TRUNC;
  const fd = openSync(output.file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | mode, 0o600);
  opened.push(fd);
  return fd;
}

function follow(child: ChildProcess, file: string, options: ProcessOptions): Promise<ProcessResult<string | Buffer>> {
  const maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
  const stdout = collector(maxBuffer);
  const stderr = collector(maxBuffer);
  const all = collector(options.all ? 2 * maxBuffer : 0);
  let timedOut = false;
  let isMaxBuffer = false;
  let killTimer: NodeJS.Timeout | undefined;
  let forceTimer: NodeJS.Timeout | undefined;
  const end = (why: "timeout" | "maxBuffer") => {
    if (child.exitCode !== null || child.signalCode !== null || timedOut || isMaxBuffer) return;
    if (why === "timeout") timedOut = true;
    else isMaxBuffer = true;
    child.kill("SIGTERM");
    forceTimer = setTimeout(() => child.kill("SIGKILL"), options.forceKillAfterMs ?? DEFAULT_FORCE_KILL_MS);
    forceTimer.unref();
  };
  const keep = (own: Collector) => (chunk: Buffer) => {
    if (!own.add(chunk)) end("maxBuffer");
    if (options.all) all.add(chunk);
  };
  child.stdout?.on("data", keep(stdout));
  child.stderr?.on("data", keep(stderr));
  if (child.stdin) {
    // A child that exits without reading its input closes the pipe under us (EPIPE): its exit code says the rest.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input);
  }
  if (options.timeout !== undefined && options.timeout > 0) {
    killTimer = setTimeout(() => end("timeout"), options.timeout);
  }
  return new Promise((resolve) => {
    let settled = false;
    const settle = (code: string | undefined, exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      clearTimeout(forceTimer);
      const text = (kept: Collector) => decode(kept.bytes(), options);
      const result = {
        exitCode: code === undefined && exitCode !== null ? exitCode : undefined,
        signal: signal ?? undefined,
        stdout: text(stdout),
        stderr: text(stderr),
        all: text(all),
        timedOut,
        isMaxBuffer,
        code,
      };
      resolve({ ...result, message: describe(file, result, options) });
    };
    child.on("error", (error: NodeJS.ErrnoException) => {
      // After a start, an error is a failed kill or write, and the child's own end still comes.
      if (child.pid === undefined) settle(error.code ?? error.message, null, null);
    });
    child.on("exit", () => {
      // Ended by us: what it left running (a grandchild holding the pipe) must not keep us waiting.
      if (timedOut || isMaxBuffer) for (const stream of [child.stdout, child.stderr]) stream?.destroy();
    });
    child.on("close", (exitCode, signal) => settle(undefined, exitCode, signal));
  });
}

type Collector = { add(chunk: Buffer): boolean; bytes(): Buffer };

/** Keeps up to `limit` bytes; `add` says false once more than that came. */
function collector(limit: number): Collector {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add(chunk) {
      if (size >= limit) return chunk.length === 0;
      const room = limit - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      return chunk.length <= room;
    },
    bytes: () => Buffer.concat(chunks),
  };
}

function decode(bytes: Buffer, options: ProcessOptions): string | Buffer {
  const strip = options.stripFinalNewline ?? true;
  if (options.encoding === "buffer") {
    if (!strip || bytes.at(-1) !== 0x0a) return bytes;
    return bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1);
  }
  const text = bytes.toString("utf8");
  return strip ? text.replace(/\r?\n$/, "") : text;
}

function describe(
  file: string,
  result: Omit<ProcessResult<string | Buffer>, "message">,
  options: ProcessOptions,
): string {
  if (result.code !== undefined) return `spawn ${file} ${result.code}`;
  if (result.timedOut) return `${file} timed out after ${options.timeout} ms`;
  if (result.isMaxBuffer) return `${file} printed more than ${options.maxBuffer ?? DEFAULT_MAX_BUFFER} bytes`;
  if (result.signal !== undefined) return `${file} was ended by ${result.signal}`;
  return `${file} exited with code ${result.exitCode}`;
}

function notStarted(error: unknown, options: ProcessOptions): ProcessResult<string | Buffer> {
  const code = (error as NodeJS.ErrnoException).code ?? "ERR";
  const empty = options.encoding === "buffer" ? Buffer.alloc(0) : "";
  const message = `could not start: ${error instanceof Error ? error.message : String(error)}`;
  const base = { exitCode: undefined, signal: undefined, timedOut: false, isMaxBuffer: false };
  return { ...base, stdout: empty, stderr: empty, all: empty, code, message };
}
