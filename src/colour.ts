// Colour where it carries meaning (✓ ⚠ ✗, a failure's prefix, `note:`), on a terminal only: never in a pipe, a file or
// --json. NO_COLOR (https://no-color.org) turns it off and FORCE_COLOR on, FORCE_COLOR winning as it does for node.
// node's own util.styleText, no dependency; where this node lacks it (before 20.12), text stays plain.
import * as util from "node:util";
import type { Io } from "./command.ts";

export type Style = "red" | "green" | "yellow" | "bold" | "dim";

/** Whether what goes to stdout (1) or stderr (2) of `io` is coloured. */
export async function colourOn(io: Io, fd: 1 | 2): Promise<boolean> {
  const { NO_COLOR, FORCE_COLOR, TERM } = io.env;
  if (FORCE_COLOR !== undefined && FORCE_COLOR !== "") return FORCE_COLOR !== "0" && FORCE_COLOR !== "false";
  if ((NO_COLOR !== undefined && NO_COLOR !== "") || TERM === "dumb") return false;
  if (fd === 1) return io.isTTY;
  // Asked only when there is something to colour: node:tty costs a command's start (it loads node:net).
  return (await import("node:tty")).isatty(2);
}

type StyleText = (format: Style | Style[], text: string, options?: { validateStream?: boolean }) => string;

/** `text` in `style` when `on`; as it is otherwise. */
export function paint(on: boolean, style: Style | Style[], text: string): string {
  const styleText = (util as unknown as { styleText?: StyleText }).styleText;
  if (!on || styleText === undefined) return text;
  // Whether to colour was decided above, for the stream written to: styleText must not decide again from stdout.
  return styleText(style, text, { validateStream: false });
}
