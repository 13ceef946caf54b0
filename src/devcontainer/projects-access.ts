// Whether the container user can read and write its ~/.claude/projects: asked inside the container, as that user,
// after dev-open launched it (before anything says the sessions are shared) and by doctor. The usual reason it
// cannot is a uid that differs from the mounted folder's owner (0700), most often on an engine on another machine.
import { UserError } from "../errors.ts";
import { dockerExec } from "./launch/docker.ts";

export type ProjectsAccess = {
  readonly ok: boolean;
  readonly folder: string;
  readonly user: string;
  /** The user's uid in the container, and the folder's owner and mode there, when they could be read. */
  readonly uid?: number;
  readonly owner?: number;
  readonly mode?: string;
};

/** Prints `yes` or `no`, the user's uid, then the folder's owner and octal mode (`- -` when it cannot be seen). */
const ACCESS_SCRIPT = [
  'if [ -r "$1" ] && [ -w "$1" ] && [ -x "$1" ] && ls "$1" >/dev/null 2>&1; then echo yes; else echo no; fi',
  "id -u",
  'stat -c "%u %a" "$1" 2>/dev/null || echo "- -"',
].join("\n");

export async function projectsAccess(
  env: NodeJS.ProcessEnv,
  containerId: string,
  user: string,
  claudeDir: string,
): Promise<ProjectsAccess> {
  const folder = `${claudeDir}/projects`;
  const run = await dockerExec(env, ["-u", user, containerId, "sh", "-c", ACCESS_SCRIPT, "sh", folder]);
  const [answer, uid, stat] = run.stdout.trim().split("\n");
  const [owner, mode] = (stat ?? "").split(" ");
  const isId = (text: string | undefined): text is string => text !== undefined && /^\d{1,10}$/.test(text);
  return {
    ok: run.ok && answer === "yes",
    folder,
    user,
    ...(isId(uid) ? { uid: Number(uid) } : {}),
    ...(isId(owner) ? { owner: Number(owner) } : {}),
    ...(mode && /^[0-7]{3,4}$/.test(mode) ? { mode } : {}),
  };
}

/** Where the folder comes from, when it is not this machine's: named in the reason. */
export type MountedFrom = { readonly label: string; readonly configDir: string; readonly uid?: number };

/** One line: who cannot open what, and why, as far as the container tells. */
export function describeNoAccess(access: ProjectsAccess, from?: MountedFrom): string {
  const who = access.uid === undefined ? access.user : `${access.user} (uid ${access.uid})`;
  const owned =
    access.owner === undefined
      ? ""
      : `; it belongs to uid ${access.owner}${access.mode ? ` with mode ${access.mode}` : ""}`;
  const where = from
    ? `, the engine's mount of ${from.configDir}/projects on ${from.label}` +
      `${from.uid !== undefined && access.owner === from.uid ? ", your account's there" : ""}`
    : "";
  return `${who} cannot read and write ${access.folder} in the container${where}${owned}`;
}

/** The line dev-open says instead of "shared" when the user cannot open its projects folder; undefined when it can. */
export async function projectsProblem(
  env: NodeJS.ProcessEnv,
  containerId: string,
  user: string,
  claudeDir: string,
  from?: MountedFrom & { readonly fix: string },
): Promise<string | undefined> {
  const access = await projectsAccess(env, containerId, user, claudeDir);
  if (access.ok) return undefined;
  const fix = from?.fix ?? "Run 'claude-persist doctor' in the repo for the cause and its fix.";
  return `${describeNoAccess(access, from)}: its sessions are not shared there. ${fix}`;
}

/** On an engine on another machine, dev-open refuses (the container keeps running): a UserError with the line. */
export async function requireProjectsAccess(
  env: NodeJS.ProcessEnv,
  containerId: string,
  user: string,
  claudeDir: string,
  from: MountedFrom & { readonly fix: string },
): Promise<void> {
  const problem = await projectsProblem(env, containerId, user, claudeDir, from);
  if (problem) throw new UserError(problem);
}
