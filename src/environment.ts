// Where a session runs: on the host, or inside a dev container that /dev-open prepared. Cheap enough for the hook.
//
// Being in *a* container says nothing: cloud workstations, CI runners and docker-in-docker machines are containers
// that launch dev containers, and for them they are the host. Only a container made from a config /dev-open
// prepared (it carries CLAUDE_PERSIST_HOST_WORKSPACE) or one carrying the pack's mounts is "a dev container" here.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { CONTAINER_WORKSPACE_ENV, HOST_WORKSPACE_ENV } from "./claude/shared.ts";
import { configDir, PACK_CODE_DIR, type Env } from "./claude/home.ts";

/** Set to `host` or `container` to override the detection. */
export const ENVIRONMENT_OVERRIDE_ENV = "CLAUDE_PERSIST_ENVIRONMENT";

export type Environment = {
  readonly kind: "host" | "container";
  /** The machine's or container's hostname, to tell environments apart in records. */
  readonly name: string;
  /** In a container opened by /dev-open: the workspace's path on the host. */
  readonly hostWorkspace: string | undefined;
  /** And its path in the container. */
  readonly containerWorkspace: string | undefined;
};

/** `mountInfo` reads this process's mount table (for tests: any text in /proc/self/mountinfo's format). */
export function detectEnvironment(env: Env = process.env, mountInfo: () => string = readMountInfo): Environment {
  const hostWorkspace = env[HOST_WORKSPACE_ENV] || undefined;
  const containerWorkspace = env[CONTAINER_WORKSPACE_ENV] || undefined;
  return { kind: detectKind(env, hostWorkspace, mountInfo), name: hostname(), hostWorkspace, containerWorkspace };
}

function detectKind(env: Env, hostWorkspace: string | undefined, mountInfo: () => string): Environment["kind"] {
  const forced = env[ENVIRONMENT_OVERRIDE_ENV];
  if (forced === "host" || forced === "container") return forced;
  if (hostWorkspace) return "container";
  return carriesPackMount(env, mountInfo()) ? "container" : "host";
}

/** True when the pack's code folder is a mount point here: only a dev container opened with our config has that. */
function carriesPackMount(env: Env, mountInfo: string): boolean {
  const packCode = path.join(configDir(env), PACK_CODE_DIR);
  return mountInfo.split("\n").some((line) => unescapeMountPath(line.split(" ")[4] ?? "") === packCode);
}

function unescapeMountPath(point: string): string {
  return point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

function readMountInfo(): string {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return "";
  }
}
