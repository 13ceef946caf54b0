#!/usr/bin/env node
// The same as ./start-work.cjs, which the slash commands and the `claude-persist` command run.
import { createRequire } from "node:module";
createRequire(import.meta.url)("./start-work.cjs");
