// One error path: known failures become one clear line for the user and a non-zero exit.

/** The exit codes scripts can rely on (docs/cli.md). */
export const EXIT = { ok: 0, failed: 1, usage: 2, needsCredential: 3 } as const;

/** A failure the user can act on. `message` is the one line they see; it should say what to do. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = "UserError";
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0] ?? String(error);
  return String(error);
}

/** The `code` of a failure in `--json` output: what kind of failure, by its exit code. */
export function errorKind(error: unknown): "failed" | "usage" | "needs-credential" | "internal" {
  if (!(error instanceof UserError)) return "internal";
  if (error.exitCode === EXIT.usage) return "usage";
  if (error.exitCode === EXIT.needsCredential) return "needs-credential";
  return "failed";
}
