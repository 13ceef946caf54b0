// Talking to a Syncthing daemon (Debian's 1.19.2 and later): the seeded config written before its first start,
// starting and stopping it as the user, and its REST API, on a 0600 Unix socket for the instance we own or on the
// address of one the user already runs.
import { mkdirSync, existsSync } from "node:fs";
import type * as Http from "node:http";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import path from "node:path";
import { type ProcessResult, runProcess, startProcess } from "../child-process.ts";
import type { Env } from "../claude/home.ts";
import { randomBase64Url } from "../crypto.ts";
import { UserError } from "../errors.ts";
import { readTextIfExists, writeFileAtomic } from "../fs.ts";

/** Where the REST API answers and the key it wants. */
export type Endpoint = {
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
  readonly apiKey: string;
};

/** The config version Syncthing 1.19 writes; a newer number makes it refuse to start. */
const CONFIG_VERSION = 36;
const API_SOCKET = "api.sock";
const START_WAIT_MS = 30_000;
/** The monitor process we started (it ends its worker when it ends). */
const PID_FILE = "syncthing.pid";

/** What `init` tells the daemon before it first starts: listen only where the user says, and nothing public. */
export type SeedOptions = { readonly listen: readonly string[]; readonly apiKey: string; readonly name: string };

export function seededConfig(home: string, seed: SeedOptions): string {
  const listen = seed.listen.length > 0 ? seed.listen : [""];
  return `<configuration version="${CONFIG_VERSION}">
    <gui enabled="true" tls="false">
        <address>${xmlText(path.join(home, API_SOCKET))}</address>
        <unixSocketPermissions>0600</unixSocketPermissions>
        <apikey>${xmlText(seed.apiKey)}</apikey>
    </gui>
    <options>
${listen.map((address) => `        <listenAddress>${xmlText(address)}</listenAddress>`).join("\n")}
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <relaysEnabled>false</relaysEnabled>
        <natEnabled>false</natEnabled>
        <urAccepted>-1</urAccepted>
        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
        <crashReportingEnabled>false</crashReportingEnabled>
        <startBrowser>false</startBrowser>
        <reconnectionIntervalS>5</reconnectionIntervalS>
    </options>
</configuration>
`;
}

function xmlText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

export function newApiKey(): string {
  return randomBase64Url(24);
}

/** The syncthing binary: `$CLAUDE_PERSIST_SYNCTHING` or `syncthing` on PATH. */
export function syncthingBinary(env: Env): string {
  return env.CLAUDE_PERSIST_SYNCTHING || "syncthing";
}

/**
 * Writes the seeded config.xml (only if there is none) and generates the device's keys without starting it.
 * Returns the device ID.
 */
export async function createInstance(env: Env, home: string, seed: SeedOptions): Promise<string> {
  const probe = await runProcess(syncthingBinary(env), ["--version"], { env: { ...env } });
  if (probe.exitCode !== 0) throw missingSyncthing(`${probe.message} ${probe.stderr}`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const config = path.join(home, "config.xml");
  if (!existsSync(config)) writeFileAtomic(config, seededConfig(home, seed), 0o600);
  const generated = await runProcess(syncthingBinary(env), ["generate", `--home=${home}`, "--no-default-folder"], {
    env: { ...env },
  });
  if (generated.exitCode !== 0) throw missingSyncthing(`${generated.message} ${generated.stderr}`);
  const id = /Device ID:\s*([A-Z0-9-]{63})/.exec(`${generated.stdout}\n${generated.stderr}`)?.[1];
  if (!id) throw new Error(`syncthing generate printed no device ID: ${generated.stderr.slice(0, 200)}`);
  return id;
}

function missingSyncthing(detail: string): UserError {
  if (/ENOENT|not found/i.test(detail)) {
    return new UserError(
      "syncthing is not installed: install it ('apt-get install syncthing' or your system's package) and run this again",
    );
  }
  return new UserError(`syncthing failed: ${detail.trim().split("\n").pop() ?? detail}`);
}

/** The endpoint of the instance in `home`, read from its config.xml each time (the key is kept nowhere else). */
export function endpointOf(home: string): Endpoint | undefined {
  const config = readTextIfExists(path.join(home, "config.xml"));
  if (config === undefined) return undefined;
  const gui = /<gui\b[^>]*>([\s\S]*?)<\/gui>/.exec(config);
  const guiTag = /<gui\b([^>]*)>/.exec(config)?.[1] ?? "";
  const address = /<address>([^<]*)<\/address>/.exec(gui?.[1] ?? "")?.[1];
  const apiKey = /<apikey>([^<]*)<\/apikey>/.exec(gui?.[1] ?? "")?.[1];
  if (!address || !apiKey || /tls="true"/.test(guiTag)) return undefined;
  const text = unXml(address);
  if (text.startsWith("/")) return { socketPath: text, apiKey: unXml(apiKey) };
  const hostPort = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!hostPort) return undefined;
  const host = hostPort[1] ?? hostPort[2] ?? "127.0.0.1";
  return { host: host === "0.0.0.0" ? "127.0.0.1" : host, port: Number(hostPort[3]), apiKey: unXml(apiKey) };
}

function unXml(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

/** The homes a Syncthing the user runs themselves keeps its config in (1.19: ~/.config/syncthing; newer: ~/.local/state). */
export function userSyncthingHomes(env: Env): string[] {
  const home = env.HOME || homedir();
  return [
    path.join(env.XDG_STATE_HOME || path.join(home, ".local", "state"), "syncthing"),
    path.join(env.XDG_CONFIG_HOME || path.join(home, ".config"), "syncthing"),
  ];
}

export class RestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** One REST call; JSON in and out. */
export function rest<T = unknown>(
  endpoint: Endpoint,
  method: string,
  apiPath: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<T> {
  // node:http (with node:net and the stream modules) loads at the first call: `doctor` imports this module.
  const { request } = createRequire(import.meta.url)("node:http") as typeof Http;
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        ...(endpoint.socketPath ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port }),
        method,
        path: apiPath,
        headers: {
          "X-API-Key": endpoint.apiKey,
          ...(payload ? { "Content-Type": "application/json", "Content-Length": String(payload.length) } : {}),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 500) >= 300) {
            reject(
              new RestError(
                `Syncthing answered ${res.statusCode} to ${method} ${apiPath}: ${text.trim().slice(0, 200)}`,
                res.statusCode ?? 500,
              ),
            );
            return;
          }
          try {
            resolve((text.trim() ? JSON.parse(text) : undefined) as T);
          } catch {
            resolve(text as T);
          }
        });
      },
    );
    req.on("timeout", () =>
      req.destroy(new Error(`Syncthing did not answer ${method} ${apiPath} within ${timeoutMs} ms`)),
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export async function isUp(endpoint: Endpoint): Promise<boolean> {
  try {
    await rest(endpoint, "GET", "/rest/system/ping", undefined, 3_000);
    return true;
  } catch {
    return false;
  }
}

/** The arguments every start of the daemon in `home` uses (here, and in the login units of autostart.ts). */
export function serveArgs(home: string): string[] {
  return [
    "serve",
    `--home=${home}`,
    "--no-browser",
    "--no-restart",
    "--no-upgrade",
    `--logfile=${path.join(home, "syncthing.log")}`,
  ];
}

/** Starts the daemon in `home` in the background, as the current user, and waits until its API answers. */
export async function startDaemon(env: Env, home: string): Promise<Endpoint> {
  const endpoint = endpointOf(home);
  if (!endpoint)
    throw new UserError(`${home}/config.xml has no usable API address; run 'claude-persist sync init' again`);
  if (await isUp(endpoint)) return endpoint;
  const log = { file: path.join(home, "syncthing.log"), append: true } as const;
  // A daemon that outlives this command: detached, its output in the log.
  const child = startProcess(syncthingBinary(env), serveArgs(home), {
    detached: true,
    stdout: log,
    stderr: log,
    env: { ...env, STNODEFAULTFOLDER: "1" },
  });
  let ended: ProcessResult<string | Buffer> | undefined;
  void child.result.then((result) => (ended = result));
  child.unref();
  if (child.pid !== undefined) writeFileAtomic(path.join(home, PID_FILE), `${child.pid}\n`, 0o600);
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline) {
    if (await isUp(endpoint)) return endpoint;
    if (ended?.code !== undefined) throw missingSyncthing(ended.message);
    if (ended) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new UserError(`Syncthing did not start; see ${path.join(home, "syncthing.log")}`);
}

/** Asks the daemon in `home` to exit and waits until its API is gone and the process we started has ended. */
export async function stopDaemon(home: string): Promise<boolean> {
  const endpoint = endpointOf(home);
  const wasUp = endpoint !== undefined && (await isUp(endpoint));
  if (endpoint && wasUp) await rest(endpoint, "POST", "/rest/system/shutdown").catch(() => undefined);
  const pid = Number(readTextIfExists(path.join(home, PID_FILE))?.trim());
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && ((endpoint && (await isUp(endpoint))) || (pid > 0 && isRunning(pid)))) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (wasUp && pid > 0 && isRunning(pid)) process.kill(pid, "SIGTERM");
  return wasUp;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
