// The three commands on PATH, the way uv and cargo put theirs: a link per command in a folder of the user's
// (`~/.local/bin`, or `--bin-dir`), pointing at the installed runtime (`~/.claude/persist/bin/<name>.cjs`), so that it
// keeps working when the clone it was installed from moves or goes. An npm global install needs none: npm made them.
import {
  lstatSync,
  mkdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
} from "node:fs";
import path from "node:path";
import { homeDir, packCodeDir, type Env } from "../claude/home.ts";
import { fileError } from "../fs.ts";

export const COMMAND_NAMES = ["claude-persist", "dev-open", "start-work"] as const;
/**
 * The devcontainers CLI that dev-open runs, vendored in the runtime: linked too where PATH has none, because the
 * command dev-open prints to enter a container (`devcontainer exec …`) must work as printed.
 */
export const DEVCONTAINER = "devcontainer";

export type BinLinks = {
  readonly dir: string;
  /** Commands whose link install made or pointed at the runtime now. */
  readonly linked: string[];
  /** Commands whose link was already there as wanted. */
  readonly unchanged: string[];
  /** Commands left alone: a file or link that is not ours is in the way. */
  readonly inTheWay: string[];
  /** Whether `dir` is on PATH, so that the commands are found by name. */
  readonly onPath: boolean;
};

/** `$XDG_BIN_HOME` when set (as uv reads it), else `~/.local/bin`. */
export function defaultBinDir(env: Env): string {
  return env.XDG_BIN_HOME ? path.resolve(env.XDG_BIN_HOME) : path.join(homeDir(env), ".local", "bin");
}

function realpathOr(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

function pathDirs(env: Env): string[] {
  return (env.PATH ?? "").split(path.delimiter).filter((dir) => path.isAbsolute(dir));
}

export function isOnPath(env: Env, dir: string): boolean {
  const wanted = realpathOr(dir);
  return pathDirs(env).some((entry) => realpathOr(entry) === wanted);
}

/**
 * True when PATH already finds the commands of `runtime`, a package npm installed (`npm install -g`), so no links
 * are needed. `npx` puts its temporary `.bin` on PATH only while it runs: that one does not count.
 */
export function runtimeOnPath(env: Env, runtime: string): boolean {
  const own = realpathOr(path.join(runtime, "bin", "claude-persist.cjs"));
  // Only a package npm installed: the links install makes point at the runtime in the config dir, never in there.
  if (!own.split(path.sep).includes("node_modules")) return false;
  return pathDirs(env).some(
    (dir) => !dir.split(path.sep).includes("_npx") && realpathOr(path.join(dir, "claude-persist")) === own,
  );
}

function targetOf(env: Env, name: string): string {
  if (name === DEVCONTAINER)
    return path.join(packCodeDir(env), "node_modules", "@devcontainers", "cli", "devcontainer.js");
  return path.join(packCodeDir(env), "bin", `${name}.cjs`);
}

/** Whether PATH finds `name` in a folder other than `except`. */
export function foundOnPath(env: Env, name: string, except: string): boolean {
  const skip = realpathOr(except);
  return pathDirs(env).some((dir) => {
    if (realpathOr(dir) === skip) return false;
    try {
      return statSync(path.join(dir, name)).isFile();
    } catch {
      return false;
    }
  });
}

type LinkState = "absent" | "same" | "ours-elsewhere" | "in-the-way";

function linkState(env: Env, link: string, target: string): LinkState {
  let isLink: boolean;
  try {
    isLink = lstatSync(link).isSymbolicLink();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw fileError(link, error);
  }
  if (!isLink) return "in-the-way";
  const points = path.resolve(path.dirname(link), readlinkSync(link));
  if (points === target) return "same";
  // A link into a runtime of ours elsewhere (another config dir before): ours to point again.
  return points.endsWith(path.join(path.sep, path.basename(packCodeDir(env)), "bin", path.basename(target)))
    ? "ours-elsewhere"
    : "in-the-way";
}

/**
 * Links the three commands in `dir` (made when missing), and `devcontainer` where PATH finds none elsewhere;
 * `dryRun` says what it would do.
 */
export function linkCommands(env: Env, dir: string, dryRun = false): BinLinks {
  const result: BinLinks = { dir, linked: [], unchanged: [], inTheWay: [], onPath: isOnPath(env, dir) };
  const names = foundOnPath(env, DEVCONTAINER, dir) ? COMMAND_NAMES : [...COMMAND_NAMES, DEVCONTAINER];
  for (const name of names) {
    const link = path.join(dir, name);
    const target = targetOf(env, name);
    const state = linkState(env, link, target);
    if (state === "same") result.unchanged.push(name);
    else if (state === "in-the-way") result.inTheWay.push(name);
    else {
      result.linked.push(name);
      if (dryRun) continue;
      try {
        mkdirSync(dir, { recursive: true });
        // Made beside it and renamed over: the command is never missing, and nothing is written through a link.
        const temp = path.join(dir, `.${name}.claude-persist-${process.pid}`);
        symlinkSync(target, temp);
        renameSync(temp, link);
      } catch (error) {
        throw fileError(link, error);
      }
    }
  }
  return result;
}

/** Takes out the links `linkCommands` made in `dir` (those pointing at this runtime), and nothing else. */
export function unlinkCommands(env: Env, dir: string, dryRun = false): string[] {
  const removed: string[] = [];
  for (const name of [...COMMAND_NAMES, DEVCONTAINER]) {
    const link = path.join(dir, name);
    if (linkState(env, link, targetOf(env, name)) !== "same") continue;
    removed.push(link);
    if (!dryRun) unlinkSync(link);
  }
  return removed;
}

/** `~/…` for a path under the home folder, as people type it. */
export function tildePath(env: Env, file: string): string {
  const home = homeDir(env);
  return file === home ? "~" : file.startsWith(home + path.sep) ? `~${file.slice(home.length)}` : file;
}

/** The bin folder as install's record keeps it: `~/…` under the home folder, so the record names no home. */
export function recordBinDir(env: Env, dir: string): string {
  return tildePath(env, dir);
}

/** The bin folder from install's record. */
export function binDirOfRecord(env: Env, recorded: string): string {
  return recorded === "~" || recorded.startsWith("~/") ? path.join(homeDir(env), recorded.slice(1)) : recorded;
}
