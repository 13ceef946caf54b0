// What commands print: one JSON document for --json, tables that fit the terminal, progress on stderr.
import stringWidth from "string-width";
import type { Io } from "./command.ts";
import { describeError, errorKind } from "./errors.ts";

/** The one JSON document a `--json` run prints: indented by two spaces, ending in a newline. */
export function printJson(io: Io, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * The document a failed `--json` run prints: `{"ok": false, "error": {"code", "message", "fix"}}`. Messages say what
 * is wrong, then after "; " what to do: that last part is the fix.
 */
export function jsonFailure(error: unknown): { ok: false; error: { code: string; message: string; fix: string | null } } {
  const message = describeError(error);
  const split = message.lastIndexOf("; ");
  const fix = split > 0 ? message.slice(split + 2).replace(/\s*\(nothing was changed\)\.?$/, "") : null;
  return { ok: false, error: { code: errorKind(error), message, fix } };
}

/** How wide tables may be: the terminal's columns, else $COLUMNS when set (as `ls` does); else no limit. */
export function terminalColumns(io: Io): number | undefined {
  if (io.isTTY && io.columns) return io.columns;
  const fromEnv = Number(io.env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : undefined;
}

/**
 * Rows of cells as aligned columns, two spaces apart, indented by two. When the lines would be wider than `columns`,
 * the widest column is cut (ending in "…") until they fit, down to its title's width (or 8); columns in `uncut` (a
 * command to copy) never are. The first row is the titles.
 */
export function renderColumns(rows: readonly (readonly string[])[], columns?: number, uncut: readonly number[] = []): string[] {
  const count = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: count }, (_, i) => Math.max(0, ...rows.map((row) => stringWidth(row[i] ?? ""))));
  const minimum = widths.map((width, i) => (uncut.includes(i) ? width : Math.min(width, Math.max(stringWidth(rows[0]?.[i] ?? ""), 8))));
  const total = () => 2 + widths.reduce((sum, width) => sum + width, 0) + 2 * Math.max(0, count - 1);
  while (columns !== undefined && total() > columns) {
    let widest = -1;
    for (let i = 0; i < count; i++) if ((widths[i] ?? 0) > (minimum[i] ?? 0) && (widest < 0 || (widths[i] ?? 0) > (widths[widest] ?? 0))) widest = i;
    if (widest < 0) break;
    widths[widest] = Math.max(minimum[widest] ?? 0, (widths[widest] ?? 0) - (total() - columns));
  }
  return rows.map((row) =>
    `  ${row.map((cell, i) => fitCell(cell, widths[i] ?? 0, i === row.length - 1)).join("  ")}`.trimEnd(),
  );
}

/** `text` cut to `width` display cells (with "…") and, unless it ends the line, padded to it. */
function fitCell(text: string, width: number, last: boolean): string {
  let cell = text;
  if (stringWidth(cell) > width) {
    const characters = [...new Intl.Segmenter().segment(cell)].map((part) => part.segment);
    cell = "";
    for (const character of characters) {
      if (stringWidth(cell + character) > width - 1) break;
      cell += character;
    }
    cell += "…";
  }
  return last ? cell : cell + " ".repeat(Math.max(0, width - stringWidth(cell)));
}

/**
 * For work that may take a while: after two seconds, and then every five, one line on stderr saying what is still
 * going on. Returns the function that stops it.
 */
export function startProgress(io: Io, what: string): () => void {
  const started = Date.now();
  const say = () => io.stderr(`${what}… ${Math.round((Date.now() - started) / 1000)} s\n`);
  let repeat: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    say();
    repeat = setInterval(say, 5_000);
  }, 2_000);
  return () => {
    clearTimeout(first);
    if (repeat) clearInterval(repeat);
  };
}
