// `dev-open --same-path`: the workspace is mounted at its host path inside the container, so Claude Code
// names its project folder the same on both sides and no mapping is needed.
import { UserError } from "../../errors.ts";
import { appendToJsonc, parseJsonc } from "../../jsonc.ts";

const SAME_PATH = {
  workspaceMount: "source=${localWorkspaceFolder},target=${localWorkspaceFolder},type=bind",
  workspaceFolder: "${localWorkspaceFolder}",
};

/** The config text with workspaceMount/workspaceFolder at the host path; refuses to replace other values. */
export function ensureSamePath(text: string, file: string, composeBased: boolean): string {
  if (composeBased) {
    throw new UserError(
      `${file}: --same-path works with image- and Dockerfile-based configs; for compose, mount the workspace at \${localWorkspaceFolder} in the compose file`,
    );
  }
  const config = parseJsonc(text, file);
  const current = typeof config === "object" && config !== null ? (config as Record<string, unknown>) : {};
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
