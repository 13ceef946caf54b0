// Records a terminal as an asciinema v2 cast (https://docs.asciinema.org/manual/asciicast/v2/) by sampling its
// screen: each time the screen changes, one output event that redraws it whole. For docs/demo.cast, recorded from
// a real run of test/e2e-interactive.test.ts (CLAUDE_PERSIST_CAST=<file>), not written by hand.
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export type CastRecorder = { stop(): Promise<void> };

/**
 * Starts sampling `capture` (a tmux pane's `capture-pane -p -e`: its text with colours) every `intervalMs`; `stop`
 * writes the cast to `file`. Long waits with nothing on screen changing are cut to `maxIdle` seconds, as
 * `asciinema rec --idle-time-limit` does.
 */
export function recordCast(
  capture: () => Promise<string>,
  file: string,
  {
    width,
    height,
    title,
    intervalMs = 250,
    maxIdle = 2,
  }: {
    width: number;
    height: number;
    title: string;
    intervalMs?: number;
    maxIdle?: number;
  },
): CastRecorder {
  const events: Array<[number, "o", string]> = [];
  let running = true;
  let last: string | undefined;
  let clock = 0;
  let previous = Date.now();
  const loop = (async () => {
    while (running) {
      const screen = await capture().catch(() => undefined);
      const now = Date.now();
      if (screen !== undefined && screen !== last) {
        clock += Math.min((now - previous) / 1000, maxIdle);
        previous = now;
        last = screen;
        const lines = screen.replace(/\n+$/, "").split("\n");
        events.push([Number(clock.toFixed(3)), "o", `\u001b[H\u001b[2J${lines.join("\r\n")}`]);
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const header = { version: 2, width, height, title, env: { TERM: "xterm-256color", SHELL: "/bin/bash" } };
      writeFileSync(file, `${[header, ...events].map((line) => JSON.stringify(line)).join("\n")}\n`);
    },
  };
}
