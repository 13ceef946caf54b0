// Text from outside shown as one harmless line, and words shown in commands a person copies. Everything a renderer
// prints that it did not write itself (transcripts' prompts, cwds and file names, what containers write in the
// shared state, Linear's titles, snapshot ids and machines, mapped paths) goes through oneLine or shellWord here:
// the one place where escape sequences (OSC 52 writes the clipboard) and bidi overrides are taken out.
// No dependencies: the SessionStart hook bundles it.

// C0 and C1 controls (escape sequences), format characters (bidi overrides like U+202E, zero-width ones) and
// Unicode line and paragraph separators.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/u;
const NOT_ONE_LINE = new RegExp(`${UNSAFE.source}+`, "gu");

/** `text` on one line, without control or format characters, cut to `max` characters (the last one "…"). */
export function oneLine(text: string, max = Number.POSITIVE_INFINITY): string {
  const flat = text.replace(NOT_ONE_LINE, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * A word of a command a person copies, quoted where the shell needs it. For display only: never run by the pack.
 * Control and format characters are written as bash's `$'\xNN'` escapes, so the word still names the same path
 * and nothing in it reaches the terminal raw.
 */
export function shellWord(text: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(text)) return text;
  if (!UNSAFE.test(text)) return `'${text.replaceAll("'", "'\\''")}'`;
  const escaped = [...text]
    .map((char) => {
      if (char === "\\" || char === "'") return `\\${char}`;
      if (!UNSAFE.test(char)) return char;
      const code = char.codePointAt(0) ?? 0;
      return code < 0x80 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
    })
    .join("");
  return `$'${escaped}'`;
}

/**
 * Text of many lines shown as it is (a diff of a repo's config): line breaks and tabs kept, every other control or
 * format character written as a visible `\xNN` or `\uNNNN`, so a hostile file's escape sequences are seen, not run.
 * A carriage return ending a line (a CRLF file) stays.
 */
export function visibleLines(text: string): string {
  return text.replace(new RegExp(`${UNSAFE.source}`, "gu"), (char, offset: number) => {
    const next = text[offset + 1];
    if (char === "\n" || char === "\t" || (char === "\r" && (next === "\n" || next === undefined))) return char;
    return visibleEscape(char);
  });
}

/** Whether `text` holds a character `visibleLines` would write as an escape. */
export function holdsHiddenCharacters(text: string): boolean {
  return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]|\r(?!\n|$)/u.test(text);
}

/** `\x1b`, `\u202e`, `\u{e0001}`: a character as a person can read it. */
function visibleEscape(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, "0")}`;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * A JSON document for the terminal: JSON.stringify escapes C0 controls but writes C1 controls, bidi overrides and
 * line separators raw; here they are `\uNNNN` escapes too (they only occur inside strings), the same value parsed.
 */
export function terminalJson(json: string): string {
  return json.replace(/[\x7f-\x9f\p{Cf}\u2028\u2029]/gu, (char) => {
    // A character past U+FFFF as its two UTF-16 halves, as JSON spells it.
    let escaped = "";
    for (let i = 0; i < char.length; i++) escaped += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
    return escaped;
  });
}
