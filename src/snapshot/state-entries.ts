// Restore's change to the pack's shared state files: the project's entries of mappings.json and work-items.json.
import * as z from "zod/mini";
import type { Env } from "../claude/home.ts";
import { updateJsonState } from "../state/files.ts";
import { mappingKey, mappingsFile } from "../state/mappings.ts";
import { workItemKey, workItemsPath } from "../work/work-items.ts";
import { isRecord } from "../json.ts";
import { isProjectMapping, isProjectWorkItem } from "./project.ts";
import type { Restorable } from "./verify.ts";

/** The project's entries of mappings.json and work-items.json as the snapshot had them; others' entries stay. */
export async function restoreStateEntries(
  env: Env,
  manifest: Pick<Restorable, "slugs" | "state">,
  exact: boolean,
  projectSlugs: Set<string>,
): Promise<void> {
  const slugs = new Set([...projectSlugs, ...manifest.slugs]);
  const files = [
    {
      file: mappingsFile(env),
      saved: manifest.state.mappings,
      mine: (e: unknown) => isProjectMapping(e, slugs),
      key: (e: unknown) => (isRecord(e) ? mappingKey(e) : undefined),
    },
    {
      file: workItemsPath(env),
      saved: manifest.state.workItems,
      mine: (e: unknown) => isProjectWorkItem(e, slugs),
      key: workItemKey,
    },
  ];
  for (const { file, saved, mine, key } of files) {
    if (!exact && saved.length === 0) continue; // Nothing to put back, and nothing to remove.
    await updateJsonState(file, z.array(z.unknown()), [], (current) =>
      exact ? [...current.filter((e) => !mine(e)), ...saved] : mergeEntries(current, saved, key),
    );
  }
}

/** Entries with the same key are replaced where they stand; the snapshot's others are added at the end. */
function mergeEntries(current: unknown[], saved: unknown[], key: (entry: unknown) => string | undefined): unknown[] {
  const byKey = new Map<string, unknown>();
  const unkeyed: unknown[] = [];
  for (const entry of saved) {
    const k = key(entry);
    if (k === undefined) unkeyed.push(entry);
    else byKey.set(k, entry);
  }
  const next = current.map((entry) => {
    const k = key(entry);
    const replacement = k === undefined ? undefined : byKey.get(k);
    if (k === undefined || replacement === undefined) return entry;
    byKey.delete(k);
    return replacement;
  });
  return [...next, ...byKey.values(), ...unkeyed];
}
