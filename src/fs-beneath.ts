// Folders someone else can write (a cloned repo, a folder a dev container mounts): reached without following a
// link, then appended to or written by replacing a name, never writing through what is there; and a repo's files
// edited only where they lead inside the repo.
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  realpathSync,
  rmdirSync,
  statSync,
  utimesSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { UserError } from "./errors.ts";
import { BACKUP_SUFFIX, errorCode, isNotFound, readRegularFile, refusal, replaceFileIn } from "./fs.ts";

/** Linux names an open folder `/proc/self/fd/N`: a path through it is resolved from that very folder (openat). */
const FD_PATHS = process.platform === "linux" && existsSync("/proc/self/fd");

/**
 * Runs `fn` with a path naming the folder `relDir` under `root` (a folder the caller trusts), reached without
 * following any symlink below `root`; with `create`, missing folders are made (0700). On Linux the path is that of
 * the open folder, so a folder swapped for a link after the check cannot redirect what `fn` does; elsewhere each
 * component is checked first (a narrow race remains there).
 */
export function withDirBeneath<T>(
  root: string,
  relDir: string,
  fn: (dir: string) => T,
  options: { create?: boolean } = {},
): T {
  const held = holdDirBeneath(root, relDir, options);
  try {
    return fn(held.dir);
  } finally {
    held.close();
  }
}

/** A folder held open by `holdDirBeneath`: `dir` names it (on Linux, the open folder itself) until `close`. */
export type HeldDir = { readonly dir: string; close(): void };

/**
 * `withDirBeneath` for a folder used across several calls (a listing that stats and reads in it as it goes): the
 * caller closes it. Same rules: reached without following any symlink below `root`, made with `create`.
 */
export function holdDirBeneath(root: string, relDir: string, options: { create?: boolean } = {}): HeldDir {
  const parts = relDir.split(/[\\/]+/).filter((part) => part !== "" && part !== ".");
  if (parts.includes("..") || path.isAbsolute(relDir)) throw refusal(`${relDir} leaves ${root}`);
  if (!FD_PATHS) {
    let dir = root;
    for (const part of parts) {
      dir = path.join(dir, part);
      if (options.create) mkdirQuietly(dir);
      if (!lstatSync(dir).isDirectory()) throw refusal(`${dir} is a link or not a folder; not writing there`);
    }
    return { dir, close: () => undefined };
  }
  let fd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (const part of parts) {
      const next = `/proc/self/fd/${fd}/${part}`;
      if (options.create) mkdirQuietly(next);
      let child: number;
      try {
        child = openSync(next, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      } catch (error) {
        const code = errorCode(error);
        if (code === "ELOOP" || code === "ENOTDIR")
          throw refusal(
            `${path.join(root, ...parts.slice(0, parts.indexOf(part) + 1))} is a link or not a folder; not writing there`,
          );
        throw error;
      }
      closeSync(fd);
      fd = child;
    }
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const held = fd;
  let open = true;
  return {
    dir: `/proc/self/fd/${held}`,
    close: () => {
      if (open) closeSync(held);
      open = false;
    },
  };
}

function mkdirQuietly(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
  }
}

/**
 * Moves `dir`'s own ctime and mtime as a new entry would (an append leaves them alone). Setting its times needs to own
 * it, which a container's user may not: then an empty folder is made and removed in it (write permission is enough;
 * 50 times slower), named as temporary files are, which sync never sends.
 */
export function touchFolder(dir: string): void {
  const now = new Date();
  try {
    utimesSync(dir, now, now);
    return;
  } catch (error) {
    if (errorCode(error) !== "EPERM" && errorCode(error) !== "EACCES") throw error;
  }
  const probe = path.join(dir, `.touch.${process.pid}.${process.hrtime.bigint()}.tmp`);
  mkdirSync(probe, { mode: 0o700 });
  rmdirSync(probe);
}

/** Appends `text` to `dir/name` (made 0600 if missing) in one write; a link, FIFO or device there is refused. */
export function appendToFileIn(dir: string, name: string, text: string): void {
  const file = path.join(dir, name);
  let fd: number;
  try {
    fd = openSync(
      file,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      0o600,
    );
  } catch (error) {
    // ENXIO: a FIFO nobody reads.
    if (errorCode(error) === "ELOOP" || errorCode(error) === "ENXIO")
      throw refusal(`${name} is not a regular file; not writing to it`);
    throw error;
  }
  try {
    if (!fstatSync(fd).isFile()) throw refusal(`${name} is not a regular file; not writing to it`);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** `file` resolved (links followed) if it lies inside `root` (resolved too); otherwise undefined. */
export function realPathInside(root: string, file: string): string | undefined {
  const realRoot = realpathSync(root);
  let real: string;
  try {
    real = realpathSync(file);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    // A file still to be made: its folder must be inside.
    const parent = realPathInside(root, path.dirname(file));
    if (parent === undefined) return undefined;
    real = path.join(parent, path.basename(file));
  }
  const rel = path.relative(realRoot, real);
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel)) ? real : undefined;
}

/**
 * The text of `file` to be edited, which must lie inside `root` (a repo; links inside it are followed): a file that
 * leads outside, is not a regular file, or is not UTF-8 is refused with a UserError saying so.
 */
export function readTextToEditInside(root: string, file: string): string | undefined {
  const real = realPathInside(root, file);
  if (real === undefined)
    throw new UserError(
      `${file} leads outside ${root}; not reading or editing it (make it a regular file in the repo)`,
    );
  let bytes: Buffer | undefined;
  try {
    bytes = readRegularFile(real);
  } catch (error) {
    throw new UserError(`${file}: ${error instanceof Error ? error.message.replace(`${real} `, "") : String(error)}`);
  }
  if (bytes === undefined) return undefined;
  const text = bytes.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(bytes)) throw new UserError(`${file} is not valid UTF-8; not editing it.`);
  return text;
}

/**
 * Writes `content` to `file`, which must lie inside `root` (a repo: its files are anyone's), keeping its mode; with
 * `backup`, what was there is saved first to `<file>.claude-persist.bak`, a file created fresh (whatever a repo
 * committed under that name is replaced, never written through). Both go through the folder reached safely.
 */
export function writeFileInside(root: string, file: string, content: string, options: { backup: boolean }): void {
  const real = realPathInside(root, file);
  if (real === undefined)
    throw new UserError(`${file} leads outside ${root}; not editing it (make it a regular file in the repo)`);
  const realRoot = realpathSync(root);
  const name = path.basename(real);
  withDirBeneath(
    realRoot,
    path.relative(realRoot, path.dirname(real)),
    (dir) => {
      const current = readRegularFile(path.join(dir, name));
      const mode = current === undefined ? 0o644 : statSync(path.join(dir, name)).mode & 0o777;
      if (options.backup && current !== undefined) replaceFileIn(dir, name + BACKUP_SUFFIX, current, mode);
      replaceFileIn(dir, name, content, mode);
    },
    { create: true },
  );
}
