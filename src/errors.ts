// One error path: known failures become one clear line for the user and a non-zero exit.

/** A failure the user can act on. `message` is the one line they see; it should say what to do. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "UserError";
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0] ?? String(error);
  return String(error);
}
