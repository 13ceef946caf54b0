// The hook's repair of a project mapping inside a container opened some other way than /dev-open (an editor):
// the same relative symlink /dev-open makes. Kept free of heavy imports: it runs in the SessionStart hook.
import { lstatSync, symlinkSync } from "node:fs";
import path from "node:path";
import { encodeProjectSlug, projectsDir, type Env } from "./claude/home.ts";

/**
 * Links the container slug of `cwd` to the host slug of the same folder, when the link is missing. Returns what
 * it did or what the user should do, or undefined when there was nothing to do.
 */
export function repairProjectLink(env: Env, cwd: string, workspace: { host: string; container: string }): string | undefined {
  const relative = path.posix.relative(workspace.container, cwd);
  if (relative.startsWith("..") || path.posix.isAbsolute(relative)) return undefined;
  const hostSlug = encodeProjectSlug(relative ? path.posix.join(workspace.host, relative) : workspace.host);
  const containerSlug = encodeProjectSlug(cwd);
  if (hostSlug === containerSlug) return undefined;
  const link = path.join(projectsDir(env), containerSlug);
  try {
    const stats = lstatSync(link);
    if (stats.isSymbolicLink()) return undefined;
    return `projects/${containerSlug} holds sessions made in this container before it was mapped; run 'dev-open' on the host to merge them into ${hostSlug}`;
  } catch {
    // Missing: link it below.
  }
  try {
    symlinkSync(hostSlug, link, "dir");
    return `linked projects/${containerSlug} to ${hostSlug}, so sessions here are the host's`;
  } catch (error) {
    return `could not link projects/${containerSlug} to ${hostSlug} (${error instanceof Error ? error.message : String(error)})`;
  }
}
