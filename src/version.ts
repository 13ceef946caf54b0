// The pack's version, as `--version` and snapshots record it: the build's runtime.json, else the source tree's
// package.json.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The version of the build this runs from (its runtime.json), or of the source tree's package.json. */
export function packVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    for (const file of [path.join(dir, "runtime.json"), path.join(dir, "package.json")]) {
      try {
        const { name, version } = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
        if (name === "claude-persist" && typeof version === "string") return version;
      } catch {
        // Not there, or not ours: look further up.
      }
    }
    if (path.dirname(dir) === dir) return "unknown";
  }
}
