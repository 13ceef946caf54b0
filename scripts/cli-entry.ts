// dist/bin/claude-persist.cjs (and dev-open.cjs, start-work.cjs, which name their command first): runs the bundle of
// the command asked for (scripts/build.ts), so that each command loads only its own modules, from V8's code cache.
import path from "node:path";
import { runBundle } from "../src/code-cache.ts";

/** Each command's bundle, by command name (defined by the build). */
declare const CLI_BUNDLES: Record<string, string>;
/** The command this entry point runs (dev-open.mjs, start-work.mjs), defined by the build; "" for claude-persist. */
declare const CLI_COMMAND: string;

if (CLI_COMMAND) process.argv.splice(2, 0, CLI_COMMAND);
// `help sessions` is `sessions --help`: the command's own bundle holds its help.
const asked = process.argv[3];
if (process.argv[2] === "help" && asked !== undefined && Object.hasOwn(CLI_BUNDLES, asked)) {
  process.argv.splice(2, 2, asked, "--help");
}
const name = process.argv[2] ?? "";
const bundle = Object.hasOwn(CLI_BUNDLES, name) ? CLI_BUNDLES[name] : "cli";
// A CommonJS file (scripts/build.ts): its own folder is __dirname, with no URL made and parsed at each start.
runBundle(path.join(__dirname, "lib", `${bundle}.cjs`));
