// How usage figures are spelled, in the table, the HTML page, the status line and the Linear comment alike.
import type { Totals } from "./report.ts";

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** `$1.23`, `$1.23 + unpriced` when some of the tokens have no price, `unpriced` when none has. */
export function formatCost(t: Pick<Totals, "totalCost" | "unpricedTokens" | "totalTokens">): string {
  const usd = `$${t.totalCost.toFixed(2)}`;
  if (t.unpricedTokens === 0) return usd;
  return t.totalTokens > t.unpricedTokens ? `${usd} + unpriced` : "unpriced";
}

/** `45s`, `12m`, `3h 05m`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}
