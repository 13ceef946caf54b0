// A repo's dev container config: where it is, what it says, and the text primitives that edit it in place.
// Edits are computed from jsonc-parser's parse tree and applied with `applyEdits`: only the bytes that must change
// change. (jsonc-parser's `modify` re-formats every line an edit touches, which rewrites the user's neighbouring
// lines, e.g. `"mounts": [ "…" ],` on one line, and makes an exact undo impossible.)
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import {
  createScanner,
  getNodePath,
  type Edit,
  type Node,
  type ParseError,
} from "jsonc-parser";
import * as z from "zod";
import { UserError } from "../errors.ts";
import { repoRoot } from "../work/git.ts";
import { describeParseError, jsoncSyntaxError, parseJsoncTree, refuseDuplicateKeys } from "../jsonc.ts";
import { isNotFound, readBoundedText } from "../fs.ts";

// ---------------------------------------------------------------------------------------------------------------
// Finding the repo and its config

/** The git root of `dir`, or `dir` itself when it is not inside a git work tree (or git is missing). */
export async function findRepoRoot(dir: string): Promise<string> {
  return repoRoot(dir).catch(() => path.resolve(dir));
}

/** Every dev container config under `root`, in the devcontainers CLI's order of preference. */
export function listDevcontainerConfigs(root: string): string[] {
  const found = [path.join(root, ".devcontainer", "devcontainer.json"), path.join(root, ".devcontainer.json")].filter(
    isFile,
  );
  for (const name of subfolderNames(path.join(root, ".devcontainer"))) {
    const candidate = path.join(root, ".devcontainer", name, "devcontainer.json");
    if (isFile(candidate)) found.push(candidate);
  }
  return found;
}

export type FindConfigOptions = {
  /** `--config`: wins over the search; relative to `cwd`. */
  readonly config?: string;
  readonly cwd?: string;
};

/** The one config `/dev-open` works on; a UserError that says what to do when there are none or several. */
export function findDevcontainerConfig(root: string, options: FindConfigOptions = {}): string {
  if (options.config) return explicitConfig(options.config, options.cwd ?? root);
  const found = listDevcontainerConfigs(root);
  const [only] = found;
  if (found.length === 1 && only) return only;
  if (found.length === 0) {
    throw new UserError(
      `No dev container config in ${root} (looked for .devcontainer/devcontainer.json, .devcontainer.json and ` +
        ".devcontainer/<name>/devcontainer.json). Run `dev-open --init` to write a minimal one.",
    );
  }
  const listed = found.map((file) => path.relative(root, file)).join(", ");
  throw new UserError(`Several dev container configs in ${root}: ${listed}. Pick one with --config <path>.`);
}

function explicitConfig(config: string, cwd: string): string {
  const file = path.resolve(cwd, config);
  if (!isFile(file)) throw new UserError(`--config ${config}: no such file (${file}).`);
  return file;
}

export const INITIAL_IMAGE = "mcr.microsoft.com/devcontainers/base:bookworm";
export const NODE_FEATURE = "ghcr.io/devcontainers/features/node:1";
export const CLAUDE_CODE_FEATURE = "ghcr.io/anthropics/devcontainer-features/claude-code:1";

/** The text of the minimal config `dev-open --init` writes. */
export function initialConfigText(name: string): string {
  return [
    "// Written by `dev-open --init` (claude-persist). Reference: https://containers.dev/implementors/json_reference/",
    "{",
    `\t"name": ${JSON.stringify(name)},`,
    "\t// Debian bookworm with a non-root `vscode` user that has sudo.",
    `\t"image": ${JSON.stringify(INITIAL_IMAGE)},`,
    '\t"features": {',
    "\t\t// The Claude Code feature installs with npm: it needs Node.js.",
    `\t\t${JSON.stringify(NODE_FEATURE)}: {},`,
    `\t\t${JSON.stringify(CLAUDE_CODE_FEATURE)}: {}`,
    "\t},",
    '\t"remoteUser": "vscode"',
    "}",
    "",
  ].join("\n");
}

/** The minimal config `dev-open --init` writes, planned in memory; refuses when the repo already has any config. */
export function planInitialConfig(root: string): { readonly file: string; readonly text: string } {
  const existing = listDevcontainerConfigs(root);
  if (existing.length > 0) {
    const listed = existing.map((file) => path.relative(root, file)).join(", ");
    throw new UserError(`${root} already has a dev container config (${listed}); not overwriting it.`);
  }
  return { file: path.join(root, ".devcontainer", "devcontainer.json"), text: initialConfigText(path.basename(path.resolve(root))) };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the config

const lifecycleCommandSchema = z.union([
  z.string(),
  z.array(z.string()),
  z.record(z.string(), z.union([z.string(), z.array(z.string())])),
]);

const mountObjectSchema = z.looseObject({
  type: z.string().optional(),
  source: z.string().optional(),
  target: z.string().optional(),
});

/** The fields the pack reads; everything else is kept as it is. */
export const devcontainerConfigSchema = z.looseObject({
  image: z.string().optional(),
  build: z.looseObject({}).optional(),
  dockerComposeFile: z.union([z.string(), z.array(z.string())]).optional(),
  service: z.string().optional(),
  workspaceFolder: z.string().optional(),
  remoteUser: z.string().optional(),
  containerUser: z.string().optional(),
  mounts: z.array(z.union([z.string(), mountObjectSchema])).optional(),
  containerEnv: z.record(z.string(), z.string()).optional(),
  remoteEnv: z.record(z.string(), z.string().nullable()).optional(),
  runArgs: z.array(z.string()).optional(),
  updateRemoteUserUID: z.boolean().optional(),
  initializeCommand: lifecycleCommandSchema.optional(),
  onCreateCommand: lifecycleCommandSchema.optional(),
  postCreateCommand: lifecycleCommandSchema.optional(),
  postStartCommand: lifecycleCommandSchema.optional(),
});

export type DevcontainerConfig = z.infer<typeof devcontainerConfigSchema>;
export type MountObject = z.infer<typeof mountObjectSchema>;

export type ParsedConfig = {
  readonly tree: Node;
  readonly config: DevcontainerConfig;
};

/** Parses JSONC text (comments and trailing commas allowed) into a tree whose root is an object. */
export function parseJsoncObject(text: string, file: string): Node {
  const errors: ParseError[] = [];
  const tree = parseJsoncTree(text, errors);
  const [first] = errors;
  if (first) throw jsoncSyntaxError(text, file, first.offset, describeParseError(first.error));
  if (!tree || tree.type !== "object") throw jsoncSyntaxError(text, file, tree?.offset ?? 0, "the top level is not an object");
  refuseDuplicateKeys(text, file, tree);
  return tree;
}

/** Parses and checks a devcontainer.json text; UserErrors name the file, and line:col for syntax errors. */
export function parseDevcontainerConfig(text: string, file: string): ParsedConfig {
  const tree = parseJsoncObject(text, file);
  const parsed = devcontainerConfigSchema.safeParse(nodeValue(tree));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "(top level)";
    throw new UserError(`${file}: ${where}: ${issue?.message ?? "invalid"}`);
  }
  return { tree, config: parsed.data };
}

export function readDevcontainerConfig(file: string): ParsedConfig & { readonly text: string } {
  const text = readBoundedText(file);
  if (text === undefined) throw new UserError(`${file} does not exist`);
  return { text, ...parseDevcontainerConfig(text, file) };
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The plain value of a tree node (jsonc-parser's getNodeValue, typed). */
export function nodeValue(node: Node): JsonValue {
  switch (node.type) {
    case "object": {
      const result: { [key: string]: JsonValue } = {};
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        if (key && value && typeof key.value === "string") result[key.value] = nodeValue(value);
      }
      return result;
    }
    case "array":
      return (node.children ?? []).map(nodeValue);
    case "string":
      return String(node.value);
    case "number":
      return Number(node.value);
    case "boolean":
      return Boolean(node.value);
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Text layout: what a file uses, so that inserted text looks like its neighbours

export type TextLayout = {
  /** One level of indentation: a tab, or N spaces. */
  readonly indentUnit: string;
  readonly eol: "\n" | "\r\n";
};

export function detectLayout(text: string): TextLayout {
  const crlf = text.split("\r\n").length - 1;
  const lf = text.split("\n").length - 1 - crlf;
  return { indentUnit: detectIndentUnit(text), eol: crlf > lf ? "\r\n" : "\n" };
}

function detectIndentUnit(text: string): string {
  let tabs = 0;
  let spaced = 0;
  let smallest = Number.POSITIVE_INFINITY;
  for (const line of text.split(/\r?\n/)) {
    const indent = /^[ \t]+(?=["'}\]\w-])/.exec(line)?.[0];
    if (!indent) continue;
    if (indent.startsWith("\t")) tabs++;
    else {
      spaced++;
      smallest = Math.min(smallest, indent.length);
    }
  }
  if (tabs >= spaced && tabs > 0) return "\t";
  return " ".repeat(Number.isFinite(smallest) ? smallest : 2);
}

export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** Offset of the line break (`\r\n` or `\n`) that ends the line holding `offset`, or the text's length. */
export function lineEndOf(text: string, offset: number): number {
  const newline = text.indexOf("\n", offset);
  if (newline === -1) return text.length;
  return newline > 0 && text[newline - 1] === "\r" ? newline - 1 : newline;
}

/** The whitespace that starts the line holding `offset`. */
export function lineIndentAt(text: string, offset: number): string {
  const start = lineStartOf(text, offset);
  return /^[ \t]*/.exec(text.slice(start, offset))?.[0] ?? "";
}

export function isFirstOnLine(text: string, offset: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStartOf(text, offset), offset));
}

/** Where a block that starts on its own line at `offset` really begins: before its indentation and line break. */
export function blockLineStart(text: string, offset: number): number {
  if (!isFirstOnLine(text, offset)) return offset;
  let start = lineStartOf(text, offset);
  if (start > 0 && text[start - 1] === "\n") start--;
  if (start > 0 && text[start - 1] === "\r") start--;
  return start;
}

// jsonc-parser's SyntaxKind is a const enum, which `verbatimModuleSyntax` cannot import: its values, by name.
const SyntaxKind = {
  CommaToken: 5,
  LineCommentTrivia: 12,
  BlockCommentTrivia: 13,
  LineBreakTrivia: 14,
  Trivia: 15,
  EOF: 17,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// JSONC block edits: append entries at the end of an object or array, and take them out again, byte for byte

/** One entry to append: an array element or an object property, or a comment line. */
export type BlockEntry =
  | { readonly kind: "value"; readonly value: JsonValue }
  | { readonly kind: "property"; readonly key: string; readonly value: JsonValue }
  | { readonly kind: "comment"; readonly text: string };

/** Pretty JSON for `value`, laid out for a line that starts with `indent`. */
export function formatJson(value: JsonValue, indent: string, layout: TextLayout): string {
  const inner = indent + layout.indentUnit;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((item) => layout.eol + inner + formatJson(item, inner, layout));
    return `[${items.join(",")}${layout.eol}${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    const items = entries.map(([key, item]) => `${layout.eol}${inner}${JSON.stringify(key)}: ${formatJson(item, inner, layout)}`);
    return `{${items.join(",")}${layout.eol}${indent}}`;
  }
  return JSON.stringify(value);
}

/**
 * Edits that append `entries` after the last child of `container` (an object or array node), each on its own line,
 * indented like the last child. Comments and whitespace that follow the last child on its line stay with it.
 * A container written with a trailing comma keeps one; otherwise a comma is added right after the last child.
 */
export function appendEntries(text: string, container: Node, entries: readonly BlockEntry[], layout: TextLayout): Edit[] {
  const children = container.children ?? [];
  const last = children.at(-1);
  const indent =
    last && isFirstOnLine(text, last.offset)
      ? lineIndentAt(text, last.offset)
      : lineIndentAt(text, container.offset) + layout.indentUnit;
  const after = last ? last.offset + last.length : container.offset + 1;
  const commaEnd = last ? trailingCommaEnd(text, after) : undefined;
  const point = insertionPoint(text, commaEnd ?? after);
  const trailing = commaEnd !== undefined;
  const values = entries.filter((entry) => entry.kind !== "comment").length;
  let seen = 0;
  const lines = entries.map((entry) => {
    if (entry.kind === "comment") return layout.eol + indent + entry.text;
    seen++;
    const comma = seen < values || trailing ? "," : "";
    return layout.eol + indent + formatEntry(entry, indent, layout) + comma;
  });
  const block = lines.join("");
  const needsComma = last !== undefined && !trailing;
  if (needsComma && point === after) return [{ offset: after, length: 0, content: `,${block}` }];
  const edits: Edit[] = [{ offset: point, length: 0, content: block }];
  if (needsComma) edits.push({ offset: after, length: 0, content: "," });
  return edits;
}

function formatEntry(entry: Exclude<BlockEntry, { kind: "comment" }>, indent: string, layout: TextLayout): string {
  const value = formatJson(entry.value, indent, layout);
  return entry.kind === "property" ? `${JSON.stringify(entry.key)}: ${value}` : value;
}

/** The end of the comma that follows `offset` (past whitespace and comments), if the next token is a comma. */
function trailingCommaEnd(text: string, offset: number): number | undefined {
  const scanner = createScanner(text, false);
  scanner.setPosition(offset);
  for (let token = scanner.scan(); token !== SyntaxKind.EOF; token = scanner.scan()) {
    if (isTrivia(token)) continue;
    return token === SyntaxKind.CommaToken ? scanner.getTokenOffset() + scanner.getTokenLength() : undefined;
  }
  return undefined;
}

/** Where a new line goes after `offset`: past spaces and comments on the same line, before its line break. */
function insertionPoint(text: string, offset: number): number {
  const scanner = createScanner(text, false);
  scanner.setPosition(offset);
  for (let token = scanner.scan(); token !== SyntaxKind.EOF; token = scanner.scan()) {
    if (token === SyntaxKind.LineBreakTrivia) return scanner.getTokenOffset();
    if (token === SyntaxKind.Trivia || token === SyntaxKind.LineCommentTrivia) continue;
    if (token === SyntaxKind.BlockCommentTrivia && !/[\r\n]/.test(text.substr(scanner.getTokenOffset(), scanner.getTokenLength()))) continue;
    return offset;
  }
  return text.length;
}

function isTrivia(token: number): boolean {
  return (
    token === SyntaxKind.Trivia ||
    token === SyntaxKind.LineBreakTrivia ||
    token === SyntaxKind.LineCommentTrivia ||
    token === SyntaxKind.BlockCommentTrivia
  );
}

/**
 * Edits that take out a block `appendEntries` added: from the line break before `firstOffset` (its comment line
 * or first entry) to the end of `lastChild`, and the comma it added after `previous` when it added one.
 */
export function removeEntries(text: string, firstOffset: number, lastChild: Node, previous: Node | undefined): Edit[] {
  const start = blockLineStart(text, firstOffset);
  let end = lastChild.offset + lastChild.length;
  const trailing = text[end] === ",";
  if (trailing) end++;
  const edits: Edit[] = [{ offset: start, length: end - start, content: "" }];
  const previousEnd = previous ? previous.offset + previous.length : undefined;
  if (!trailing && previousEnd !== undefined && text[previousEnd] === ",") {
    if (previousEnd + 1 === start) return [{ offset: previousEnd, length: end - previousEnd, content: "" }];
    edits.push({ offset: previousEnd, length: 1, content: "" });
  }
  return edits;
}

/** Line comments in `text` (offset and text), in order. */
export function lineComments(text: string): { offset: number; text: string }[] {
  const scanner = createScanner(text, false);
  const comments: { offset: number; text: string }[] = [];
  for (let token = scanner.scan(); token !== SyntaxKind.EOF; token = scanner.scan()) {
    if (token === SyntaxKind.LineCommentTrivia) {
      comments.push({ offset: scanner.getTokenOffset(), text: text.substr(scanner.getTokenOffset(), scanner.getTokenLength()) });
    }
  }
  return comments;
}

/** The deepest object or array node whose brackets enclose `offset`. */
export function innermostContainer(node: Node, offset: number): Node {
  for (const child of node.children ?? []) {
    const candidate = child.type === "property" ? child.children?.[1] : child;
    if (!candidate || (candidate.type !== "object" && candidate.type !== "array")) continue;
    if (candidate.offset < offset && offset < candidate.offset + candidate.length) return innermostContainer(candidate, offset);
  }
  return node;
}

export function pathOf(node: Node): (string | number)[] {
  return getNodePath(node);
}

/** Drops edits that lie inside another edit's range (a nested block removed together with its parent). */
export function outermostEdits(edits: readonly Edit[]): Edit[] {
  return edits.filter(
    (edit, index) =>
      !edits.some(
        (other, otherIndex) =>
          otherIndex !== index &&
          other.length > 0 &&
          other.offset <= edit.offset &&
          edit.offset + edit.length <= other.offset + other.length &&
          (other.length > edit.length || otherIndex < index),
      ),
  );
}

// ---------------------------------------------------------------------------------------------------------------

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function subfolderNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
