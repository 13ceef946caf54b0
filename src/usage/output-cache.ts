// The last `usage` output, printed again while nothing it was made from changed: no transcript (each one's size,
// time and inode), not the ledger, the work items, the mappings or the session-start records, and the same question
// (arguments, folder, time zone, terminal width). Anything else, or anything to say on stderr, makes a new report.
// The ledger's files are host-only (persist-host/); the others containers can write, so they are looked at through the
// gate (container-tree.ts).
import { statSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import type { Env } from "../claude/home.ts";
import { statBeneath } from "../container-tree.ts";
import { sha256Hex } from "../crypto.ts";
import { fileIn, readRegularText } from "../fs.ts";
import { mappingsFile } from "../state/mappings.ts";
import { STATE, statePath } from "../state/paths.ts";
import { workItemsPath } from "../work/work-items.ts";
import { writeWholeFile } from "./ledger.ts";
import type { TranscriptFile } from "./transcripts.ts";

const OUTPUT = "last-output.json";

/** What an output was made from; `question` is how it was asked (arguments, folder, zone, width). */
export function inputsKey(env: Env, files: readonly TranscriptFile[], question: string): string {
  const stat = (file: string) => {
    const s = statSync(file, { throwIfNoEntry: false });
    return s ? `${s.size}:${s.mtimeMs}:${s.ino}` : "-";
  };
  // What containers can write is looked at through the gate: the entry itself (a link is not followed), its folder
  // reached without following one; a link or file where a folder should be reads as missing.
  const look = (file: string) => {
    try {
      const s = statBeneath(path.dirname(file), path.basename(file));
      return s ? `${s.size}:${s.mtimeMs}:${s.ino}` : "-";
    } catch {
      return "?";
    }
  };
  const ledger = statePath(env, STATE.usageLedger);
  const parts = [
    question,
    hostname(),
    stat(fileIn(ledger, "records.jsonl")),
    stat(fileIn(ledger, "prices.json")),
    look(workItemsPath(env)),
    look(mappingsFile(env)),
    look(statePath(env, STATE.sessionStarts)),
  ];
  for (const f of files) parts.push(`${f.path}\t${f.size}:${f.mtimeMs}:${f.ino}`);
  return sha256Hex(parts.join("\n"));
}

export function cachedOutput(env: Env, key: string): string | undefined {
  try {
    const value: unknown = JSON.parse(readRegularText(fileIn(statePath(env, STATE.usageLedger), OUTPUT)) ?? "null");
    if (typeof value !== "object" || value === null || !("key" in value) || !("output" in value)) return undefined;
    return value.key === key && typeof value.output === "string" ? value.output : undefined;
  } catch {
    return undefined;
  }
}

export function keepOutput(env: Env, key: string, output: string): void {
  try {
    writeWholeFile(statePath(env, STATE.usageLedger), OUTPUT, JSON.stringify({ key, output }));
  } catch {
    // Only the next run's speed depends on it.
  }
}
