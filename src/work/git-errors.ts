// What a failed git call, or a branch or ref name refused before git sees it, tells the user: one UserError
// sentence that says what to do. `quoted` shows a name from outside as one harmless line.
import { UserError } from "../errors.ts";

/** What one git call gave back. */
export type GitResult = { readonly exitCode: number; readonly stdout: string; readonly stderr: string };

export function gitFailed(what: string, result: GitResult): UserError {
  const line = result.stderr.split("\n").find((text) => /^(fatal|error): /.test(text)) ?? result.stderr.split("\n")[0];
  return new UserError(`${what} failed: ${line?.trim() || `git exited with ${result.exitCode}`}`);
}

export function badBranch(branch: string): UserError {
  return new UserError(
    `refusing branch name ${quoted(branch)}: not a plain git branch name (letters, digits, . _ / - + = , # @ %, not starting with "-"); use one like lin-123-fix-login`,
  );
}

export function badRef(ref: string): UserError {
  return new UserError(
    `refusing --from ${quoted(ref)}: not a branch, tag or commit name; pass one like main or origin/main`,
  );
}

// Names from outside are shown escaped and cut short, so that the message stays one harmless line.
export function quoted(name: string): string {
  const cut = name.length > 60 ? `${name.slice(0, 60)}...` : name;
  return JSON.stringify(cut).replace(
    /[^\x20-\x7e]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function switchFailed(branch: string, result: GitResult): UserError {
  const lines = result.stderr.split("\n");
  const files = lines.filter((line) => line.startsWith("\t")).map((line) => line.trim());
  const shown = files.length > 3 ? `${files.slice(0, 3).join(", ")}, …` : files.join(", ");
  // Untracked and ignored files (which `git stash` leaves alone) that the branch tracks.
  if (lines.some((line) => /untracked working tree files would be (overwritten|removed)/.test(line))) {
    const [these, it] = files.length === 1 ? [`${shown} is`, "it"] : [`${shown || "some files"} are`, "them"];
    return new UserError(
      `${these} not tracked here (untracked or ignored) but ${branch} tracks ${it}, and switching would overwrite ${it}; move ${it} out of the repo or use --worktree, then run again (nothing was changed)`,
    );
  }
  if (lines.some((line) => /would be overwritten by checkout/.test(line))) {
    return new UserError(
      `your uncommitted changes${shown ? ` to ${shown}` : ""} conflict with ${branch}; commit or stash them, then run again (nothing was changed)`,
    );
  }
  const elsewhere = lines.map((line) => /is already checked out at '(.*)'/.exec(line)?.[1]).find(Boolean);
  if (elsewhere) return checkedOutElsewhere(branch, elsewhere);
  return gitFailed(`git switch ${branch}`, result);
}

export function checkedOutElsewhere(branch: string, worktreePath: string): UserError {
  return new UserError(
    `${branch} is already checked out in the worktree at ${worktreePath}; work there, or use --worktree`,
  );
}
