// The pack's version, as `--version` and snapshots record it: the build's runtime.json, else the source tree's
// package.json.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The version of the build this runs from (its runtime.json), or of the source tree's package.json. */
export function packVersion(): string {
  return packIdentity().version;
}

/** What tells this build from any other: its runtime's hash (runtime.json), else its version. */
export function packBuild(): string {
  const { version, sha256 } = packIdentity();
  return sha256 ?? version;
}

function packIdentity(): { version: string; sha256: string | undefined } {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    for (const file of [path.join(dir, "runtime.json"), path.join(dir, "package.json")]) {
      try {
        const { name, version, sha256 } = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
        if (name === "claude-persist" && typeof version === "string") {
          return { version, sha256: typeof sha256 === "string" ? sha256 : undefined };
        }
      } catch {
        // Not there, or not ours: look further up.
      }
    }
    if (path.dirname(dir) === dir) return { version: "unknown", sha256: undefined };
  }
}
