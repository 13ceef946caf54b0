// The config dir's folders held open without following links, for restore's writes.
import {
  closeSync,
  constants as fsConstants,
  existsSync,
  fstatSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  rmdirSync,
  statSync,
  unlinkSync,
  type Stats,
} from "node:fs";
import path from "node:path";
import { errorCode, isNotFound } from "../fs.ts";

/**
 * The config dir's folders, opened one path part at a time with O_NOFOLLOW and kept open: a write goes to a
 * name inside a folder we hold (through /proc/self/fd on Linux, which is openat by another name), so a folder
 * swapped for a link after it was checked cannot redirect it. Where /proc is missing (macOS), each write first
 * checks again that every part of the path is still the real folder that was opened.
 */
export class ConfigTree {
  private readonly folders = new Map<string, { fd: number; dev: number; ino: number }>();
  private readonly viaProc: boolean;

  constructor(private readonly root: string) {
    const fd = openSync(root, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    const stats = fstatSync(fd);
    this.folders.set("", { fd, dev: stats.dev, ino: stats.ino });
    this.viaProc = existsSync(`/proc/self/fd/${fd}/.`);
  }

  /**
   * The folder `rel` (made 0700 where missing, when `create`), as an open descriptor; undefined when missing. A loop
   * from the nearest folder held, one level at a time: a snapshot may be thousands of folders deep.
   */
  folder(rel: string, create: boolean): number | undefined {
    const known = this.folders.get(rel);
    if (known) return known.fd;
    const below: string[] = [];
    let held = rel;
    while (!this.folders.has(held)) {
      if (held === "") throw new Error(`${this.root} is closed`);
      below.push(held);
      held = held.includes("/") ? path.posix.dirname(held) : "";
    }
    let fd = this.folders.get(held)?.fd as number;
    for (let i = below.length - 1; i >= 0; i--) {
      const next = this.openChild(fd, held, below[i] as string, create);
      if (next === undefined) return undefined;
      fd = next;
      held = below[i] as string;
    }
    return fd;
  }

  private openChild(parentFd: number, parent: string, rel: string, create: boolean): number | undefined {
    const name = path.posix.basename(rel);
    const at = this.at(parentFd, parent, name);
    if (create) {
      try {
        mkdirSync(at, { mode: 0o700 });
      } catch (error) {
        if (errorCode(error) !== "EEXIST") throw error;
      }
    }
    // The config dir's own folders (projects/, tasks/ …) are the user's: one may be a link to another disk. No
    // container can replace them (it only sees inside them), so only the parts below are opened without links.
    const noFollow = parent === "" ? 0 : fsConstants.O_NOFOLLOW;
    let fd: number;
    try {
      fd = openSync(at, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | noFollow);
    } catch (error) {
      if (isNotFound(error) && !create) return undefined;
      const code = errorCode(error);
      if (code === "ELOOP" || code === "ENOTDIR") {
        throw new Error(`${path.join(this.root, rel)} is no longer a folder (a link or file took its place)`);
      }
      throw error;
    }
    // Many folders (one per session, or one deep chain): keep the descriptors few.
    if (this.folders.size > 256) this.closeAllBut(parent);
    const stats = fstatSync(fd);
    this.folders.set(rel, { fd, dev: stats.dev, ino: stats.ino });
    return fd;
  }

  /** `lstat` of `rel` in its held folder; undefined when it or its folder is missing. */
  lstat(rel: string): Stats | undefined {
    const target = this.file(rel, false);
    if (target === undefined) return undefined;
    try {
      return lstatSync(target);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** A path for the file `rel` that resolves inside its held folder; undefined when its folder is missing. */
  file(rel: string, create: boolean): string | undefined {
    const parent = path.posix.dirname(rel);
    const fd = this.folder(parent, create);
    return fd === undefined ? undefined : this.at(fd, parent, path.posix.basename(rel));
  }

  /** `rel`, a link, becomes an empty real folder. */
  replaceLinkWithFolder(rel: string): void {
    const target = this.file(rel, false);
    if (target === undefined) return;
    try {
      if (!lstatSync(target).isSymbolicLink()) return;
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    unlinkSync(target);
    mkdirSync(target, { mode: 0o700 });
  }

  removeIfEmpty(rel: string): void {
    const target = this.file(rel, false);
    if (target === undefined) return;
    this.forget(rel);
    try {
      rmdirSync(target);
    } catch {
      // Not empty (files the snapshot puts back, or another project's), a link, or gone: it stays.
    }
  }

  setTimes(rel: string, mtimeMs: number): void {
    const fd = this.folder(rel, false);
    if (fd !== undefined) futimesSync(fd, new Date(mtimeMs), new Date(mtimeMs));
  }

  close(): void {
    this.closeAllBut(undefined);
  }

  private at(fd: number, rel: string, name: string): string {
    if (this.viaProc) return `/proc/self/fd/${fd}/${name}`;
    // No openat here: look at every part again, right before the write.
    let dir = this.root;
    const parts = rel === "" ? [] : rel.split("/");
    for (let i = 0; i < parts.length; i++) {
      dir = path.join(dir, parts[i] ?? "");
      const held = this.folders.get(parts.slice(0, i + 1).join("/"));
      const stats = i === 0 ? statSync(dir) : lstatSync(dir);
      if (!stats.isDirectory() || (held && (held.dev !== stats.dev || held.ino !== stats.ino))) {
        throw new Error(`${dir} is no longer the folder it was (a link or another folder took its place)`);
      }
    }
    return path.join(dir, name);
  }

  private forget(rel: string): void {
    for (const [key, held] of this.folders) {
      if (key === rel || key.startsWith(`${rel}/`)) {
        closeSync(held.fd);
        this.folders.delete(key);
      }
    }
  }

  private closeAllBut(keep: string | undefined): void {
    for (const [key, held] of this.folders) {
      if (key === keep || (keep !== undefined && key === "")) continue;
      closeSync(held.fd);
      this.folders.delete(key);
    }
  }
}
