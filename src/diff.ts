// A unified diff of two texts (config files), for `--dry-run`: jsdiff's, so that it applies with `patch` or `git apply`.
import { structuredPatch } from "diff";

const CONTEXT = 3;

/** `diff -u`-style text, or "" when the texts are equal; `undefined` before: the file is new. */
export function unifiedDiff(before: string | undefined, after: string, name: string): string {
  if (before === after) return "";
  const patch = structuredPatch(
    before === undefined ? "/dev/null" : `a/${name}`,
    `b/${name}`,
    before ?? "",
    after,
    undefined,
    undefined,
    { context: CONTEXT },
  );
  const lines = [`--- ${patch.oldFileName}`, `+++ ${patch.newFileName}`];
  for (const hunk of patch.hunks) {
    // An empty side starts at line 0, as GNU diff writes it.
    const oldStart = hunk.oldLines === 0 ? hunk.oldStart - 1 : hunk.oldStart;
    const newStart = hunk.newLines === 0 ? hunk.newStart - 1 : hunk.newStart;
    lines.push(`@@ -${oldStart},${hunk.oldLines} +${newStart},${hunk.newLines} @@`, ...hunk.lines);
  }
  return lines.join("\n");
}
