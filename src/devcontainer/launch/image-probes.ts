// Asking the engine about a dev container's image before the container exists: build it as `up` would
// (`devcontainer build`), and read a user's home from its /etc/passwd in a throw-away container.
import { runProcess } from "../../child-process.ts";
import * as z from "zod/mini";
import { UserError } from "../../errors.ts";
import { once } from "../../once.ts";
import { DOCKER_UNREACHABLE_FIX, docker, isDockerUnreachable } from "./docker.ts";
import { devcontainerScript } from "./up.ts";

/** A user's passwd entry in `image`: `getent passwd USER` in a container removed at once, no network, never pulling. */
export async function passwdHome(
  image: string,
  user: string,
  env: NodeJS.ProcessEnv,
): Promise<{ home: string } | { missing: true } | undefined> {
  const name = user.split(":")[0] ?? user;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) return undefined;
  let line: string;
  try {
    line = await docker(
      [
        "run",
        "--rm",
        "--pull",
        "never",
        "--network",
        "none",
        "--user",
        "0",
        "--entrypoint",
        "getent",
        image,
        "passwd",
        name,
      ],
      env,
    );
  } catch (error) {
    // getent exits 2 when the user is not in the database; anything else (no getent, no engine) says nothing.
    if (error instanceof UserError && /exit code 2$/.test(error.message)) return { missing: true };
    return undefined;
  }
  const home = line.trim().split("\n")[0]?.split(":")[5];
  return home?.startsWith("/") ? { home: home.replace(/\/+$/, "") || "/" } : undefined;
}

const buildAnswerSchema = once(() =>
  z.looseObject({
    outcome: z.literal("success"),
    imageName: z.union([z.string(), z.array(z.string())]),
  }),
);

/**
 * Builds the config's image as `devcontainer up` would (Dockerfile, Features), so that its user and home can be
 * read before the mounts are planned; `up` then finds the layers built. Returns the image's name.
 */
export async function buildDevcontainerImage(options: {
  readonly workspaceFolder: string;
  readonly configPath: string;
  readonly env: NodeJS.ProcessEnv;
  readonly onProgress: (line: string) => void;
}): Promise<string> {
  // Its log is long and arrives late; one line says what takes the time.
  options.onProgress("building the dev container's image to read its user (devcontainer build)");
  const result = await runProcess(
    process.execPath,
    [devcontainerScript(), "build", "--workspace-folder", options.workspaceFolder, "--config", options.configPath],
    { env: options.env },
  );
  const answer = String(result.stdout).trim().split("\n").at(-1) ?? "";
  let parsed: z.infer<ReturnType<typeof buildAnswerSchema>> | undefined;
  try {
    const checked = buildAnswerSchema().safeParse(JSON.parse(answer));
    parsed = checked.success ? checked.data : undefined;
  } catch {
    parsed = undefined;
  }
  const image = parsed ? [parsed.imageName].flat()[0] : undefined;
  if (!image) {
    const lines = String(result.stderr)
      .split("\n")
      .map((l) => l.replace(/^\[[^\]]*\]\s*/, "").trim());
    if (lines.some(isDockerUnreachable)) throw new UserError(`Docker is not reachable: ${DOCKER_UNREACHABLE_FIX}`);
    const reason = lines.findLast((l) => /error/i.test(l));
    throw new UserError(`the dev container's image could not be built${reason ? `: ${reason}` : ""}`);
  }
  return image;
}
