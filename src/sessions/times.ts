// Times as a listing compares them. Claude Code and the hook write times as `Date.prototype.toISOString` does, and
// such strings sort as the times they name: they are compared as they are, and only other spellings are parsed
// (10,000 sessions would otherwise parse 30,000 dates).

const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** `time` in toISOString's spelling (years 0 to 9999), or "" when it is missing or not a time: "" sorts first. */
export function timeKey(time: string | null | undefined): string {
  if (!time) return "";
  if (time.length === 24 && CANONICAL.test(time)) return time;
  const parsed = Date.parse(time);
  if (Number.isNaN(parsed)) return "";
  const spelled = new Date(parsed).toISOString();
  return spelled.length === 24 ? spelled : "";
}

/** Newest first: a positive number when `b` is newer than `a` (both from `timeKey`). */
export function newestFirst(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
