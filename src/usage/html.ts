// `usage --html FILE`: the report as one self-contained page (no script, no font, no request: inline SVG and CSS),
// a bar chart of the rows' cost (or tokens, when nothing is priced) and the table with every figure.
import { formatCost as money, formatCount as count, formatDuration as duration } from "./format.ts";
import { priceSource } from "./prices.ts";
import type { Report, Row, Totals } from "./report.ts";

export function renderHtml(report: Report, title: string, generated: Date): string {
  const byCost = report.totals.totalCost > 0;
  const measure = (row: Row) => (byCost ? row.totalCost : row.totalTokens);
  const rows = report.rows;
  const most = Math.max(0, ...rows.map(measure));
  const barHeight = 22;
  const labelWidth = 260;
  const chartWidth = 560;
  const height = rows.length * barHeight + 10;
  const bars = rows
    .map((row, i) => {
      const width = most > 0 ? Math.max(1, Math.round((chartWidth * measure(row)) / most)) : 0;
      const y = 5 + i * barHeight;
      const agentWidth =
        row.totalTokens > 0 && !byCost ? Math.round((width * row.subagentTokens) / row.totalTokens) : 0;
      return (
        `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(clip(label(row), 36))}</text>` +
        `<rect x="${labelWidth}" y="${y + 3}" width="${width}" height="${barHeight - 6}" class="bar"><title>${escapeHtml(
          `${label(row)}: ${money(row)}, ${count(row.totalTokens)} tokens`,
        )}</title></rect>` +
        (agentWidth > 0
          ? `<rect x="${labelWidth + width - agentWidth}" y="${y + 3}" width="${agentWidth}" height="${barHeight - 6}" class="agent"/>`
          : "") +
        `<text x="${labelWidth + width + 6}" y="${y + 15}">${escapeHtml(byCost ? money(row) : count(row.totalTokens))}</text>`
      );
    })
    .join("\n");
  const header = ["Tokens", "Input", "Output", "Cache write", "Cache read", "Cost", "Active", "Sessions", "Subagents"];
  const cells = (t: Totals) => [
    count(t.totalTokens),
    count(t.inputTokens),
    count(t.outputTokens),
    count(t.cacheCreationTokens),
    count(t.cacheReadTokens),
    money(t),
    duration(t.activeSeconds),
    String(t.sessions),
    count(t.subagentTokens),
  ];
  const tableRows = rows
    .map(
      (row) =>
        `<tr><th>${escapeHtml(label(row))}</th>${cells(row)
          .map((c) => `<td>${escapeHtml(c)}</td>`)
          .join("")}</tr>`,
    )
    .join("\n");
  const unpriced = report.totals.unpricedModels;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .2em; }
p.meta { color: #6e6e73; margin: 0 0 1.5em; }
svg text { font: 12px system-ui, sans-serif; fill: #1d1d1f; }
.bar { fill: #d97757; } .agent { fill: #8a4a33; }
table { border-collapse: collapse; margin-top: 1.5em; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e5e5ea; text-align: right; white-space: nowrap; }
th:first-child, thead th:first-child { text-align: left; }
tfoot th, tfoot td { font-weight: 600; border-top: 2px solid #1d1d1f; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${escapeHtml(
    `By ${report.by}; ${byCost ? "cost" : "tokens"} per row. Costs: Claude Code's own where its transcripts have them, else LiteLLM's prices of ${priceSource().taken}.`,
  )}${
    unpriced.length > 0 ? ` ${escapeHtml(`Unpriced (not in the cost): ${unpriced.join(", ")}.`)}` : ""
  } ${escapeHtml(`Made ${generated.toISOString().slice(0, 16).replace("T", " ")} UTC by claude-persist usage.`)}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + chartWidth + 120}" height="${height}" role="img" aria-label="${escapeHtml(
    `${byCost ? "Cost" : "Tokens"} by ${report.by}`,
  )}">
${bars}
</svg>
<table>
<thead><tr><th>${escapeHtml(report.by)}</th>${header.map((h) => `<th>${h}</th>`).join("")}</tr></thead>
<tbody>
${tableRows}
</tbody>
<tfoot><tr><th>Total</th>${cells(report.totals)
    .map((c) => `<td>${escapeHtml(c)}</td>`)
    .join("")}</tr></tfoot>
</table>
</body>
</html>
`;
}

function label(row: Row): string {
  return row.title ? `${row.key} ${row.title}` : row.key;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Text into HTML: every character that could end a text node or an attribute, and controls, escaped. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"'\u0000-\u001f\u007f]/g, (c) => `&#${c.charCodeAt(0)};`);
}
