// The lifecycle commands the pack adds to a devcontainer.json: `initializeCommand` on the host, `onCreateCommand`
// in the container; each ends in a tag that makes it recognisable again.
import path from "node:path";
import { HOST_FILE_LINKS_DIR } from "../../claude/shared.ts";
import { seedCopyCommand } from "../launch/claude-state.ts";
import type { PersistencePlan } from "./mount-plan.ts";

/** The key of the pack's command in an object-form lifecycle command. */
export const LIFECYCLE_KEY = "claude-persist";
/** The key an earlier version moved the user's own command to (an object, whose entries the spec runs in parallel). */
export const ORIGINAL_KEY = "original";
/** Starts the last line of a combined command: the user's command as their JSON text had it, byte for byte. */
export const ORIGINAL_TAG = "# claude-persist original: ";
/** Ends every shell command the pack adds (a shell comment), so that it is recognisable. */
export const COMMAND_TAG = "# claude-persist";

/** Set by dev-open for the launch: it makes ~/.claude the user's itself once `up` is done, so no warning is due. */
export const OWNER_FIXED_ENV = "CLAUDE_PERSIST_OWNER_FIXED";

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
      `test -O ${dir} || sudo -n chown $(id -u):$(id -g) ${dir} 2>/dev/null || [ -n "$${OWNER_FIXED_ENV}" ] || ` +
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

/**
 * Ours, then the user's command, as one shell script that runs them in order (the object form's entries run in
 * parallel, and ours must be done before theirs). An array, which the CLI runs without a shell, becomes its words
 * quoted. The last line, a shell comment, keeps the user's JSON text so that unshare gives it back exactly.
 */
export function combinedCommand(ours: string, original: string | readonly string[], originalText: string): string {
  const theirs = typeof original === "string" ? original : original.map(posixQuote).join(" ");
  return `${ours}\n${theirs}\n${ORIGINAL_TAG}${JSON.stringify(originalText)}`;
}

/** The parts of a combined command: ours, and the user's JSON text; undefined for anything else. */
export function splitCombined(value: unknown): { ours: string; originalText: string } | undefined {
  if (typeof value !== "string") return undefined;
  const first = value.indexOf("\n");
  const last = value.lastIndexOf(`\n${ORIGINAL_TAG}`);
  if (first < 0 || last < first) return undefined;
  const ours = value.slice(0, first);
  if (!ours.endsWith(COMMAND_TAG)) return undefined;
  try {
    const originalText: unknown = JSON.parse(value.slice(last + 1 + ORIGINAL_TAG.length));
    return typeof originalText === "string" ? { ours, originalText } : undefined;
  } catch {
    // Not ours after all: a command of the user's that happens to look like it.
    return undefined;
  }
}

/** One word for /bin/sh (dash too): single quotes, a quote inside as '\''. */
function posixQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
