// What a dev container config needs so that Claude Code's session data is shared with the host, and the edits
// that add it to a devcontainer.json (and take exactly that back out for `--isolated`).
//
// What gets added, each part recognisable again so that a second run changes nothing and removal is exact:
// - `mounts`: one bind mount per shared entry, string form (the object form ignores `readonly`).
// - `containerEnv.CLAUDE_PERSIST_HOST_WORKSPACE`: the host path of the workspace, for the hook in the container.
// - no `remoteEnv`: forwarding by name from a shared config blanks the variable for whoever lacks it (see
//   credentials.ts); the host-only launch config carries it, and an older version's entries are taken out.
// - `onCreateCommand`: makes the remote user own `~/.claude` (Docker creates mount parents root-owned).
// - `initializeCommand`: creates the missing source folders on the host, so that `up` works for a teammate
//   without the pack (a bind mount of a missing folder fails). Single files are never created.
// Blocks added inside existing arrays/objects, and new top-level properties, follow a `// claude-persist:` comment.
import path from "node:path";
import { type Edit, type Node, applyEdits } from "jsonc-parser";
import { WORKSPACE_ENV } from "../../claude/shared.ts";
import { blockLineStart, detectLayout, type TextLayout } from "../../text-layout.ts";
import { nodeValue, parseDevcontainerConfig, parseJsoncObject, type JsonValue, type MountObject } from "./config.ts";
import {
  appendEntries,
  innermostContainer,
  lineComments,
  outermostEdits,
  pathOf,
  removeEntries,
  type BlockEntry,
} from "./jsonc-blocks.ts";
import {
  combinedCommand,
  desiredCommands,
  LIFECYCLE_KEY,
  LIFECYCLE_PROPERTIES,
  ORIGINAL_KEY,
  splitCombined,
} from "./lifecycle-commands.ts";
import { mountString, type PersistencePlan, type Skipped } from "./mount-plan.ts";
import {
  isPackCommand,
  isPackEnvEntry,
  isPackMount,
  mountTarget,
  normaliseTarget,
  parseMountString,
} from "./read-mounts.ts";

/** The comment that precedes what the pack adds; removal looks for it. */
export const JSON_MARKER =
  "// claude-persist: Claude Code session sharing with the host (`dev-open --isolated` removes it)";
const JSON_MARKER_PREFIX = "// claude-persist:";

// ---------------------------------------------------------------------------------------------------------------
// ensurePersistenceMounts

export type EnsureOptions = {
  /** For messages. */
  readonly file?: string;
  /** False for compose-based configs: their mounts go into the compose file (see compose.ts). */
  readonly includeMounts?: boolean;
};

export type EditResult = {
  readonly text: string;
  readonly added: string[];
  readonly skipped: Skipped[];
  readonly changed: boolean;
};

type Part = { edits: Edit[]; newProperties: BlockEntry[]; added: string[]; skipped: Skipped[] };

/** Adds what the plan needs to a devcontainer.json text; leaves everything already there as it is. */
export function ensurePersistenceMounts(text: string, plan: PersistencePlan, options: EnsureOptions = {}): EditResult {
  const file = options.file ?? "devcontainer.json";
  const { tree, config } = parseDevcontainerConfig(text, file);
  const layout = detectLayout(text);
  const parts: Part[] = [
    options.includeMounts === false ? emptyPart() : mountsPart(text, tree, config.mounts ?? [], plan, layout),
    envPart(text, tree, "containerEnv", WORKSPACE_ENV, layout),
    ...Object.entries(desiredCommands(plan)).map(([property, command]) =>
      lifecyclePart(text, tree, property, command, layout),
    ),
  ];
  const edits = parts.flatMap((part) => part.edits);
  const newProperties = parts.flatMap((part) => part.newProperties);
  if (newProperties.length > 0) {
    edits.push(...appendEntries(text, tree, [{ kind: "comment", text: JSON_MARKER }, ...newProperties], layout));
  }
  const result = withoutPackRemoteEnv(applyEdits(text, edits), file);
  parseJsoncObject(result, `${file} (as edited)`);
  return {
    text: result,
    added: parts.flatMap((part) => part.added),
    skipped: [...(options.includeMounts === false ? [] : plan.skipped), ...parts.flatMap((part) => part.skipped)],
    changed: result !== text,
  };
}

/**
 * An earlier version forwarded credentials with `remoteEnv: {X: "${localEnv:X}"}` in the repo's config, which
 * gives X="" to everyone who has not set it (see credentials.ts). Takes out exactly those entries: the ones in a
 * block the pack marked, or a whole remoteEnv the pack added; the user's own entries stay.
 */
function withoutPackRemoteEnv(text: string, file: string): string {
  const tree = parseJsoncObject(text, file);
  const object = propertyValueNode(tree, "remoteEnv");
  const property = object?.parent;
  if (!object || !property) return text;
  const isOurs = (child: Node) => isPackProperty(child, (key, value) => value === `\${localEnv:${key}}`);
  const children = object.children ?? [];
  const rootChildren = tree.children ?? [];
  const at = rootChildren.indexOf(property);
  const markerBefore = lineComments(text).some((comment) => {
    if (!comment.text.startsWith(JSON_MARKER_PREFIX) || comment.offset > property.offset) return false;
    if (innermostContainer(tree, comment.offset) !== tree) return false;
    const between = rootChildren.slice(0, at).filter((child) => child.offset > comment.offset);
    return between.every((child) => ["mounts", "containerEnv"].includes(String(child.children?.[0]?.value)));
  });
  if (markerBefore && children.length > 0 && children.every(isOurs)) {
    return applyEdits(text, removeEntries(text, property.offset, property, rootChildren[at - 1]));
  }
  const edits: Edit[] = [];
  for (const comment of lineComments(text)) {
    if (!comment.text.startsWith(JSON_MARKER_PREFIX) || innermostContainer(tree, comment.offset) !== object) continue;
    const start = children.findIndex((child) => child.offset > comment.offset);
    let end = start;
    while (end !== -1 && end < children.length && isOurs(children[end] as Node)) end++;
    if (start === -1 || end === start) continue;
    edits.push(...removeEntries(text, comment.offset, children[end - 1] as Node, children[start - 1]));
  }
  return edits.length === 0 ? text : applyEdits(text, edits);
}

function emptyPart(): Part {
  return { edits: [], newProperties: [], added: [], skipped: [] };
}

function propertyValueNode(container: Node, key: string): Node | undefined {
  const property = container.children?.find((child) => child.children?.[0]?.value === key);
  return property?.children?.[1];
}

function mountsPart(
  text: string,
  tree: Node,
  existing: readonly (string | MountObject)[],
  plan: PersistencePlan,
  layout: TextLayout,
): Part {
  const part = emptyPart();
  const mounted = new Set(existing.map(mountTarget));
  const wanted: string[] = [];
  for (const mount of plan.mounts) {
    if (mounted.has(normaliseTarget(mount.target))) {
      const ours = existing.some((item) => mountTarget(item) === normaliseTarget(mount.target) && isPackMount(item));
      if (!ours) part.skipped.push({ name: mount.name, reason: `${mount.target} is already mounted by the config` });
      continue;
    }
    wanted.push(mountString(mount));
    part.added.push(mount.name);
  }
  if (wanted.length === 0) return part;
  const array = propertyValueNode(tree, "mounts");
  if (!array) {
    part.newProperties.push({ kind: "property", key: "mounts", value: wanted });
    return part;
  }
  const entries: BlockEntry[] = wanted.map((value) => ({ kind: "value", value }));
  part.edits.push(...appendEntries(text, array, [{ kind: "comment", text: JSON_MARKER }, ...entries], layout));
  return part;
}

function envPart(
  text: string,
  tree: Node,
  property: "containerEnv" | "remoteEnv",
  wanted: Record<string, string>,
  layout: TextLayout,
): Part {
  const part = emptyPart();
  const object = propertyValueNode(tree, property);
  const present = new Set((object?.children ?? []).map((child) => String(child.children?.[0]?.value)));
  const missing = Object.entries(wanted).filter(([key]) => !present.has(key));
  if (missing.length === 0) return part;
  part.added.push(...missing.map(([key]) => `${property}.${key}`));
  if (!object) {
    part.newProperties.push({ kind: "property", key: property, value: Object.fromEntries(missing) });
    return part;
  }
  const entries: BlockEntry[] = missing.map(([key, value]) => ({ kind: "property", key, value }));
  part.edits.push(...appendEntries(text, object, [{ kind: "comment", text: JSON_MARKER }, ...entries], layout));
  return part;
}

/**
 * Adds the pack's command to a lifecycle property without breaking what is there: absent → our string; a string
 * or array (one command) → one script that runs ours, then theirs (combinedCommand); an object (the user's own
 * parallel commands) → one more key. Our command, when present, is updated in place if the plan changed; an
 * earlier version's `{claude-persist, original}` object becomes the sequential script.
 */
function lifecyclePart(text: string, tree: Node, property: string, command: string, layout: TextLayout): Part {
  const part = emptyPart();
  const value = propertyValueNode(tree, property);
  if (!value) {
    part.newProperties.push({ kind: "property", key: property, value: command });
    part.added.push(property);
    return part;
  }
  const current = nodeValue(value);
  if (isPackCommand(current)) {
    if (current !== command) part.edits.push(replaceNode(value, JSON.stringify(command)));
    return part;
  }
  const combined = splitCombined(current);
  if (combined) {
    if (combined.ours !== command) part.edits.push(replaceNode(value, sequential(command, combined.originalText)));
    return part;
  }
  if (value.type === "string" || value.type === "array") {
    part.edits.push(replaceNode(value, sequential(command, text.slice(value.offset, value.offset + value.length))));
    part.added.push(property);
    return part;
  }
  if (value.type !== "object") {
    part.skipped.push({ name: property, reason: `${property} is neither a command nor an object of commands` });
    return part;
  }
  const ours = propertyValueNode(value, LIFECYCLE_KEY);
  const earlier = propertyValueNode(value, ORIGINAL_KEY);
  if (ours && earlier && value.children?.length === 2 && isPackCommand(nodeValue(ours))) {
    part.edits.push(
      replaceNode(value, sequential(command, text.slice(earlier.offset, earlier.offset + earlier.length))),
    );
    return part;
  }
  if (ours) {
    if (nodeValue(ours) !== command) part.edits.push(replaceNode(ours, JSON.stringify(command)));
    return part;
  }
  part.edits.push(...appendEntries(text, value, [{ kind: "property", key: LIFECYCLE_KEY, value: command }], layout));
  part.added.push(property);
  return part;
}

/** The JSON text of ours-then-theirs, from the user's JSON text of their command (a string or an array). */
function sequential(command: string, originalText: string): string {
  const parsed = parseJsoncObject(`{"c": ${originalText}}`, "the lifecycle command");
  const value = nodeValue(parsed.children?.[0]?.children?.[1] as Node);
  const original = Array.isArray(value) ? value.map(String) : String(value);
  return JSON.stringify(combinedCommand(command, original, originalText));
}

function replaceNode(node: Node, content: string): Edit {
  return { offset: node.offset, length: node.length, content };
}

// ---------------------------------------------------------------------------------------------------------------
// removePersistenceMounts

export type RemoveResult = { readonly text: string; readonly removed: string[]; readonly changed: boolean };

/** Takes out exactly what ensurePersistenceMounts added; every other byte stays as it is. */
export function removePersistenceMounts(text: string, options: { file?: string } = {}): RemoveResult {
  const file = options.file ?? "devcontainer.json";
  const tree = parseJsoncObject(text, file);
  const removed: string[] = [];
  const edits = [...markedBlockEdits(text, tree, removed), ...lifecycleRemovalEdits(text, tree, removed)];
  const result = applyEdits(text, outermostEdits(edits));
  parseJsoncObject(result, `${file} (as edited)`);
  return { text: result, removed: [...new Set(removed)], changed: result !== text };
}

/**
 * Every block that follows a marker comment: the run of siblings after it that the pack wrote. A property the pack
 * created that the user has since added to (a `mounts` list with their own mount) loses only the pack's entries.
 */
function markedBlockEdits(text: string, tree: Node, removed: string[]): Edit[] {
  const edits: Edit[] = [];
  for (const comment of lineComments(text)) {
    if (!comment.text.startsWith(JSON_MARKER_PREFIX)) continue;
    const container = innermostContainer(tree, comment.offset);
    const children = container.children ?? [];
    const location = pathOf(container);
    const isOurs = packEntryTest(location);
    let index = children.findIndex((child) => child.offset > comment.offset);
    if (index === -1) index = children.length;
    let runStart = index;
    let firstOffset = comment.offset;
    const flush = (end: number) => {
      const last = children[end - 1];
      if (end > runStart && last) {
        edits.push(...removeEntries(text, firstOffset, last, children[runStart - 1]));
        removed.push(...children.slice(runStart, end).map((child) => describeEntry(location, child)));
      } else if (firstOffset === comment.offset) {
        const start = blockLineStart(text, comment.offset);
        edits.push({ offset: start, length: comment.offset + comment.text.length - start, content: "" });
      }
    };
    for (; index < children.length; index++) {
      const child = children[index] as Node;
      if (isOurs(child)) continue;
      const value = location.length === 0 && isPackRootKey(child) ? child.children?.[1] : undefined;
      if (!value) break;
      flush(index);
      edits.push(...packRunEdits(text, value, removed));
      runStart = index + 1;
      firstOffset = children[runStart]?.offset ?? 0;
    }
    flush(index);
  }
  return edits;
}

/** Removes the runs of pack entries inside a container the user has also written to. */
function packRunEdits(text: string, container: Node, removed: string[]): Edit[] {
  const children = container.children ?? [];
  const location = pathOf(container);
  const isOurs = packEntryTest(location);
  const edits: Edit[] = [];
  for (let start = 0; start < children.length; start++) {
    if (!isOurs(children[start] as Node)) continue;
    let end = start;
    while (end + 1 < children.length && isOurs(children[end + 1] as Node)) end++;
    const first = children[start] as Node;
    edits.push(...removeEntries(text, first.offset, children[end] as Node, children[start - 1]));
    removed.push(...children.slice(start, end + 1).map((child) => describeEntry(location, child)));
    start = end;
  }
  return edits;
}

function isPackRootKey(child: Node): boolean {
  const key = String(child.children?.[0]?.value);
  return key === "mounts" || key === "containerEnv" || key === "remoteEnv";
}

function describeEntry(location: (string | number)[], child: Node): string {
  const where = location.join(".");
  if (child.type === "property") return [where, String(child.children?.[0]?.value)].filter(Boolean).join(".");
  const target = parseMountString(String(child.value ?? "")).target;
  return target ? path.posix.basename(target) : where;
}

/** Which children of the container at `location` the pack writes. */
function packEntryTest(location: (string | number)[]): (child: Node) => boolean {
  const where = location.join(".");
  if (where === "mounts") return (child) => isPackMount(nodeValue(child));
  if (where === "containerEnv" || where === "remoteEnv") return (child) => isPackProperty(child, isPackEnvEntry);
  if (where === "") return (child) => isPackProperty(child, isPackRootProperty);
  return () => false;
}

function isPackProperty(child: Node, test: (key: string, value: JsonValue) => boolean): boolean {
  const [key, value] = child.children ?? [];
  return (
    child.type === "property" && key !== undefined && value !== undefined && test(String(key.value), nodeValue(value))
  );
}

function isPackRootProperty(key: string, value: JsonValue): boolean {
  if (key === "mounts") return Array.isArray(value) && value.length > 0 && value.every(isPackMount);
  if (key === "containerEnv" || key === "remoteEnv") {
    const entries = value !== null && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [];
    return entries.length > 0 && entries.every(([name, item]) => isPackEnvEntry(name, item));
  }
  return (LIFECYCLE_PROPERTIES as readonly string[]).includes(key) && isPackCommand(value);
}

/** Lifecycle commands the pack merged into the user's: unwrap `{claude-persist, original}`, drop our key. */
function lifecycleRemovalEdits(text: string, tree: Node, removed: string[]): Edit[] {
  const edits: Edit[] = [];
  for (const property of LIFECYCLE_PROPERTIES) {
    const value = propertyValueNode(tree, property);
    const combined = value ? splitCombined(nodeValue(value)) : undefined;
    if (value && combined) {
      edits.push(replaceNode(value, combined.originalText));
      removed.push(property);
      continue;
    }
    if (value?.type !== "object") continue;
    const children = value.children ?? [];
    const index = children.findIndex((child) => child.children?.[0]?.value === LIFECYCLE_KEY);
    const ours = children[index];
    if (!ours || !isPackCommand(nodeValue(ours.children?.[1] as Node))) continue;
    const original = propertyValueNode(value, ORIGINAL_KEY);
    if (children.length === 2 && index === 0 && original) {
      edits.push(replaceNode(value, text.slice(original.offset, original.offset + original.length)));
    } else {
      edits.push(...removeEntries(text, ours.offset, ours, children[index - 1]));
    }
    removed.push(property);
  }
  return edits;
}
