// What tests compare before and after a refused run, and how they catch the error it gives.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { UserError } from "../../src/errors.ts";

/**
 * Every file under `dir` with its bytes, and every folder: the "nothing changed" check. The CLI's code cache
 * (`persist-host/code-cache/`, src/code-cache.ts) is left out: any run may leave compiled code there, and it is no
 * change a command made.
 */
export function treeOf(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (path.basename(path.join(dir, rel)) === "persist-host" && entry.name === "code-cache") continue;
      if (entry.isDirectory()) {
        files[`${child}/`] = "folder";
        walk(child);
      } else files[child] = readFileSync(path.join(dir, child)).toString("base64");
    }
  };
  walk("");
  return files;
}

/** The UserError `promise` rejects with; fails the test when it succeeds or throws anything else. */
export async function userErrorOf(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error("expected a UserError, got success");
}

/** Whether `command` is a file in one of $PATH's folders. */
export function existsOnPath(command: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      return statSync(path.join(dir, command)).isFile();
    } catch {
      return false;
    }
  });
}
