// What of the Claude home is shared between the host and dev containers, and how.
// Never shared: credentials, `.claude.json`, `plugins/` (absolute host paths), the whole config dir.
import { PACK_CODE_DIR, PACK_HOST_DIR, PACK_STATE_DIR } from "./home.ts";

export type SharedEntry = {
  /** Path relative to the config dir. */
  readonly name: string;
  readonly kind: "dir" | "file";
  readonly access: "read-write" | "read-only";
};

export const SHARED_ENTRIES: readonly SharedEntry[] = [
  { name: "projects", kind: "dir", access: "read-write" },
  { name: "todos", kind: "dir", access: "read-write" },
  { name: "tasks", kind: "dir", access: "read-write" },
  { name: "session-env", kind: "dir", access: "read-write" },
  { name: "file-history", kind: "dir", access: "read-write" },
  { name: "plans", kind: "dir", access: "read-write" },
  { name: "paste-cache", kind: "dir", access: "read-write" },
  { name: "cache", kind: "dir", access: "read-write" },
  { name: "stats-cache.json", kind: "file", access: "read-write" },
  { name: PACK_STATE_DIR, kind: "dir", access: "read-write" },
  { name: "agents", kind: "dir", access: "read-only" },
  { name: "commands", kind: "dir", access: "read-only" },
  { name: "skills", kind: "dir", access: "read-only" },
  // What makes Claude in the container behave as on the host: the global memory, rules, output styles, and the
  // scripts the shared settings.json runs (commonly kept in hooks/; missing, they break every session there).
  { name: "CLAUDE.md", kind: "file", access: "read-only" },
  { name: "rules", kind: "dir", access: "read-only" },
  { name: "output-styles", kind: "dir", access: "read-only" },
  { name: "hooks", kind: "dir", access: "read-only" },
  { name: "settings.json", kind: "file", access: "read-only" },
  { name: "mcp.json", kind: "file", access: "read-only" },
  { name: PACK_CODE_DIR, kind: "dir", access: "read-only" },
];

/**
 * Single files are mounted through symlinks in this folder (host-only: a container that could re-point them would
 * choose what the next start mounts, ~/.ssh included), which the dev container's
 * `initializeCommand` points at the real file, or at /dev/null where the host has none: a bind mount whose source
 * is missing makes `up` fail, and a teammate may lack a file that the config mounts. No fake file is created.
 */
export const HOST_FILE_LINKS_DIR = `${PACK_HOST_DIR}/host-files`;

/** Names that must never be mounted or copied into a container. */
export const NEVER_SHARED: readonly string[] = [".credentials.json", ".claude.json", "plugins"];

export const READ_WRITE_ENTRIES = SHARED_ENTRIES.filter((e) => e.access === "read-write");
export const READ_ONLY_ENTRIES = SHARED_ENTRIES.filter((e) => e.access === "read-only");

/** Names of the shared entries as one short phrase, for messages and the hook's context. */
export function describeEntries(entries: readonly SharedEntry[]): string {
  return entries.map((e) => e.name).join(", ");
}

/** The environment variable that carries the host's workspace path into a container (set via containerEnv). */
export const HOST_WORKSPACE_ENV = "CLAUDE_PERSIST_HOST_WORKSPACE";
/** And the workspace's path inside the container, so a session in a subfolder maps too. */
export const CONTAINER_WORKSPACE_ENV = "CLAUDE_PERSIST_CONTAINER_WORKSPACE";

/** What /dev-open puts in `containerEnv`: devcontainer.json variables, resolved when the container is created. */
export const WORKSPACE_ENV: Readonly<Record<string, string>> = {
  [HOST_WORKSPACE_ENV]: "${localWorkspaceFolder}",
  [CONTAINER_WORKSPACE_ENV]: "${containerWorkspaceFolder}",
};
