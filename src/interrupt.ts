// Work that leaves something behind when it is cut short (a temporary archive, a lock, a staging folder, a half-copied
// runtime): cleaned up on Ctrl-C (SIGINT) and SIGTERM too, not only on errors; and work that must not stop half-way
// (a restore putting files in place, install copying the runtime) finished first. The process then ends by the same
// signal, as it would have without us.
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** What runs now: cleanups for a signal (innermost last), and sections a signal waits for. */
type Frame = { readonly cleanup?: () => void; readonly finishFirst: boolean };
const frames: Frame[] = [];
/** A signal that came while a section it waits for ran. */
let pending: NodeJS.Signals | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (frames.some((frame) => frame.finishFirst)) {
    pending ??= signal;
    return;
  }
  end(signal, []);
}

/** Runs every cleanup (innermost first), then ends the process by `signal` (no handler of ours is left to catch it). */
function end(signal: NodeJS.Signals, more: Frame[]): void {
  for (const name of SIGNALS) process.off(name, onSignal);
  const all = [...frames, ...more].reverse();
  frames.length = 0;
  pending = undefined;
  for (const frame of all) {
    try {
      frame.cleanup?.();
    } catch {
      // Clean up what can be; the signal still ends the process.
    }
  }
  process.kill(process.pid, signal);
}

async function within<T>(frame: Frame, fn: () => Promise<T>): Promise<T> {
  if (frames.length === 0) for (const name of SIGNALS) process.on(name, onSignal);
  frames.push(frame);
  try {
    return await fn();
  } finally {
    frames.splice(frames.lastIndexOf(frame), 1);
    // A signal that waited ends the process once the outermost work is over (its locks released, its staging gone).
    if (frames.length === 0) {
      for (const name of SIGNALS) process.off(name, onSignal);
      if (pending) end(pending, [frame]);
    }
  }
}

/** Runs `cleanup` if the process gets SIGINT or SIGTERM while `fn` runs; then ends the process by that signal. */
export async function cleanedOnInterrupt<T>(cleanup: () => void, fn: () => Promise<T>): Promise<T> {
  return within({ cleanup, finishFirst: false }, fn);
}

/**
 * Runs `fn` to its end even if SIGINT or SIGTERM comes meanwhile (a restore half put in place, a runtime half
 * copied, would be worse than a second's wait); the signal then ends the process once the outermost
 * cleanedOnInterrupt/finishedBeforeInterrupt around it is over. `done` says (on stderr) what was finished, since
 * the command's own report will not be printed.
 */
export async function finishedBeforeInterrupt<T>(fn: () => Promise<T>, done?: (value: T) => string): Promise<T> {
  return within({ finishFirst: true }, async () => {
    const value = await fn();
    if (pending && done) process.stderr.write(`${done(value)}\n`);
    return value;
  });
}

/**
 * Where the tests send a signal: with CLAUDE_PERSIST_TEST_PAUSE set to `at`, the process says so on stderr and waits
 * (until a signal it defers has come, or a minute), so that a test stops it exactly there. In use it is never set.
 */
export async function pausePoint(at: string): Promise<void> {
  if (process.env.CLAUDE_PERSIST_TEST_PAUSE !== at) return;
  process.stderr.write(`paused at ${at}\n`);
  const until = Date.now() + 60_000;
  while (pending === undefined && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
}
