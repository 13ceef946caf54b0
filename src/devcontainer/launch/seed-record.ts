// Which seed each container last got, in host-only state: dev-open on a running container whose `.claude.json`
// already holds this host's first-run choices skips the two `docker exec` round trips that read and merge it.
// A record is a hash of what was merged, so any change on the host (a theme, a trust, an MCP server) merges again.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Env } from "../../claude/home.ts";
import { sha256Hex } from "../../crypto.ts";
import { readRegularText, writeFileAtomic } from "../../fs.ts";
import { ensurePackHostDir, STATE, statePath } from "../../state/paths.ts";

/** The record's file for a container: docker's hex ID only, so no ID names a path elsewhere. */
function recordFile(env: Env, containerId: string): string | undefined {
  if (!/^[0-9a-f]{12,64}$/.test(containerId)) return undefined;
  return path.join(statePath(env, STATE.seededContainers), containerId);
}

/** What identifies one merge: the container's user and the seed as it would be written. */
export function seedFingerprint(user: string, seed: unknown): string {
  return sha256Hex(JSON.stringify([user, seed]));
}

export function seededAlready(env: Env, containerId: string, fingerprint: string): boolean {
  const file = recordFile(env, containerId);
  try {
    return file !== undefined && readRegularText(file, 1024)?.trim() === fingerprint;
  } catch {
    // Unreadable: merge again, as if there were no record.
    return false;
  }
}

/** Best effort: without the record the next dev-open merges again, which is only slower. */
export function rememberSeeded(env: Env, containerId: string, fingerprint: string): void {
  const file = recordFile(env, containerId);
  if (file === undefined) return;
  try {
    ensurePackHostDir(env);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileAtomic(file, `${fingerprint}\n`, 0o600);
  } catch {
    // A read-only home: the next open pays the round trips again.
  }
}
