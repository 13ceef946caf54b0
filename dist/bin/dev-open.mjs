#!/usr/bin/env node
// The same as ./dev-open.cjs, which the slash commands and the `claude-persist` command run.
import { createRequire } from "node:module";
createRequire(import.meta.url)("./dev-open.cjs");
