// The host's own project folder of a repo, `projects/<slug of its host path>`: Claude Code on the host writes this
// repo's sessions there, and dev-open merges into it and mounts it. Containers can write `projects/`, so a link
// may have been planted in its place. The one link claude-persist makes there is sync's, to the project's
// travelling folder beside it (sync/identity.ts); any other link (out of projects/, to another slug's folder, to a
// file) stops dev-open (never write through a link you did not make) and doctor reports it.
import path from "node:path";
import { encodeProjectSlug, projectsDir, type Env } from "../claude/home.ts";
import { projectFolderName, readlinkBeneath, statBeneath } from "../container-tree.ts";
import { UserError } from "../errors.ts";
import { PROJECT_IDENTITY_PREFIX } from "../sync/folders.ts";
import { oneLine, shellWord } from "../text.ts";

export type HostProjectFolder =
  /** Not made yet, or a real folder: the folder's name in `projects/` (the slug, or sync's travelling folder). */
  | { readonly kind: "ok"; readonly folder: string | undefined }
  /** A link (or a file, a FIFO…) claude-persist did not make; `target` is what the link names. */
  | { readonly kind: "planted"; readonly path: string; readonly target: string | undefined };

/** What stands at the host's project folder of `hostPath`, read without following anything. */
export function hostProjectFolder(env: Env, hostPath: string): HostProjectFolder {
  const projects = projectsDir(env);
  const slug = encodeProjectSlug(hostPath);
  if (statBeneath(projects, slug) === undefined) return { kind: "ok", folder: undefined };
  // The gate's rule (its own folder, or a link to a real folder beside it), narrowed for the host's own slug: the one
  // link allowed is sync's, to a travelling folder (`repo-…`). Which project's is not asked of the repo's
  // .git/config, which a container can write too: a link to another travelling folder keeps everything in
  // projects/, which containers share whole anyway.
  const folder = projectFolderName(projects, slug);
  if (folder === slug || folder?.startsWith(PROJECT_IDENTITY_PREFIX)) return { kind: "ok", folder };
  const target = readlinkBeneath(projects, slug);
  return { kind: "planted", path: path.join(projects, slug), target };
}

/** The line for a planted link: what it is, what it does to this repo's sessions, and what to do. */
export function describePlanted(planted: Extract<HostProjectFolder, { kind: "planted" }>): {
  label: string;
  fix: string;
} {
  const what =
    planted.target === undefined
      ? "something else (a file?)"
      : `a link to ${oneLine(planted.target, 200)} that claude-persist did not make (a container, or another program, may have planted it)`;
  return {
    label: `${planted.path} is not a folder of ${path.dirname(planted.path)} but ${what}: Claude Code on this host keeps this repo's sessions there, and dev-open does not write through it`,
    fix: `look at what it points to, move it away (mv ${shellWord(planted.path)} ${shellWord(`${planted.path}.planted`)}), then run dev-open again`,
  };
}

/** The real folder in `projects/` holding the repo's host sessions (undefined: not made yet); a planted link stops here. */
export function requireHostProjectFolder(env: Env, hostPath: string): string | undefined {
  const found = hostProjectFolder(env, hostPath);
  if (found.kind === "ok") return found.folder;
  const { label, fix } = describePlanted(found);
  throw new UserError(`${label}; ${fix} (nothing was changed)`);
}
