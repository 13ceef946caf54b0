// What dev-open asked a running container and need not ask again while nothing it depends on has changed, in
// host-only state beside the seed records (seed-record.ts), one file per container and question:
// - `<id>.home`: its user's $HOME (one `docker exec`). A container's user and home are fixed at its creation (its
//   mounts were planned from them); the record is for that container ID and that user only.
// - `<id>.projects`: that its user could open ~/.claude/projects (one `docker exec`), for the host folder mounted
//   there as it was then (device, inode, owner, group, mode: a chmod or chown asks again; not its ctime, which
//   every new project folder moves). Only a success is kept: a user who cannot open it is told at every open;
//   `doctor` asks every time.
// A record names what it was made for by a hash on its first line; any other first line is no record.
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import type { Env } from "../../claude/home.ts";
import { sha256Hex } from "../../crypto.ts";
import { readRegularText, writeFileAtomic } from "../../fs.ts";
import { ensurePackHostDir, STATE, statePath } from "../../state/paths.ts";
import { projectsProblem } from "../projects-access.ts";
import type { Container } from "./docker.ts";

type Question = "home" | "projects";

/** The record's file: docker's hex ID only, so no ID names a path elsewhere. */
function recordFile(env: Env, containerId: string, question: Question): string | undefined {
  if (!/^[0-9a-f]{12,64}$/.test(containerId)) return undefined;
  return path.join(statePath(env, STATE.seededContainers), `${containerId}.${question}`);
}

/** The answer recorded for `key`, or undefined (no record, another key, unreadable). */
export function recalled(env: Env, containerId: string, question: Question, key: string): string | undefined {
  const file = recordFile(env, containerId, question);
  try {
    const text = file === undefined ? undefined : readRegularText(file, 4096);
    const [hash, answer] = (text ?? "").split("\n");
    return hash === sha256Hex(key) && answer ? answer : undefined;
  } catch {
    // Unreadable: asked again, as if there were no record.
    return undefined;
  }
}

/** Best effort: without the record the next open asks again, which is only slower. */
export function remember(env: Env, containerId: string, question: Question, key: string, answer: string): void {
  const file = recordFile(env, containerId, question);
  if (file === undefined || answer.includes("\n")) return;
  try {
    ensurePackHostDir(env);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileAtomic(file, `${sha256Hex(key)}\n${answer}\n`, 0o600);
  } catch {
    // A read-only home: the next open asks again.
  }
}

/**
 * projectsProblem (asked inside the container) for a container found running, unless this container's user was
 * seen to open the same host folder, unchanged since.
 */
export async function projectsProblemUnlessKnown(
  env: NodeJS.ProcessEnv,
  up: { readonly containerId: string; readonly remoteUser: string },
  claudeHome: string,
  running: Container | undefined,
): Promise<string | undefined> {
  const source = running?.Mounts.find((m) => m.Destination === `${claudeHome}/projects`)?.Source;
  const key = source === undefined ? undefined : folderKey(up.remoteUser, claudeHome, source);
  if (key !== undefined && recalled(env, up.containerId, "projects", key) === "ok") return undefined;
  const problem = await projectsProblem(env, up.containerId, up.remoteUser, claudeHome);
  if (key !== undefined && problem === undefined) remember(env, up.containerId, "projects", key, "ok");
  return problem;
}

function folderKey(user: string, claudeHome: string, source: string): string | undefined {
  try {
    const { dev, ino, uid, gid, mode } = statSync(source);
    return JSON.stringify([user, claudeHome, source, dev, ino, uid, gid, mode]);
  } catch {
    // Gone or unreadable here: ask the container.
    return undefined;
  }
}
