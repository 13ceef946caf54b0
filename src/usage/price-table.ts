// The prices of Claude models, in US dollars per token, as LiteLLM's model_prices_and_context_window.json gives them
// (Anthropic's own entries only). Kept in the pack so that a usage report never goes to the network; `usage` names
// the date the table was taken, and a model missing here is shown as unpriced, never as free.

export type ModelPrice = {
  readonly input: number;
  readonly output: number;
  readonly cacheCreation: number;
  readonly cacheRead: number;
  /** The prices of the tokens past the first 200,000 of one request, per kind, where the model has such a tier. */
  readonly above200k?: {
    readonly input: number;
    readonly output: number;
    readonly cacheCreation: number;
    readonly cacheRead: number;
  };
};

/** Where and when the table was taken. */
export const PRICE_SOURCE = {
  url: "https://github.com/BerriAI/litellm/blob/00035b69f416be24e2e323c13198d9b7d2d1bdf9/model_prices_and_context_window.json",
  taken: "2026-12-07",
} as const;

const sonnet4: ModelPrice = {
  input: 3e-6,
  output: 1.5e-5,
  cacheCreation: 3.75e-6,
  cacheRead: 3e-7,
  above200k: { input: 6e-6, output: 2.25e-5, cacheCreation: 7.5e-6, cacheRead: 6e-7 },
};
const sonnet46: ModelPrice = { input: 3e-6, output: 1.5e-5, cacheCreation: 3.75e-6, cacheRead: 3e-7 };
const sonnet5: ModelPrice = { input: 2e-6, output: 1e-5, cacheCreation: 2.5e-6, cacheRead: 2e-7 };
const opus4: ModelPrice = { input: 1.5e-5, output: 7.5e-5, cacheCreation: 1.875e-5, cacheRead: 1.5e-6 };
const opus45: ModelPrice = { input: 5e-6, output: 2.5e-5, cacheCreation: 6.25e-6, cacheRead: 5e-7 };
const haiku45: ModelPrice = { input: 1e-6, output: 5e-6, cacheCreation: 1.25e-6, cacheRead: 1e-7 };
const fable5: ModelPrice = { input: 1e-5, output: 5e-5, cacheCreation: 1.25e-5, cacheRead: 1e-6 };

/** By the model name Claude Code writes in `message.model`. */
export const PRICES: Readonly<Record<string, ModelPrice>> = {
  "claude-3-haiku-20240307": { input: 2.5e-7, output: 1.25e-6, cacheCreation: 3e-7, cacheRead: 3e-8 },
  "claude-3-opus-20240229": opus4,
  "claude-3-7-sonnet-20250219": sonnet46,
  "claude-4-opus-20250514": opus4,
  "claude-4-sonnet-20250514": sonnet4,
  "claude-sonnet-4-20250514": sonnet4,
  "claude-sonnet-4-5": sonnet4,
  "claude-sonnet-4-5-20250929": sonnet4,
  "claude-sonnet-4-6": sonnet46,
  "claude-sonnet-5": sonnet5,
  "claude-opus-4-20250514": opus4,
  "claude-opus-4-1": opus4,
  "claude-opus-4-1-20250805": opus4,
  "claude-opus-4-5": opus45,
  "claude-opus-4-5-20251101": opus45,
  "claude-opus-4-6": opus45,
  "claude-opus-4-6-20260205": opus45,
  "claude-opus-4-7": opus45,
  "claude-opus-4-7-20260416": opus45,
  "claude-opus-4-8": opus45,
  "claude-haiku-4-5": haiku45,
  "claude-haiku-4-5-20251001": haiku45,
  "claude-fable-5": fable5,
};
