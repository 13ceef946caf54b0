// What the repo's files say about the container's user, without an engine: the Dockerfile of a `build` config
// (its last stage), or the compose service's `user:`, `image:` and `build:`. An engine, when asked, knows better
// (launch/find-user.ts); this is what `share`, `dev-open --config-only` and a dry run go on.
import path from "node:path";
import * as z from "zod/mini";
import type { DevcontainerConfig } from "./config.ts";
import { once } from "../../once.ts";
import { readDockerfileUser } from "./dockerfile.ts";

export type StaticUserFacts = {
  /** The image the container runs (a config's `image`, a compose service's `image:`), or the Dockerfile's base. */
  readonly image?: string | undefined;
  /** True when the image is built from a Dockerfile (whose base is `image`). */
  readonly built: boolean;
  readonly dockerfile?: string | undefined;
  /** The Dockerfile's last USER. */
  readonly dockerfileUser?: string | undefined;
  readonly composeUser?: string | undefined;
  /** Homes set by the Dockerfile's useradd/usermod lines. */
  readonly homes: Readonly<Record<string, string>>;
};

/** Reads a file of the repo; undefined when it is missing, unreadable, or outside the repo. */
export type RepoReader = (file: string) => string | undefined;

const buildSchema = once(() =>
  z.looseObject({
    dockerfile: z.optional(z.string()),
    context: z.optional(z.string()),
    args: z.optional(z.record(z.string(), z.string())),
  }),
);

export async function staticUserFacts(
  config: DevcontainerConfig,
  configPath: string,
  read: RepoReader,
  env: Readonly<Record<string, string | undefined>>,
): Promise<StaticUserFacts> {
  const dir = path.dirname(configPath);
  if (config.dockerComposeFile !== undefined) {
    // yaml (the largest module dev-open loads) only for a compose-based config.
    const { parse } = await import("yaml");
    return composeFacts(config, configPath, (text) => parse(text) as unknown, read, env);
  }
  const legacy = (config as { dockerFile?: unknown }).dockerFile;
  const build = buildSchema().safeParse(config.build ?? {});
  const dockerfileName =
    (build.success ? build.data.dockerfile : undefined) ?? (typeof legacy === "string" ? legacy : undefined);
  if (!dockerfileName) return { image: config.image, built: false, homes: {} };
  return dockerfileFacts(path.resolve(dir, dockerfileName), build.success ? (build.data.args ?? {}) : {}, read);
}

function dockerfileFacts(file: string, args: Readonly<Record<string, string>>, read: RepoReader): StaticUserFacts {
  const text = read(file);
  if (text === undefined) return { built: true, dockerfile: file, homes: {} };
  const found = readDockerfileUser(text, args);
  return { image: found.baseImage, built: true, dockerfile: file, dockerfileUser: found.user, homes: found.homes };
}

const composeServiceSchema = once(() => {
  const build = z.union([
    z.string(),
    z.looseObject({
      context: z.optional(z.string()),
      dockerfile: z.optional(z.string()),
      args: z.optional(
        z.union([z.record(z.string(), z.nullable(z.union([z.string(), z.number()]))), z.array(z.string())]),
      ),
    }),
  ]);
  return z.looseObject({
    user: z.optional(z.union([z.string(), z.number()])),
    image: z.optional(z.string()),
    build: z.optional(build),
  });
});
type ComposeService = z.infer<ReturnType<typeof composeServiceSchema>>;
type ComposeBuild = NonNullable<ComposeService["build"]>;

/** The service as compose merges it from the listed files (a later file's key wins), and where its build lives. */
function composeFacts(
  config: DevcontainerConfig,
  configPath: string,
  parseYaml: (text: string) => unknown,
  read: RepoReader,
  env: Readonly<Record<string, string | undefined>>,
): StaticUserFacts {
  const listed = config.dockerComposeFile;
  const files = (typeof listed === "string" ? [listed] : (listed ?? [])).map((f) =>
    path.resolve(path.dirname(configPath), f),
  );
  let user: string | undefined;
  let image: string | undefined;
  let build: { value: ComposeBuild; file: string } | undefined;
  for (const file of files) {
    const service = serviceIn(read(file), config.service ?? "", parseYaml);
    if (!service) continue;
    if (service.user !== undefined) user = interpolate(String(service.user), env);
    if (service.image !== undefined) image = interpolate(service.image, env);
    if (service.build !== undefined) build = { value: service.build, file };
  }
  const composeUser = user?.split(":")[0] || undefined;
  if (!build) return { image, built: false, composeUser, homes: {} };
  const spec = typeof build.value === "string" ? { context: build.value } : build.value;
  const context = path.resolve(path.dirname(build.file), spec.context ?? ".");
  const args = Array.isArray(spec.args)
    ? Object.fromEntries(spec.args.map((a) => [a.split("=")[0] ?? a, a.slice(a.indexOf("=") + 1)]))
    : Object.fromEntries(Object.entries(spec.args ?? {}).map(([k, v]) => [k, String(v ?? "")]));
  const built = dockerfileFacts(path.resolve(context, spec.dockerfile ?? "Dockerfile"), args, read);
  return { ...built, composeUser };
}

function serviceIn(
  text: string | undefined,
  name: string,
  parseYaml: (text: string) => unknown,
): ComposeService | undefined {
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    // Only read here; the edits use the Document API (compose.ts).
    doc = parseYaml(text);
  } catch {
    return undefined;
  }
  const services = z.looseObject({ services: z.record(z.string(), z.unknown()) }).safeParse(doc);
  const parsed = services.success ? composeServiceSchema().safeParse(services.data.services[name]) : undefined;
  return parsed?.success ? parsed.data : undefined;
}

/** Compose's `${X}`, `${X:-default}`, `${X-default}` from the host's environment; unknown names stay as written. */
function interpolate(value: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const result = value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
    (whole, name: string, fallback?: string) => {
      const known = env[name];
      return known ? known : (fallback ?? whole);
    },
  );
  return result.includes("${") ? undefined : result;
}
