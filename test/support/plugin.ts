// The repository as a Claude Code plugin: a copy of what a clone of it holds, and the real `claude plugin` commands
// that add it as a marketplace and install it.
import { cpSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { PROJECT_ROOT, tempDir } from "./claude.ts";

/** The plugin's folder in the repository, as marketplace.json's `source` names it. */
export const PLUGIN_DIR = path.join("plugins", "persist");

/** The marketplace's name and the plugin's, as in .claude-plugin/marketplace.json and the plugin's plugin.json. */
export const MARKETPLACE = "claude-persist";
export const PLUGIN = "persist";
export const PLUGIN_ID = `${PLUGIN}@${MARKETPLACE}`;

/**
 * Every file git tracks or would commit (so dist/, and not node_modules/), copied to `dest`: what a clone of the
 * repository holds, without the clone. The plugin must work from that alone, since the plugin system runs no build.
 */
export async function pluginCheckout(dest: string = tempDir("cp-plugin-")): Promise<string> {
  const { stdout } = await execa("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: PROJECT_ROOT,
  });
  for (const rel of new Set(stdout.split("\0").filter(Boolean))) {
    const source = path.join(PROJECT_ROOT, rel);
    if (!existsSync(source)) continue; // Deleted in the working tree.
    mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    // Links as git keeps them (the plugin's `dist -> ../../dist`), not re-pointed at this checkout.
    cpSync(source, path.join(dest, rel), { preserveTimestamps: true, verbatimSymlinks: true });
  }
  return dest;
}

/** The two commands a user runs: add the folder as a marketplace, install the plugin from it. */
export const PLUGIN_INSTALL_STEPS = (checkout: string): string[][] => [
  ["plugin", "marketplace", "add", checkout],
  ["plugin", "install", PLUGIN_ID],
];
