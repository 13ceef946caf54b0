// The report doctor returns: sections of checks, each check tagged with a stable id; and the small helpers the
// checks of every section share.
import { readlinkSync } from "node:fs";
import type { CheckResult, CheckStatus } from "./container-checks.ts";

export type Section = { readonly title: string; readonly checks: CheckResult[] };

export type DoctorReport = {
  readonly environment: "host" | "container";
  readonly configDir: string;
  readonly cwd: string;
  /** False when any check failed; warnings do not count. */
  readonly ok: boolean;
  readonly counts: Record<CheckStatus, number>;
  readonly sections: Section[];
};


export function readLinkQuietly(link: string): string | undefined {
  try {
    return readlinkSync(link);
  } catch {
    // Not a link, or not there: no target.
    return undefined;
  }
}

export function firstLine(text: string): string | undefined {
  return text.split("\n").map((line) => line.trim()).find(Boolean);
}

/** `results` with the stable id of the check that gave them (for --json readers). */
export function tagged(id: string, results: CheckResult | CheckResult[]): CheckResult[] {
  return (Array.isArray(results) ? results : [results]).map((result) => ({ id, ...result }));
}
