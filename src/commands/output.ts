// What commands print: one JSON document for --json, tables that fit the terminal, counts, sizes and times,
// progress on stderr. Libraries return data; the commands render it with these.
import type { Io } from "../command.ts";
import { describeError, errorKind } from "../errors.ts";
import { terminalJson } from "../text.ts";

/**
 * The one JSON document a `--json` run prints: indented by two spaces, ending in a newline. What Linear, a repo or a
 * container wrote may be in it, and it may reach a terminal: C1 controls, bidi and other invisible format characters
 * are spelled as JSON escapes (the same text once parsed).
 */
export function printJson(io: Io, value: unknown): void {
  io.stdout(terminalJson(formatJson(value)));
}

/**
 * What `printJson` prints. Every time in it is spelled one way, as `Date.prototype.toISOString` does
 * (`2025-06-01T10:51:00.000Z`, UTC, milliseconds): times read from Claude Code, Linear or older records
 * (`…10:51:00Z`, `+02:00`) are respelled on the way out.
 */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, isoTimes, 2)}\n`;
}

/** An ISO-8601 date and time with a zone: what formatJson respells. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function isoTimes(_key: string, value: unknown): unknown {
  if (typeof value !== "string" || value.length > 35 || !ISO_TIME.test(value)) return value;
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : new Date(time).toISOString();
}

/**
 * The document a failed `--json` run prints: `{"ok": false, "error": {"code", "message", "fix"}}`. Messages say what
 * is wrong, then after "; " what to do: that last part is the fix.
 */
export function jsonFailure(error: unknown): {
  ok: false;
  error: { code: string; message: string; fix: string | null };
} {
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

export type ColumnRules = {
  /** Columns never cut (a command to copy). */
  readonly uncut?: readonly number[];
  /** Columns left out, in this order, when cutting alone cannot make the table fit. */
  readonly optional?: readonly number[];
};

/**
 * Rows of cells as aligned columns, two spaces apart, indented by two; the first row is the titles. When the lines
 * would be wider than `columns` (display cells: CJK and emoji count two), the widest column is cut (ending in "…")
 * until they fit, down to its title's width (or 8); if that is not enough, optional columns are left out.
 */
export async function renderColumns(
  rows: readonly (readonly string[])[],
  columns?: number,
  rules: ColumnRules = {},
): Promise<string[]> {
  const layout = fitColumns(await columnWidths(rows), rows[0] ?? [], columns, rules);
  return renderRows(rows, layout);
}

/** Which columns a table shows, and how wide each is (display cells). */
export type ColumnLayout = { readonly shown: readonly number[]; readonly widths: readonly number[] };

/**
 * The widest cell of each column (display cells). A table's layout depends only on these and its titles: the parts
 * of a large table can be measured apart, and printed apart in the layout of the whole.
 */
export async function columnWidths(rows: readonly (readonly string[])[]): Promise<number[]> {
  // Loaded for tables only, and only for cells that are not all printable ASCII: its emoji tables cost more to load
  // than most commands' own code (`--json` never needs it, nor a table of paths, branches and English prompts).
  if (!rows.every((row) => row.every((cell) => PRINTABLE_ASCII.test(cell))))
    stringWidth ??= (await import("string-width")).default;
  const count = Math.max(0, ...rows.map((row) => row.length));
  const widths = new Array<number>(count).fill(0);
  for (const row of rows) {
    for (let i = 0; i < count; i++) widths[i] = Math.max(widths[i] ?? 0, displayWidth(row[i] ?? ""));
  }
  return widths;
}

/** The layout of a table whose columns are at most `natural` wide (`columnWidths`) under `titles`, to fit `columns`. */
export function fitColumns(
  natural: readonly number[],
  titles: readonly string[],
  columns: number | undefined,
  rules: ColumnRules = {},
): ColumnLayout {
  let shown = Array.from({ length: natural.length }, (_, i) => i);
  for (const drop of [undefined, ...(rules.optional ?? [])]) {
    if (drop !== undefined) shown = shown.filter((i) => i !== drop);
    const widths = fitWidths(natural, titles, shown, columns, rules.uncut ?? []);
    if (widths) return { shown, widths };
  }
  return { shown, widths: fitWidths(natural, titles, shown, undefined, []) ?? [] };
}

/** `rows` in `layout`: each line indented by two, its cells two apart (measured by `columnWidths` first). */
export function renderRows(rows: readonly (readonly string[])[], { shown, widths }: ColumnLayout): string[] {
  return rows.map((row) =>
    `  ${shown.map((i, at) => fitCell(row[i] ?? "", widths[at] ?? 0, at === shown.length - 1)).join("  ")}`.trimEnd(),
  );
}

/** Display cells of a string (CJK and emoji count two): string-width, once renderColumns has loaded it. */
let stringWidth: ((text: string) => number) | undefined;

function displayWidth(text: string): number {
  // Printable ASCII is one cell a character: string-width's checks cost ~20 µs a cell, 10,000 rows take seconds.
  if (PRINTABLE_ASCII.test(text)) return text.length;
  if (text.includes("\x1b")) return measure(text); // An escape sequence spans both kinds of character.
  // Each run of other characters is measured with the character before it (which a combining mark or a keycap's
  // selector joins), once per distinct run: the "…" ending 10,000 cut prompts is measured once.
  let width = 0;
  let counted = 0;
  for (const { 0: run, index } of text.matchAll(OTHER_RUNS)) {
    const start = index > counted ? index - 1 : index;
    width += start - counted + measure(text.slice(start, index + run.length));
    counted = index + run.length;
  }
  return width + text.length - counted;
}

/** string-width's answer for `text`, asked once per distinct text. */
function measure(text: string): number {
  if (stringWidth === undefined) throw new Error("renderColumns loads string-width before it measures");
  let known = measured.get(text);
  if (known === undefined) {
    known = stringWidth(text);
    measured.set(text, known);
  }
  return known;
}

const measured = new Map<string, number>();

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const OTHER_RUNS = /[^\x20-\x7e]+/g;

/** One segmenter for every cell that is cut (making one costs more than segmenting a cell). */
let graphemes: Intl.Segmenter | undefined;

/** The widths of the `shown` columns cut to fit `columns`, or undefined when they cannot. */
function fitWidths(
  natural: readonly number[],
  titles: readonly string[],
  shown: number[],
  columns: number | undefined,
  uncut: readonly number[],
): number[] | undefined {
  const widths = shown.map((i) => natural[i] ?? 0);
  const minimum = shown.map((i, at) =>
    uncut.includes(i) ? (widths[at] ?? 0) : Math.min(widths[at] ?? 0, Math.max(displayWidth(titles[i] ?? ""), 8)),
  );
  const total = () => 2 + widths.reduce((sum, width) => sum + width, 0) + 2 * Math.max(0, shown.length - 1);
  while (columns !== undefined && total() > columns) {
    let widest = -1;
    for (let at = 0; at < shown.length; at++) {
      if ((widths[at] ?? 0) > (minimum[at] ?? 0) && (widest < 0 || (widths[at] ?? 0) > (widths[widest] ?? 0)))
        widest = at;
    }
    if (widest < 0) return undefined;
    widths[widest] = Math.max(minimum[widest] ?? 0, (widths[widest] ?? 0) - (total() - columns));
  }
  return widths;
}

/** `text` cut to `width` display cells (with "…") and, unless it ends the line, padded to it. */
function fitCell(text: string, width: number, last: boolean): string {
  let cell = text;
  if (PRINTABLE_ASCII.test(cell)) {
    // A character a cell: cut without Intl's segmenter (its first use costs more than the rest of a listing), to
    // `width` cells with its "…" (one cell).
    if (cell.length > width) return `${cell.slice(0, Math.max(0, width - 1))}…`;
    return last ? cell : cell + " ".repeat(width - cell.length);
  }
  if (displayWidth(cell) > width) {
    graphemes ??= new Intl.Segmenter();
    const characters = [...graphemes.segment(cell)].map((part) => part.segment);
    cell = "";
    // A string is as wide as its characters (grapheme clusters) together: each is measured once.
    let used = 0;
    for (const character of characters) {
      used += displayWidth(character);
      if (used > width - 1) break;
      cell += character;
    }
    cell += "…";
  }
  return last ? cell : cell + " ".repeat(Math.max(0, width - displayWidth(cell)));
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

/** `1 snapshot`, `2 snapshots`: a count with its noun. */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** Decimal units, as `ls -h --si` and most tools print them: `1.2 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ${units[unit]}`;
}

/** Local time to the minute: `2025-06-01 14:02`. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  const two = (n: number) => String(n).padStart(2, "0");
  const day = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  return `${day} ${two(date.getHours())}:${two(date.getMinutes())}`;
}
