// What a response cost by the price table: each kind of token at its price, the tokens of one request past 200,000
// at the higher tier where the model has one (as LiteLLM and ccusage count it, kind by kind).
import { type ModelPrice, PRICE_SOURCE, PRICES } from "./price-table.ts";

export type Tokens = {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheCreationTokens: number;
  readonly cacheReadTokens: number;
};

const TIER = 200_000;

/** Prices a `usage --refresh-prices` kept: they come before the pack's table (usePrices sets them for the run). */
let overlay: Readonly<Record<string, ModelPrice>> = {};
let source: { readonly url: string; readonly taken: string } = PRICE_SOURCE;
export function usePrices(prices: Readonly<Record<string, ModelPrice>>, from: { url: string; taken: string }): void {
  overlay = prices;
  source = from;
}

/** Where the prices in use come from, and when they were taken. */
export function priceSource(): { readonly url: string; readonly taken: string } {
  return source;
}

/** The price of `model`: its own entry, else that of its name without a date suffix; undefined when unknown. */
export function priceOf(model: string): ModelPrice | undefined {
  const undated = model.replace(/-\d{8}$/, "");
  for (const table of [overlay, PRICES]) {
    if (Object.hasOwn(table, model)) return table[model];
    if (undated !== model && Object.hasOwn(table, undated)) return table[undated];
  }
  return undefined;
}

/** The cost of one response by the table, or undefined when the model has no price. */
export function tableCost(model: string, tokens: Tokens): number | undefined {
  const price = priceOf(model);
  if (!price) return undefined;
  const tiered = (count: number, base: number, above: number | undefined) =>
    above === undefined || count <= TIER ? count * base : TIER * base + (count - TIER) * above;
  const high = price.above200k;
  return (
    tiered(tokens.inputTokens, price.input, high?.input) +
    tiered(tokens.outputTokens, price.output, high?.output) +
    tiered(tokens.cacheCreationTokens, price.cacheCreation, high?.cacheCreation) +
    tiered(tokens.cacheReadTokens, price.cacheRead, high?.cacheRead)
  );
}
