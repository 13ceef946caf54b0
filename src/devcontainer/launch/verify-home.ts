// After launch, the proof: the user's $HOME inside the started container, and the persistence mounts there. A
// home that differs from the one planned means the sessions would go to a folder nobody reads: dev-open then
// does not claim sharing (open.ts recreates with the right home, or stops), and doctor says so.
import path from "node:path";
import { UserError } from "../../errors.ts";
import { dockerExec, inspectContainer } from "./docker.ts";

export type HomeCheck = {
  /** $HOME of the user in the container, as its processes see it. */
  readonly home: string;
  /** The shared entries not mounted under that home. */
  readonly missing: readonly string[];
};

/** `targets` are the planned mounts under `plannedHome/.claude`; checked against the container's real home. */
export async function checkHomeMounts(
  env: NodeJS.ProcessEnv,
  containerId: string,
  user: string,
  plannedHome: string,
  targets: readonly string[],
): Promise<HomeCheck | undefined> {
  const asked = await dockerExec(env, ["-u", user, containerId, "printenv", "HOME"]);
  const home = asked.stdout.trim().replace(/\/+$/, "") || "/";
  if (!asked.ok || !home.startsWith("/")) return undefined;
  const container = await inspectContainer(containerId, env);
  const mounted = new Set(container.Mounts.map((m) => m.Destination.replace(/\/+$/, "")));
  const prefix = `${plannedHome}/.claude/`;
  const missing = targets
    .filter((t) => t.startsWith(prefix))
    .map((t) => t.slice(prefix.length))
    .filter((name) => !name.includes("/") && !mounted.has(path.posix.join(home, ".claude", name)));
  return { home, missing };
}

/** The mounts went to another home than the container's user has: the plan is fixed with that home and relaunched. */
export class HomeMismatch extends UserError {
  constructor(
    readonly user: string,
    readonly home: string,
    readonly plannedHome: string,
  ) {
    super(
      `the container runs as ${user}, whose home is ${home}, but the mounts went to ${plannedHome}/.claude: ` +
        `Claude Code there would not see the host's sessions; run 'dev-open --rebuild --remote-home ${home}'`,
    );
    this.name = "HomeMismatch";
  }
}
