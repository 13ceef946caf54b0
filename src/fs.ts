// Writes to a user's files: atomic (sibling temp file, fsync, rename), with a backup of what they replace.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  readlinkSync,
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
  try {
    writeThrough(resolvedTarget(link), content, mode);
  } catch (error) {
    throw fileError(link, error);
  }
}

function writeThrough(file: string, content: string | Uint8Array, mode?: number): void {
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
  refuseDanglingLink(file);
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/**
 * A symlink to nothing (a dotfiles checkout not made yet) is the user's promise of a file elsewhere: writing a file in
 * its place would lose the link, and writing through it would put a file where their checkout is meant to go.
 */
export function refuseDanglingLink(file: string): void {
  try {
    if (!lstatSync(file).isSymbolicLink() || existsSync(file)) return;
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  const target = readlinkSync(file);
  throw new UserError(
    `${file} is a symbolic link to ${target}, which does not exist: check out the file it points to (or remove the link) and run again (nothing was changed)`,
  );
}

/** Copies `file` to `<file>.claude-persist.bak` (replacing an older backup); returns the backup's path. */
export function backupFile(file: string): string {
  const backup = file + BACKUP_SUFFIX;
  try {
    copyFileSync(file, backup);
  } catch (error) {
    throw fileError(backup, error);
  }
  return backup;
}

export function readTextIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw fileError(file, error);
  }
}

/** What the user sees of a failed read or write of `file`: the path, what is wrong and what to do; other errors as they are. */
export function fileError(file: string, error: unknown): unknown {
  if (error instanceof UserError) return error;
  switch (errorCode(error)) {
    case "EISDIR":
      return new UserError(`${file} is a folder where a file should be: move it out of the way and run again`);
    case "ENOSPC":
    case "EDQUOT":
      return new UserError(`${file}: no space left on the device (or over quota); free some space and run again`);
    case "EACCES":
    case "EPERM":
      return new UserError(`${file}: permission denied; make it yours and writable (chown/chmod) and run again`);
    case "EROFS":
      return new UserError(`${file} is on a read-only file system; run this where it is writable`);
    default:
      return error;
  }
}

/** A user's file that is about to be edited: bytes that are not UTF-8 would be written back changed, so refuse. */
export function readTextToEdit(file: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw fileError(file, error);
  }
  const text = bytes.toString("utf8");
  const reencoded = Buffer.from(text, "utf8");
  if (reencoded.equals(bytes)) return text;
  // The first byte that does not survive decoding, as line and (byte) column.
  let at = 0;
  while (at < bytes.length && bytes[at] === reencoded[at]) at++;
  const before = bytes.subarray(0, at);
  const line = before.filter((byte) => byte === 0x0a).length + 1;
  const column = at - (before.lastIndexOf(0x0a) + 1) + 1;
  throw new UserError(`${file}:${line}:${column}: not valid UTF-8 (byte 0x${bytes[at]?.toString(16).padStart(2, "0")}); save it as UTF-8 and run again (nothing was changed)`);
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
