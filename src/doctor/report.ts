// The report doctor returns: sections of checks, each one line with its status and fix, tagged with a stable id;
// and the small helpers the checks of every section share.
import { readlinkSync } from "node:fs";

export type CheckStatus = "ok" | "warn" | "fail";

/** One line of doctor's report; `fix` is what to run (or do) when the status is not ok. */
export type CheckResult = {
  /** Which check this is, the same from run to run (`host.hook-runs`); several lines may share it (one per folder). */
  readonly id?: string;
  readonly status: CheckStatus;
  readonly label: string;
  readonly detail?: string;
  readonly fix?: string;
};

export const ok = (label: string, detail?: string): CheckResult => ({
  status: "ok",
  label,
  ...(detail ? { detail } : {}),
});
export const warn = (label: string, fix?: string, detail?: string): CheckResult => ({
  status: "warn",
  label,
  ...(detail ? { detail } : {}),
  ...(fix ? { fix } : {}),
});
export const fail = (label: string, fix?: string, detail?: string): CheckResult => ({
  status: "fail",
  label,
  ...(detail ? { detail } : {}),
  ...(fix ? { fix } : {}),
});

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
  return text
    .split("\n")
    .map((line) => line.trim())
    .find(Boolean);
}

/** `results` with the stable id of the check that gave them (for --json readers). */
export function tagged(id: string, results: CheckResult | CheckResult[]): CheckResult[] {
  return (Array.isArray(results) ? results : [results]).map((result) => ({ id, ...result }));
}
