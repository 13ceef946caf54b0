// Two repos whose containers use the same folder (`"workspaceFolder": "/workspace"`, or two clones named alike)
// must each resume their own sessions there. The shared `projects/` link can name only one of them, so no link
// decides it: dev-open mounts the repo's own project folder over `projects/<container slug>` in its container.
// Everything else in `projects/` (other repos' sessions) stays visible as before.
import path from "node:path";
import { encodeProjectSlug, projectsDir } from "../../claude/home.ts";
import { withDirBeneath } from "../../container-tree.ts";
import type { PersistenceEdit } from "../config/persistence.ts";
import { collidingProject, mapProject } from "../mapping.ts";

export type OwnProject = {
  /** The `--mount` for `devcontainer up`: this host's project folder of the repo, on the container's slug. */
  readonly mount: string;
  readonly target: string;
  readonly hostSlug: string;
  readonly containerSlug: string;
  /** The other repo that the shared link names, when the container path is also theirs. */
  readonly sharedWith?: string;
};

/**
 * The repo's own project folder, mounted where Claude Code in the container looks for it. The link is made first
 * when the path is this repo's alone: Docker then mounts on the link's folder rather than making a root-owned one
 * in the host's `projects/`. Undefined when the container path is the host path, or not known before launch.
 */
export async function ownProjectMount(env: NodeJS.ProcessEnv, edit: PersistenceEdit): Promise<OwnProject | undefined> {
  const containerPath = edit.containerWorkspace;
  if (!containerPath.startsWith("/") || containerPath.includes("${")) return undefined;
  const hostSlug = encodeProjectSlug(edit.workspaceFolder);
  const containerSlug = encodeProjectSlug(containerPath);
  if (hostSlug === containerSlug) return undefined;
  const projects = projectsDir(env);
  // `--mount` splits on commas: a home whose path has one keeps to the link alone.
  if (projects.includes(",")) return undefined;
  const sharedWith = collidingProject(env, containerSlug, edit.workspaceFolder);
  if (sharedWith === undefined) {
    await mapProject(env, { hostPath: edit.workspaceFolder, containerPath, configPath: edit.configPath });
  }
  // Containers can write projects/: the folder is made (or found) without following a link at any component, so a
  // link planted there stops dev-open. (Docker follows links when it mounts: a swap during the launch is not caught.)
  withDirBeneath(projects, hostSlug, () => undefined, { create: true });
  const target = `${edit.containerHome}/.claude/projects/${containerSlug}`;
  return {
    mount: `type=bind,source=${path.join(projects, hostSlug)},target=${target}`,
    target,
    hostSlug,
    containerSlug,
    ...(sharedWith !== undefined ? { sharedWith } : {}),
  };
}
