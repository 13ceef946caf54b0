// What a file's text uses, so that inserted text looks like its neighbours: the indentation unit and line ending
// (the one detector, for JSONC and YAML alike), and the line positions that edits in place need.

export type TextLayout = {
  /** One level of indentation: a tab, or N spaces. */
  readonly indentUnit: string;
  readonly eol: "\n" | "\r\n";
};

export function detectLayout(text: string): TextLayout {
  const crlf = text.split("\r\n").length - 1;
  const lf = text.split("\n").length - 1 - crlf;
  return { indentUnit: detectIndentUnit(text), eol: crlf > lf ? "\r\n" : "\n" };
}

function detectIndentUnit(text: string): string {
  let tabs = 0;
  let spaced = 0;
  let smallest = Number.POSITIVE_INFINITY;
  for (const line of text.split(/\r?\n/)) {
    const indent = /^[ \t]+(?=["'}\]\w-])/.exec(line)?.[0];
    if (!indent) continue;
    if (indent.startsWith("\t")) tabs++;
    else {
      spaced++;
      smallest = Math.min(smallest, indent.length);
    }
  }
  if (tabs >= spaced && tabs > 0) return "\t";
  return " ".repeat(Number.isFinite(smallest) ? smallest : 2);
}

export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** Offset of the line break (`\r\n` or `\n`) that ends the line holding `offset`, or the text's length. */
export function lineEndOf(text: string, offset: number): number {
  const newline = text.indexOf("\n", offset);
  if (newline === -1) return text.length;
  return newline > 0 && text[newline - 1] === "\r" ? newline - 1 : newline;
}

/** The whitespace that starts the line holding `offset`. */
export function lineIndentAt(text: string, offset: number): string {
  const start = lineStartOf(text, offset);
  return /^[ \t]*/.exec(text.slice(start, offset))?.[0] ?? "";
}

export function isFirstOnLine(text: string, offset: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStartOf(text, offset), offset));
}

/** Where a block that starts on its own line at `offset` really begins: before its indentation and line break. */
export function blockLineStart(text: string, offset: number): number {
  if (!isFirstOnLine(text, offset)) return offset;
  let start = lineStartOf(text, offset);
  if (start > 0 && text[start - 1] === "\n") start--;
  if (start > 0 && text[start - 1] === "\r") start--;
  return start;
}
