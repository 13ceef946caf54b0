// The lifecycle commands the pack adds to a devcontainer.json: `initializeCommand` on the host, `onCreateCommand`
// in the container; each ends in a tag that makes it recognisable again.
import path from "node:path";
import { HOST_FILE_LINKS_DIR } from "../../claude/shared.ts";
import { seedCopyCommand } from "../launch/claude-state.ts";
import type { PersistencePlan } from "./mount-plan.ts";

/** The key of the pack's command in an object-form lifecycle command. */
export const LIFECYCLE_KEY = "claude-persist";
/** The key the user's own command moves to when a string or array lifecycle command becomes an object. */
export const ORIGINAL_KEY = "original";
/** Ends every shell command the pack adds (a shell comment), so that it is recognisable. */
export const COMMAND_TAG = "# claude-persist";

/**
 * Runs once when the container is created, as the remote user, before an editor attaches. Docker creates
 * `~/.claude` root-owned when it mounts its subfolders; Claude Code then cannot create its own folders there and
 * silently skips hooks. `sudo -n` works on the devcontainers images (and wherever the user has sudo without a
 * password); when the user cannot, it says so in the creation log instead of failing the container. Then the
 * host user's first-run choices are copied in (see claude-state.ts), so that `claude` there does not start over.
 */
export function ownershipCommand(containerHome: string): string {
  const dir = `${containerHome}/.claude`;
  const steps = [seedCopyCommand(containerHome)];
  if (containerHome !== "/root") {
    steps.unshift(
      `test -O ${dir} || sudo -n chown $(id -u):$(id -g) ${dir} 2>/dev/null || ` +
        `echo "claude-persist: ${dir} is not owned by $(id -un) and sudo is not available; ` +
        `Claude Code may skip hooks" >&2`,
    );
  }
  return `${steps.join("; ")} ${COMMAND_TAG}`;
}

/**
 * Runs on the host before every `up`: creates the missing source folders (mode 0700, as Claude Code does) and
 * points each single file's link at the file, or at /dev/null where this host has none (see HOST_FILE_LINKS_DIR).
 */
export function sourceFoldersCommand(plan: PersistencePlan): string | undefined {
  const folders = plan.mounts.filter((mount) => mount.kind === "dir").map((mount) => mount.name);
  const files = plan.mounts.filter((mount) => mount.kind === "file").map((mount) => mount.name);
  if (folders.length === 0 && files.length === 0) return undefined;
  const root = `"${plan.sourceRoot}"`;
  const steps = [`mkdir -p -m 700 ${root}`, `cd ${root}`];
  if (folders.length > 0) steps.push(`mkdir -p -m 700 ${folders.join(" ")}`);
  if (files.length > 0) {
    const up = HOST_FILE_LINKS_DIR.split("/")
      .map(() => "..")
      .join("/");
    steps.push(
      `mkdir -p -m 700 ${path.posix.dirname(HOST_FILE_LINKS_DIR)} ${HOST_FILE_LINKS_DIR}`,
      `for f in ${files.join(" ")}; do if [ -e "$f" ]; then ln -sfn "${up}/$f" "${HOST_FILE_LINKS_DIR}/$f"; ` +
        `else ln -sfn /dev/null "${HOST_FILE_LINKS_DIR}/$f"; fi; done`,
    );
  }
  return `${steps.join(" && ")} ${COMMAND_TAG}`;
}

export const LIFECYCLE_PROPERTIES = ["initializeCommand", "onCreateCommand"] as const;
type LifecycleProperty = (typeof LIFECYCLE_PROPERTIES)[number];

export function desiredCommands(plan: PersistencePlan): Partial<Record<LifecycleProperty, string>> {
  const commands: Partial<Record<LifecycleProperty, string>> = {};
  const folders = sourceFoldersCommand(plan);
  if (folders) commands.initializeCommand = folders;
  commands.onCreateCommand = ownershipCommand(plan.containerHome);
  return commands;
}
