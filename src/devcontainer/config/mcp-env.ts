// MCP: which environment variables the user's MCP servers need, by name only, so that the launch can forward them.
import path from "node:path";
import { readBoundedText } from "../../fs.ts";
import { parseJsoncLoosely } from "../../jsonc.ts";
import { isRecord } from "../../json.ts";

/** Variables a container must never take from the host, even when an MCP config mentions them. */
const HOST_ONLY_ENV = new Set([
  "HOME",
  "PATH",
  "USER",
  "LOGNAME",
  "SHELL",
  "PWD",
  "OLDPWD",
  "TMPDIR",
  "TMP",
  "TEMP",
  "HOSTNAME",
  "TERM",
  "LANG",
  "DISPLAY",
  "SSH_AUTH_SOCK",
  "USERPROFILE",
  "APPDATA",
  "CLAUDE_CONFIG_DIR",
]);

export function isForwardableEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !HOST_ONLY_ENV.has(name) && !/^(?:LC_|XDG_)/.test(name);
}

/**
 * Names of the environment variables that MCP server configs reference, never their values: keys of `env`
 * objects, and `${VAR}`, `${VAR:-default}` and `$VAR` in any string of a server's config. Reads `mcp.json` and
 * `.mcp.json` (`mcpServers`) and `.claude.json` (`mcpServers`, and each project's, or only those of `projectDir`
 * and the folders under it when given). Missing or unreadable files count as empty.
 */
export function collectMcpEnvNames(files: readonly string[], options: { projectDir?: string } = {}): string[] {
  const names = new Set<string>();
  for (const file of files) {
    const value = readJsonLoosely(file);
    for (const server of mcpServersOf(value, options.projectDir)) collectServerEnvNames(server, names);
  }
  return [...names].filter(isForwardableEnvName).sort();
}

function readJsonLoosely(file: string): unknown {
  try {
    return parseJsoncLoosely(readBoundedText(file) ?? "");
  } catch {
    // Missing or unreadable counts as empty (see collectMcpEnvNames).
    return undefined;
  }
}

function mcpServersOf(value: unknown, projectDir: string | undefined): unknown[] {
  if (!isRecord(value)) return [];
  const servers = recordValues(value.mcpServers);
  if (!isRecord(value.projects)) return servers;
  for (const [project, settings] of Object.entries(value.projects)) {
    if (projectDir && !isWithin(project, projectDir)) continue;
    if (isRecord(settings)) servers.push(...recordValues(settings.mcpServers));
  }
  return servers;
}

function collectServerEnvNames(server: unknown, names: Set<string>): void {
  if (!isRecord(server)) return;
  if (isRecord(server.env)) for (const key of Object.keys(server.env)) names.add(key);
  for (const text of stringsIn(server)) {
    for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
      const name = match[1] ?? match[2];
      if (name) names.add(name);
    }
  }
}

function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (isRecord(value)) return Object.values(value).flatMap(stringsIn);
  return [];
}

function isWithin(child: string, parent: string): boolean {
  const relative = path.relative(path.resolve(parent), path.resolve(child));
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

function recordValues(value: unknown): unknown[] {
  return isRecord(value) ? Object.values(value) : [];
}
