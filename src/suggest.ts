// "Did you mean": the known name nearest to what was typed, as git, cargo and gh suggest one, by edit distance over
// the tables that already exist (commands in cli.ts, each command's actions and flags).

/** The candidate nearest to `typed`, when near enough to be a slip (a third of its letters, at least one), else none. */
export function closest(typed: string, candidates: Iterable<string>): string | undefined {
  const word = typed.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(word.length / 3));
  if (best !== undefined && bestDistance <= allowed) return best;
  // A name typed in part (`sess` for `sessions`) is a slip too, when only one name starts so.
  const starting = [...candidates].filter((candidate) => word.length >= 2 && candidate.startsWith(word));
  return starting.length === 1 ? starting[0] : undefined;
}

/** ` (did you mean 'x'?)` when a candidate is near `typed`, else "": the tail of an "unknown …" line. */
export function didYouMean(typed: string, candidates: Iterable<string>, prefix = ""): string {
  const near = closest(typed.replace(/^-+/, ""), candidates);
  return near === undefined ? "" : ` (did you mean '${prefix}${near}'?)`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, and two neighbours swapped count one. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1);
      row[j] = value;
    }
  }
  return at(a.length, b.length);
}
