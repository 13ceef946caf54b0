// Writes to a user's files: atomic (sibling temp file, fsync, rename), with a backup of what they replace.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { UserError } from "./errors.ts";

export const BACKUP_SUFFIX = ".claude-persist.bak";

/** A name for a temporary file in `file`'s folder (so that renaming it onto `file` is atomic), unique to this call. */
export function tempPathBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Writes `content` to `file` so that readers see either the old or the new bytes, never a mix. A symlink (a
 * dotfiles repo's settings.json) is written through, not replaced; without `mode` the file keeps its own.
 */
export function writeFileAtomic(link: string, content: string | Uint8Array, mode?: number): void {
  const file = resolvedTarget(link);
  const temp = tempPathBeside(file);
  const keepMode = mode ?? existingMode(file) ?? 0o644;
  const fd = openSync(temp, "wx", keepMode);
  try {
    writeSync(fd, typeof content === "string" ? Buffer.from(content) : content);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, file);
  } catch (error) {
    unlinkSync(temp);
    throw error;
  }
}

/** Where a write to `file` lands: the file a symlink points at, when there is one. */
function resolvedTarget(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** Copies `file` to `<file>.claude-persist.bak` (replacing an older backup); returns the backup's path. */
export function backupFile(file: string): string {
  const backup = file + BACKUP_SUFFIX;
  copyFileSync(file, backup);
  return backup;
}

export function readTextIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** A user's file that is about to be edited: bytes that are not UTF-8 would be written back changed, so refuse. */
export function readTextToEdit(file: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const text = bytes.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(bytes)) throw new UserError(`${file} is not valid UTF-8; not editing it.`);
  return text;
}

/** A directory itself, not a symlink to one. */
export function isRealDirectory(file: string): boolean {
  try {
    return lstatSync(file).isDirectory();
  } catch {
    return false;
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof Error && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR");
}

export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

function existingMode(file: string): number | undefined {
  try {
    return statSync(file).mode & 0o7777;
  } catch {
    return undefined;
  }
}
