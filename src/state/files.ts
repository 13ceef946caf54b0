// The pack's own state files (named in state/paths.ts), most of them shared read-write with every container.
// Every write is an atomic rename that replaces the name, never writing through a link planted there; every read
// takes a regular file of bounded size only. Read-modify-write files are changed under a lock, so concurrent hooks,
// installers and /dev-open runs never lose an entry or leave broken JSON.
import { mkdirSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import path from "node:path";
import { randomHex } from "../crypto.ts";
import { errorCode, isNotFound, readRegularText, replaceFileIn } from "../fs.ts";
import { withDirBeneath } from "../fs-beneath.ts";
import { describeError, UserError } from "../errors.ts";

/** A lock older than this belongs to a process that died: its holder refreshes it while it lives. */
const LOCK_STALE_MS = 30_000;
const LOCK_REFRESH_MS = 5_000;
const LOCK_WAIT_MS = 15_000;

export type LockOptions = {
  /** How long to wait for a live holder; the default suits the short read-modify-writes of state files. */
  readonly waitMs?: number;
  /** The error when the wait runs out (the lock's path is passed): what holds it and what to do. */
  readonly busy?: (lock: string) => Error;
};

/** Runs `fn` while holding `<file>.lock` (a directory: mkdir is atomic on every filesystem we meet). */
export async function withLock<T>(file: string, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = `${file}.lock`;
  const waitMs = options.waitMs ?? LOCK_WAIT_MS;
  let deadline = Date.now() + waitMs;
  let holder: string | undefined;
  for (let attempt = 0; !tryMkdir(lock); attempt++) {
    if (breakStaleLock(lock)) continue;
    // The wait counts from the last change of holder: on a loaded machine many writers may go first, and each of
    // them is progress. Only one live holder keeping the lock for the whole wait is a reason to give up (a lock
    // whose holder died is broken above once stale).
    const current = lockState(lock)?.holder;
    if (current !== holder) {
      holder = current;
      deadline = Date.now() + waitMs;
    }
    if (Date.now() > deadline)
      throw options.busy?.(lock) ?? new Error(`${lock} is held by another process; remove it if none runs`);
    await sleep(Math.min(5 + attempt * 5, 50) * (0.5 + Math.random()));
  }
  const owned = lockState(lock);
  // A slow `fn` keeps its lock fresh, so that no waiter takes it for a dead process's and breaks it.
  const refresh = setInterval(() => touch(lock), LOCK_REFRESH_MS);
  refresh.unref();
  try {
    return await fn();
  } finally {
    clearInterval(refresh);
    if (owned && lockState(lock)?.ino === owned.ino) rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Removes `lock` if its process died; true when the caller should try to take it again at once. Two waiters
 * can see the same stale lock, and the slower one must not remove the lock the faster one has just taken. So
 * only the holder of `<lock>.break` removes it, after looking again, and it renames the lock away to a unique
 * name first, deleting it only if what it moved is still the stale lock it saw.
 */
function breakStaleLock(lock: string): boolean {
  const seen = lockState(lock);
  if (!seen) return true;
  if (!seen.stale) return false;
  const breaker = `${lock}.break`;
  if (!tryMkdir(breaker)) {
    // Another waiter is breaking it. A breaker whose process died half-way is itself stale after a while.
    const stuck = lockState(breaker);
    if (stuck?.stale) removeIfStale(breaker, { putBackFresh: false });
    return false;
  }
  try {
    if (lockState(lock)?.stale) removeIfStale(lock);
  } finally {
    rmSync(breaker, { recursive: true, force: true });
  }
  return true;
}

/**
 * Moves `dir` to a unique name and deletes it there if it is stale; gives it back if it turned out fresh. A fresh
 * breaker is not given back but deleted: its holder may have finished meanwhile, and one given back then would stay,
 * stopping every break until it went stale; a breaker only keeps two waiters from breaking one lock at once, and
 * breaking the lock itself still checks what it moved.
 */
function removeIfStale(dir: string, { putBackFresh = true }: { putBackFresh?: boolean } = {}): void {
  const seen = lockState(dir);
  if (!seen?.stale) return;
  const grave = `${dir}.${process.pid}.${randomHex(4)}.stale`;
  try {
    renameSync(dir, grave);
  } catch (error) {
    if (isNotFound(error)) return; // Someone else removed it first.
    throw error;
  }
  const moved = lockState(grave);
  if (moved?.stale && moved.ino === seen.ino) {
    rmSync(grave, { recursive: true, force: true });
    return;
  }
  // Between our look and the rename another process replaced it with its own fresh lock: put that back.
  if (!putBackFresh) {
    rmSync(grave, { recursive: true, force: true });
    return;
  }
  try {
    renameSync(grave, dir);
  } catch {
    rmSync(grave, { recursive: true, force: true });
  }
}

function tryMkdir(dir: string): boolean {
  try {
    mkdirSync(dir);
    return true;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
}

/** The lock folder's inode, whether it is stale, and which holder made it (an inode number is soon reused). */
function lockState(dir: string): { ino: number; holder: string; stale: boolean } | undefined {
  try {
    const stats = statSync(dir);
    return {
      ino: stats.ino,
      holder: `${stats.ino}:${stats.birthtimeMs}`,
      stale: Date.now() - stats.mtimeMs > LOCK_STALE_MS,
    };
  } catch {
    return undefined;
  }
}

function touch(dir: string): void {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // Gone or not ours any more: the finally block sees that too.
  }
}

/** A zod schema of either flavour, full or mini (the hook's modules use zod/mini only), giving `T`. */
type StateSchema<T> = {
  safeParse(
    data: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ message: string }> } };
};

/** Reads a JSON state file through `schema`; a missing file gives `fallback`. A link, FIFO or huge file is refused. */
export function readJsonState<T>(file: string, schema: StateSchema<T>, fallback: NoInfer<T>): T {
  const text = readRegularText(file);
  if (text === undefined) return fallback;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(
      `${file} is not valid JSON (${describeError(error)}); fix it, or move it away to start it afresh`,
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new UserError(
      `${file} is not valid claude-persist state (${parsed.error.issues[0]?.message ?? "unknown"}); fix it, or move it away to start it afresh`,
    );
  }
  return parsed.data;
}

/** Read-modify-write of one JSON state file under its lock. */
export async function updateJsonState<T>(
  file: string,
  schema: StateSchema<T>,
  fallback: NoInfer<T>,
  change: (current: T) => NoInfer<T>,
): Promise<T> {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return withLock(file, () => {
    const next = change(readJsonState(file, schema, fallback));
    // The state folder is reached without following a link, and the file replaced by name.
    withDirBeneath(path.dirname(dir), path.basename(dir), (safeDir) =>
      replaceFileIn(safeDir, path.basename(file), `${JSON.stringify(next, null, 2)}\n`, 0o600),
    );
    return next;
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
