// What we ask the Docker engine directly: the container the devcontainers CLI made for a workspace, its
// mounts, and an image's dev container metadata. Honours DOCKER_HOST like the docker CLI does.
import { execa } from "execa";
import { z } from "zod";
import { UserError } from "./errors.ts";

const containerSchema = z.looseObject({
  Id: z.string(),
  State: z.looseObject({ Running: z.boolean() }),
  Mounts: z.array(z.looseObject({ Type: z.string(), Source: z.string().optional(), Destination: z.string(), RW: z.boolean() })),
  Config: z.looseObject({ Labels: z.record(z.string(), z.string()).nullable().optional(), User: z.string().optional() }),
});
export type Container = z.infer<typeof containerSchema>;

const metadataSchema = z.array(
  z.looseObject({ remoteUser: z.string().optional(), containerUser: z.string().optional(), postAttachCommand: z.unknown().optional() }),
);
export type MetadataEntry = z.infer<typeof metadataSchema>[number];

/** The merged dev container metadata the CLI stored on a container (config, image and features). */
export function containerMetadata(container: Container): MetadataEntry[] {
  const label = container.Config.Labels?.["devcontainer.metadata"];
  if (!label) return [];
  try {
    const parsed = metadataSchema.safeParse(JSON.parse(label));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

async function docker(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const result = await execa("docker", args, { env, extendEnv: false, reject: false });
  if (result.exitCode === 0) return result.stdout;
  const reason = result.stderr.split("\n").find(Boolean) ?? `exit code ${result.exitCode}`;
  if (/Cannot connect to the Docker daemon|no such file or directory|connection refused/i.test(reason) || result.failed && "code" in result && result.code === "ENOENT") {
    throw new UserError(`Docker is not reachable (${reason.trim()}): start Docker, or set DOCKER_HOST to a running engine`);
  }
  throw new UserError(`docker ${args[0]} failed: ${reason.trim()}`);
}

/** The container (running or not) that the devcontainers CLI created for this workspace and config. */
export async function findDevcontainer(workspaceFolder: string, configPath: string, env: NodeJS.ProcessEnv): Promise<Container | undefined> {
  const ids = (
    await docker(
      ["ps", "-a", "--filter", `label=devcontainer.local_folder=${workspaceFolder}`, "--filter", `label=devcontainer.config_file=${configPath}`, "--format", "{{.ID}}"],
      env,
    )
  )
    .split("\n")
    .filter(Boolean);
  const [id] = ids;
  return id ? inspectContainer(id, env) : undefined;
}

export async function inspectContainer(id: string, env: NodeJS.ProcessEnv): Promise<Container> {
  const parsed = z.array(containerSchema).safeParse(JSON.parse(await docker(["inspect", "--type", "container", id], env)));
  const container = parsed.success ? parsed.data[0] : undefined;
  if (!container) throw new UserError(`docker inspect ${id} answered something unexpected`);
  return container;
}

/** The user an image's `devcontainer.metadata` label asks for, when the image is there to read. */
export async function imageRemoteUser(image: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  let labels: string;
  try {
    labels = await docker(["image", "inspect", "--format", "{{json .Config.Labels}}", image], env);
  } catch {
    return undefined;
  }
  try {
    const metadata = z.record(z.string(), z.string()).nullable().parse(JSON.parse(labels))?.["devcontainer.metadata"];
    const entries = metadata ? metadataSchema.parse(JSON.parse(metadata)) : [];
    return entries.findLast((e) => e.remoteUser)?.remoteUser ?? entries.findLast((e) => e.containerUser)?.containerUser;
  } catch {
    return undefined;
  }
}

/** Runs `command` in the container as root: for what Docker made root-owned. */
export async function execAsRoot(containerId: string, command: string[], env: NodeJS.ProcessEnv): Promise<void> {
  await docker(["exec", "-u", "root", containerId, ...command], env);
}
