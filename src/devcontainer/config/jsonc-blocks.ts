// JSONC block edits: append entries at the end of an object or array, and take them out again, byte for byte.
// Edits are computed from jsonc-parser's parse tree and applied with `applyEdits`: only the bytes that must change
// change. (jsonc-parser's `modify` re-formats every line an edit touches, which rewrites the user's neighbouring
// lines, e.g. `"mounts": [ "…" ],` on one line, and makes an exact undo impossible.)
import { createScanner, getNodePath, type Edit, type Node } from "jsonc-parser";
import { blockLineStart, isFirstOnLine, lineIndentAt, type TextLayout } from "../../text-layout.ts";
import type { JsonValue } from "./config.ts";

// jsonc-parser's SyntaxKind is a const enum, which `verbatimModuleSyntax` cannot import: its values, by name.
const SyntaxKind = {
  CommaToken: 5,
  LineCommentTrivia: 12,
  BlockCommentTrivia: 13,
  LineBreakTrivia: 14,
  Trivia: 15,
  EOF: 17,
} as const;

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
    const items = entries.map(
      ([key, item]) => `${layout.eol}${inner}${JSON.stringify(key)}: ${formatJson(item, inner, layout)}`,
    );
    return `{${items.join(",")}${layout.eol}${indent}}`;
  }
  return JSON.stringify(value);
}

/**
 * Edits that append `entries` after the last child of `container` (an object or array node), each on its own line,
 * indented like the last child. Comments and whitespace that follow the last child on its line stay with it.
 * A container written with a trailing comma keeps one; otherwise a comma is added right after the last child.
 */
export function appendEntries(
  text: string,
  container: Node,
  entries: readonly BlockEntry[],
  layout: TextLayout,
): Edit[] {
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
    const tokenText = text.substr(scanner.getTokenOffset(), scanner.getTokenLength());
    if (token === SyntaxKind.BlockCommentTrivia && !/[\r\n]/.test(tokenText)) continue;
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
      const offset = scanner.getTokenOffset();
      comments.push({ offset, text: text.substr(offset, scanner.getTokenLength()) });
    }
  }
  return comments;
}

/** The deepest object or array node whose brackets enclose `offset`. */
export function innermostContainer(node: Node, offset: number): Node {
  for (const child of node.children ?? []) {
    const candidate = child.type === "property" ? child.children?.[1] : child;
    if (!candidate || (candidate.type !== "object" && candidate.type !== "array")) continue;
    if (candidate.offset < offset && offset < candidate.offset + candidate.length) {
      return innermostContainer(candidate, offset);
    }
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
