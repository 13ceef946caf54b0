// Editing JSON-with-comments files in place: parse with positions, edit with jsonc-parser, never re-serialise.
import {
  applyEdits,
  createScanner,
  findNodeAtLocation,
  getNodeValue,
  parseTree,
  type FormattingOptions,
  modify,
  parse,
  type JSONPath,
  type Node,
  type ParseError,
  type ParseErrorCode,
  printParseErrorCode,
} from "jsonc-parser";
import { UserError } from "./errors.ts";
import { detectLayout } from "./text-layout.ts";

/**
 * The text jsonc-parser reads. A byte order mark is not JSON: a space of the same length keeps every offset
 * valid, so edits computed on this text apply to the file's own bytes and the mark stays.
 */
function withoutBom(text: string): string {
  return text.startsWith("\uFEFF") ? ` ${text.slice(1)}` : text;
}

/**
 * Parses JSONC (comments and trailing commas allowed); a syntax error, or a key given twice in one object, becomes
 * `file:line:col: reason`.
 */
export function parseJsonc(text: string, file: string): unknown {
  refuseDeepNesting(text, file);
  const errors: ParseError[] = [];
  const tree = parseJsoncTree(text, errors);
  const first = errors[0];
  if (first) throw jsoncSyntaxError(text, file, first.offset, describeParseError(first.error));
  refuseDuplicateKeys(text, file, tree);
  return tree ? getNodeValue(tree) : undefined;
}

/**
 * A key given twice in one object: readers take one copy and an edit may land in the other, so that it never takes
 * effect. Refused, naming the key and where it repeats.
 */
export function refuseDuplicateKeys(text: string, file: string, tree: Node | undefined): void {
  const repeated = firstRepeatedKey(tree);
  if (!repeated) return;
  const { line } = lineAndColumn(text, repeated.first.offset);
  const reason = `the key ${JSON.stringify(repeated.again.value)} appears twice in one object (first on line ${line}), and only one copy takes effect: merge them into one`;
  throw jsoncSyntaxError(text, file, repeated.again.offset, reason);
}

function firstRepeatedKey(node: Node | undefined): { first: Node; again: Node } | undefined {
  if (!node?.children) return undefined;
  if (node.type === "object") {
    const seen = new Map<unknown, Node>();
    for (const property of node.children) {
      const key = property.children?.[0];
      if (!key) continue;
      const first = seen.get(key.value);
      if (first) return { first, again: key };
      seen.set(key.value, key);
    }
  }
  for (const child of node.children) {
    const found = firstRepeatedKey(child);
    if (found) return found;
  }
  return undefined;
}

/**
 * The value of JSONC text as far as it parses, syntax errors ignored: for reading another program's file, where a
 * broken one means "nothing set there" rather than an error of ours.
 */
export function parseJsoncLoosely(text: string): unknown {
  return parse(withoutBom(text), [], { allowTrailingComma: true });
}

/** jsonc-parser's parse tree of JSONC text (comments and trailing commas allowed), past a byte order mark. */
export function parseJsoncTree(text: string, errors: ParseError[] = []): Node | undefined {
  refuseDeepNesting(text, "the file");
  return parseTree(withoutBom(text), errors, { allowTrailingComma: true, disallowComments: false });
}

/** No settings or config file nests this deep; jsonc-parser recurses once per level and would overflow the stack. */
const MAX_NESTING = 256;
/** jsonc-parser's SyntaxKind (a const enum, which this build cannot import): the tokens that open and close a level. */
const TOKEN = { openBrace: 1, closeBrace: 2, openBracket: 3, closeBracket: 4, end: 17 } as const;

/** Refuses text nested deeper than MAX_NESTING, found in one pass of the scanner (strings and comments skipped). */
function refuseDeepNesting(text: string, file: string): void {
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let kind: number = scanner.scan(); kind !== TOKEN.end; kind = scanner.scan()) {
    if (kind === TOKEN.openBrace || kind === TOKEN.openBracket) {
      if (++depth > MAX_NESTING)
        throw jsoncSyntaxError(text, file, scanner.getTokenOffset(), `nested deeper than ${MAX_NESTING} levels`);
    } else if (kind === TOKEN.closeBrace || kind === TOKEN.closeBracket) {
      depth = Math.max(0, depth - 1);
    }
  }
}

/** The one way a JSONC syntax error reads: `file:line:col: reason`, and that nothing was changed. */
export function jsoncSyntaxError(text: string, file: string, offset: number, reason: string): UserError {
  const { line, column } = lineAndColumn(text, offset);
  return new UserError(`${file}:${line}:${column}: ${reason}; fix the file and run again (nothing was changed)`);
}

/** 1-based line and column of `offset` (columns count UTF-16 units, as editors do). */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - (before.lastIndexOf("\n") + 1) + 1 };
}

export function describeParseError(error: ParseErrorCode): string {
  const names: Record<string, string> = {
    InvalidSymbol: "unexpected character",
    InvalidNumberFormat: "invalid number",
    PropertyNameExpected: "a property name was expected",
    ValueExpected: "a value was expected",
    ColonExpected: "':' was expected",
    CommaExpected: "',' was expected",
    CloseBraceExpected: "'}' was expected",
    CloseBracketExpected: "']' was expected",
    EndOfFileExpected: "unexpected content after the end",
    InvalidCommentToken: "invalid comment",
    UnexpectedEndOfComment: "unterminated comment",
    UnexpectedEndOfString: "unterminated string",
    UnexpectedEndOfNumber: "unterminated number",
    InvalidUnicode: "invalid unicode escape",
    InvalidEscapeCharacter: "invalid escape character",
    InvalidCharacter: "invalid character",
  };
  const code = printParseErrorCode(error);
  return `invalid JSON: ${names[code] ?? code}`;
}

/** The file's own indentation and line ending (text-layout.ts), as jsonc-parser's formatting options. */
export function detectFormatting(text: string): FormattingOptions {
  const { indentUnit, eol } = detectLayout(text);
  const insertSpaces = indentUnit !== "\t";
  return { insertSpaces, tabSize: insertSpaces ? indentUnit.length : 1, eol };
}

/** Sets (or, with `undefined`, removes) the value at `path`, touching only the bytes that must change. */
export function editJsonc(text: string, path: JSONPath, value: unknown, options: { insert?: boolean } = {}): string {
  const edits = modify(withoutBom(text), path, value, {
    formattingOptions: detectFormatting(text),
    ...(options.insert ? { isArrayInsertion: true } : {}),
  });
  return applyEdits(text, edits);
}

/**
 * Adds `value` at the end of the array (or, with `key`, the object) at `path`. jsonc-parser's own insertion
 * re-formats the sibling before it; this writes only the new entry, laid out like its last sibling: on a line of
 * its own with the same indentation, or inline when the siblings share a line.
 */
export function appendToJsonc(text: string, path: JSONPath, value: unknown, key?: string): string {
  const container = findNodeAtLocation(parseJsoncTree(text) ?? EMPTY, path);
  const last = container?.type === (key === undefined ? "array" : "object") ? container?.children?.at(-1) : undefined;
  if (!last)
    return editJsonc(text, key === undefined ? [...path, -1] : [...path, key], value, { insert: key === undefined });
  const { eol, insertSpaces, tabSize } = detectFormatting(text);
  const lineStart = text.lastIndexOf("\n", last.offset) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? "";
  const ownLine = lineStart + indent.length === last.offset;
  const rendered = ownLine
    ? JSON.stringify(value, null, insertSpaces ? " ".repeat(tabSize ?? 2) : "\t").replaceAll("\n", `${eol}${indent}`)
    : inlineJson(value);
  const entry = key === undefined ? rendered : `${JSON.stringify(key)}: ${rendered}`;
  const end = last.offset + last.length;
  return `${text.slice(0, end)},${ownLine ? `${eol}${indent}` : " "}${entry}${text.slice(end)}`;
}

/** `value` on one line with a space after each `,` and `:` between entries, and none added inside strings. */
function inlineJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, entry]) => entry !== undefined);
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}: ${inlineJson(entry)}`).join(", ")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Removes the array element or object property at `path` with the separator before it (after it, for the first
 * of several), so that removing what `appendToJsonc` added gives back the original bytes.
 */
export function removeFromJsonc(text: string, path: JSONPath): string {
  const node = findNodeAtLocation(parseJsoncTree(text) ?? EMPTY, path);
  const target = node && typeof path.at(-1) === "string" ? node.parent : node;
  const siblings = target?.parent?.children ?? [];
  const index = target ? siblings.indexOf(target) : -1;
  if (!target || index < 0) return text;
  const before = siblings[index - 1];
  const after = siblings[index + 1];
  if (before) return text.slice(0, before.offset + before.length) + text.slice(target.offset + target.length);
  if (after) return text.slice(0, target.offset) + text.slice(after.offset);
  return editJsonc(text, path, undefined);
}

const EMPTY: Node = { type: "null", offset: 0, length: 0 };
