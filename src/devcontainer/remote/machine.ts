// The machine a remote Docker engine runs on, prepared over ssh for dev-open: what it is (its home, its Claude config
// dir, its account's uid and gid, whether it has the repo, the pack, Syncthing, unison), the folders and links the mounts need there, the
// pack installed there, the project linked there, and the launch config's mount sources pointing at its folders.
// Every script sent is a constant; what varies travels as its quoted arguments.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Node } from "jsonc-parser";
import * as z from "zod/mini";
import { packCodeDir, PACK_HOST_DIR, PACK_CODE_DIR, PACK_RUNTIME_MARKER, type Env } from "../../claude/home.ts";
import { HOST_FILE_LINKS_DIR, SHARED_ENTRIES } from "../../claude/shared.ts";
import { UserError } from "../../errors.ts";
import { editJsonc, parseJsoncTree } from "../../jsonc.ts";
import { once } from "../../once.ts";
import "../../zod-messages.ts";
import { runProcess } from "../../child-process.ts";
import { sourceFoldersCommand } from "../config/lifecycle-commands.ts";
import { planPersistenceMounts } from "../config/mount-plan.ts";
import { checkRemotePath, describeTarget, runOverSsh, sshReason, type SshTarget } from "./engine.ts";
import { STATE } from "../../state/paths.ts";

export type RemoteMachine = {
  readonly target: SshTarget;
  /** `user@host:port`, for messages and for `claude-persist sync unison`. */
  readonly label: string;
  readonly home: string;
  /** Its Claude config dir: CLAUDE_CONFIG_DIR there, else ~/.claude. */
  readonly configDir: string;
  readonly hasWorkspace: boolean;
  /** It was set up with `claude-persist sync init`, so Syncthing keeps it in step. */
  readonly runsSyncthing: boolean;
  readonly hasUnison: boolean;
  /** The sha256 its installed pack's runtime.json names, when it has one. */
  readonly runtimeSha256: string | undefined;
  /** The account's uid and gid there: the owner of the folders the engine mounts (see container-user.ts). */
  readonly uid: number;
  readonly gid: number;
};

/** Asked in one round trip; `$1` is the workspace folder. Each answer on a line of its own. */
const DESCRIBE_SCRIPT = [
  'c="${CLAUDE_CONFIG_DIR:-$HOME/.claude}"',
  `printf 'home=%s\\nconfig=%s\\nuid=%s\\ngid=%s\\n' "$HOME" "$c" "$(id -u)" "$(id -g)"`,
  'if [ -d "$1" ]; then echo workspace=yes; else echo workspace=no; fi',
  `if [ -f "$c/${PACK_HOST_DIR}/${STATE.syncSettings.name}" ]; then echo syncthing=yes; else echo syncthing=no; fi`,
  "if command -v unison >/dev/null 2>&1; then echo unison=yes; else echo unison=no; fi",
  `printf 'runtime=%s\\n' "$(head -c 4096 "$c/${PACK_CODE_DIR}/${PACK_RUNTIME_MARKER}" 2>/dev/null | tr -d '\\n')"`,
].join("\n");

const answerSchema = once(() => {
  const yesNo = z.enum(["yes", "no"]);
  return z.object({
    home: z.string(),
    config: z.string(),
    workspace: yesNo,
    syncthing: yesNo,
    unison: yesNo,
    runtime: z.string(),
    uid: z.string().check(z.regex(/^\d{1,10}$/)),
    gid: z.string().check(z.regex(/^\d{1,10}$/)),
  });
});
const runtimeSchema = once(() => z.looseObject({ sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)) }));

/** Connects once and learns what dev-open needs to know about the engine's machine. */
export async function describeRemoteMachine(
  env: NodeJS.ProcessEnv,
  target: SshTarget,
  workspaceFolder: string,
): Promise<RemoteMachine> {
  const label = describeTarget(target);
  const run = await runOverSsh(env, target, ["sh", "-c", DESCRIBE_SCRIPT, "sh", workspaceFolder]);
  if (!run.ok) {
    throw new UserError(
      `could not reach the Docker engine's machine ${label} over ssh (${sshReason(run)}): ` +
        `check that 'ssh ${label} true' works without a prompt, then run again`,
    );
  }
  const fields: Record<string, string> = {};
  for (const line of run.stdout.split("\n").slice(0, 8)) {
    const equals = line.indexOf("=");
    if (equals > 0) fields[line.slice(0, equals)] = line.slice(equals + 1);
  }
  const answer = answerSchema().safeParse(fields);
  if (!answer.success) {
    const hint = "does its shell print text on login?";
    throw new UserError(`${label} answered something unexpected when asked for its home over ssh (${hint})`);
  }
  let runtimeSha256: string | undefined;
  try {
    runtimeSha256 = runtimeSchema().parse(JSON.parse(answer.data.runtime)).sha256;
  } catch {
    runtimeSha256 = undefined; // No pack there yet, or one we cannot read: installed again.
  }
  return {
    target,
    label,
    home: checkRemotePath(answer.data.home, `The home of ${label}`),
    configDir: checkRemotePath(answer.data.config, `The Claude config dir of ${label}`),
    hasWorkspace: answer.data.workspace === "yes",
    runsSyncthing: answer.data.syncthing === "yes",
    hasUnison: answer.data.unison === "yes",
    runtimeSha256,
    uid: Number(answer.data.uid),
    gid: Number(answer.data.gid),
  };
}

/** `$1` is the config dir; the runtime arrives as a tar on stdin. Installs with it where node runs, else copies it. */
const INSTALL_SCRIPT = [
  "set -e",
  `stage="$1/${PACK_HOST_DIR}/${STATE.incomingRuntime.name}"`,
  `mkdir -p -m 700 "$1/${PACK_HOST_DIR}"`,
  'rm -rf "$stage"',
  'mkdir -m 700 "$stage"',
  'tar -C "$stage" -xf -',
  'if command -v node >/dev/null 2>&1 && node "$stage/bin/claude-persist.mjs" install >/dev/null; then',
  '  rm -rf "$stage"; echo installed; exit 0',
  "fi",
  `rm -rf "$1/${PACK_CODE_DIR}.previous"`,
  `if [ -e "$1/${PACK_CODE_DIR}" ]; then mv "$1/${PACK_CODE_DIR}" "$1/${PACK_CODE_DIR}.previous"; fi`,
  `mv "$stage" "$1/${PACK_CODE_DIR}"`,
  `rm -rf "$1/${PACK_CODE_DIR}.previous"`,
  "echo copied",
].join("\n");

/**
 * The pack on the engine's machine, the same runtime as here: sent over the ssh connection as a tar, then installed
 * there by that runtime's own `claude-persist install` (the hook in its settings.json, the commands) where node runs;
 * without node only the runtime the mounts need is put in place. Nothing is sent when it is already the same.
 */
export async function ensurePackOnRemote(env: Env, machine: RemoteMachine): Promise<string> {
  const marker = readFileSync(path.join(packCodeDir(env), PACK_RUNTIME_MARKER), "utf8");
  const local = runtimeSchema().parse(JSON.parse(marker)).sha256;
  if (machine.runtimeSha256 === local) return `claude-persist on ${machine.label} is the same as here.`;
  const tar = await runProcess("tar", ["-C", packCodeDir(env), "-cf", "-", "."], {
    encoding: "buffer",
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (tar.exitCode !== 0) {
    throw new UserError(
      `could not pack ${packCodeDir(env)} to send it: ${tar.stderr.toString().trim().split("\n")[0]}`,
    );
  }
  const words = ["sh", "-c", INSTALL_SCRIPT, "sh", machine.configDir];
  const run = await runOverSsh(env as NodeJS.ProcessEnv, machine.target, words, {
    input: tar.stdout,
    timeoutMs: 10 * 60_000,
  });
  if (!run.ok) {
    const reason = sshReason(run);
    throw new UserError(
      `could not install claude-persist on ${machine.label} (${reason}); nothing in the repo was changed`,
    );
  }
  if (run.stdout.trim().endsWith("installed")) {
    return `Installed claude-persist on ${machine.label} (${machine.configDir}), as 'claude-persist install' there does.`;
  }
  return (
    `Copied claude-persist's runtime to ${machine.label} (${machine.configDir}/${PACK_CODE_DIR}); node does not run there, ` +
    "so its SessionStart hook is not registered there: " +
    `install node (20 or later) on ${machine.label} and run dev-open again.`
  );
}

/** The folders the mounts need on the engine's machine, and the links single files are mounted through. */
export async function prepareRemoteFolders(env: Env, machine: RemoteMachine): Promise<void> {
  const plan = planPersistenceMounts({ container: {}, env });
  const command = sourceFoldersCommand({ ...plan, sourceRoot: machine.configDir });
  if (!command) return;
  const run = await runOverSsh(env as NodeJS.ProcessEnv, machine.target, ["sh", "-c", command]);
  if (!run.ok) {
    throw new UserError(`could not create the folders the mounts need on ${machine.label} (${sshReason(run)})`);
  }
}

/** `$1` is projects/, `$2` the project's folder, the rest the slugs to link to it. Never replaces anything. */
const LINK_SCRIPT = [
  "set -e",
  'projects="$1"; folder="$2"; shift 2',
  'mkdir -p -m 700 "$projects/$folder"',
  'for slug in "$@"; do',
  '  link="$projects/$slug"',
  '  if [ -L "$link" ]; then',
  '    if [ "$(readlink "$link")" = "$folder" ]; then echo "already $slug"; else echo "other $slug"; fi',
  '  elif [ -e "$link" ]; then echo "folder $slug"',
  '  else ln -s "$folder" "$link"; echo "linked $slug"; fi',
  "done",
].join("\n");

/**
 * On the engine's machine, links slugs to the project's folder there (the travelling `projects/repo-…` that unison
 * and Syncthing carry, or the workspace's slug folder): Claude there and in the container find the same sessions.
 * Returns what it did to each slug, and one line per slug it could not link.
 */
export async function linkRemoteProject(
  env: Env,
  machine: RemoteMachine,
  folder: string,
  slugs: readonly string[],
): Promise<{ states: Map<string, string>; problems: string[] }> {
  if (!/^[A-Za-z0-9-][A-Za-z0-9.-]*$/.test(folder) || slugs.some((slug) => !/^-[A-Za-z0-9-]*$/.test(slug))) {
    throw new Error(`unexpected project folder or slug: ${folder} ${slugs.join(" ")}`);
  }
  const projects = `${machine.configDir}/projects`;
  const words = ["sh", "-c", LINK_SCRIPT, "sh", projects, folder, ...new Set(slugs)];
  const run = await runOverSsh(env as NodeJS.ProcessEnv, machine.target, words);
  if (!run.ok) throw new UserError(`could not link the project's sessions on ${machine.label} (${sshReason(run)})`);
  const problems: string[] = [];
  const states = new Map<string, string>();
  for (const line of run.stdout.split("\n")) {
    const [state, slug] = line.split(" ");
    if (state && slug) states.set(slug, state);
    if (state === "other" || state === "folder") {
      problems.push(
        `On ${machine.label}, projects/${slug} is ` +
          `${state === "other" ? "a link to another folder" : "a folder of its own"}, ` +
          "left as it is: " +
          `sessions there do not reach the container; move it aside on ${machine.label} and run dev-open again.`,
      );
    }
  }
  return { states, problems };
}

/**
 * The launch config with the pack's mount sources on the engine's machine: its config dir, literally (the config's
 * `${localEnv:HOME}` is this machine's home, which the devcontainers CLI would put in the mounts).
 */
export function withRemoteSources(
  text: string,
  containerHome: string,
  targets: readonly string[],
  remoteConfigDir: string,
): string {
  const tree = parseJsoncTree(text);
  const isMounts = (p: Node) => p.children?.[0]?.value === "mounts";
  const property = tree?.type === "object" ? tree.children?.find(isMounts) : undefined;
  const mounts = property?.children?.[1];
  if (mounts?.type !== "array") return text;
  const prefix = `${containerHome}/.claude/`;
  let result = text;
  (mounts.children ?? []).forEach((item: Node, index: number) => {
    if (item.type !== "string" || typeof item.value !== "string") return;
    const parts = item.value.split(",");
    const target = parts.find((part) => /^(target|dst|destination)=/.test(part))?.replace(/^[^=]*=/, "");
    if (!target || !targets.includes(target) || !target.startsWith(prefix)) return;
    const entry = SHARED_ENTRIES.find((e) => e.name === target.slice(prefix.length));
    if (!entry) return;
    const source = `${remoteConfigDir}/${entry.kind === "file" ? `${HOST_FILE_LINKS_DIR}/${entry.name}` : entry.name}`;
    const value = parts.map((part) => (/^(source|src)=/.test(part) ? `source=${source}` : part)).join(",");
    result = editJsonc(result, ["mounts", index], value);
  });
  return result;
}
