// Whether the pack's in-container half can run in a dev container: the SessionStart hook and /start-work are
// JavaScript run with the container's own `node`. The host's node is no substitute: a macOS host's cannot run in a
// Linux container, and a Linux host's needs the image's libc (glibc, not musl) and architecture. So a container
// without a fit node is reported with the one fix that works everywhere: the Dev Containers node Feature.
import { dockerExec } from "./docker.ts";

/** The oldest Node.js the pack's bundles run on. */
export const NODE_MAJOR = 20;

export const NODE_FEATURE = `"features": { "ghcr.io/devcontainers/features/node:1": {} }`;

export type ContainerNode = {
  /** The container's node version, when it has one. */
  readonly version?: string;
  /** What is wrong, in a few words, when the hook and /start-work cannot run there. */
  readonly problem?: string;
};

export const NODE_FIX = `add the Dev Containers node Feature to the config (${NODE_FEATURE}) and run 'dev-open --rebuild'`;

/** Asks the running container for its `node` (on the PATH its processes get, as the container's user). */
export async function checkContainerNode(containerId: string, env: NodeJS.ProcessEnv): Promise<ContainerNode> {
  const run = await dockerExec(env, [containerId, "node", "-p", "process.versions.node"]);
  const version = run.ok ? run.stdout.trim() : undefined;
  if (!version) return { problem: "this container has no node" };
  if (Number(version.split(".")[0]) < NODE_MAJOR)
    return { version, problem: `this container's node ${version} is older than ${NODE_MAJOR}` };
  return { version };
}

/** dev-open's line for a container where the in-container half cannot run. */
export function describeNodeProblem(problem: string): string {
  const sentence = problem.charAt(0).toUpperCase() + problem.slice(1);
  return `${sentence}: Claude works and sessions are shared, but the SessionStart hook (where it runs, the issue in progress) and /start-work cannot run inside; ${NODE_FIX}.`;
}
