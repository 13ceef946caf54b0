// A repo's dev container config: where it is and what it says. The edits in place are in jsonc-blocks.ts.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { Node, ParseError } from "jsonc-parser";
import * as z from "zod/mini";
import { EXIT, UserError } from "../../errors.ts";
import { once } from "../../once.ts";
import "../../zod-messages.ts";
import { repoRoot } from "../../work/git.ts";
import { describeParseError, jsoncSyntaxError, parseJsoncTree, refuseDuplicateKeys } from "../../jsonc.ts";
import { isNotFound, readBoundedText } from "../../fs.ts";

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
  throw new UserError(
    `Several dev container configs in ${root}: ${listed}. Pick one with --config <path>.`,
    EXIT.usage,
  );
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
  return {
    file: path.join(root, ".devcontainer", "devcontainer.json"),
    text: initialConfigText(path.basename(path.resolve(root))),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the config

/** The fields the pack reads; everything else is kept as it is (built at the first config read, not at start). */
const devcontainerConfigSchema = once(() => {
  const lifecycleCommandSchema = z.union([
    z.string(),
    z.array(z.string()),
    z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  ]);
  const mountObjectSchema = z.looseObject({
    type: z.optional(z.string()),
    source: z.optional(z.string()),
    target: z.optional(z.string()),
  });
  return z.looseObject({
    image: z.optional(z.string()),
    build: z.optional(z.looseObject({})),
    dockerComposeFile: z.optional(z.union([z.string(), z.array(z.string())])),
    service: z.optional(z.string()),
    workspaceFolder: z.optional(z.string()),
    remoteUser: z.optional(z.string()),
    containerUser: z.optional(z.string()),
    mounts: z.optional(z.array(z.union([z.string(), mountObjectSchema]))),
    containerEnv: z.optional(z.record(z.string(), z.string())),
    remoteEnv: z.optional(z.record(z.string(), z.nullable(z.string()))),
    runArgs: z.optional(z.array(z.string())),
    updateRemoteUserUID: z.optional(z.boolean()),
    initializeCommand: z.optional(lifecycleCommandSchema),
    onCreateCommand: z.optional(lifecycleCommandSchema),
    postCreateCommand: z.optional(lifecycleCommandSchema),
    postStartCommand: z.optional(lifecycleCommandSchema),
  });
});

export type DevcontainerConfig = z.infer<ReturnType<typeof devcontainerConfigSchema>>;
export type MountObject = Exclude<NonNullable<DevcontainerConfig["mounts"]>[number], string>;

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
  if (tree?.type !== "object") throw jsoncSyntaxError(text, file, tree?.offset ?? 0, "the top level is not an object");
  refuseDuplicateKeys(text, file, tree);
  return tree;
}

/** Parses and checks a devcontainer.json text; UserErrors name the file, and line:col for syntax errors. */
export function parseDevcontainerConfig(text: string, file: string): ParsedConfig {
  const tree = parseJsoncObject(text, file);
  const parsed = devcontainerConfigSchema().safeParse(nodeValue(tree));
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

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    // Not there, or not reachable: not a config file.
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
