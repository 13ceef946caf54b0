// What the SessionStart hooks' bundles may hold, checked from esbuild's metafile at every build (so `npm test`'s
// `build.ts --check` and the tests' global setup fail on a break): they run at every session start with plain
// `node`, so they stay small and take from node_modules only zod/mini (never full zod) and what the rule names.
import type { Metafile } from "esbuild";

type BundleRule = { readonly maxBytes: number; readonly packages: readonly string[] };

/** By the bundle's path in the runtime. */
export const HOOK_BUNDLE_RULES: Readonly<Record<string, BundleRule>> = {
  "hooks/session-start.cjs": { maxBytes: 40_000, packages: ["zod"] },
  // Reads settings.json (JSONC) to tell whether the settings.json hook ran; the installer is a bundle of its own.
  // 66 kB: the gate (container-tree.ts) that the hook's conflict merge and project link go through adds ~3.5 kB.
  "hooks/plugin-session-start.cjs": { maxBytes: 66_000, packages: ["zod", "jsonc-parser"] },
  // The Stop hook's entry runs at the end of every turn where sync is set up: a stat, then the scan beside it.
  "hooks/stop.cjs": { maxBytes: 4_000, packages: [] },
  "hooks/stop-scan.cjs": { maxBytes: 48_000, packages: ["zod"] },
};

/** Full zod's API (zod/v4/classic, zod v3): the hooks import zod/mini, whose parse costs far less to load. */
const FULL_ZOD = /(^|\/)node_modules\/zod\/(v4\/classic|v3)\//;

/** The package an input file belongs to (`@scope/name` or `name`), or undefined for a file of ours. */
function packageOf(input: string): string | undefined {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  return match?.[1];
}

/** What breaks the rules in one esbuild build's metafile, one line each; an output without a rule is not checked. */
export function hookBundleProblems(metafile: Metafile | undefined): string[] {
  if (metafile === undefined) return ["a hook was built without esbuild's metafile, so its rules went unchecked"];
  const problems: string[] = [];
  for (const [output, { bytes, inputs }] of Object.entries(metafile.outputs)) {
    const name = Object.keys(HOOK_BUNDLE_RULES).find((rel) => output === rel || output.endsWith(`/${rel}`));
    if (name === undefined) continue;
    const rule = HOOK_BUNDLE_RULES[name] as BundleRule;
    if (bytes > rule.maxBytes) problems.push(`${name} is ${bytes} bytes, over its budget of ${rule.maxBytes}`);
    const files = Object.keys(inputs).sort();
    const fullZod = files.find((input) => FULL_ZOD.test(input));
    if (fullZod !== undefined) problems.push(`${name} bundles full zod (${fullZod}): the hooks import zod/mini`);
    const others = new Set(files.map(packageOf).filter((pkg) => pkg !== undefined && !rule.packages.includes(pkg)));
    for (const pkg of others) problems.push(`${name} bundles ${pkg}, which is not one of ${rule.packages.join(", ")}`);
  }
  return problems;
}

/**
 * The CLI's bundles (`bin/lib/<module>.cjs`) are a command's start: no full zod in them either (zod/mini, with
 * src/zod-messages.ts for full zod's messages), one line each for what breaks that.
 */
export function cliBundleProblems(metafile: Metafile | undefined): string[] {
  if (metafile === undefined) return ["a CLI bundle was built without esbuild's metafile, so its rule went unchecked"];
  const problems: string[] = [];
  for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
    const fullZod = Object.keys(inputs)
      .sort()
      .find((input) => FULL_ZOD.test(input));
    const name = output.slice(output.lastIndexOf("bin/lib/"));
    if (fullZod !== undefined) problems.push(`${name} bundles full zod (${fullZod}): commands import zod/mini`);
  }
  return problems;
}
