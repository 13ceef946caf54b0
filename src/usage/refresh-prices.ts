// `usage --refresh-prices`: LiteLLM's model_prices_and_context_window.json fetched (only when asked), its Anthropic
// entries kept in host-only state (`usage-ledger/prices.json`, with the date), and used over the pack's own table
// from then on. What comes from the network is hostile input: bounded, each entry checked, only finite prices kept.
import type { Env } from "../claude/home.ts";
import { describeError, UserError } from "../errors.ts";
import { fileIn, readRegularText } from "../fs.ts";
import { ensureStateDir, STATE, statePath } from "../state/paths.ts";
import { writeWholeFile } from "./ledger.ts";
import type { ModelPrice } from "./price-table.ts";

export const LITELLM_PRICES_URL =
  "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json";
const PRICES = "prices.json";
const MAX_BYTES = 32 << 20;

export type PriceOverlay = {
  readonly url: string;
  readonly taken: string;
  readonly prices: Record<string, ModelPrice>;
};

export async function refreshPrices(env: Env, now: Date): Promise<PriceOverlay> {
  const url = env.CLAUDE_PERSIST_PRICES_URL || LITELLM_PRICES_URL;
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const length = Number(response.headers.get("content-length") ?? 0);
    if (length > MAX_BYTES) throw new Error(`it is larger than ${MAX_BYTES} bytes`);
    text = await boundedBody(response);
  } catch (error) {
    throw new UserError(
      `could not fetch the prices from ${url} (${describeError(error)}); try again later (the prices in use are unchanged)`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UserError(`${url} did not answer JSON; the prices in use are unchanged`);
  }
  const prices = claudePrices(value);
  if (Object.keys(prices).length === 0) {
    throw new UserError(`${url} has no Anthropic model prices; the prices in use are unchanged`);
  }
  const overlay = { url, taken: now.toISOString().slice(0, 10), prices };
  writeWholeFile(ensureStateDir(env, STATE.usageLedger), PRICES, JSON.stringify(overlay));
  return overlay;
}

/** The prices kept by the last refresh, or undefined (none, or unreadable: the pack's table then). */
export function readPriceOverlay(env: Env): PriceOverlay | undefined {
  try {
    const value: unknown = JSON.parse(readRegularText(fileIn(statePath(env, STATE.usageLedger), PRICES)) ?? "null");
    if (typeof value !== "object" || value === null || !("url" in value) || !("taken" in value) || !("prices" in value))
      return undefined;
    const { url, taken } = value;
    if (typeof url !== "string" || typeof taken !== "string") return undefined;
    const prices: Record<string, ModelPrice> = {};
    if (typeof value.prices !== "object" || value.prices === null) return undefined;
    for (const [model, entry] of Object.entries(value.prices)) {
      const price = checkedPrice(entry);
      if (price) prices[model] = price;
    }
    return { url, taken, prices };
  } catch {
    return undefined;
  }
}

/** LiteLLM's Anthropic entries (`litellm_provider: "anthropic"`), in the table's shape. */
function claudePrices(value: unknown): Record<string, ModelPrice> {
  const prices: Record<string, ModelPrice> = {};
  if (typeof value !== "object" || value === null) return prices;
  for (const [model, entry] of Object.entries(value)) {
    if (typeof entry !== "object" || entry === null || model.length > 200) continue;
    const e = entry as Record<string, unknown>;
    if (e.litellm_provider !== "anthropic") continue;
    const price = checkedPrice({
      input: e.input_cost_per_token,
      output: e.output_cost_per_token,
      cacheCreation: e.cache_creation_input_token_cost ?? e.input_cost_per_token,
      cacheRead: e.cache_read_input_token_cost ?? 0,
      ...(e.input_cost_per_token_above_200k_tokens !== undefined
        ? {
            above200k: {
              input: e.input_cost_per_token_above_200k_tokens,
              output: e.output_cost_per_token_above_200k_tokens ?? e.output_cost_per_token,
              cacheCreation: e.cache_creation_input_token_cost_above_200k_tokens ?? e.cache_creation_input_token_cost,
              cacheRead: e.cache_read_input_token_cost_above_200k_tokens ?? e.cache_read_input_token_cost ?? 0,
            },
          }
        : {}),
    });
    if (price) prices[model] = price;
  }
  return prices;
}

function checkedPrice(entry: unknown): ModelPrice | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const e = entry as Record<string, unknown>;
  const n = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0 && v < 1;
  const four = (p: Record<string, unknown>) =>
    n(p.input) && n(p.output) && n(p.cacheCreation) && n(p.cacheRead)
      ? { input: p.input, output: p.output, cacheCreation: p.cacheCreation, cacheRead: p.cacheRead }
      : undefined;
  const base = four(e);
  if (!base) return undefined;
  const high =
    typeof e.above200k === "object" && e.above200k !== null ? four(e.above200k as Record<string, unknown>) : undefined;
  return high ? { ...base, above200k: high } : base;
}

/** The body as text, read no further than MAX_BYTES (a chunked answer has no length to refuse up front). */
async function boundedBody(response: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  if (!reader) return "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BYTES) {
      await reader.cancel();
      throw new Error(`it is larger than ${MAX_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
