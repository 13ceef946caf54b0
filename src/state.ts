// The pack's own state, under `<config>/persist-state/`, shared read-write with every container.
// Every write is an atomic rename; read-modify-write files are changed under a lock, so concurrent hooks,
// installers and /dev-open runs never lose an entry or leave broken JSON.
import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import type { z } from "zod";
import { errorCode, isNotFound, writeFileAtomic } from "./fs.ts";

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 15_000;

/** Runs `fn` while holding `<file>.lock` (a directory: mkdir is atomic on every filesystem we meet). */
export async function withLock<T>(file: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
      if (isStale(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock} is held by another process; remove it if none runs`);
      await sleep(Math.min(5 + attempt * 5, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Reads a JSON state file through `schema`; a missing file gives `fallback`. */
export function readJsonState<S extends z.ZodType>(file: string, schema: S, fallback: z.output<S>): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if (isNotFound(error)) return fallback;
    throw error;
  }
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not valid pack state: ${parsed.error.issues[0]?.message ?? "unknown"}`);
  return parsed.data;
}

/** Read-modify-write of one JSON state file under its lock. */
export async function updateJsonState<S extends z.ZodType>(
  file: string,
  schema: S,
  fallback: z.output<S>,
  change: (current: z.output<S>) => z.output<S>,
): Promise<z.output<S>> {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  return withLock(file, () => {
    const next = change(readJsonState(file, schema, fallback));
    writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`, 0o600);
    return next;
  });
}

function isStale(lock: string): boolean {
  try {
    return Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
