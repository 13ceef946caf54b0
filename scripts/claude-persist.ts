// `claude-persist`: the command-line entry point (bundled to dist/bin/claude-persist.mjs).
import module from "node:module";

// Node 22.1 and later keep the compiled code of the modules loaded after this in a cache on disk (in the OS temp
// folder, or NODE_COMPILE_CACHE); Node 20 has no such API and compiles them each time, as before.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { exitQuietlyOnClosedPipe, runCli } = await import("../src/cli.ts");

exitQuietlyOnClosedPipe();
process.exitCode = await runCli(process.argv.slice(2));
