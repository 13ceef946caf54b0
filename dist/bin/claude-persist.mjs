#!/usr/bin/env node
import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import e from"node:module";e.enableCompileCache?.();var{exitQuietlyOnClosedPipe:i,runCli:o}=await import("./lib/cli-RPLAWHIV.mjs");i();process.exitCode=await o(process.argv.slice(2));
