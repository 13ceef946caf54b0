// V8's compiled code for the CLI's bundles, kept between runs (what Node 22's module.enableCompileCache does, for Node
// 20): compiling a 250 kB bundle is a fifth of a command's start. Cached code is code: it is read only from a folder
// that this user alone can write and that nothing else reaches, `persist-host/code-cache/` on the host (0700, never
// mounted into a container). In a dev container there is no cache: there that path lies in the container's own
// filesystem, which its image and root control, and nothing in it is the host's alone (it costs a compile, ~7 ms).
// Anything wrong with the cache (missing, damaged, rejected by V8, a link or a FIFO in its place, a read-only HOME)
// costs only the cache: the bundle is compiled from source, as `require` would.
import { lstatSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import Module, { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";
import { configDir, PACK_HOST_DIR, type Env } from "./claude/home.ts";
import { detectEnvironment } from "./environment.ts";
import { readRegularFile, replaceFileIn } from "./fs.ts";
import { withDirBeneath } from "./fs-beneath.ts";
import { STATE, statePath } from "./state/paths.ts";

/** Cache files kept at most (one per bundle and build; the oldest go first). */
const MAX_CACHE_FILES = 24;
/** A cache file larger than this is not read (a bundle's cache is about its source's size). */
const MAX_CACHE_BYTES = 8 << 20;
const FORMAT = "claude-persist code cache 1";

/**
 * Runs the CommonJS bundle `file` as `require(file)` would, from cached compiled code when there is some, and
 * caches what this run compiled when there was none (at exit, so that the functions the command ran are in it).
 */
export function runBundle(file: string, env: Env = process.env): void {
  const cached = usesCodeCache(env) ? compileWithCache(file, env) : undefined;
  if (cached === undefined) {
    createRequire(file)(file);
    return;
  }
  const { script, cacheFile, header, reused } = cached;
  if (!reused) process.once("exit", () => writeCache(env, cacheFile, header, script));
  const wrapper: unknown = script.runInThisContext();
  const module = new Module(file);
  module.filename = file;
  (wrapper as (...args: unknown[]) => void).call(
    module.exports,
    module.exports,
    createRequire(file),
    module,
    file,
    path.dirname(file),
  );
}

/**
 * True where this process keeps a code cache of its own: on the host. Node 22.1 and later keep one themselves, then
 * pointed at the same folder, and this module does nothing more.
 */
function usesCodeCache(env: Env): boolean {
  if (process.getuid === undefined || detectEnvironment(env).kind !== "host") return false;
  const enable = (Module as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
  if (enable === undefined) return true;
  if (inCacheDir(env, () => true, { create: true })) enable(statePath(env, STATE.codeCache));
  return false;
}

/**
 * `fn` of `persist-host/code-cache/` (made 0700 with `create`), reached without following a link, when both folders
 * are this user's alone; undefined otherwise, and when anything about them fails.
 */
function inCacheDir<T>(env: Env, fn: (dir: string) => T, options: { create?: boolean } = {}): T | undefined {
  try {
    return withDirBeneath(configDir(env), PACK_HOST_DIR, (hostDir) =>
      isPrivateDir(hostDir)
        ? withDirBeneath(hostDir, STATE.codeCache.name, (dir) => (isPrivateDir(dir) ? fn(dir) : undefined), options)
        : undefined,
    );
  } catch {
    // Missing, a link, unreadable or read-only: no cache.
    return undefined;
  }
}

/** A folder (reached without following a link) of this user's that no one else may write into. */
function isPrivateDir(dir: string): boolean {
  const stats = statSync(dir);
  return stats.isDirectory() && stats.uid === process.getuid?.() && (stats.mode & 0o077) === 0;
}

type Compiled = { script: vm.Script; cacheFile: string; header: string; reused: boolean };

function compileWithCache(file: string, env: Env): Compiled | undefined {
  // Dynamic import() in a vm.Script needs this (Node 20.12 and later); the build leaves no import() in the bundles.
  const importModuleDynamically = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (importModuleDynamically === undefined) return undefined;
  let source: string;
  let header: string;
  try {
    source = readFileSync(file, "utf8");
    // The bundle's identity on disk (any write changes its ctime) and the V8 that compiled it.
    const { dev, ino, size, mtimeNs, ctimeNs } = statSync(file, { bigint: true });
    const identity = [file, dev, ino, size, mtimeNs, ctimeNs, process.version, process.arch, process.versions.v8];
    header = `${FORMAT}\n${identity.join("\0")}\n`;
  } catch {
    // Unreadable here: require reports it as it would without a cache.
    return undefined;
  }
  const cacheFile = `${path.basename(file, ".cjs")}-${hashOf(header)}.v8`;
  const cached = inCacheDir(env, (dir) => readCache(path.join(dir, cacheFile), header));
  try {
    const script = new vm.Script(Module.wrap(source), {
      filename: file,
      importModuleDynamically,
      ...(cached === undefined ? {} : { cachedData: cached }),
    });
    return { script, cacheFile, header, reused: cached !== undefined && !script.cachedDataRejected };
  } catch {
    // A syntax error in the bundle: require reports it as it would without a cache.
    return undefined;
  }
}

/** The compiled code in `file` if it is a regular file of bounded size made for `header`'s bundle. */
function readCache(file: string, header: string): Buffer | undefined {
  let bytes: Buffer | undefined;
  try {
    bytes = readRegularFile(file, MAX_CACHE_BYTES);
  } catch {
    // A link, a FIFO, a folder, too large or unreadable: compiled from source, and replaced at exit.
    return undefined;
  }
  const expected = Buffer.from(header);
  if (bytes === undefined || bytes.length <= expected.length) return undefined;
  return bytes.subarray(0, expected.length).equals(expected) ? bytes.subarray(expected.length) : undefined;
}

function writeCache(env: Env, cacheFile: string, header: string, script: vm.Script): void {
  const data = Buffer.concat([Buffer.from(header), script.createCachedData()]);
  // A full disk or a read-only folder costs the next run its cache, nothing else.
  inCacheDir(
    env,
    (dir) => {
      replaceFileIn(dir, cacheFile, data, 0o600, { cache: true });
      pruneCache(dir);
    },
    { create: true },
  );
}

/** Keeps the newest MAX_CACHE_FILES entries: each build of a bundle has its own file, old builds' go. */
function pruneCache(dir: string): void {
  const entries = readdirSync(dir).map((name) => ({ name, time: lstatSync(path.join(dir, name)).mtimeMs }));
  if (entries.length <= MAX_CACHE_FILES) return;
  entries.sort((a, b) => b.time - a.time);
  for (const { name } of entries.slice(MAX_CACHE_FILES)) unlinkSync(path.join(dir, name));
}

/** A short, stable name for `text` (53 bits of cyrb53); the header in the file says exactly what it is for. */
function hashOf(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
