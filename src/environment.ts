// Where a session runs: on the host, or inside a (dev) container. Cheap enough for the hook.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { CONTAINER_WORKSPACE_ENV, HOST_WORKSPACE_ENV } from "./claude/shared.ts";
import type { Env } from "./claude/home.ts";

export type Environment = {
  readonly kind: "host" | "container";
  /** The machine's or container's hostname, to tell environments apart in records. */
  readonly name: string;
  /** In a container opened by /dev-open: the workspace's path on the host. */
  readonly hostWorkspace: string | undefined;
  /** And its path in the container. */
  readonly containerWorkspace: string | undefined;
};

export function detectEnvironment(env: Env = process.env, fileExists: (file: string) => boolean = existsSync): Environment {
  const hostWorkspace = env[HOST_WORKSPACE_ENV] || undefined;
  const containerWorkspace = env[CONTAINER_WORKSPACE_ENV] || undefined;
  return { kind: detectKind(env, hostWorkspace, fileExists), name: hostname(), hostWorkspace, containerWorkspace };
}

function detectKind(env: Env, hostWorkspace: string | undefined, fileExists: (file: string) => boolean): Environment["kind"] {
  // An explicit answer wins: some hosts (CI runners, sandboxes) are themselves containers.
  const forced = env.CLAUDE_PERSIST_ENVIRONMENT;
  if (forced === "host" || forced === "container") return forced;
  if (hostWorkspace || env.REMOTE_CONTAINERS || env.CODESPACES || env.DEVCONTAINER) return "container";
  return fileExists("/.dockerenv") || fileExists("/run/.containerenv") ? "container" : "host";
}
