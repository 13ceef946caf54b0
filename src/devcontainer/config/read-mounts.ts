// Reading mounts back from a devcontainer.json, and recognising the entries and commands the pack wrote there.
import path from "node:path";
import { SHARED_ENTRIES, WORKSPACE_ENV } from "../../claude/shared.ts";
import { parseDevcontainerConfig, type JsonValue, type MountObject } from "./config.ts";
import { COMMAND_TAG, LIFECYCLE_KEY } from "./lifecycle-commands.ts";

/** The target of a mount in string or object form, normalised (`dst`/`destination` count, `/a/b/` = `/a/b`). */
export function mountTarget(mount: string | MountObject): string | undefined {
  const target = typeof mount === "string" ? parseMountString(mount).target : mount.target;
  return target ? normaliseTarget(target) : undefined;
}

export function normaliseTarget(target: string): string {
  const normalised = path.posix.normalize(target.trim());
  return normalised.length > 1 ? normalised.replace(/\/+$/, "") : normalised;
}

/** `type=bind,src=/a,dst=/b,readonly` → `{ type: "bind", source: "/a", target: "/b", readonly: "" }`. */
export function parseMountString(mount: string): Record<string, string> {
  const aliases: Record<string, string> = { src: "source", dst: "target", destination: "target", ro: "readonly" };
  const fields: Record<string, string> = {};
  for (const part of mount.split(",")) {
    const equals = part.indexOf("=");
    const key = (equals === -1 ? part : part.slice(0, equals)).trim();
    if (key) fields[aliases[key] ?? key] = equals === -1 ? "" : part.slice(equals + 1);
  }
  return fields;
}

/** Normalised targets of every mount in a devcontainer.json text. */
export function configMountTargets(text: string, file = "devcontainer.json"): string[] {
  const { config } = parseDevcontainerConfig(text, file);
  return (config.mounts ?? []).map(mountTarget).filter((target): target is string => target !== undefined);
}

/** A mount the pack writes: a bind of `<root>/<entry>` on `<home>/.claude/<entry>`, nothing else. */
export function isPackMount(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const fields = parseMountString(value);
  const keys = Object.keys(fields);
  const known = keys.every((key) => ["source", "target", "type", "readonly"].includes(key));
  if (fields.type !== "bind" || !known) return false;
  return SHARED_ENTRIES.some(
    (entry) =>
      fields.source?.endsWith(`/${entry.name}`) === true &&
      fields.target?.endsWith(`/.claude/${entry.name}`) === true &&
      "readonly" in fields === (entry.access === "read-only"),
  );
}

export function isPackEnvEntry(key: string, value: JsonValue): boolean {
  return value === `\${localEnv:${key}}` || WORKSPACE_ENV[key] === value;
}

export function isPackCommand(value: JsonValue): boolean {
  return typeof value === "string" && value.endsWith(COMMAND_TAG);
}

/** True when a lifecycle command is absent or holds nothing but what the pack added. */
export function isOnlyPackCommand(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value === "string") return isPackCommand(value);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.keys(value).every((key) => key === LIFECYCLE_KEY);
}
