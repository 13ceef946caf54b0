#!/usr/bin/env node
// Requires the bundle of the command asked for (scripts/build.ts): each command loads only its own modules.
import module from "node:module";
// Node 22.1 and later keep compiled code in a cache on disk (in the OS temp folder, or NODE_COMPILE_CACHE).
module.enableCompileCache?.();
const bundles = {"install":"install","uninstall":"install","hook":"hook","sessions":"sessions","dev-open":"dev-open","share":"share","unshare":"share","snapshot":"snapshot","doctor":"doctor","start-work":"start-work","sync":"sync"};
const name = process.argv[2];
module.createRequire(import.meta.url)(`./lib/${Object.hasOwn(bundles, name) ? bundles[name] : "cli"}.cjs`);
