// The container user on an engine on another machine: the engine mounts that machine's folders, which belong to its
// account there (0700), so the container user must have that account's uid and gid. The devcontainers CLI's
// `updateRemoteUserUID` gives it the uid of the account running the CLI (this machine's: `process.getuid()`, with
// no option to name another), so dev-open turns that off for the launch and sets the uid itself, as root in the
// container, before any lifecycle command or session runs as the user (see docs/remote-engines.md).
import { runProcess } from "../../child-process.ts";
import { UserError } from "../../errors.ts";
import { oneLine } from "../../text.ts";
import { parseDevcontainerConfig } from "../config/config.ts";
import type { PersistenceEdit } from "../config/persistence.ts";
import { dockerExec } from "../launch/docker.ts";
import { devcontainerScript, type UpSuccess } from "../launch/up.ts";
import type { RemoteMachine } from "./machine.ts";

/**
 * Whether dev-open sets the container user's uid for this launch: yes, unless the config turns the uid update off
 * itself (`"updateRemoteUserUID": false`: the image's uid is what its author wants; the access check still runs).
 */
export function setsRemoteUid(edit: PersistenceEdit): boolean {
  const text = edit.files.find((f) => f.path === edit.configPath)?.after ?? "";
  return parseDevcontainerConfig(text, edit.configPath).config.updateRemoteUserUID !== false;
}

/**
 * What `devcontainer up` is told when dev-open sets the uid: no uid update of its own (it would give this machine's
 * uid), and no lifecycle commands yet (they would run with the image's uid); `runUserCommands` runs them after.
 */
export const REMOTE_UID_UP_ARGS: readonly string[] = [
  "--update-remote-user-uid-default",
  "never",
  "--skip-post-create",
];

/**
 * Run as root in the container; `$1` user, `$2` uid, `$3` gid. Prints one line: `changed OLD_UID OLD_GID`,
 * `same`, `root`, `missing` (no such user in /etc/passwd) or `taken NAME` (another user has the uid).
 * /etc/passwd and /etc/group are rewritten in place (their inode and mode kept); the user's own group takes the gid
 * unless another group has it. Files the user owned in its home (not below the mounts: -xdev) follow the new uid.
 */
export const SET_UID_SCRIPT = [
  "set -e",
  'user="$1"; uid="$2"; gid="$3"',
  'rewrite() { file="$1"; shift; awk "$@" "$file" > "$file.claude-persist"; cat "$file.claude-persist" > "$file"; rm -f "$file.claude-persist"; }',
  'entry=$(awk -F: -v u="$user" \'$1 == u { print $3 " " $4 " " $6; exit }\' /etc/passwd)',
  'if [ -z "$entry" ]; then echo missing; exit 0; fi',
  "set -- $entry",
  'old_uid="$1"; old_gid="$2"; home="$3"',
  'if [ "$old_uid" = 0 ]; then echo root; exit 0; fi',
  'if [ "$old_uid" = "$uid" ] && [ "$old_gid" = "$gid" ]; then echo same; exit 0; fi',
  'holder=$(awk -F: -v u="$user" -v id="$uid" \'$3 == id && $1 != u { print $1; exit }\' /etc/passwd)',
  'if [ -n "$holder" ]; then echo "taken $holder"; exit 0; fi',
  "if ! awk -F: -v id=\"$gid\" '$3 == id { found = 1 } END { exit !found }' /etc/group; then",
  '  rewrite /etc/group -F: -v OFS=: -v u="$user" -v old="$old_gid" -v g="$gid" \'$1 == u && $3 == old { $3 = g } { print }\'',
  "fi",
  'rewrite /etc/passwd -F: -v OFS=: -v u="$user" -v id="$uid" -v g="$gid" \'$1 == u { $3 = id; $4 = g } { print }\'',
  'if [ -d "$home" ]; then find "$home" -xdev -user "$old_uid" -exec chown -h "$uid:$gid" {} +; fi',
  'echo "changed $old_uid $old_gid"',
].join("\n");

export type UidOutcome = { readonly changed: boolean; readonly message?: string };

/**
 * Gives the container user the uid and gid of the engine machine's account, or says why it cannot (a UserError:
 * the sessions there would be unreadable in the container, so nothing is said to be shared).
 */
export async function matchContainerUser(
  env: NodeJS.ProcessEnv,
  up: UpSuccess,
  machine: RemoteMachine,
): Promise<UidOutcome> {
  const { remoteUser: user, containerId } = up;
  const owner = `uid ${machine.uid}, gid ${machine.gid}`;
  if (machine.uid === 0 && user !== "root") {
    throw new UserError(
      `your account on ${machine.label} is root, so the folders the engine mounts belong to root, and the container ` +
        `user ${user} cannot open them: reach ${machine.label} as an ordinary account (DOCKER_HOST=ssh://you@host), ` +
        'or set "remoteUser": "root" in devcontainer.json (the container is running; nothing was shared)',
    );
  }
  const args = ["-u", "root", containerId, "sh", "-c", SET_UID_SCRIPT, "sh", user, String(machine.uid)];
  const run = await dockerExec(env, [...args, String(machine.gid)]);
  const [state, detail] = run.stdout.trim().split("\n").at(-1)?.split(" ") ?? [];
  if (!run.ok || !state) {
    const reason = oneLine(run.stderr.trim().split("\n").at(-1) ?? "", 200) || "no answer";
    throw new UserError(
      `could not give ${user} in the container the ${owner} of your account on ${machine.label} (${reason}): ` +
        "the container cannot open the sessions mounted from there; see docs/remote-engines.md",
    );
  }
  if (state === "taken") {
    throw new UserError(
      `${user} in the container cannot get uid ${machine.uid}, your account's on ${machine.label}: ` +
        `${detail && /^[A-Za-z0-9._-]{1,32}$/.test(detail) ? detail : "another user"} has it in the image, ` +
        `and the folders mounted from ${machine.label} belong ` +
        `to that uid. Give ${user} uid ${machine.uid} in the image (or remove that user), ` +
        "then run dev-open --rebuild (the container is running; nothing was shared)",
    );
  }
  if (state === "missing") {
    throw new UserError(
      `the container has no user ${user} in /etc/passwd to give your ${machine.label} account's ${owner}: ` +
        'set "remoteUser" in devcontainer.json to a user of the image (the container is running; nothing was shared)',
    );
  }
  if (state === "changed") {
    const message =
      `${user} in the container now has ${owner}, like your account on ${machine.label}, which owns the folders ` +
      "the engine mounts.";
    return { changed: true, message };
  }
  return { changed: false };
}

/**
 * The lifecycle commands `up` was told to skip, run now that the user has its uid. The CLI skips what it ran
 * before in this container (onCreate, postCreate) by its own markers.
 */
export async function runUserCommands(
  env: NodeJS.ProcessEnv,
  edit: PersistenceEdit,
  containerId: string,
  overrideConfig: string | undefined,
): Promise<void> {
  const args = [devcontainerScript(), "run-user-commands", "--workspace-folder", edit.workspaceFolder];
  args.push("--config", edit.configPath, "--container-id", containerId);
  if (overrideConfig) args.push("--override-config", overrideConfig);
  const run = await runProcess(process.execPath, args, { env });
  if (run.exitCode === 0) return;
  const lines = `${run.stderr}\n${run.stdout}`.split("\n").map((line) => line.replace(/^\[[^\]]*\]\s*/, "").trim());
  const reason = lines.findLast((line) => /error|fail/i.test(line)) ?? lines.findLast(Boolean) ?? "";
  throw new UserError(
    `the dev container's lifecycle commands (onCreateCommand, postCreateCommand …) failed: ${oneLine(reason, 300)}`,
  );
}
