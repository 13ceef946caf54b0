// What each response cost: the figure Claude Code wrote itself where there is one, else the price table's, else
// nothing (unpriced, never $0). Claude Code's own figures are per session and model (`cost-state` lines, keyed by the
// model it asked for): each is shared among that session's responses of the model in proportion to what the table
// says each cost (by their tokens, for a model the table lacks), so that every grouping adds up to Claude Code's total.
import { type Tokens, tableCost } from "./prices.ts";
import type { CostState, UsageRecord } from "./read.ts";

/**
 * Each record's cost in USD, by its index in `records`; NaN where it has none (unpriced). An array of numbers, not a
 * map of objects: 55,000 of those were 5 MB of a cold run's peak memory.
 */
export type Costs = Float64Array;

export function costsOf(records: readonly UsageRecord[], states: ReadonlyMap<string, CostState>): Costs {
  const costs = new Float64Array(records.length);
  // Responses of the sessions whose cost Claude Code wrote, by session and model (as indexes into `records`).
  const shared = new Map<string, number[]>();
  for (const [i, record] of records.entries()) {
    if (record.costUSD !== null) {
      costs[i] = record.costUSD;
      continue;
    }
    const state = states.get(record.session);
    const model = record.requestedModel ?? record.model;
    if (state && Object.hasOwn(state.models, model)) {
      const group = `${record.session}\n${model}`;
      const list = shared.get(group);
      if (list) list.push(i);
      else shared.set(group, [i]);
      continue;
    }
    costs[i] = tableCost(record.model, record) ?? Number.NaN;
  }
  for (const [group, list] of shared) {
    const [session = "", model = ""] = group.split("\n");
    const total = states.get(session)?.models[model] ?? 0;
    const weights = list.map((index) => {
      const record = records[index] as UsageRecord;
      return tableCost(record.model, record) ?? weightOf(record);
    });
    const sum = weights.reduce((a, b) => a + b, 0);
    list.forEach((index, i) => {
      costs[index] = sum > 0 ? (total * (weights[i] ?? 0)) / sum : total / list.length;
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
