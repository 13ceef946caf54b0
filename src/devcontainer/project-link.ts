// The project mapping of a dev container: the container's project folder (its slug of the working directory) is a
// relative symlink to the host's slug of the same folder, so sessions continue on both sides. One reading of it
// for doctor (host and container) and for the hook's repair in a container opened some other way than /dev-open
// (an editor). Kept free of heavy imports: it runs in the SessionStart hook. On the host (doctor) `projects/` is a tree
// containers write, so the link is looked at and made through the gate: one name in the folder held open.
import { lstatSync, readlinkSync, symlinkSync } from "node:fs";
import path from "node:path";
import { encodeProjectSlug, projectsDir, type Env } from "../claude/home.ts";
import { withDirBeneath } from "../container-tree.ts";
import { hostPathOf } from "../work/work-items.ts";

/** A workspace's path on the host and in the container. */
export type Workspaces = { readonly host: string; readonly container: string };

/** The two slugs of a folder in the workspace, and the container's project folder (the link). */
export type ProjectSlugs = { readonly hostSlug: string; readonly containerSlug: string; readonly link: string };

export type ProjectLinkState =
  | { readonly kind: "outside" }
  | (ProjectSlugs & { readonly kind: "same-path" | "missing" | "not-a-link" | "ok" })
  | (ProjectSlugs & { readonly kind: "elsewhere"; readonly target: string });

/** Where the project folder of `cwd` (a container path) stands: `outside` when `cwd` is not in the workspace. */
export function projectLinkState(env: Env, cwd: string, workspaces: Workspaces): ProjectLinkState {
  const hostPath = hostPathOf(cwd, { hostWorkspace: workspaces.host, containerWorkspace: workspaces.container });
  if (hostPath === undefined) return { kind: "outside" };
  const hostSlug = encodeProjectSlug(hostPath);
  const containerSlug = encodeProjectSlug(cwd);
  const link = path.join(projectsDir(env), containerSlug);
  const slugs = { hostSlug, containerSlug, link };
  if (hostSlug === containerSlug) return { kind: "same-path", ...slugs };
  let target: string | null;
  try {
    // The slug's entry in projects/ held open: the name is looked at, never what it leads to.
    target = withDirBeneath(projectsDir(env), "", (held) => {
      const entry = `${held}/${containerSlug}`;
      return lstatSync(entry).isSymbolicLink() ? readlinkSync(entry) : null;
    });
  } catch {
    // Not there, or not reachable: missing, for Claude Code as for us.
    return { kind: "missing", ...slugs };
  }
  if (target === null) return { kind: "not-a-link", ...slugs };
  return target === hostSlug ? { kind: "ok", ...slugs } : { kind: "elsewhere", target, ...slugs };
}

/**
 * Links the container slug of `cwd` to the host slug of the same folder, when the link is missing. Returns what
 * it did or what the user should do, or undefined when there was nothing to do.
 */
export function repairProjectLink(env: Env, cwd: string, workspaces: Workspaces): string | undefined {
  const state = projectLinkState(env, cwd, workspaces);
  if (state.kind === "not-a-link") {
    return `projects/${state.containerSlug} holds sessions made in this container before it was mapped; run 'dev-open' on the host to merge them into ${state.hostSlug}`;
  }
  if (state.kind !== "missing") return undefined;
  try {
    withDirBeneath(projectsDir(env), "", (held) =>
      symlinkSync(state.hostSlug, `${held}/${state.containerSlug}`, "dir"),
    );
    return `linked projects/${state.containerSlug} to ${state.hostSlug}, so sessions here are the host's`;
  } catch (error) {
    return `could not link projects/${state.containerSlug} to ${state.hostSlug} (${error instanceof Error ? error.message : String(error)})`;
  }
}
