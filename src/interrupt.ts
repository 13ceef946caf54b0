// Work that leaves something behind when it is cut short (a temporary archive, a lock, a staging folder, a half-copied
// runtime): cleaned up on Ctrl-C (SIGINT) and SIGTERM too, not only on errors. The process then ends by the same
// signal, as it would have without us.
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Runs `cleanup` if the process gets SIGINT or SIGTERM while `fn` runs; then ends the process by that signal. */
export async function cleanedOnInterrupt<T>(cleanup: () => void, fn: () => Promise<T>): Promise<T> {
  const handler = (signal: NodeJS.Signals): void => {
    for (const name of SIGNALS) process.off(name, handler);
    try {
      cleanup();
    } finally {
      process.kill(process.pid, signal);
    }
  };
  for (const name of SIGNALS) process.once(name, handler);
  try {
    return await fn();
  } finally {
    for (const name of SIGNALS) process.off(name, handler);
  }
}
