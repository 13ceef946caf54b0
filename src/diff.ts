// A unified diff of two small texts (config files), for `--dry-run`.

const CONTEXT = 3;

type Op = { kind: " " | "-" | "+"; line: string };

/** `diff -u`-style text, or "" when the texts are equal. */
export function unifiedDiff(before: string, after: string, name: string): string {
  if (before === after) return "";
  const ops = diffLines(splitLines(before), splitLines(after));
  const hunks: string[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]?.kind === " ") {
      i++;
      continue;
    }
    const start = Math.max(0, i - CONTEXT);
    let end = i;
    // Extend the hunk while changes are closer than twice the context.
    for (let j = i; j < ops.length; j++) {
      if (ops[j]?.kind !== " ") end = j;
      else if (j - end > 2 * CONTEXT) break;
    }
    end = Math.min(ops.length, end + CONTEXT + 1);
    const slice = ops.slice(start, end);
    const oldStart = ops.slice(0, start).filter((o) => o.kind !== "+").length + 1;
    const newStart = ops.slice(0, start).filter((o) => o.kind !== "-").length + 1;
    const oldCount = slice.filter((o) => o.kind !== "+").length;
    const newCount = slice.filter((o) => o.kind !== "-").length;
    hunks.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`, ...slice.map((o) => `${o.kind}${o.line}`));
    i = end;
  }
  return [`--- a/${name}`, `+++ b/${name}`, ...hunks].join("\n");
}

function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Longest-common-subsequence line diff: fine for files of a few thousand lines. */
function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as Uint32Array;
    const next = lcs[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j--) row[j] = a[i] === b[j] ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i] ?? "" });
      i++;
      j++;
    } else if ((lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0)) ops.push({ kind: "-", line: a[i++] ?? "" });
    else ops.push({ kind: "+", line: b[j++] ?? "" });
  }
  while (i < n) ops.push({ kind: "-", line: a[i++] ?? "" });
  while (j < m) ops.push({ kind: "+", line: b[j++] ?? "" });
  return ops;
}
