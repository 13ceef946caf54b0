// `fork SESSION[@MESSAGE]`: the session found among this project's (host, worktrees, containers), the message it
// names, a new session holding the conversation up to it, placed where it will be resumed: here, or in a new
// worktree on a new branch from the commit the session was at.
import { realpathOrSelf, type Env } from "../claude/home.ts";
import { detectEnvironment } from "../environment.ts";
import { UserError } from "../errors.ts";
import { listProjectSessions, type SessionInfo } from "../sessions/sessions.ts";
import { shellWord } from "../text.ts";
import { pathTo, resolveMessage, turnsOn } from "./branches.ts";
import { readConversation } from "./conversation.ts";
import { writeFork } from "./fork-file.ts";
import { makeWorktree, type Worktree } from "./worktree.ts";

export type ForkRequest = {
  /** `SESSION[@MESSAGE]`: a session id (or its start), then a turn number or a message uuid. */
  readonly spec: string;
  /** Into a new worktree: true for the default name, or the branch's name. */
  readonly worktree?: string | true;
  /** Into a new worktree on the branch /start-work gives this issue. */
  readonly issue?: string;
};

export type ForkResult = {
  readonly id: string;
  readonly file: string;
  readonly source: string;
  readonly at: { readonly uuid: string; readonly turn: number };
  /** Where it resumes. */
  readonly folder: string;
  readonly worktree: {
    readonly folder: string;
    readonly branch: string;
    readonly commit: string;
    readonly commitKnown: boolean;
    readonly how: string;
  } | null;
  readonly resume: string;
};

const SPEC = /^([A-Za-z0-9_-]{4,128})(?:@([A-Za-z0-9_-]{1,128}))?$/;

export async function forkSession(env: Env, cwd: string, request: ForkRequest): Promise<ForkResult> {
  const match = SPEC.exec(request.spec);
  if (!match?.[1]) {
    throw new UserError(
      `'${request.spec.slice(0, 80)}' is not SESSION[@MESSAGE]; give a session id (or its first characters) and, after @, a turn number or a message uuid as 'claude-persist sessions --tree' shows them`,
      2,
    );
  }
  const session = await findSession(env, cwd, match[1]);
  const conversation = readConversation(session.transcript);
  const at = resolveMessage(conversation, match[2], `session ${session.id}`);
  const turn = turnsOn(pathTo(conversation, at.uuid)).length;
  let worktree: Worktree | undefined;
  if (request.worktree !== undefined || request.issue !== undefined) {
    if (detectEnvironment(env).kind === "container") {
      throw new UserError(
        "a worktree made in a dev container would sit beside the workspace, outside the mount; run the fork with --worktree on the host",
      );
    }
    worktree = await makeWorktree(
      env,
      cwd,
      { branch: at.gitBranch, time: at.timestamp, defaultName: `fork/${session.id.slice(0, 8)}-turn-${turn}` },
      { name: typeof request.worktree === "string" ? request.worktree : undefined, issue: request.issue },
    );
  }
  const here = realpathOrSelf(cwd);
  const folder = worktree ? realpathOrSelf(worktree.folder) : here;
  const written = writeFork(env, { id: session.id, transcript: session.transcript, conversation }, at, folder);
  return {
    id: written.id,
    file: written.file,
    source: session.id,
    at: { uuid: at.uuid, turn },
    folder,
    worktree: worktree
      ? {
          folder: worktree.folder,
          branch: worktree.branch,
          commit: worktree.start.commit,
          commitKnown: worktree.start.known,
          how: worktree.start.how,
        }
      : null,
    resume: `${folder === here ? "" : `cd ${shellWord(folder)} && `}claude --resume ${written.id}`,
  };
}

/** The project's session whose id is `spec` or starts with it (one only). */
async function findSession(env: Env, cwd: string, spec: string): Promise<SessionInfo> {
  const sessions = (await listProjectSessions(env, cwd)).projects.flatMap((p) => p.sessions);
  const exact = sessions.find((s) => s.id === spec);
  if (exact) return exact;
  const matches = sessions.filter((s) => s.id.startsWith(spec));
  if (matches.length === 1 && matches[0]) return matches[0];
  throw new UserError(
    matches.length > 1
      ? `${matches.length} sessions of this project start with ${spec}; give more of the id`
      : `no session of this project is ${spec}; 'claude-persist sessions --tree' lists them`,
  );
}
