// The one model of Claude Code's home: where its config, state and transcripts live, and how it names
// project folders. Every other module asks here; nothing else rebuilds these paths.
import { realpathSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

export type Env = Readonly<Record<string, string | undefined>>;

/** `$CLAUDE_CONFIG_DIR` if set, else `~/.claude`. */
export function configDir(env: Env = process.env): string {
  const fromEnv = env.CLAUDE_CONFIG_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(homeDir(env), ".claude");
}

export function homeDir(env: Env = process.env): string {
  return env.HOME || homedir();
}

/** The global state file: `~/.claude.json`, outside the config dir, unless CLAUDE_CONFIG_DIR moves it inside. */
export function globalStatePath(env: Env = process.env): string {
  if (env.CLAUDE_CONFIG_DIR) return path.join(configDir(env), ".claude.json");
  return path.join(homeDir(env), ".claude.json");
}

export function projectsDir(env: Env = process.env): string {
  return path.join(configDir(env), "projects");
}

export function settingsPath(env: Env = process.env): string {
  return path.join(configDir(env), "settings.json");
}

/** The pack's code (built JavaScript): mounted read-only into containers. */
export const PACK_CODE_DIR = "persist";
/** The file in the pack's code that names its build (name, version, checksum of the other files). */
export const PACK_RUNTIME_MARKER = "runtime.json";
/** The pack's mutable state: mounted read-write into containers. */
export const PACK_STATE_DIR = "persist-state";
/** The pack's host-only state: never mounted, so only the host user writes it (see src/state/paths.ts). */
export const PACK_HOST_DIR = "persist-host";

export function packCodeDir(env: Env = process.env): string {
  return path.join(configDir(env), PACK_CODE_DIR);
}

export function packStateDir(env: Env = process.env): string {
  return path.join(configDir(env), PACK_STATE_DIR);
}

export function packHostDir(env: Env = process.env): string {
  return path.join(configDir(env), PACK_HOST_DIR);
}

const SLUG_MAX = 200;

/**
 * Claude Code's project folder name for an absolute path, exactly as the CLI computes it: every character
 * outside [a-zA-Z0-9] becomes "-" (runs kept), and names over 200 characters are cut and get a hash suffix.
 */
export function encodeProjectSlug(absolutePath: string): string {
  const slug = absolutePath.replace(/[^a-zA-Z0-9]/g, "-");
  if (slug.length <= SLUG_MAX) return slug;
  return `${slug.slice(0, SLUG_MAX)}-${Math.abs(javaStringHash(absolutePath)).toString(36)}`;
}

/** Java's String.hashCode over UTF-16 code units, as the CLI uses for long slugs. */
function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = ((hash << 5) - hash + text.charCodeAt(i)) | 0;
  return hash;
}

/** The slug of a working directory as Claude Code sees it: the realpath first, then the slug rule. */
export function projectSlugForDir(dir: string): string {
  return encodeProjectSlug(realpathOrSelf(dir));
}

/** True when `dir`'s project folder is among `slugs`: by its path as written, or by its realpath (what Claude Code uses). */
export function hasProjectSlug(slugs: ReadonlySet<string>, dir: string): boolean {
  return slugs.has(encodeProjectSlug(dir)) || slugs.has(projectSlugForDir(dir));
}

/** `dir`'s realpath, or `dir` (made absolute) when it cannot be resolved. */
export function realpathOrSelf(dir: string): string {
  try {
    return realpathSync.native(dir);
  } catch {
    return path.resolve(dir);
  }
}
