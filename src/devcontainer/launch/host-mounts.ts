// The host side of the persistence mounts: the folders and single-file links they mount from, checked before
// dev-open writes anything and created (with Claude Code's modes) before the container is launched.
import { existsSync, mkdirSync, readlinkSync, statSync, symlinkSync, unlinkSync } from "node:fs";
import path from "node:path";
import { configDir, packCodeDir } from "../../claude/home.ts";
import { HOST_FILE_LINKS_DIR, SHARED_ENTRIES } from "../../claude/shared.ts";
import { UserError } from "../../errors.ts";
import { ensureStateDir, STATE } from "../../state/paths.ts";

/**
 * The host folders the mounts need, created with Claude Code's modes, and the links single files are mounted
 * through (what the config's initializeCommand also does before every `up`). Single files are never faked.
 */
export function prepareHost(env: NodeJS.ProcessEnv): void {
  const config = configDir(env);
  const links = ensureStateDir(env, STATE.hostFileLinks);
  for (const entry of SHARED_ENTRIES) {
    if (entry.kind === "dir") mkdirSync(path.join(config, entry.name), { recursive: true, mode: 0o700 });
    else
      pointLink(
        path.join(links, entry.name),
        existsSync(path.join(config, entry.name)) ? path.relative(links, path.join(config, entry.name)) : "/dev/null",
      );
  }
}

/** What prepareHost and the mounts need, checked without writing: the pack installed, each shared folder a folder or absent. */
export function checkHostReady(env: NodeJS.ProcessEnv): void {
  const config = configDir(env);
  if (!existsSync(path.join(packCodeDir(env), "hooks"))) {
    throw new UserError(
      `claude-persist is not installed in ${config} (no ${path.basename(packCodeDir(env))}/): run 'claude-persist install' first (nothing was changed)`,
    );
  }
  for (const name of [
    HOST_FILE_LINKS_DIR,
    ...SHARED_ENTRIES.filter((entry) => entry.kind === "dir").map((entry) => entry.name),
  ]) {
    const folder = path.join(config, name);
    if (existsSync(folder) && !statSync(folder).isDirectory()) {
      throw new UserError(
        `${folder} is a file where the folder a dev container mounts should be: move it out of the way and run again (nothing was changed)`,
      );
    }
  }
}

function pointLink(link: string, target: string): void {
  try {
    if (readlinkSync(link) === target) return;
    unlinkSync(link);
  } catch {
    // Not there yet.
  }
  symlinkSync(target, link);
}
