// Where the Docker engine runs, as DOCKER_HOST or the current docker context names it: on this machine (a Unix
// socket, the default, tcp to loopback), on a machine reached over ssh, or on one whose files we cannot reach.
// Bind-mount sources name folders on the engine's machine, so that decides where dev-open prepares them.
// Commands on the ssh machine go through `ssh -- HOST WORDS`: ssh hands one string to the remote shell, so each
// word is quoted, and what comes back is another machine's answer: bounded and validated before use.
import path from "node:path";
import * as z from "zod/mini";
import { homeDir } from "../../claude/home.ts";
import { UserError } from "../../errors.ts";
import { once } from "../../once.ts";
import { runProcess } from "../../child-process.ts";
import { readBoundedText } from "../../fs.ts";
import { shellWord } from "../../text.ts";

export type SshTarget = { readonly user?: string; readonly host: string; readonly port?: number };

export type Engine =
  | { readonly kind: "local" }
  | { readonly kind: "ssh"; readonly endpoint: string; readonly target: SshTarget }
  | { readonly kind: "files-unreachable"; readonly endpoint: string };

const SSH_TIMEOUT_MS = 60_000;
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The engine `docker` would talk to, in docker's order: DOCKER_HOST when it is set at all (empty: the default
 * socket), else DOCKER_CONTEXT, else the config's current context.
 */
export async function resolveEngine(env: NodeJS.ProcessEnv): Promise<Engine> {
  if (env.DOCKER_HOST !== undefined) {
    return env.DOCKER_HOST ? classifyEndpoint(env.DOCKER_HOST, "DOCKER_HOST") : { kind: "local" };
  }
  const context = env.DOCKER_CONTEXT || currentContextName(env);
  if (!context || context === "default") return { kind: "local" };
  return classifyEndpoint(await contextEndpoint(context, env), `the docker context ${context}`);
}

export function classifyEndpoint(endpoint: string, from: string): Engine {
  const scheme = /^([a-z]+):\/\//.exec(endpoint)?.[1];
  if (scheme === "ssh") return { kind: "ssh", endpoint, target: parseSshEndpoint(endpoint, from) };
  if (scheme === "tcp" || scheme === "http" || scheme === "https") {
    const host = /^[a-z]+:\/\/(\[[^\]]*\]|[^:/]*)/.exec(endpoint)?.[1] ?? "";
    const loopback = host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "[::1]";
    return loopback ? { kind: "local" } : { kind: "files-unreachable", endpoint };
  }
  return { kind: "local" };
}

const SSH_ENDPOINT = /^ssh:\/\/(?:([A-Za-z0-9_][A-Za-z0-9._-]*)@)?([A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?\/?$/;

/** `ssh://[user@]host[:port]`, as docker accepts it; anything else (a path, an option-like host) is refused. */
export function parseSshEndpoint(endpoint: string, from = "DOCKER_HOST"): SshTarget {
  const match = SSH_ENDPOINT.exec(endpoint);
  const port = match?.[3] ? Number(match[3]) : undefined;
  if (!match?.[2] || (port !== undefined && (port < 1 || port > 65535))) {
    throw new UserError(
      `${from} is ${JSON.stringify(endpoint)}, not ssh://[user@]host[:port]: correct it and run again`,
    );
  }
  return { ...(match[1] ? { user: match[1] } : {}), host: match[2], ...(port ? { port } : {}) };
}

/** `user@host:port` as a person writes it (and as `claude-persist sync unison` takes it). */
export function describeTarget(target: SshTarget): string {
  return `${target.user ? `${target.user}@` : ""}${target.host}${target.port ? `:${target.port}` : ""}`;
}

const dockerConfigSchema = once(() => z.looseObject({ currentContext: z.optional(z.string()) }));

function currentContextName(env: NodeJS.ProcessEnv): string | undefined {
  const dir = env.DOCKER_CONFIG || path.join(homeDir(env), ".docker");
  const text = readBoundedText(path.join(dir, "config.json"), MAX_ANSWER_BYTES);
  if (text === undefined) return undefined;
  try {
    return dockerConfigSchema().parse(JSON.parse(text)).currentContext;
  } catch {
    // docker itself reports a broken config.json on its first call; dev-open's docker calls surface it.
    return undefined;
  }
}

async function contextEndpoint(name: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(name)) {
    throw new UserError(`the docker context name ${JSON.stringify(name)} is not one docker accepts`);
  }
  const run = await runProcess("docker", ["context", "inspect", "--format", "{{.Endpoints.docker.Host}}", name], {
    env,
    timeout: SSH_TIMEOUT_MS,
  });
  const endpoint = run.stdout.trim();
  if (run.exitCode !== 0 || !endpoint || endpoint.includes("\n")) {
    const reason = run.stderr.trim().split("\n")[0] || `exit code ${run.exitCode}`;
    throw new UserError(`could not read the docker context ${name} (${reason}): check 'docker context ls'`);
  }
  return endpoint;
}

/** ssh's own options: no password prompt that would hang dev-open, then the target. */
export function sshArgs(target: SshTarget): string[] {
  const port = target.port ? ["-p", String(target.port)] : [];
  const user = target.user ? ["-l", target.user] : [];
  return ["-o", "BatchMode=yes", ...port, ...user, "--", target.host];
}

export type SshRun = {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | undefined;
};

/** Runs `words` on the target: each word quoted for its shell, so no word is ever parsed as shell syntax there. */
export async function runOverSsh(
  env: NodeJS.ProcessEnv,
  target: SshTarget,
  words: readonly string[],
  options: { readonly input?: Buffer | string; readonly timeoutMs?: number } = {},
): Promise<SshRun> {
  const run = await runProcess("ssh", [...sshArgs(target), words.map(shellWord).join(" ")], {
    env,
    timeout: options.timeoutMs ?? SSH_TIMEOUT_MS,
    maxBuffer: MAX_ANSWER_BYTES,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  if (run.code === "ENOENT") {
    throw new UserError("ssh is not installed: install an ssh client (apt-get install openssh-client) and run again");
  }
  return { ok: run.exitCode === 0, stdout: run.stdout, stderr: run.stderr, exitCode: run.exitCode };
}

/** The first line of what ssh said, for a message. */
export function sshReason(run: SshRun): string {
  return run.stderr.trim().split("\n").findLast(Boolean)?.trim().slice(0, 200) ?? `exit code ${run.exitCode}`;
}

/** A path another machine told us: absolute, plain characters only (it ends up in mount strings and shell words). */
export function checkRemotePath(value: string, what: string): string {
  const clean = value.replace(/\/+$/, "");
  if (!/^\/[A-Za-z0-9._/-]*$/.test(clean) || clean.length > 1024 || clean.split("/").some((part) => part === "..")) {
    throw new UserError(
      `${what} is ${JSON.stringify(value.slice(0, 200))}: ` +
        "dev-open needs an absolute path of letters, digits, '.', '_', '-' and '/'",
    );
  }
  return clean;
}
