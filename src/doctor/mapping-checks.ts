// Doctor's checks of the project mappings: two host repos mapped to one container path mix their histories.
import { existsSync } from "node:fs";
import { encodeProjectSlug, projectsDir, type Env } from "../claude/home.ts";
import { readlinkBeneath } from "../container-tree.ts";
import { describeError } from "../errors.ts";
import { mappingsFile, readMappings, type Mapping } from "../state/mappings.ts";
import { shellWord } from "../text.ts";
import { displayPath } from "./container-checks.ts";
import { type CheckResult, fail, ok } from "./report.ts";

/**
 * Mappings of one container path to several host repos: their histories mix. Only the latest mapping of each
 * repo and config counts (an older one was replaced, e.g. by `dev-open --same-path`). Groups that include `repo`
 * are reported with the repo's own checks.
 */
export function checkMappingCollisions(env: Env, repo?: string): CheckResult[] {
  let mappings: Mapping[];
  try {
    mappings = latestMappings(readMappings(env));
  } catch (error) {
    const fix = "dev-open (in each repo: it records its mapping again)";
    return [fail(`the project mappings cannot be read: ${describeError(error)}`, fix)];
  }
  const results: CheckResult[] = [];
  let ownCollides = false;
  for (const [containerSlug, group] of groupBy(mappings, (m) => m.containerSlug)) {
    const hosts = [...new Set(group.map((m) => m.hostPath))];
    if (hosts.length < 2) continue;
    if (repo && hosts.includes(repo)) ownCollides = true;
    else results.push(collision(env, group[0]?.containerPath ?? containerSlug, hosts));
  }
  if (results.length > 0 || ownCollides) return results;
  if (mappings.length === 0) return [ok("no project mappings yet")];
  return [ok(`${mappings.length} project mapping(s), no two repos share a container path`)];
}

export function latestMappings(mappings: readonly Mapping[]): Mapping[] {
  const latest = new Map<string, Mapping>();
  for (const m of mappings) {
    const key = `${m.hostPath}\0${m.configPath ?? ""}`;
    const seen = latest.get(key);
    if (!seen || seen.time <= m.time) latest.set(key, m);
  }
  return [...latest.values()];
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  // Linear: 60,000 mappings a container planted in one group took doctor 27 s when each added item copied the group.
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** One container path mapped to several host repos: which one the link serves, and how to part the others. */
export function collision(env: Env, containerPath: string, hosts: readonly string[]): CheckResult {
  const containerSlug = encodeProjectSlug(containerPath);
  const linked = slugLinkTarget(projectsDir(env), containerSlug);
  const served = hosts.find((host) => encodeProjectSlug(host) === linked);
  const others = hosts.filter((host) => host !== served);
  const gone = hosts.filter((host) => !existsSync(host));
  const fix =
    gone.length > 0
      ? `remove the entries of ${firstFew(gone)} (no longer there) from ${displayPath(mappingsFile(env), env)}`
      : firstFew(
          others.map((host) => `cd ${shellWord(host)} && dev-open --same-path`),
          "; ",
        );
  return fail(
    `${containerPath} is mapped to ${hosts.length} repos: ${firstFew(hosts)}`,
    fix,
    served ? `sessions made there go into the history of ${served}` : "their histories would mix",
  );
}

/** What `projects/<slug>` links to, through the gate (containers write projects/); undefined when it is no link. */
function slugLinkTarget(projects: string, slug: string): string | undefined {
  try {
    return readlinkBeneath(projects, slug);
  } catch {
    // projects/ itself unreadable: no link to tell of.
    return undefined;
  }
}

/** A list as the report shows it: five items at most, then how many more (60,000 planted entries fill no screen). */
function firstFew(items: readonly string[], separator = ", "): string {
  return items.length > 5
    ? `${items.slice(0, 5).join(separator)}${separator}and ${items.length - 5} more`
    : items.join(separator);
}
