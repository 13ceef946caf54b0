// What we ask the Docker engine directly: the container the devcontainers CLI made for a workspace, its
// mounts, and an image's dev container metadata. Honours DOCKER_HOST like the docker CLI does. Every call has a
// timeout: an engine that accepts connections but never answers must not hang dev-open or doctor.
import { runProcess } from "../../child-process.ts";
import * as z from "zod/mini";
import { UserError } from "../../errors.ts";
import { once } from "../../once.ts";

const DOCKER_TIMEOUT_MS = 20_000;

/** What a user is told to do when the engine cannot be reached. */
export const DOCKER_UNREACHABLE_FIX = "start Docker, or set DOCKER_HOST to a running engine";

/** True when a line from docker (or from the devcontainers CLI's log) says the engine cannot be reached. */
export function isDockerUnreachable(line: string): boolean {
  return /Cannot connect to the Docker daemon|connect: no such file or directory|connect: connection refused|docker: not found|spawn docker ENOENT/i.test(
    line,
  );
}

const labelsSchema = once(() => z.optional(z.nullable(z.record(z.string(), z.string()))));

const containerSchema = once(() =>
  z.looseObject({
    Id: z.string(),
    State: z.looseObject({ Running: z.boolean() }),
    Mounts: z.array(
      z.looseObject({ Type: z.string(), Source: z.optional(z.string()), Destination: z.string(), RW: z.boolean() }),
    ),
    Config: z.looseObject({
      Labels: labelsSchema(),
      User: z.optional(z.string()),
      Env: z.optional(z.nullable(z.array(z.string()))),
    }),
  }),
);
export type Container = z.infer<ReturnType<typeof containerSchema>>;

const metadataSchema = once(() =>
  z.array(
    z.looseObject({
      remoteUser: z.optional(z.string()),
      containerUser: z.optional(z.string()),
      postAttachCommand: z.optional(z.unknown()),
    }),
  ),
);
export type MetadataEntry = z.infer<ReturnType<typeof metadataSchema>>[number];

/** The merged dev container metadata the CLI stored on a container (config, image and features). */
/**
 * The user the devcontainers CLI runs commands as, from metadata entries (later ones win): the last remoteUser,
 * else the last containerUser.
 */
export function effectiveUser(
  entries: readonly { readonly remoteUser?: string | undefined; readonly containerUser?: string | undefined }[],
): string | undefined {
  return entries.findLast((e) => e.remoteUser)?.remoteUser ?? entries.findLast((e) => e.containerUser)?.containerUser;
}

export function containerMetadata(container: Container): MetadataEntry[] {
  return metadataFromLabels(container.Config.Labels);
}

/** The `devcontainer.metadata` label of a container or an image, parsed; empty when it is missing or malformed. */
function metadataFromLabels(labels: z.infer<ReturnType<typeof labelsSchema>>): MetadataEntry[] {
  const label = labels?.["devcontainer.metadata"];
  if (!label) return [];
  try {
    const parsed = metadataSchema().safeParse(JSON.parse(label));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** The container's environment (`docker inspect`'s Config.Env) as a record. */
export function containerEnv(container: Container): Record<string, string> {
  const entries = (container.Config.Env ?? []).map((line) => [
    line.slice(0, line.indexOf("=")),
    line.slice(line.indexOf("=") + 1),
  ]);
  return Object.fromEntries(entries.filter(([key]) => key));
}

async function docker(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const result = await runProcess("docker", args, { env, timeout: DOCKER_TIMEOUT_MS });
  if (result.exitCode === 0) return result.stdout;
  if (result.timedOut)
    throw new UserError(
      `docker ${args[0]} did not answer within ${DOCKER_TIMEOUT_MS / 1000} s: is the engine at DOCKER_HOST stuck?`,
    );
  const reason = (result.stderr.split("\n").find(Boolean) ?? `exit code ${result.exitCode}`).trim();
  if (isDockerUnreachable(reason) || result.code === "ENOENT") {
    throw new UserError(`Docker is not reachable (${reason}): ${DOCKER_UNREACHABLE_FIX}`);
  }
  throw new UserError(`docker ${args[0]} failed: ${reason}`);
}

export type DockerProbe = {
  readonly reachable: boolean;
  readonly version?: string;
  readonly reason?: string;
  readonly missing?: boolean;
};

/** `docker version` against the engine DOCKER_HOST names (or the default one); never throws. */
export async function probeDocker(env: NodeJS.ProcessEnv): Promise<DockerProbe> {
  const run = await runProcess("docker", ["version", "--format", "{{.Server.Version}}"], {
    env,
    timeout: DOCKER_TIMEOUT_MS,
  });
  const version = run.stdout.trim();
  if (run.exitCode === 0 && version) return { reachable: true, version };
  const missing = run.code === "ENOENT";
  const reason = missing
    ? "the docker CLI is not installed"
    : (run.stderr
        .split("\n")
        .map((line) => line.trim())
        .find(Boolean) ?? `exit code ${run.exitCode}`);
  return { reachable: false, missing, reason };
}

/** `docker exec …args`, never throwing: whether it succeeded, and its output as is. */
export async function dockerExec(
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const run = await runProcess("docker", ["exec", ...args], {
    env,
    timeout: DOCKER_TIMEOUT_MS,
    stripFinalNewline: false,
  });
  return { ok: run.exitCode === 0, stdout: run.stdout, stderr: run.stderr };
}

/** The container (running or not) that the devcontainers CLI created for this workspace and config. */
export async function findDevcontainer(
  workspaceFolder: string,
  configPath: string,
  env: NodeJS.ProcessEnv,
): Promise<Container | undefined> {
  const ids = (
    await docker(
      [
        "ps",
        "-a",
        "--filter",
        `label=devcontainer.local_folder=${workspaceFolder}`,
        "--filter",
        `label=devcontainer.config_file=${configPath}`,
        "--format",
        "{{.ID}}",
      ],
      env,
    )
  )
    .split("\n")
    .filter(Boolean);
  const [id] = ids;
  return id ? inspectContainer(id, env) : undefined;
}

export async function inspectContainer(id: string, env: NodeJS.ProcessEnv): Promise<Container> {
  const parsed = z
    .array(containerSchema())
    .safeParse(JSON.parse(await docker(["inspect", "--type", "container", id], env)));
  const container = parsed.success ? parsed.data[0] : undefined;
  if (!container) throw new UserError(`docker inspect ${id} answered something unexpected`);
  return container;
}

/** The user an image's `devcontainer.metadata` label asks for, when the image is there to read. */
export async function imageRemoteUser(image: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  let labels: z.infer<ReturnType<typeof labelsSchema>>;
  try {
    labels = labelsSchema().parse(
      JSON.parse(await docker(["image", "inspect", "--format", "{{json .Config.Labels}}", image], env)),
    );
  } catch {
    return undefined;
  }
  return effectiveUser(metadataFromLabels(labels));
}

/** Runs `command` in the container as root: for what Docker made root-owned. */
export async function execAsRoot(containerId: string, command: string[], env: NodeJS.ProcessEnv): Promise<void> {
  await docker(["exec", "-u", "root", containerId, ...command], env);
}
