// Writes to a user's files: atomic (sibling temp file, fsync, rename), with a backup of what they replace.
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { randomHex } from "./crypto.ts";
import { UserError } from "./errors.ts";

export const BACKUP_SUFFIX = ".claude-persist.bak";

/** A name for a temporary file in `file`'s folder (so that renaming it onto `file` is atomic), unique to this call. */
export function tempPathBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomHex(4)}.tmp`);
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
  writeNewThenRename(tempPathBeside(file), file, content, mode ?? existingMode(file) ?? 0o644);
}

/**
 * The path of `name` in `dir`, for a folder path already normalised and a name that is one component: not path.join,
 * which a listing would call 10,000 times.
 */
export function fileIn(dir: string, name: string): string {
  return `${dir}${path.sep}${name}`;
}

/** What a file is written from: its text or bytes, or parts of it written one after another. */
export type FileContent = string | Uint8Array | ReadonlyArray<string | Uint8Array>;

/**
 * Writes `content` into `temp`, made new (never an existing path or link), syncs it (unless it is a cache, which a
 * crash may leave empty: it is made again) and renames it over `target`.
 */
function writeNewThenRename(
  temp: string,
  target: string,
  content: FileContent,
  mode: number,
  options: { cache?: boolean } = {},
): void {
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    for (const part of typeof content === "string" || content instanceof Uint8Array ? [content] : content) {
      writeSync(fd, typeof part === "string" ? Buffer.from(part) : part);
    }
    if (!options.cache) fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, target);
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

/**
 * Copies `file` to `<file>.claude-persist.bak`, replacing an older backup; returns the backup's path. The backup is
 * a file created fresh and renamed into place: whatever is under that name (a symlink a repo committed) is
 * replaced, never written through.
 */
export function backupFile(file: string): string {
  const backup = file + BACKUP_SUFFIX;
  try {
    replaceFileIn(path.dirname(backup), path.basename(backup), readFileSync(file), statSync(file).mode & 0o777);
  } catch (error) {
    throw fileError(backup, error);
  }
  return backup;
}

/**
 * The text of a user's file (links followed: a dotfiles checkout's), undefined when missing. Only a regular file of at
 * most MAX_STATE_FILE_BYTES is read: a FIFO would hang install, doctor and uninstall, a link to /dev/zero fill memory.
 */
export function readTextIfExists(file: string): string | undefined {
  return readUserFile(file)?.toString("utf8");
}

function readUserFile(file: string): Buffer | undefined {
  try {
    return readBoundedFile(file);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    if (errorCode(error) === "EUNSAFEFILE" && isDirectory(file))
      throw fileError(file, Object.assign(new Error("a folder"), { code: "EISDIR" }));
    if (errorCode(error) === "EUNSAFEFILE")
      throw new UserError(
        `${file} is not a regular file of at most ${MAX_STATE_FILE_BYTES} bytes (a FIFO, a device, or a link to one?): ` +
          "make it a regular file and run again (nothing was changed)",
      );
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
  const bytes = readUserFile(file);
  if (bytes === undefined) return undefined;
  const text = bytes.toString("utf8");
  const reencoded = Buffer.from(text, "utf8");
  if (reencoded.equals(bytes)) return text;
  // The first byte that does not survive decoding, as line and (byte) column.
  let at = 0;
  while (at < bytes.length && bytes[at] === reencoded[at]) at++;
  const before = bytes.subarray(0, at);
  const line = before.filter((byte) => byte === 0x0a).length + 1;
  const column = at - (before.lastIndexOf(0x0a) + 1) + 1;
  throw new UserError(
    `${file}:${line}:${column}: not valid UTF-8 (byte 0x${bytes[at]?.toString(16).padStart(2, "0")}); save it as UTF-8 and run again (nothing was changed)`,
  );
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
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

// ---------------------------------------------------------------------------------------------------------------
// Files someone else can write: a cloned repo, and every folder a dev container mounts. Reads never block (a FIFO)
// nor run forever (a link to /dev/zero): only regular files of bounded size, the last component never followed.
// Writes go through folders reached without following a link (fs-beneath.ts), and replace a name instead of
// writing through it.

/** An error for a file or folder refused because of what it is (a link, a FIFO, too big): its code names that. */
export function refusal(message: string): Error {
  return Object.assign(new Error(message), { code: "EUNSAFEFILE" });
}

/** A file another party can plant there is read only if it is a regular file of at most this many bytes. */
export const MAX_STATE_FILE_BYTES = 16 << 20;

const READ_UNTRUSTED = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * The bytes of `file` (undefined when it does not exist), only if it is a regular file of at most `maxBytes`: a
 * symlink in its last component, a FIFO, a device or a folder is refused with an error naming it.
 */
export function readRegularFile(file: string, maxBytes: number = MAX_STATE_FILE_BYTES): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, READ_UNTRUSTED);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    if (errorCode(error) === "ELOOP") throw refusal(`${file} is a symbolic link; not reading it`);
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw refusal(`${file} is not a regular file; not reading it`);
    const tooLarge = () => refusal(`${file} is larger than ${maxBytes} bytes; not reading it`);
    if (stats.size > maxBytes) throw tooLarge();
    // The file may grow while it is read: read at most one byte more than allowed, to notice.
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let length = 0;
    for (let read = 1; read > 0 && length < buffer.length; length += read)
      read = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > maxBytes) throw tooLarge();
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/** `readRegularFile` as UTF-8 text. */
export function readRegularText(file: string, maxBytes: number = MAX_STATE_FILE_BYTES): string | undefined {
  return readRegularFile(file, maxBytes)?.toString("utf8");
}

/** `readRegularFile` of where `file` leads (links followed). */
function readBoundedFile(file: string, maxBytes: number = MAX_STATE_FILE_BYTES): Buffer | undefined {
  let real: string;
  try {
    real = realpathSync(file);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  return readRegularFile(real, maxBytes);
}

/**
 * `readRegularText` of where `file` leads (links followed, for files whose links may be the user's own, like a repo's
 * config read for a report): still never a FIFO, a device or more than `maxBytes`.
 */
export function readBoundedText(file: string, maxBytes: number = MAX_STATE_FILE_BYTES): string | undefined {
  return readBoundedFile(file, maxBytes)?.toString("utf8");
}

/**
 * Opens `file` for reading without following a link in its last component and without blocking on a FIFO; the
 * caller gets the descriptor only if it is a regular file (else an error), and closes it.
 */
export function openRegularFile(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, READ_UNTRUSTED);
  } catch (error) {
    if (errorCode(error) === "ELOOP") throw refusal(`${file} is a symbolic link; not reading it`);
    throw error;
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw refusal(`${file} is not a regular file; not reading it`);
  }
  return fd;
}

/**
 * Replaces `dir/name` with `content` atomically, never writing through what is there: a symlink or file planted
 * under that name is replaced, not followed. `dir` is a folder the caller reached safely (see withDirBeneath).
 */
export function replaceFileIn(
  dir: string,
  name: string,
  content: FileContent,
  mode: number,
  options: { cache?: boolean } = {},
): void {
  writeNewThenRename(
    path.join(dir, `.${name}.${process.pid}.${randomHex(4)}.tmp`),
    path.join(dir, name),
    content,
    mode,
    options,
  );
}
