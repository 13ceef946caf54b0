#!/usr/bin/env node
process.argv.splice(2, 0, "start-work");
await import("./claude-persist.mjs");
