#!/usr/bin/env node
process.argv.splice(2, 0, "dev-open");
await import("./claude-persist.mjs");
