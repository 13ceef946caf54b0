// Entry point of the Stop hook (dist/hooks/stop.cjs), run with `node` at the end of every turn where sync is set up
// (settings.json's command checks for persist-host/sync.json before it starts node). Where it is not, this costs one
// stat: the scan (zod, node:http) is a bundle of its own beside this one, required only then. Always exits 0.
import { statSync } from "node:fs";
import path from "node:path";
import { packHostDir } from "../src/claude/home.ts";
import { readHookInput, writeAll } from "./io.ts";

function syncIsSetUp(): boolean {
  try {
    return statSync(path.join(packHostDir(process.env), "sync.json")).isFile();
  } catch {
    return false;
  }
}

if (syncIsSetUp()) {
  import("../src/sync/stop-scan.ts")
    .then(({ scanChangedTranscript }) => {
      scanChangedTranscript(readHookInput(), process.env);
    })
    .catch((error: unknown) => {
      // Claude Code shows a Stop hook's stderr only in its debug output: enough to find why turns travel late.
      writeAll(2, `claude-persist: no scan asked of Syncthing (${error instanceof Error ? error.message : error}).\n`);
    })
    .finally(() => {
      process.exitCode = 0;
    });
}
