// `claude-persist`: the command-line entry point (bundled to dist/bin/claude-persist.mjs).
import { exitQuietlyOnClosedPipe, runCli } from "../src/cli.ts";

exitQuietlyOnClosedPipe();
process.exitCode = await runCli(process.argv.slice(2));
