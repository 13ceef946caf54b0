// Mapping a project's container path onto its host path inside the shared `projects/` folder: a relative
// symlink `<container slug> -> <host slug>`, so `claude --continue`, `--resume <id>` and the picker in the
// container find (and append to) the host's sessions. Every mapping is recorded in the pack's state (mappings.ts).
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
} from "node:fs";
import path from "node:path";
import { encodeProjectSlug, projectsDir, type Env } from "../claude/home.ts";
import { UserError } from "../errors.ts";
import { errorCode, isRealDirectory, readRegularFile } from "../fs.ts";
import { TREE_LIMITS } from "../container-tree.ts";
import { withDirBeneath } from "../fs-beneath.ts";
import { forgetMappings, readMappings, recordMapping } from "../state/mappings.ts";
import { requireHostProjectFolder } from "./host-project.ts";

export type MapResult = {
  readonly hostSlug: string;
  readonly containerSlug: string;
  /**
   * "linked": a new symlink; "already": it was there; "same-path": nothing to map; "own-folder": the path is another
   * repo's link too, and this container has the repo's own project folder mounted there instead (own-project.ts).
   */
  readonly link: "linked" | "already" | "same-path" | "own-folder";
  /** Files moved from a container-only slug folder into the host's. */
  readonly merged: string[];
};

/**
 * Links `containerPath`'s slug to `hostPath`'s slug in the shared projects folder. Sessions that already exist
 * under the container slug are moved into the host slug first, losing nothing. A container slug that belongs
 * to another host project is a collision and stops with what to do.
 */
export async function mapProject(
  env: Env,
  target: { hostPath: string; containerPath: string; configPath?: string; containerId?: string },
  now: Date = new Date(),
): Promise<MapResult> {
  const hostSlug = encodeProjectSlug(target.hostPath);
  const containerSlug = encodeProjectSlug(target.containerPath);
  const projects = projectsDir(env);
  if (hostSlug === containerSlug) {
    await recordMapping(env, { ...target, hostSlug, containerSlug, time: now.toISOString() });
    return { hostSlug, containerSlug, link: "same-path", merged: [] };
  }
  const owner = collidingProject(env, containerSlug, target.hostPath);
  if (owner) {
    throw new UserError(
      `${target.containerPath} in the container is already mapped to ${owner}, another repo with the same folder name; ` +
        `their histories must not mix: open this one with 'dev-open --same-path', or give it its own "workspaceFolder" in devcontainer.json`,
    );
  }
  mkdirSync(projects, { recursive: true, mode: 0o700 });
  // `projects/` is the user's (maybe a link to another disk); containers write below it: every name there is reached
  // through the folder held open, and a link a container planted in place of a folder is never followed. The host's
  // folder is its slug's, made if missing, or the travelling folder sync's link names; any other link stops here.
  const hostFolder =
    requireHostProjectFolder(env, target.hostPath) ??
    withDirBeneath(projects, hostSlug, () => hostSlug, { create: true });
  const link = path.join(projects, containerSlug);
  let merged: string[] = [];
  if (isRealDirectory(link)) {
    // The snapshot code (and zlib, tar, crypto) only when there is something to merge.
    const { snapshotBeforeMerge } = await import("../snapshot/create.ts");
    await snapshotBeforeMerge(env, target.hostPath, [containerSlug]);
    merged = withDirBeneath(projects, "", (held) => {
      // Both folders held open: one swapped for a link meanwhile cannot send the files elsewhere, nor bring others in.
      const moved = withDirBeneath(held, containerSlug, (from) =>
        withDirBeneath(held, hostFolder, (to) => mergeInto(from, to)),
      );
      rmdirSync(path.join(held, containerSlug));
      return moved;
    });
  }
  let state: MapResult["link"] = "linked";
  try {
    withDirBeneath(projects, "", (held) => symlinkSync(hostSlug, path.join(held, containerSlug), "dir"));
  } catch (error) {
    if (errorCode(error) !== "EEXIST" || readlinkSync(link) !== hostSlug) throw error;
    state = "already";
  }
  await recordMapping(env, { ...target, hostSlug, containerSlug, time: now.toISOString() });
  return { hostSlug, containerSlug, link: state, merged };
}

/**
 * unshare: this repo's container paths are let go: their records, and the links that still name its project folder,
 * so that another repo whose container uses the same folder can be mapped. Returns the container paths freed.
 */
export async function forgetProjectPath(env: Env, hostPath: string, configPath: string): Promise<string[]> {
  const hostSlug = encodeProjectSlug(hostPath);
  const mine = readMappings(env).filter(
    (m) =>
      m.hostPath === hostPath &&
      (m.configPath === undefined || m.configPath === configPath) &&
      m.containerSlug !== hostSlug,
  );
  if (mine.length === 0) return [];
  await forgetMappings(env, mine);
  const projects = projectsDir(env);
  for (const slug of new Set(mine.map((m) => m.containerSlug))) {
    // Only our own link goes (a link is removed, never followed): a folder or another repo's link stays.
    if (readLinkOrUndefined(path.join(projects, slug)) === hostSlug)
      withDirBeneath(projects, "", (held) => unlinkSync(path.join(held, slug)));
  }
  return [...new Set(mine.map((m) => m.containerPath))];
}

function readLinkOrUndefined(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch {
    // Not a link, or not there.
    return undefined;
  }
}

/** The host project that already owns `containerSlug`, when it is not `hostPath`. */
export function collidingProject(env: Env, containerSlug: string, hostPath: string): string | undefined {
  const recorded = readMappings(env).find((m) => m.containerSlug === containerSlug && m.hostPath !== hostPath);
  if (recorded) return recorded.hostPath;
  const link = path.join(projectsDir(env), containerSlug);
  try {
    const pointsTo = readlinkSync(link);
    if (pointsTo !== encodeProjectSlug(hostPath)) return `the project folder ${pointsTo}`;
  } catch {
    // Not a symlink (or not there): nothing else claims it.
  }
  return undefined;
}

/**
 * Moves everything under `from` into `to`, folders such as `memory/` merged into the same folder on the other side.
 * A file that exists on both sides with other content is kept under a new name, never overwritten; so is a folder
 * deeper than a merge goes (TREE_LIMITS: a container may plant any depth), moved whole. A loop, not a recursion:
 * each pair of folders is reached from the top through held folders, never following a link. Returns the moved
 * paths; more than TREE_LIMITS.maxEntries entries are refused (what was moved by then stays moved).
 */
export function mergeInto(from: string, to: string): string[] {
  const moved: string[] = [];
  mkdirSync(to, { recursive: true, mode: 0o700 });
  // Folders to merge ("" is the top), and folders of `from` to remove once what they held has moved.
  const work: Array<{ rel: string; step: "merge" | "rmdir" }> = [{ rel: "", step: "merge" }];
  let entries = 0;
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    const { rel } = item;
    if (item.step === "rmdir") {
      withDirBeneath(from, path.dirname(rel), (held) => rmdirSync(path.join(held, path.basename(rel))));
      continue;
    }
    const depth = rel === "" ? 0 : rel.split("/").length;
    const deeper = withDirBeneath(from, rel, (source) =>
      withDirBeneath(to, rel, (target) => {
        const names = readdirSync(source, { withFileTypes: true });
        entries += names.length;
        if (entries > TREE_LIMITS.maxEntries)
          throw new UserError(`${from} holds more than ${TREE_LIMITS.maxEntries} entries; not merging the rest`);
        const folders: string[] = [];
        for (const entry of names) {
          const inRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
          const here = path.join(target, entry.name);
          if (entry.isDirectory() && isRealDirectory(here) && depth < TREE_LIMITS.maxDepth) {
            folders.push(inRel);
          } else if (!existsSync(here) && !isLink(here)) {
            renameSync(path.join(source, entry.name), here);
            moved.push(inRel);
          } else if (entry.isFile() && sameRegularFiles(path.join(source, entry.name), here)) {
            renameSync(path.join(source, entry.name), here);
          } else {
            const kept = uniqueName(here);
            renameSync(path.join(source, entry.name), kept);
            moved.push(rel === "" ? path.basename(kept) : `${rel}/${path.basename(kept)}`);
          }
        }
        return folders;
      }),
    );
    // Each folder merged, then removed from `from`: pushed so that the first name is merged first.
    for (const folder of deeper.reverse()) work.push({ rel: folder, step: "rmdir" }, { rel: folder, step: "merge" });
  }
  return moved;
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** True when both are regular files with the same bytes; containers write both folders, so a FIFO or link is never read. */
function sameRegularFiles(a: string, b: string): boolean {
  try {
    const left = readRegularFile(a);
    const right = readRegularFile(b);
    return left !== undefined && right !== undefined && left.equals(right);
  } catch {
    // A link, a FIFO, too big or unreadable: not known to be the same files.
    return false;
  }
}

function uniqueName(file: string): string {
  const ext = path.extname(file);
  for (let i = 1; ; i++) {
    const candidate = `${file.slice(0, file.length - ext.length)}.from-container-${i}${ext}`;
    if (!existsSync(candidate)) return candidate;
  }
}
