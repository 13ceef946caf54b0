// Doctor's checks of the tools the pack needs on the host: node, the devcontainers CLI, Docker.
import { devcontainerScript } from "../devcontainer/launch/up.ts";
import { DOCKER_UNREACHABLE_FIX, type DockerProbe } from "../devcontainer/launch/docker.ts";
import { runProcess } from "../child-process.ts";
import { type CheckResult, fail, firstLine, ok, warn } from "./report.ts";

const PROCESS_TIMEOUT_MS = 20_000;
export const NODE_MAJOR = 20;

export async function checkNode(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const run = await runProcess("node", ["-p", "process.versions.node"], { env, timeout: PROCESS_TIMEOUT_MS });
  const fix = `install Node.js ${NODE_MAJOR} or newer (https://nodejs.org)`;
  if (run.exitCode !== 0) return fail("`node` is not on the PATH: the hook and the slash commands need it", fix);
  const version = run.stdout.trim();
  if (Number(version.split(".")[0]) < NODE_MAJOR) {
    return fail(`node ${version} is too old: claude-persist needs ${NODE_MAJOR} or newer`, fix);
  }
  return ok(`node ${version}`);
}

export async function checkDevcontainerCli(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  let script: string;
  try {
    script = devcontainerScript();
  } catch {
    // Not resolvable from the pack's runtime: that is the failure reported.
    return fail("the devcontainers CLI is not installed with claude-persist", "claude-persist install");
  }
  const run = await runProcess(process.execPath, [script, "--version"], { env, timeout: PROCESS_TIMEOUT_MS });
  if (run.exitCode !== 0) {
    return fail("the devcontainers CLI does not run", "claude-persist install", firstLine(run.stderr));
  }
  return ok(`devcontainers CLI ${run.stdout.trim()}`);
}

/** Without Docker there is no dev container: a failure where dev-open has opened this repo, a warning elsewhere. */
export function dockerCheck(probe: DockerProbe, needed: boolean): CheckResult {
  if (probe.reachable) return ok(`Docker engine ${probe.version}`);
  const make = needed ? fail : warn;
  const fix = probe.missing ? "install Docker (https://docs.docker.com/engine/install/)" : DOCKER_UNREACHABLE_FIX;
  const label = `Docker is not reachable${needed ? ", and this repo has a dev container config" : ""}`;
  return make(label, fix, probe.reason);
}
