// The record of every project mapping /dev-open made (mappings.json in the pack's state): which host folder a
// container folder stands for. Read by sessions, snapshots and doctor; written by the mapping itself (mapping.ts).
import path from "node:path";
import * as z from "zod/mini";
import { encodeProjectSlug, type Env } from "../claude/home.ts";
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

/**
 * The recorded mappings whose claims check out. Containers write this file: an entry is a claim, kept only when its
 * paths are absolute and its slugs are those of its paths (a `../` slug, or a slug naming another project's folder,
 * is dropped), so no entry can send a host command to another folder than the paths it names.
 */
export function readMappings(env: Env): Mapping[] {
  return readJsonState(mappingsFile(env), mappingsSchema, []).filter(checksOut);
}

/** `entry` (read from mappings.json or a snapshot) as a mapping, if it is one whose slugs are its paths' own. */
export function checkedMapping(entry: unknown): Mapping | undefined {
  const parsed = mappingSchema.safeParse(entry);
  return parsed.success && checksOut(parsed.data) ? parsed.data : undefined;
}

function checksOut(m: Mapping): boolean {
  return (
    path.posix.isAbsolute(m.hostPath) &&
    path.posix.isAbsolute(m.containerPath) &&
    m.hostSlug === encodeProjectSlug(m.hostPath) &&
    m.containerSlug === encodeProjectSlug(m.containerPath)
  );
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
