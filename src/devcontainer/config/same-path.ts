// `dev-open --same-path`: the workspace is mounted at its host path inside the container, so Claude Code
// names its project folder the same on both sides and no mapping is needed.
import { UserError } from "../../errors.ts";
import { appendToJsonc, editJsonc, parseJsonc } from "../../jsonc.ts";
import { parseMountString } from "./read-mounts.ts";

const HOST_PATH = "${localWorkspaceFolder}";
const SAME_PATH = {
  workspaceMount: `source=${HOST_PATH},target=${HOST_PATH},type=bind`,
  workspaceFolder: HOST_PATH,
};

/**
 * The config text with workspaceMount/workspaceFolder at the host path. A workspaceMount of the repo's folder
 * (`source=${localWorkspaceFolder}`, as Anthropic's reference config has on /workspace) keeps its options and gets
 * the host path as its target, and the workspaceFolder in it moves along; other values are refused.
 */
export function ensureSamePath(text: string, file: string, composeBased: boolean): string {
  if (composeBased) {
    throw new UserError(
      `${file}: --same-path works with image- and Dockerfile-based configs; for compose, mount the workspace at \${localWorkspaceFolder} in the compose file`,
    );
  }
  const config = parseJsonc(text, file);
  const current = typeof config === "object" && config !== null ? (config as Record<string, unknown>) : {};
  const moved = movedWorkspaceMount(current);
  if (moved) {
    let result = editJsonc(text, ["workspaceMount"], moved.workspaceMount);
    result =
      current.workspaceFolder === undefined
        ? appendToJsonc(result, [], moved.workspaceFolder, "workspaceFolder")
        : editJsonc(result, ["workspaceFolder"], moved.workspaceFolder);
    return result;
  }
  let result = text;
  for (const [key, value] of Object.entries(SAME_PATH)) {
    if (current[key] === value) continue;
    if (current[key] !== undefined) {
      throw new UserError(
        `${file}: "${key}" is already set to ${JSON.stringify(current[key])}; remove it or open without --same-path`,
      );
    }
    result = appendToJsonc(result, [], value, key);
  }
  return result;
}

/** A workspaceMount of the repo's own folder elsewhere, moved to the host path; undefined for anything else. */
function movedWorkspaceMount(
  current: Record<string, unknown>,
): { workspaceMount: string; workspaceFolder: string } | undefined {
  const mount = current.workspaceMount;
  if (typeof mount !== "string" || mount === SAME_PATH.workspaceMount) return undefined;
  const fields = parseMountString(mount);
  const target = fields.target?.replace(/\/+$/, "");
  if (fields.source?.replace(/\/+$/, "") !== HOST_PATH || !target || target === HOST_PATH) return undefined;
  const folder = current.workspaceFolder;
  if (folder !== undefined && typeof folder !== "string") return undefined;
  const inside = folder === undefined || folder === target || folder.startsWith(`${target}/`);
  if (!inside) return undefined;
  const parts = mount.split(",").map((part) => {
    const key = part.slice(0, part.indexOf("=")).trim();
    return ["target", "dst", "destination"].includes(key) ? `${key}=${HOST_PATH}` : part;
  });
  return {
    workspaceMount: parts.join(","),
    workspaceFolder: folder === undefined ? HOST_PATH : `${HOST_PATH}${folder.slice(target.length)}`,
  };
}
