// `claude-persist`: the command-line entry point (bundled to dist/bin/claude-persist.mjs).
import { runCli } from "../src/cli.ts";

process.exitCode = await runCli(process.argv.slice(2));
