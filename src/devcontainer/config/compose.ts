// Compose-based dev containers (`dockerComposeFile` + `service`): the persistence mounts go into the compose file,
// in long syntax, because the devcontainers CLI turns devcontainer.json `mounts` into short volume syntax for
// compose and drops `readonly` (and short syntax turns a missing file source into a root-owned folder).
//
// The `yaml` Document API finds the service and its `volumes` (with exact source ranges); the edit itself inserts
// whole lines at those places. Re-serialising the document would keep comments but not the user's formatting
// (double blank lines, whitespace-only lines, odd list indentation, trailing spaces), and removal must give back
// the original bytes, so nothing else is ever rewritten.
import path from "node:path";
import {
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node as YamlNode,
  type Pair,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import { SHARED_ENTRIES } from "../../claude/shared.ts";
import { UserError } from "../../errors.ts";
import { readTextToEdit } from "../../fs.ts";
import { blockLineStart, detectLayout, lineEndOf, lineStartOf } from "../../text-layout.ts";
import type { DevcontainerConfig } from "./config.ts";
import type { PersistencePlan, Skipped } from "./mount-plan.ts";
import type { EditResult, RemoveResult } from "./mounts.ts";
import { normaliseTarget } from "./read-mounts.ts";

export const YAML_MARKER =
  "# claude-persist: Claude Code session sharing with the host (`dev-open --isolated` removes it)";
const YAML_MARKER_LINE = /^[ \t]*# claude-persist:/;

// ---------------------------------------------------------------------------------------------------------------
// Which compose file

/** The compose files of a config, absolute, in the order compose merges them. */
export function composeFilesOf(configFile: string, config: DevcontainerConfig): string[] {
  const listed = config.dockerComposeFile;
  const files = typeof listed === "string" ? [listed] : (listed ?? []);
  return files.map((file) => path.resolve(path.dirname(configFile), file));
}

export type ComposeTarget = { readonly file: string; readonly text: string; readonly service: string };

/**
 * The compose file to edit: the LAST listed file that defines the service. Compose merges the files in order and
 * a later file's volume wins on the same target, so our mounts take effect there; and by convention the last file
 * is the dev-container-specific override (`.devcontainer/docker-compose.yml` after the project's own
 * `../docker-compose.yml`), so the project's own compose file stays untouched. When no listed file defines the
 * service, compose itself fails on that config: say so rather than invent a service in some file.
 */
export function chooseComposeFile(
  configFile: string,
  config: DevcontainerConfig,
  read: (file: string) => string | undefined = readTextToEdit,
): ComposeTarget {
  const service = config.service;
  const files = composeFilesOf(configFile, config);
  if (!service || files.length === 0)
    throw new UserError(`${configFile}: a compose-based config needs dockerComposeFile and service.`);
  let chosen: ComposeTarget | undefined;
  for (const file of files) {
    const text = read(file);
    if (text === undefined) continue;
    if (findService(parseComposeDocument(text, file), service)) chosen = { file, text, service };
  }
  if (chosen) return chosen;
  const listed = files.map((file) => path.relative(path.dirname(configFile), file)).join(", ");
  throw new UserError(`${configFile}: service "${service}" is not defined in any readable compose file (${listed}).`);
}

export function parseComposeDocument(text: string, file: string): Document {
  const doc = parseDocument(text);
  const [error] = doc.errors;
  if (error) {
    const position = error.linePos?.[0];
    let reason = (error.message.split("\n")[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, "");
    if (error.code === "DUPLICATE_KEY") {
      // Name the key: only one copy takes effect, so an edit could land in the other.
      const key = /^\s*(?:-\s+)?["']?([^"':#]+)["']?\s*:/.exec(text.slice(error.pos[0]))?.[1]?.trim();
      reason = `the key ${JSON.stringify(key ?? "?")} appears twice in one mapping, and only one copy takes effect: merge them into one; fix the file and run again (nothing was changed)`;
    }
    throw new UserError(`${file}:${position?.line ?? 1}:${position?.col ?? 1}: ${reason}`);
  }
  return doc;
}

function findService(doc: Document, service: string): Pair | undefined {
  const services = isMap(doc.contents)
    ? doc.contents.items.find((pair) => keyOf(pair) === "services")?.value
    : undefined;
  return isMap(services) ? services.items.find((pair) => keyOf(pair) === service) : undefined;
}

function keyOf(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading mounts back

/** Normalised targets of the service's volumes (short `src:dst[:mode]` or long syntax). */
export function composeServiceTargets(text: string, service: string, file = "docker-compose.yml"): string[] {
  const map = serviceMap(parseComposeDocument(text, file), service, file);
  const volumes = map.items.find((pair) => keyOf(pair) === "volumes")?.value;
  if (!isSeq(volumes)) return [];
  return volumes.items.map(volumeTarget).filter((target): target is string => target !== undefined);
}

function volumeTarget(item: unknown): string | undefined {
  if (isScalar(item) && typeof item.value === "string") {
    const parts = splitShortVolume(item.value);
    const target = parts.length === 1 ? parts[0] : parts[1];
    return target ? normaliseTarget(target) : undefined;
  }
  if (isMap(item)) {
    const target = item.get("target");
    return typeof target === "string" ? normaliseTarget(target) : undefined;
  }
  return undefined;
}

/** Every service's bind sources as written (short `src:dst` or long `source:`); a file that does not parse gives none. */
export function composeVolumeSources(text: string, file: string): Array<{ service: string; source: string }> {
  let doc: Document;
  try {
    doc = parseComposeDocument(text, file);
  } catch {
    return []; // dev-open's own reading names the error.
  }
  const services = isMap(doc.contents) ? doc.contents.get("services") : undefined;
  if (!isMap(services)) return [];
  return services.items.flatMap((pair) => {
    const volumes = isMap(pair.value) ? pair.value.get("volumes") : undefined;
    if (!isSeq(volumes)) return [];
    return volumes.items.flatMap((item) => {
      const parts = isScalar(item) && typeof item.value === "string" ? splitShortVolume(item.value) : [];
      const source = isMap(item) ? item.get("source") : parts.length > 1 ? parts[0] : undefined;
      return typeof source === "string" ? [{ service: keyOf(pair) ?? "?", source }] : [];
    });
  });
}

/** `${HOME:-/x}/a:/b:ro` → [`${HOME:-/x}/a`, `/b`, `ro`]: colons inside `${…}` do not split. */
export function splitShortVolume(volume: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (let i = 0; i < volume.length; i++) {
    const char = volume[i];
    if (char === "$" && volume[i + 1] === "{") depth++;
    else if (char === "}" && depth > 0) depth--;
    if (char === ":" && depth === 0) {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  return parts;
}

function isPackVolume(item: unknown): boolean {
  if (!isMap(item)) return false;
  const keys = item.items.map(keyOf);
  if (!keys.every((key) => key === "type" || key === "source" || key === "target" || key === "read_only")) return false;
  const source = item.get("source");
  const target = item.get("target");
  if (item.get("type") !== "bind" || typeof source !== "string" || typeof target !== "string") return false;
  return SHARED_ENTRIES.some(
    (entry) =>
      source.endsWith(`/${entry.name}`) &&
      target.endsWith(`/.claude/${entry.name}`) &&
      (item.get("read_only") === true) === (entry.access === "read-only"),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// ensureComposeMounts

export type ComposeEnsureOptions = {
  readonly file?: string;
  /** Targets mounted elsewhere (devcontainer.json `mounts`, other compose files): never mounted twice. */
  readonly alreadyMounted?: readonly string[];
};

/** Adds the plan's mounts to `service` in a compose file's text, in long syntax, after its existing volumes. */
export function ensureComposeMounts(
  text: string,
  service: string,
  plan: PersistencePlan,
  options: ComposeEnsureOptions = {},
): EditResult {
  const file = options.file ?? "docker-compose.yml";
  const map = serviceMap(parseComposeDocument(text, file), service, file);
  const volumesPair = map.items.find((pair) => keyOf(pair) === "volumes");
  const volumes = volumesPair?.value;
  const existing = isSeq(volumes) ? volumes.items : [];
  const mounted = new Set([...(options.alreadyMounted ?? []).map(normaliseTarget), ...existing.map(volumeTarget)]);
  const added: string[] = [];
  const skipped: Skipped[] = [...plan.skipped];
  const lines: string[][] = [];
  for (const mount of plan.mounts) {
    const target = normaliseTarget(mount.target);
    if (mounted.has(target)) {
      const ours = existing.some((item) => volumeTarget(item) === target && isPackVolume(item));
      if (!ours) skipped.push({ name: mount.name, reason: `${mount.target} is already mounted` });
      continue;
    }
    added.push(mount.name);
    lines.push(volumeLines(mount.composeSource, mount.target, mount.readonly));
  }
  if (lines.length === 0) return { text, added, skipped, changed: false };
  const { point, block } = volumesInsertion(text, map, volumesPair, lines, file, service);
  const eol = detectLayout(text).eol;
  const result = text.slice(0, point) + block.map((line) => eol + line).join("") + text.slice(point);
  parseComposeDocument(result, `${file} (as edited)`);
  return { text: result, added, skipped, changed: true };
}

function serviceMap(doc: Document, service: string, file: string): YAMLMap {
  const pair = findService(doc, service);
  if (!pair) throw new UserError(`${file}: no service "${service}" under services.`);
  if (!isMap(pair.value) || pair.value.flow) {
    throw new UserError(`${file}: service "${service}" is not a block mapping; add the mounts by hand.`);
  }
  return pair.value;
}

function volumeLines(source: string, target: string, readonly: boolean): string[] {
  const lines = ["- type: bind", `  source: ${yamlScalar(source)}`, `  target: ${yamlScalar(target)}`];
  if (readonly) lines.push("  read_only: true");
  return lines;
}

function yamlScalar(value: string): string {
  return /^[A-Za-z0-9_./~+${}-]+$/.test(value) && !/^[-~]/.test(value) ? value : JSON.stringify(value);
}

/** Where the new items go and the lines to insert there (each line will be preceded by a line break). */
function volumesInsertion(
  text: string,
  map: YAMLMap,
  volumesPair: Pair | undefined,
  items: string[][],
  file: string,
  service: string,
): { point: number; block: string[] } {
  const volumes = volumesPair?.value;
  if (isSeq(volumes) && !volumes.flow && volumes.items.length > 0) {
    const indent = dashIndent(text, volumes);
    return { point: lastLineEnd(text, volumes.items.at(-1)), block: markedLines(indent, items) };
  }
  if (volumesPair && isScalar(volumes) && volumes.value === null) {
    const indent = `${columnIndent(text, volumesPair.key)}  `;
    return { point: lastLineEnd(text, volumesPair.key), block: markedLines(indent, items) };
  }
  if (volumesPair)
    throw new UserError(`${file}: volumes of service "${service}" is not a block list; add the mounts by hand.`);
  if (map.items.some((pair) => keyOf(pair) === "<<")) {
    throw new UserError(
      `${file}: service "${service}" uses a merge key (<<); adding volumes there would replace the merged ones. Add the mounts by hand.`,
    );
  }
  const first = map.items[0];
  const last = map.items.at(-1);
  if (!first || !last) throw new UserError(`${file}: service "${service}" is empty; add the mounts by hand.`);
  const keyIndent = columnIndent(text, first.key);
  const itemLines = items.flat().map((line) => `${keyIndent}  ${line}`);
  return {
    point: lastLineEnd(text, last.value ?? last.key),
    block: [keyIndent + YAML_MARKER, `${keyIndent}volumes:`, ...itemLines],
  };
}

function markedLines(indent: string, items: string[][]): string[] {
  return [indent + YAML_MARKER, ...items.flat().map((line) => indent + line)];
}

function rangeOf(node: unknown): [number, number, number] | undefined {
  const range = (node as YamlNode | null | undefined)?.range;
  return range ?? undefined;
}

/** The end (before the line break) of the last line a node's value occupies. */
function lastLineEnd(text: string, node: unknown): number {
  const range = rangeOf(node);
  if (!range) return text.length;
  let end = range[1];
  while (end > range[0] && (text[end - 1] === "\n" || text[end - 1] === "\r")) end--;
  return lineEndOf(text, end);
}

// YAML takes no file-wide indent unit (text-layout.ts): a new item goes at its siblings' column, or it nests.
/** The spaces before the `-` of a block sequence's items. */
function dashIndent(text: string, seq: YAMLSeq): string {
  const start = rangeOf(seq.items[0])?.[0] ?? rangeOf(seq)?.[0] ?? 0;
  const line = text.slice(lineStartOf(text, start), start);
  const dash = line.indexOf("-");
  return " ".repeat(dash === -1 ? line.length : dash);
}

function columnIndent(text: string, node: unknown): string {
  const start = rangeOf(node)?.[0] ?? 0;
  return " ".repeat(start - lineStartOf(text, start));
}

// ---------------------------------------------------------------------------------------------------------------
// removeComposeMounts

/** Takes out exactly the volumes ensureComposeMounts added (for every service); every other byte stays. */
export function removeComposeMounts(text: string, options: { file?: string } = {}): RemoveResult {
  const file = options.file ?? "docker-compose.yml";
  const doc = parseComposeDocument(text, file);
  const ranges: [number, number][] = [];
  const removed: string[] = [];
  for (const marker of markerOffsets(text)) {
    const next = nextLineStart(text, marker);
    for (const volumes of allServiceVolumes(doc)) {
      const range = markedRange(text, marker, next, volumes);
      if (!range) continue;
      ranges.push(range.range);
      removed.push(...range.names);
    }
  }
  let result = text;
  for (const [start, end] of ranges.sort((a, b) => b[0] - a[0])) result = result.slice(0, start) + result.slice(end);
  if (result !== text) parseComposeDocument(result, `${file} (as edited)`);
  return { text: result, removed, changed: result !== text };
}

function markerOffsets(text: string): number[] {
  const offsets: number[] = [];
  for (let start = 0; start < text.length; start = nextLineStart(text, start)) {
    const line = text.slice(start, lineEndOf(text, start));
    if (YAML_MARKER_LINE.test(line)) offsets.push(start + line.indexOf("#"));
    if (lineEndOf(text, start) >= text.length) break;
  }
  return offsets;
}

function nextLineStart(text: string, offset: number): number {
  const newline = text.indexOf("\n", offset);
  return newline === -1 ? text.length : newline + 1;
}

function allServiceVolumes(doc: Document): Pair[] {
  const services = isMap(doc.contents)
    ? doc.contents.items.find((pair) => keyOf(pair) === "services")?.value
    : undefined;
  if (!isMap(services)) return [];
  return services.items.flatMap((service) =>
    isMap(service.value) ? service.value.items.filter((pair) => keyOf(pair) === "volumes") : [],
  );
}

/** The bytes a marker at `marker` introduced in this `volumes` pair: a whole new key, or a run of items. */
function markedRange(
  text: string,
  marker: number,
  next: number,
  volumes: Pair,
): { range: [number, number]; names: string[] } | undefined {
  const items = isSeq(volumes.value) ? volumes.value.items : [];
  const keyLine = lineStartOf(text, rangeOf(volumes.key)?.[0] ?? -1);
  const startsAtKey = keyLine === next;
  const first = startsAtKey ? 0 : items.findIndex((item) => lineStartOf(text, rangeOf(item)?.[0] ?? -1) === next);
  if (first === -1) return undefined;
  let end = first;
  while (end < items.length && isPackVolume(items[end])) end++;
  if (end === first || (startsAtKey && end !== items.length)) return undefined;
  const names = items
    .slice(first, end)
    .map((item) => String(isMap(item) ? item.get("target") : ""))
    .map((target) => path.posix.basename(target));
  return { range: [blockLineStart(text, marker), lastLineEnd(text, items[end - 1])], names };
}
