// JSON that someone else wrote: the one check that a parsed value is a plain object before its keys are read.

/** An object that is neither null nor an array: what a JSON object parses to. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
