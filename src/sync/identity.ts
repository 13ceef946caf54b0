// One project across machines: the same repo lives at /Users/ana/code/app on one machine and /home/ana/src/app on
// another. Its sessions travel in `projects/repo-<remote>-<hash>/`, named after what the project is (its git
// remote, normalised, and the path inside the repo); each machine links its own path slug to that folder with a
// relative symlink, kept local (never synced). The container mapping's mechanism, one level up.
// node:fs only (no git process): the SessionStart hook links a project the first time a session starts in it.
import { lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmdirSync, statSync, symlinkSync } from "node:fs";
import path from "node:path";
import { projectSlugForDir, projectsDir, realpathOrSelf, type Env } from "../claude/home.ts";
import { sha256Hex } from "../crypto.ts";
import { errorCode, isRealDirectory, readBoundedText } from "../fs.ts";
import { racePoint } from "../container-tree.ts";
import { withDirBeneath } from "../fs-beneath.ts";
import { PROJECT_IDENTITY_PREFIX } from "./folders.ts";

export type ProjectIdentity = {
  /** `host/owner/repo`, from the remote. */
  readonly remote: string;
  /** The path inside the repo, with "/" ("" at its root). */
  readonly subpath: string;
  /** The project's folder name under `projects/`, the same on every machine. */
  readonly folder: string;
};

const MAX_CONFIG_BYTES = 1024 * 1024;

/** The identity of the project at `dir`, or undefined outside a git repo or in one without a remote. */
export function projectIdentity(dir: string): ProjectIdentity | undefined {
  const real = realpathOrSelf(dir);
  for (let root = real; ; root = path.dirname(root)) {
    const gitConfig = gitConfigOf(path.join(root, ".git"));
    if (gitConfig !== undefined) {
      const url = remoteUrl(gitConfig);
      if (!url) return undefined;
      const remote = normaliseRemote(url);
      const subpath = path.relative(root, real).split(path.sep).join("/");
      return { remote, subpath, folder: identityFolder(remote, subpath) };
    }
    if (path.dirname(root) === root) return undefined;
  }
}

/** The text of the repo's config for a `.git` folder, or a worktree's `.git` file; undefined when not a repo. */
function gitConfigOf(dotGit: string): string | undefined {
  try {
    const stat = statSync(dotGit);
    let gitDir = dotGit;
    if (stat.isFile()) {
      const pointer = /^gitdir:\s*(.+)$/m.exec(readBounded(dotGit))?.[1]?.trim();
      if (!pointer) return undefined;
      gitDir = path.resolve(path.dirname(dotGit), pointer);
      try {
        gitDir = path.resolve(gitDir, readBounded(path.join(gitDir, "commondir")).trim());
      } catch {
        // A plain gitdir (a submodule's): its own config.
      }
    } else if (!stat.isDirectory()) {
      return undefined;
    }
    return readBounded(path.join(gitDir, "config"));
  } catch {
    return undefined;
  }
}

/** A repo's git files can be swapped by a container: bounded, regular, and never a FIFO that would hang the hook. */
function readBounded(file: string): string {
  const text = readBoundedText(file, MAX_CONFIG_BYTES);
  if (text === undefined) throw new Error(`${file} does not exist`);
  return text;
}

/** The URL of `origin`, else of the first remote in the config text. */
export function remoteUrl(config: string): string | undefined {
  const remotes = new Map<string, string>();
  let current: string | undefined;
  for (const raw of config.split("\n")) {
    const line = raw.trim();
    const section = /^\[\s*remote\s+"([^"]+)"\s*\]/.exec(line);
    if (section) {
      current = section[1];
      continue;
    }
    if (line.startsWith("[")) {
      current = undefined;
      continue;
    }
    const url = /^url\s*=\s*(.+)$/.exec(line)?.[1];
    if (current && url && !remotes.has(current)) remotes.set(current, url.trim().replace(/^"(.*)"$/, "$1"));
  }
  return remotes.get("origin") ?? remotes.values().next().value;
}

/**
 * `git@github.com:Ana/app.git`, `ssh://git@github.com:22/Ana/app`, `https://user@github.com/Ana/app/` all give
 * `github.com/Ana/app`: the host lowercased, no user, port, scheme or `.git`.
 */
export function normaliseRemote(url: string): string {
  let rest = url.trim();
  let host = "";
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/i.exec(rest);
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.*)$/.exec(rest);
  if (scheme) {
    if (scheme[1]?.toLowerCase() !== "file")
      host = (scheme[2] ?? "")
        .replace(/^[^@]*@/, "")
        .replace(/:\d*$/, "")
        .toLowerCase();
    rest = scheme[3] ?? "";
  } else if (scp) {
    host = (scp[1] ?? "").toLowerCase();
    rest = scp[2] ?? "";
  }
  const repoPath = rest
    .replace(/\/+$/, "")
    .replace(/\.git$/, "")
    .replace(/^\/+/, "")
    .replace(/\/+/g, "/");
  return host ? `${host}/${repoPath}` : `/${repoPath}`;
}

export function identityFolder(remote: string, subpath: string): string {
  const name = subpath ? `${remote}/${subpath}` : remote;
  const hash = sha256Hex(name).slice(0, 8);
  return `${PROJECT_IDENTITY_PREFIX}${name.replace(/[^A-Za-z0-9.]/g, "-").slice(0, 120)}-${hash}`;
}

export type LinkResult = {
  readonly identity: ProjectIdentity;
  readonly slug: string;
  /**
   * "linked": a new link; "already": it was there; "other-link": the slug is a link we did not make (left alone);
   * "needs-merge": both this machine's slug folder and the project's folder hold sessions, and no merge was given.
   */
  readonly state: "linked" | "already" | "other-link" | "needs-merge";
  /** Files that were in this machine's own slug folder and moved into the project's folder. */
  readonly moved: readonly string[];
};

/** Moves everything in one folder into another, never overwriting; returns the moved names (mapping.ts's mergeInto). */
export type MergeFolders = (from: string, to: string) => string[];

/**
 * Links `dir`'s slug to its project's travelling folder, moving what the slug folder held into it: by renaming the
 * folder when the project's is empty (all the hook does), else with `merge`.
 */
export function linkProject(env: Env, dir: string, merge?: MergeFolders): LinkResult | undefined {
  const identity = projectIdentity(dir);
  if (!identity) return undefined;
  const projects = projectsDir(env);
  mkdirSync(projects, { recursive: true, mode: 0o700 });
  // `projects/` is the user's (maybe a link to another disk); containers and other machines write below it: every
  // name there is reached through the folder held open, and a link planted in place of a folder is never followed.
  return withDirBeneath(projects, "", (held) => linkIn(held, identity, projectSlugForDir(dir), merge));
}

function linkIn(projects: string, identity: ProjectIdentity, slug: string, merge?: MergeFolders): LinkResult {
  const link = path.join(projects, slug);
  const target = path.join(projects, identity.folder);
  let moved: string[] = [];
  // A project folder that arrived as a link (another machine's, or planted) is never written through.
  if (isThere(target) && !isRealDirectory(target)) return { identity, slug, state: "other-link", moved };
  try {
    const stat = lstatSync(link);
    if (stat.isSymbolicLink()) {
      return { identity, slug, state: readlinkSync(link) === identity.folder ? "already" : "other-link", moved };
    }
    if (!stat.isDirectory()) return { identity, slug, state: "other-link", moved };
    if (isEmptyOrMissing(projects, identity.folder)) {
      // Entry by entry between the two folders held open, never renaming the slug by name: a container that swaps
      // it for a link after the look above would have its link become the travelling folder.
      racePoint("link-project");
      moved = withDirBeneath(projects, slug, (from) =>
        withDirBeneath(projects, identity.folder, (to) => moveEntries(from, to), { create: true }),
      );
      rmdirSync(link);
    } else if (merge) {
      // Both folders held open: one swapped for a link meanwhile cannot send the files elsewhere, nor bring others in.
      moved = withDirBeneath(projects, slug, (from) =>
        withDirBeneath(projects, identity.folder, (to) => merge(from, to)),
      );
      rmdirSync(link);
    } else {
      return { identity, slug, state: "needs-merge", moved };
    }
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
  mkdirSync(target, { recursive: true, mode: 0o700 });
  try {
    symlinkSync(identity.folder, link, "dir");
  } catch (error) {
    if (errorCode(error) !== "EEXIST" || readlinkSync(link) !== identity.folder) throw error;
    return { identity, slug, state: "already", moved };
  }
  return { identity, slug, state: "linked", moved };
}

function isEmptyOrMissing(projects: string, name: string): boolean {
  try {
    return withDirBeneath(projects, name, (dir) => readdirSync(dir).every((entry) => entry === ".stfolder"));
  } catch (error) {
    if (errorCode(error) === "ENOENT") return true;
    throw error;
  }
}

/** Moves every entry of `from` into `to` (both held open) where `to` has none of that name; the names moved. */
function moveEntries(from: string, to: string): string[] {
  const moved: string[] = [];
  for (const name of readdirSync(from)) {
    if (isThere(path.join(to, name))) continue;
    renameSync(path.join(from, name), path.join(to, name));
    moved.push(name);
  }
  return moved;
}

/** Anything at `file`, a dangling link included. */
function isThere(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** `rel` with a first part that is this machine's slug link replaced by the project's folder it points to. */
export function resolveSlugLink(root: string, rel: string): string {
  const [first, ...restParts] = rel.split(path.sep);
  if (first) {
    try {
      const link = path.join(root, first);
      if (lstatSync(link).isSymbolicLink()) return [path.basename(readlinkSync(link)), ...restParts].join("/");
    } catch {
      // Not there: scan the path as given.
    }
  }
  return rel.split(path.sep).join("/");
}
