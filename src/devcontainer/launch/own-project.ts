// Two repos whose containers use the same folder (`"workspaceFolder": "/workspace"`, or two clones named alike)
// must each resume their own sessions there. The shared `projects/` link can name only one of them, so no link
// decides it: dev-open mounts the repo's own project folder over `projects/<container slug>` in its container.
// Everything else in `projects/` (other repos' sessions) stays visible as before.
import { randomBytes } from "node:crypto";
import { statSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { encodeProjectSlug, projectsDir } from "../../claude/home.ts";
import { racePoint, withDirBeneath } from "../../container-tree.ts";
import { requireHostProjectFolder } from "../host-project.ts";
import type { PersistenceEdit } from "../config/persistence.ts";
import { collidingProject, mapProject } from "../mapping.ts";
import { UserError } from "../../errors.ts";
import { oneLine } from "../../text.ts";
import { docker, dockerExec } from "./docker.ts";

export type OwnProject = {
  /** The `--mount` for `devcontainer up`: this host's project folder of the repo, on the container's slug. */
  readonly mount: string;
  readonly target: string;
  readonly hostSlug: string;
  readonly containerSlug: string;
  /** The other repo that the shared link names, when the container path is also theirs. */
  readonly sharedWith?: string;
  /** The folder mounted (the repo's slug folder, or sync's travelling folder it links to), as it was checked. */
  readonly source: {
    readonly path: string;
    readonly dev: number;
    readonly ino: number;
    /** A file made in it for this launch (random name and content): what a VM's view of the folder must show too. */
    readonly marker: { readonly name: string; readonly token: string };
  };
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
  // link planted there stops dev-open; sync's link to the travelling folder is resolved here, and that real folder
  // mounted. Docker follows links when it mounts: what it mounted is compared with this folder after the launch
  // (checkOwnProjectMount).
  const folder = requireHostProjectFolder(env, edit.workspaceFolder) ?? hostSlug;
  // The held folder's own identity (the open descriptor's, not a name's), and a marker no one could have put
  // anywhere else beforehand: a new random name, made exclusively.
  const marker = { name: `.claude-persist-mount-${randomHex(8)}`, token: randomHex(16) };
  const checked = withDirBeneath(
    projects,
    folder,
    (held) => {
      writeFileSync(`${held}/${marker.name}`, marker.token, { flag: "wx", mode: 0o600 });
      return statSync(held);
    },
    { create: true },
  );
  racePoint("own-project-mount");
  const target = `${edit.containerHome}/.claude/projects/${containerSlug}`;
  const source = path.join(projects, folder);
  return {
    mount: `type=bind,source=${source},target=${target}`,
    target,
    hostSlug,
    containerSlug,
    ...(sharedWith !== undefined ? { sharedWith } : {}),
    source: { path: source, dev: checked.dev, ino: checked.ino, marker },
  };
}

/**
 * After the launch: the folder mounted at the container's project path must be the one checked above: the same
 * device and inode seen from inside the container, or (an engine in a VM shows other inodes) the marker made in it
 * for this launch. Docker resolves a mount's source by name, following links, after we checked it: a container that
 * swapped the folder for a link to ~/.ssh in between would have that mounted. Then the new container is stopped and
 * dev-open stops. A container without `stat` and `cat` cannot be asked, and is named. The marker goes either way.
 */
export async function checkOwnProjectMount(
  env: NodeJS.ProcessEnv,
  containerId: string,
  own: OwnProject,
): Promise<string | undefined> {
  const { marker } = own.source;
  const script = 'stat -L -c "%d %i" "$1" && cat "$1/$2"';
  const run = await dockerExec(env, ["-u", "0", containerId, "sh", "-c", script, "sh", own.target, marker.name]);
  removeOwnMarker(own);
  const seen = /^(\d+) (\d+)\n/.exec(run.stdout);
  if (!seen)
    return `Could not check from inside the container that ${own.target} is ${own.source.path} (no 'stat' there?).`;
  const same = Number(seen[1]) === own.source.dev && Number(seen[2]) === own.source.ino;
  if (same || run.stdout.slice(seen[0].length) === marker.token) return undefined;
  await docker(["stop", "-t", "1", containerId], env).catch(() => undefined);
  throw new UserError(
    `the folder Docker mounted at ${own.target} is not ${oneLine(own.source.path)}, which dev-open checked: it was replaced ` +
      `(a link put in its place) while the container started (device:inode ${seen[1]}:${seen[2]} there, ${own.source.dev}:${own.source.ino} here), so the container (${containerId.slice(0, 12)}) was stopped; ` +
      `look at ${oneLine(own.source.path)} and move away what is not your sessions folder, then run 'dev-open --rebuild'`,
  );
}

/** The marker out of the folder, by name in the folder held open (a link there is removed, never followed). */
export function removeOwnMarker(own: OwnProject): void {
  try {
    withDirBeneath(path.dirname(own.source.path), path.basename(own.source.path), (held) =>
      unlinkSync(`${held}/${own.source.marker.name}`),
    );
  } catch {
    // The folder is gone or no longer a folder (swapped): nothing of ours to remove there.
  }
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}
