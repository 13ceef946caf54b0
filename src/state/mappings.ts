// The record of every project mapping /dev-open made (mappings.json in the pack's state): which host folder a
// container folder stands for. Read by sessions, snapshots and doctor; written by the mapping itself (mapping.ts).
import * as z from "zod/mini";
import type { Env } from "../claude/home.ts";
import "../zod-messages.ts";
import { readJsonState, updateJsonState } from "./files.ts";
import { STATE, statePath } from "./paths.ts";

export const mappingSchema = z.object({
  hostPath: z.string(),
  hostSlug: z.string(),
  containerPath: z.string(),
  containerSlug: z.string(),
  configPath: z.optional(z.string()),
  containerId: z.optional(z.string()),
  time: z.string(),
});
export type Mapping = z.infer<typeof mappingSchema>;
const mappingsSchema = z.array(mappingSchema);

export function mappingsFile(env: Env): string {
  return statePath(env, STATE.mappings);
}

export function readMappings(env: Env): Mapping[] {
  return readJsonState(mappingsFile(env), mappingsSchema, []);
}

/** What makes two mappings the same one: the host path and the container path (a later one replaces it). */
export function mappingKey(mapping: { readonly hostPath?: unknown; readonly containerPath?: unknown }): string {
  return JSON.stringify([mapping.hostPath, mapping.containerPath]);
}

export async function recordMapping(env: Env, mapping: Mapping): Promise<void> {
  await updateJsonState(mappingsFile(env), mappingsSchema, [], (all) => [
    ...all.filter((m) => mappingKey(m) !== mappingKey(mapping)),
    mapping,
  ]);
}

/** Takes these mappings out of the record (unshare frees the container path they held). */
export async function forgetMappings(env: Env, gone: readonly Mapping[]): Promise<void> {
  const keys = new Set(gone.map(mappingKey));
  await updateJsonState(mappingsFile(env), mappingsSchema, [], (all) => all.filter((m) => !keys.has(mappingKey(m))));
}
