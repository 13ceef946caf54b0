// The body of each CommonJS bundle of the CLI (dist/bin/lib/<module>.cjs): dist/bin/claude-persist.cjs picks the
// bundle that holds the command asked for, and requires it.
import { runCli } from "../src/cli.ts";

void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
