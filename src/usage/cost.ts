// What each response cost: the figure Claude Code wrote itself where there is one, else the price table's, else
// nothing (unpriced, never $0). Claude Code's own figures are per session and model (`cost-state` lines, keyed by the
// model it asked for): each is shared among that session's responses of the model in proportion to what the table
// says each cost (by their tokens, for a model the table lacks), so that every grouping adds up to Claude Code's total.
import { type Tokens, tableCost } from "./prices.ts";
import type { CostState, UsageRecord } from "./read.ts";

export type CostSource = "claude-code" | "table";
export type Cost = { readonly usd: number; readonly from: CostSource } | undefined;

export function costsOf(
  records: readonly UsageRecord[],
  states: ReadonlyMap<string, CostState>,
): Map<UsageRecord, Cost> {
  const costs = new Map<UsageRecord, Cost>();
  // Responses of the sessions whose cost Claude Code wrote, by session and model.
  const shared = new Map<string, UsageRecord[]>();
  for (const record of records) {
    if (record.costUSD !== null) {
      costs.set(record, { usd: record.costUSD, from: "claude-code" });
      continue;
    }
    const state = states.get(record.session);
    const model = record.requestedModel ?? record.model;
    if (state && Object.hasOwn(state.models, model)) {
      const group = `${record.session}\n${model}`;
      const list = shared.get(group);
      if (list) list.push(record);
      else shared.set(group, [record]);
      continue;
    }
    const usd = tableCost(record.model, record);
    costs.set(record, usd === undefined ? undefined : { usd, from: "table" });
  }
  for (const [group, list] of shared) {
    const [session = "", model = ""] = group.split("\n");
    const total = states.get(session)?.models[model] ?? 0;
    const weights = list.map((record) => tableCost(record.model, record) ?? weightOf(record));
    const sum = weights.reduce((a, b) => a + b, 0);
    list.forEach((record, i) => {
      costs.set(record, {
        usd: sum > 0 ? (total * (weights[i] ?? 0)) / sum : total / list.length,
        from: "claude-code",
      });
    });
  }
  return costs;
}

/** A response's share by its tokens, weighted as Claude's prices weigh them, for a model the table lacks. */
function weightOf(tokens: Tokens): number {
  return (
    tokens.inputTokens + 5 * tokens.outputTokens + 1.25 * tokens.cacheCreationTokens + 0.1 * tokens.cacheReadTokens
  );
}
