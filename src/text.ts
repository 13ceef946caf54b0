// Text from outside (Linear's titles and messages, the shared work-items file) shown as one harmless line, and
// words shown in commands a person copies.
// No dependencies: the SessionStart hook bundles it.

// C0 and C1 controls (escape sequences), format characters (bidi overrides like U+202E, zero-width ones) and
// Unicode line and paragraph separators.
const NOT_ONE_LINE = /[\x00-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]+/gu;

/** `text` on one line, without control or format characters, cut to `max` characters (the last one "…"). */
export function oneLine(text: string, max = Number.POSITIVE_INFINITY): string {
  const flat = text.replace(NOT_ONE_LINE, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A word of a command a person copies, quoted where the shell needs it. For display only: never run by the pack. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
