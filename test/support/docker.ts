// A real Docker engine and a local base image for end-to-end tests of the devcontainer integration.
//
// No image registry is reachable here, so the base image is built from Debian packages with
// debootstrap and `docker import`ed. The engine's data root lives in a stable cache dir, so the image
// survives between runs; the rootfs tarball is cached too, so a wiped data root only re-imports it.
// Provision the machine first with `.ci/provision-docker.sh`.
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";

export interface DockerEngine {
  /** e.g. `unix:///var/tmp/claude-persist-docker/docker.sock` */
  host: string;
  /** Environment to hand to `docker` / `devcontainer` (merge into process.env). */
  env: { DOCKER_HOST: string };
  /**
   * Releases this process's hold on the engine. The daemon is stopped only when it was started by
   * these helpers and no other live process still holds it; with CLAUDE_PERSIST_KEEP_DOCKERD=1 it is
   * left running (and later runs reuse it).
   */
  stop(): Promise<void>;
}

export interface EngineSkipped {
  skipped: string;
}

export const BASE_IMAGE = "claude-persist/devbase:bookworm";
/** Bump when the image recipe changes in a way the recipe hash below cannot see. */
const RECIPE_VERSION = 1;
const SUITE = "bookworm";
// git and ca-certificates for the workspace, libstdc++6 for the host's node binary, procps and
// curl because the devcontainer CLI and humans debugging a container expect them.
const INCLUDE_PACKAGES = ["git", "ca-certificates", "libstdc++6", "procps", "curl"];
const IMAGE_USER = { name: "vscode", uid: 1000, home: "/home/vscode", shell: "/bin/bash" };

const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const ENGINE_START_TIMEOUT_MS = 60_000;

export function cacheDir(): string {
  return process.env.CLAUDE_PERSIST_DOCKER_DIR ?? "/var/tmp/claude-persist-docker";
}

function paths() {
  const base = cacheDir();
  return {
    base,
    dataRoot: join(base, "data"),
    execRoot: join(base, "exec"),
    pidFile: join(base, "dockerd.pid"),
    socket: join(base, "docker.sock"),
    log: join(base, "dockerd.log"),
    leases: join(base, "leases"),
    // Present while the running daemon was started by these helpers (and may be stopped by them).
    managed: join(base, "dockerd.managed"),
    engineLock: join(base, "engine.lock"),
    imageLock: join(base, "image.lock"),
  };
}

// PATH as root's login shell would have it: dockerd needs containerd and runc, which live in
// /usr/bin and /usr/sbin, and a test runner's PATH may lack the sbin folders.
function withSystemPath(): string {
  const current = (process.env.PATH ?? "").split(":").filter(Boolean);
  for (const dir of SYSTEM_PATH.split(":")) if (!current.includes(dir)) current.push(dir);
  return current.join(":");
}

function findExecutable(name: string): string | undefined {
  for (const dir of withSystemPath().split(":")) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Why the Docker tests cannot run here, or undefined when they can. With CI set it throws instead:
 * CI must never silently skip them.
 */
export function dockerUnavailableReason(): string | undefined {
  let reason: string | undefined;
  if (process.platform !== "linux") reason = `Docker e2e tests need Linux (this is ${process.platform})`;
  else if (process.getuid?.() !== 0) reason = "Docker e2e tests need root (to run dockerd and debootstrap)";
  else {
    const missing = ["dockerd", "docker", "debootstrap", "setpriv"].filter((n) => !findExecutable(n));
    if (missing.length > 0) reason = `${missing.join(", ")} not installed: run .ci/provision-docker.sh`;
  }
  if (reason && process.env.CI) throw new Error(`CI must run the Docker e2e tests, but: ${reason}`);
  return reason;
}

// ---------------------------------------------------------------------------------------------
// Cross-process lock (vitest runs test files in parallel workers).

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function withLock<T>(lockFile: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let stale = false;
    try {
      const owner = Number((await readFile(lockFile, "utf8")).trim());
      // An empty file is a lock being written right now, unless it has been empty for a while.
      stale = owner > 0 ? !pidAlive(owner) : Date.now() - (await stat(lockFile)).mtimeMs > 10_000;
    } catch {
      continue; // released meanwhile
    }
    if (stale) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for lock ${lockFile}`);
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The engine.

async function engineAnswers(host: string): Promise<boolean> {
  const { exitCode } = await execa("docker", ["info", "--format", "{{.ServerVersion}}"], {
    env: { DOCKER_HOST: host, PATH: withSystemPath() },
    reject: false,
    timeout: 10_000,
  });
  return exitCode === 0;
}

function logTail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no dockerd log)";
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function liveLeases(dir: string): Promise<string[]> {
  const live: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(name.split("-")[0]);
    if (pid > 0 && pidAlive(pid)) live.push(name);
    else await rm(join(dir, name), { force: true });
  }
  return live;
}

async function launchDockerd(p: ReturnType<typeof paths>, host: string): Promise<void> {
  await mkdir(p.dataRoot, { recursive: true });
  await mkdir(p.execRoot, { recursive: true });
  const logFd = openSync(p.log, "w");
  // Detached so the daemon outlives the test worker that started it (others may share it).
  const child = spawn(
    findExecutable("dockerd") ?? "dockerd",
    [
      "--data-root",
      p.dataRoot,
      "--exec-root",
      p.execRoot,
      "--pidfile",
      p.pidFile,
      "-H",
      host,
      // No bridge and no iptables: tests use --network=host and must not touch the host's firewall.
      "--iptables=false",
      "--ip6tables=false",
      "--bridge=none",
    ],
    { detached: true, stdio: ["ignore", logFd, logFd], env: { ...process.env, PATH: withSystemPath() } },
  );
  closeSync(logFd);
  let exited: string | undefined;
  child.on("exit", (code, signal) => {
    exited = `dockerd exited early (${signal ?? `code ${code}`})`;
  });
  child.unref();

  const deadline = Date.now() + ENGINE_START_TIMEOUT_MS;
  while (!(await engineAnswers(host))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      throw new Error(
        `${exited ?? `dockerd did not answer within ${ENGINE_START_TIMEOUT_MS / 1000}s`}; log ${p.log}:\n${logTail(p.log)}`,
      );
    }
    await sleep(250);
  }
  await writeFile(p.managed, String(child.pid ?? ""));
}

async function stopDockerd(p: ReturnType<typeof paths>): Promise<void> {
  const pid = readPid(p.pidFile);
  await rm(p.managed, { force: true });
  if (!pid || !pidAlive(pid)) return;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 30_000;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, "SIGKILL");
      break;
    }
    await sleep(200);
  }
}

/**
 * Starts (or reuses) a private dockerd. Returns `{ skipped }` when it cannot run here (not root, not
 * provisioned); throws instead when CI is set.
 */
export async function startDockerEngine(): Promise<DockerEngine | EngineSkipped> {
  const reason = dockerUnavailableReason();
  if (reason) return { skipped: reason };

  const p = paths();
  const host = `unix://${p.socket}`;
  // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
  if (Buffer.byteLength(p.socket) > 100) throw new Error(`Docker socket path too long: ${p.socket}`);
  await mkdir(p.leases, { recursive: true });
  // Non-root users must reach the socket inside it.
  await chmod(p.base, 0o755);

  const lease = join(p.leases, `${process.pid}-${randomUUID()}`);
  await withLock(p.engineLock, 120_000, async () => {
    if (!(await engineAnswers(host))) {
      const stale = readPid(p.pidFile);
      if (stale && pidAlive(stale)) {
        throw new Error(`dockerd (pid ${stale}) runs but does not answer on ${host}; log:\n${logTail(p.log)}`);
      }
      await launchDockerd(p, host);
    }
    // dockerd creates the socket root:docker 0660; the e2e tests drive it from a non-root user.
    await chmod(p.socket, 0o666);
    await writeFile(lease, "");
  });

  let stopped = false;
  return {
    host,
    env: { DOCKER_HOST: host },
    async stop() {
      if (stopped) return;
      stopped = true;
      await withLock(p.engineLock, 120_000, async () => {
        await rm(lease, { force: true });
        if (process.env.CLAUDE_PERSIST_KEEP_DOCKERD) {
          await rm(p.managed, { force: true });
          return;
        }
        if (existsSync(p.managed) && (await liveLeases(p.leases)).length === 0) await stopDockerd(p);
      });
    },
  };
}

/** Runs the docker CLI against `engine`. */
export function docker(
  engine: DockerEngine,
  args: readonly string[],
  options: { input?: string; reject?: boolean } = {},
) {
  return execa("docker", args, {
    env: { ...engine.env, PATH: withSystemPath() },
    reject: options.reject ?? true,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
}

/**
 * Removes every container the devcontainer CLI created for `localFolder`, and the per-folder
 * `vsc-<folder>-<hash>-uid` image tag it built for them (the CLI builds one on every `up` on
 * Linux, even for root; the layers are shared through the build cache, but the tags pile up).
 */
export async function removeDevcontainers(engine: DockerEngine, localFolder: string): Promise<void> {
  const { stdout } = await docker(engine, ["ps", "-aq", "--filter", `label=devcontainer.local_folder=${localFolder}`]);
  const ids = stdout.split("\n").filter(Boolean);
  if (ids.length === 0) return;
  const inspected = await docker(engine, ["inspect", "--format", "{{.Config.Image}}", ...ids], { reject: false });
  const uidImages = [...new Set(inspected.stdout.split("\n").filter((image) => /^vsc-.*-uid$/.test(image)))];
  await docker(engine, ["rm", "-f", ...ids]);
  // Another container may still use one of them: not an error.
  if (uidImages.length > 0) await docker(engine, ["rmi", ...uidImages], { reject: false });
}

// ---------------------------------------------------------------------------------------------
// The base image.

interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line.startsWith("deb ")) continue;
    // Drop the optional `[ options ]` block.
    const words = line
      .replace(/\[[^\]]*\]/, " ")
      .split(/\s+/)
      .slice(1);
    const [uri, suite, ...components] = words;
    if (uri && suite) sources.push({ uri, suites: [suite], components });
  }
  return sources;
}

function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split("\n")) {
      if (line.startsWith("#")) continue;
      const cont = /^\s+(\S.*)$/.exec(line);
      if (cont && last) {
        fields.set(last, `${fields.get(last) ?? ""} ${cont[1]}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m?.[1]) {
        last = m[1].toLowerCase();
        fields.set(last, m[2] ?? "");
      }
    }
    const words = (key: string) => (fields.get(key) ?? "").split(/\s+/).filter(Boolean);
    if (!words("types").includes("deb") || fields.get("enabled")?.trim() === "no") continue;
    for (const uri of words("uris")) sources.push({ uri, suites: words("suites"), components: words("components") });
  }
  return sources;
}

/** The Debian mirror this machine's apt uses for `suite` (one-line and deb822 sources). */
export function aptMirror(suite: string = SUITE): string {
  const sources: AptSource[] = [];
  const read = (file: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return "";
    }
  };
  sources.push(...parseOneLineSources(read("/etc/apt/sources.list")));
  const dir = "/etc/apt/sources.list.d";
  for (const name of existsSync(dir) ? readdirSync(dir).sort() : []) {
    const file = join("/etc/apt/sources.list.d", name);
    if (name.endsWith(".list")) sources.push(...parseOneLineSources(read(file)));
    else if (name.endsWith(".sources")) sources.push(...parseDeb822Sources(read(file)));
  }
  const match = sources.find(
    (s) => /^https?:\/\//.test(s.uri) && s.suites.includes(suite) && s.components.includes("main"),
  );
  if (!match) {
    throw new Error(`No apt source for ${suite} main in /etc/apt/sources.list{,.d/*}: cannot debootstrap`);
  }
  return match.uri.replace(/\/+$/, "");
}

async function imageLabel(engine: DockerEngine, image: string, label: string): Promise<string | undefined> {
  const result = await docker(engine, ["image", "inspect", "--format", `{{index .Config.Labels "${label}"}}`, image], {
    reject: false,
  });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** Libraries the host's node binary links against (absolute paths, as ldd resolves them here). */
async function nodeLibraries(): Promise<string[]> {
  const { stdout } = await execa("ldd", [process.execPath], { reject: false });
  const libs: string[] = [];
  for (const line of stdout.split("\n")) {
    // `libstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x…)` or `/lib64/ld-linux-x86-64.so.2 (0x…)`
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

async function recipeHash(): Promise<string> {
  const node = await stat(process.execPath);
  const recipe = JSON.stringify({
    RECIPE_VERSION,
    SUITE,
    INCLUDE_PACKAGES,
    IMAGE_USER,
    node: [process.version, node.size, node.mtimeMs],
  });
  return createHash("sha256").update(recipe).digest("hex").slice(0, 12);
}

// debootstrap mounts /proc and /sys inside the target; after a failure they can stay mounted, and a
// recursive delete must never walk into them.
async function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1]?.replace(/\\040/g, " "))
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const mount of mounts) await execa("umount", ["-l", mount], { reject: false });
}

async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await unmountUnder(dir);
  await execa("rm", ["-rf", "--one-file-system", dir]);
}

async function buildRootfsTarball(tarball: string, log: (line: string) => void): Promise<void> {
  const p = paths();
  const rootfs = join(p.base, "rootfs-build");
  await removeTree(rootfs);
  const mirror = aptMirror();
  const env = { PATH: withSystemPath(), DEBIAN_FRONTEND: "noninteractive" };

  log(`debootstrap ${SUITE} from ${mirror}`);
  const boot = await execa(
    "debootstrap",
    ["--variant=minbase", `--include=${INCLUDE_PACKAGES.join(",")}`, SUITE, rootfs, mirror],
    { env, reject: false, all: true },
  );
  if (boot.exitCode !== 0) {
    const debootLog = join(rootfs, "debootstrap", "debootstrap.log");
    const detail = existsSync(debootLog) ? readFileSync(debootLog, "utf8").split("\n").slice(-30).join("\n") : "";
    await removeTree(rootfs);
    throw new Error(`debootstrap failed (${boot.exitCode}):\n${boot.all.split("\n").slice(-30).join("\n")}\n${detail}`);
  }

  try {
    const chroot = (args: string[]) => execa("chroot", [rootfs, ...args], { env, reject: false });

    const taken = await chroot(["getent", "passwd", String(IMAGE_USER.uid)]);
    if (taken.exitCode === 0) throw new Error(`uid ${IMAGE_USER.uid} is already taken in the rootfs: ${taken.stdout}`);
    const useradd = await chroot([
      "useradd",
      "--uid",
      String(IMAGE_USER.uid),
      "--user-group",
      "--create-home",
      "--home-dir",
      IMAGE_USER.home,
      "--shell",
      IMAGE_USER.shell,
      IMAGE_USER.name,
    ]);
    if (useradd.exitCode !== 0) throw new Error(`useradd in rootfs failed: ${useradd.stderr}`);

    const missing = (await nodeLibraries()).filter((lib) => !existsSync(join(rootfs, lib)));
    if (missing.length > 0) {
      throw new Error(
        `The rootfs lacks libraries ${process.execPath} needs: ${missing.join(", ")} (extend INCLUDE_PACKAGES)`,
      );
    }
    await copyFile(process.execPath, join(rootfs, "usr/local/bin/node"));
    await chmod(join(rootfs, "usr/local/bin/node"), 0o755);
    const nodeCheck = await chroot(["/usr/local/bin/node", "-e", "process.stdout.write(process.version)"]);
    if (nodeCheck.exitCode !== 0) throw new Error(`node does not run in the rootfs: ${nodeCheck.stderr}`);

    // Trim what a container never needs.
    await execa("sh", [
      "-c",
      `rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/debootstrap`,
      "sh",
      rootfs,
    ]);

    log(`tar ${rootfs} -> ${tarball}`);
    const partial = `${tarball}.partial-${process.pid}`;
    await execa("tar", ["--numeric-owner", "--xattrs", "-C", rootfs, "-cf", partial, "."]);
    await rename(partial, tarball);
  } finally {
    await removeTree(rootfs);
  }
}

export interface EnsureBaseImageOptions {
  /** Progress lines (debootstrap takes a minute or two); default: stderr. */
  log?: (line: string) => void;
}

/**
 * Returns the name of a local Debian bookworm image with git, a `vscode` user (uid 1000, no sudo)
 * and the host's node at /usr/local/bin/node. Builds it on first use (debootstrap, ~1-2 min), from
 * then on reuses the image in the engine, or re-imports the cached rootfs tarball.
 */
export async function ensureBaseImage(engine: DockerEngine, options: EnsureBaseImageOptions = {}): Promise<string> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[devbase] ${line}\n`));
  const hash = await recipeHash();
  if ((await imageLabel(engine, BASE_IMAGE, "claude-persist.recipe")) === hash) return BASE_IMAGE;

  const p = paths();
  return withLock(p.imageLock, 15 * 60_000, async () => {
    if ((await imageLabel(engine, BASE_IMAGE, "claude-persist.recipe")) === hash) return BASE_IMAGE;
    const tarball = join(p.base, `devbase-${hash}.tar`);
    if (!existsSync(tarball)) {
      // Older recipes' tarballs only take space.
      for (const name of await readdir(p.base)) {
        if (/^devbase-.*\.tar/.test(name)) await unlink(join(p.base, name)).catch(() => undefined);
      }
      const started = Date.now();
      await buildRootfsTarball(tarball, log);
      log(`rootfs built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    }
    log(`docker import ${tarball} ${BASE_IMAGE}`);
    const importStarted = Date.now();
    await docker(engine, [
      "import",
      // `import` keeps no config: give the image a long-running default command and a sane env.
      "--change",
      'CMD ["sleep", "infinity"]',
      "--change",
      `ENV PATH=${SYSTEM_PATH}`,
      "--change",
      "ENV LANG=C.UTF-8",
      "--change",
      `LABEL claude-persist.recipe=${hash}`,
      tarball,
      BASE_IMAGE,
    ]);
    log(`imported in ${((Date.now() - importStarted) / 1000).toFixed(1)}s`);
    return BASE_IMAGE;
  });
}

/** Parses the single JSON line `devcontainer up` prints on stdout. */
export interface DevcontainerUpResult {
  outcome: "success" | "error";
  containerId?: string;
  remoteUser?: string;
  remoteWorkspaceFolder?: string;
  message?: string;
  description?: string;
}

export function parseDevcontainerUp(stdout: string): DevcontainerUpResult {
  const line = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"))
    .pop();
  if (!line) throw new Error(`devcontainer up printed no JSON line; stdout:\n${stdout}`);
  const parsed: unknown = JSON.parse(line);
  if (typeof parsed !== "object" || parsed === null || !("outcome" in parsed)) {
    throw new Error(`Unexpected devcontainer up output: ${line}`);
  }
  return parsed as DevcontainerUpResult;
}

/** The project's pinned devcontainer CLI. */
export const DEVCONTAINER_BIN = fileURLToPath(new URL("../../node_modules/.bin/devcontainer", import.meta.url));
