// `usage --issue LIN-123 --post`: one comment on the Linear issue with what the work on it used (tokens, cost, active
// time, sessions and where they ran), shown first and posted only when the user says yes (or passed --yes).
import { EXIT, UserError } from "../errors.ts";
import { linearClient, linearOptionsFromEnv } from "../work/linear.ts";
import { oneLine } from "../text.ts";
import { formatCost, formatCount, formatDuration } from "./format.ts";
import { priceSource } from "./prices.ts";
import type { Report } from "./report.ts";

/** The comment's Markdown, from the issue's usage grouped by environment. */
export function commentBody(identifier: string, report: Report): string {
  const t = report.totals;
  const places = report.rows.map((row) => `${oneLine(row.key, 40)} ${formatCost(row)}`).join(", ");
  const unpriced = t.unpricedModels.length > 0 ? ` Unpriced models: ${t.unpricedModels.join(", ")}.` : "";
  return [
    `**Claude Code usage on ${identifier}** (from \`claude-persist usage\`)`,
    "",
    "| | |",
    "|---|---|",
    `| Cost | ${formatCost(t)} |`,
    `| Tokens | ${formatCount(t.totalTokens)} (input ${formatCount(t.inputTokens)}, output ${formatCount(t.outputTokens)}, cache write ${formatCount(t.cacheCreationTokens)}, cache read ${formatCount(t.cacheReadTokens)}) |`,
    `| Active time | ${formatDuration(t.activeSeconds)} |`,
    `| Sessions | ${t.sessions} (${places}) |`,
    "",
    `Costs are Claude Code's own where its transcripts have them, else LiteLLM's prices of ${priceSource().taken}.${unpriced}`,
    "",
  ].join("\n");
}

/** Asks on stderr and reads one line of stdin: yes only for "y" or "yes"; no answer (end of input) is no. */
export async function confirm(
  stdin: NodeJS.ReadableStream,
  ask: (text: string) => void,
  question: string,
): Promise<boolean> {
  ask(`${question} [y/N] `);
  let line = "";
  for await (const chunk of stdin) {
    line += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (line.includes("\n") || line.length > 100) break;
  }
  return /^\s*y(es)?\s*$/i.test(line.split("\n")[0] ?? "");
}

/** Posts `body` on the issue; the comment's URL, when Linear gives one. */
export async function postComment(env: NodeJS.ProcessEnv, identifier: string, body: string): Promise<string | null> {
  const options = linearOptionsFromEnv(env);
  if (!options) {
    throw new UserError(
      "posting to Linear needs LINEAR_API_KEY; create a personal API key in Linear (Settings → Security & access) and set it",
      EXIT.needsCredential,
    );
  }
  const client = linearClient(options);
  const issue = await client.fetchIssue(identifier);
  return client.addComment(issue, body);
}
