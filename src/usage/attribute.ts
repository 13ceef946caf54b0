// Where each response belongs: its project (one however many paths it had: host, containers, worktrees, another
// machine's synced folder), its issue (the work item /start-work recorded for the branch the line was written on), the
// environment and machine it ran in.
import { statSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { encodeProjectSlug, type Env } from "../claude/home.ts";
import { listBeneath, readBeneath } from "../container-tree.ts";
import { mainWorktreeOf, UnionFind } from "../sessions/folders.ts";
import type { Layout, WorkItem } from "../sessions/model.ts";
import { STATE, statePath } from "../state/paths.ts";
import type { UsageRecord } from "./read.ts";

export type Attribution = {
  readonly projectOf: (record: UsageRecord) => string;
  readonly issueOf: (record: UsageRecord) => WorkItem | undefined;
  readonly environmentOf: (record: UsageRecord) => "host" | "container";
  readonly machineOf: (record: UsageRecord) => string;
};

export function attribute(
  env: Env,
  layout: Layout,
  workItems: readonly WorkItem[],
  records: readonly UsageRecord[],
): Attribution {
  const { mappings } = layout;
  const mapped = mappings.filter((m) => m.containerPath !== m.hostPath);
  // Only the mappings tell a container's folder: a linked slug folder may be this host's, linked to sync's.
  const containerSlugs = new Set(mapped.map((m) => m.containerSlug));
  const isContainerPath = (cwd: string) =>
    mapped.some((m) => inside(m.containerPath, cwd)) || containerSlugs.has(encodeProjectSlug(cwd));
  const hostPathOf = (cwd: string) => {
    const m = mapped.find((mapping) => inside(mapping.containerPath, cwd));
    return m ? path.posix.join(m.hostPath, path.posix.relative(m.containerPath, cwd)) : cwd;
  };
  const repos = new Map<string, string>();
  const repoOf = (cwd: string) => {
    let repo = repos.get(cwd);
    if (repo === undefined) {
      const host = hostPathOf(cwd);
      repo = mainWorktreeOf(host) ?? host;
      repos.set(cwd, repo);
    }
    return repo;
  };
  // Folders are joined when their lines ran in one repo, when a mapping joins them, or when one folder has both names.
  const groups = new UnionFind();
  const keyOfName = new Map(layout.folders.flatMap((f) => f.names.map((name) => [name, f.key] as const)));
  const keyOf = (name: string) => keyOfName.get(name) ?? `name:${name}`;
  const firstOfRepo = new Map<string, string>();
  const reposOfGroup = new Map<string, Set<string>>();
  const seen = new Set<string>();
  for (const record of records) {
    const cwd = record.cwd ?? "";
    const pair = `${record.folder}\n${cwd}`;
    if (seen.has(pair)) continue;
    seen.add(pair);
    const folder = keyOf(record.folder);
    const repo = cwd ? repoOf(cwd) : `folder:${record.folder}`;
    const first = firstOfRepo.get(repo);
    if (first) groups.join(first, folder);
    else firstOfRepo.set(repo, folder);
  }
  for (const m of mappings) groups.join(keyOf(m.hostSlug), keyOf(m.containerSlug));
  for (const [repo, folder] of firstOfRepo) {
    const group = groups.find(folder);
    const set = reposOfGroup.get(group) ?? new Set<string>();
    set.add(repo);
    reposOfGroup.set(group, set);
  }
  // A project is named after its repo on this host: a path no container and no other machine wrote.
  const labels = new Map<string, string>();
  for (const [group, set] of reposOfGroup) {
    const candidates = [...set].filter((repo) => !repo.startsWith("folder:"));
    const local = candidates.find((repo) => !isContainerPath(repo) && exists(repo));
    labels.set(group, local ?? candidates.find((repo) => !isContainerPath(repo)) ?? candidates[0] ?? group);
  }
  const projectOf = (record: UsageRecord) => {
    const group = groups.find(keyOf(record.folder));
    return labels.get(group) ?? record.folder;
  };
  // Work items by project and branch: the newest of a branch started twice wins (the file is oldest first).
  const items = new Map<string, WorkItem>();
  for (const item of workItems) {
    const group = groups.find(keyOf(encodeProjectSlug(item.repoPath)));
    const project = labels.get(group) ?? item.repoPath;
    items.set(`${project}\n${item.branch}`, item);
  }
  const issueOf = (record: UsageRecord) =>
    record.branch === null ? undefined : items.get(`${projectOf(record)}\n${record.branch}`);
  const starts = new Map<string, StartRecord[]>();
  const recorded = startRecords(env);
  /** What the SessionStart hook recorded where the line was written: the start in its folder, or the only start. */
  const startOf = (record: UsageRecord) => {
    let list = starts.get(record.session);
    if (!list) {
      list = recorded.read(record.session);
      starts.set(record.session, list);
    }
    return list.find((s) => s.cwd === record.cwd) ?? (list.length === 1 ? list[0] : undefined);
  };
  const environmentOf = (record: UsageRecord) => {
    if (record.cwd && isContainerPath(record.cwd)) return "container";
    return startOf(record)?.environment === "container" ? "container" : "host";
  };
  const here = hostname();
  const machineOf = (record: UsageRecord) => {
    const match = startOf(record);
    if (match?.machine) return match.machine;
    return environmentOf(record) === "host" && record.cwd && exists(record.cwd) ? here : "(unknown)";
  };
  return { projectOf, issueOf, environmentOf, machineOf };
}

type StartRecord = { environment: string | null; machine: string | null; cwd: string | null };

/**
 * The SessionStart hook's records, in `session-starts/` (containers write there): the folder listed once through the
 * gate, then only the sessions that have a record read, each a regular file of at most 1 MiB reached without
 * following a link, each line checked.
 */
function startRecords(env: Env): { read: (session: string) => StartRecord[] } {
  const dir = statePath(env, STATE.sessionStarts);
  const root = path.dirname(dir);
  const folder = path.basename(dir);
  let names: Set<string> | undefined;
  const read = (session: string): StartRecord[] => {
    if (!/^[\w-]{1,128}$/.test(session)) return [];
    try {
      names ??= new Set(listBeneath(root, folder) ?? []);
      const name = `${session}.jsonl`;
      if (!names.has(name)) return [];
      return parseStarts(readBeneath(root, `${folder}/${name}`, 1 << 20)?.toString("utf8") ?? "");
    } catch {
      names ??= new Set(); // A link or a file where the folder should be: no records.
      return [];
    }
  };
  return { read };
}

function parseStarts(text: string): StartRecord[] {
  return text.split("\n").flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value !== "object" || value === null) return [];
      const machine = "machine" in value && typeof value.machine === "string" ? value.machine.slice(0, 200) : null;
      const cwd = "cwd" in value && typeof value.cwd === "string" ? value.cwd : null;
      const environment = "environment" in value && typeof value.environment === "string" ? value.environment : null;
      return [{ environment, machine, cwd }];
    } catch {
      return [];
    }
  });
}

function inside(parent: string, dir: string): boolean {
  return dir === parent || dir.startsWith(parent.endsWith("/") ? parent : `${parent}/`);
}

function exists(dir: string): boolean {
  try {
    return statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}
