// `claude-persist sync doctor`'s checks of this machine's sync setup: each one passed, failed (with the fix) or a note.
// `claude-persist doctor` shows them too, among its host checks (syncDoctorLines).
import { lstatSync } from "node:fs";
import type { Env } from "../claude/home.ts";
import { countConflictCopies } from "./conflicts.ts";
import { folderStatuses, readSyncSettings } from "./setup.ts";
import { endpointOf, isUp, rest } from "./syncthing.ts";

export type SyncCheck = { readonly status: "ok" | "fail" | "note"; readonly text: string };

export async function checkSync(env: Env): Promise<SyncCheck[]> {
  const settings = readSyncSettings(env);
  const checks: SyncCheck[] = [];
  const check = (ok: boolean, good: string, wrong: string): void => {
    checks.push(ok ? { status: "ok", text: good } : { status: "fail", text: wrong });
  };
  check(settings !== undefined, "sync is set up on this machine", "sync is not set up: run 'claude-persist sync init'");
  if (settings) {
    const endpoint = endpointOf(settings.home);
    if (!endpoint) {
      const fix = "run 'claude-persist sync init' again";
      checks.push({ status: "fail", text: `the Syncthing config in ${settings.home} names no API address: ${fix}` });
      return checks;
    }
    const up = await isUp(endpoint);
    check(
      up,
      "Syncthing answers",
      settings.own
        ? "Syncthing is not running: 'claude-persist sync start'"
        : `your Syncthing (${settings.home}) is not answering: start it`,
    );
    if (endpoint.socketPath) {
      const mode = statMode(endpoint.socketPath);
      check(
        !up || mode === 0o600,
        "its API is a 0600 Unix socket",
        `its API socket ${endpoint.socketPath} is not 0600: other users can reach it`,
      );
    } else {
      const where = `${endpoint.host}:${endpoint.port}`;
      checks.push({ status: "note", text: `its API is on ${where} (your Syncthing): protect it with a GUI password` });
    }
    if (up) {
      type Options = { globalAnnounceEnabled: boolean; relaysEnabled: boolean; listenAddresses: string[] };
      const options = await rest<Options>(endpoint, "GET", "/rest/config/options");
      if (settings.own) {
        const listening = options.listenAddresses.filter(Boolean).join(", ");
        const wide = options.listenAddresses.filter((a) => a === "default" || /0\.0\.0\.0|\[::\]|:\/\/:/.test(a));
        check(
          wide.length === 0 && !options.globalAnnounceEnabled && !options.relaysEnabled,
          `it listens only on ${listening || "nothing"}, no discovery, no public relays`,
          `it listens or announces beyond what you named (${options.listenAddresses.join(", ")})`,
        );
      }
      if (!settings.relay) {
        for (const folder of await folderStatuses(endpoint)) {
          const wrong =
            folder.state === "not configured"
              ? "not configured: run 'claude-persist sync init' again"
              : !folder.ignoresMatch
                ? "ignore patterns differ from claude-persist's: run 'claude-persist sync init' again"
                : `${folder.errors} errors: see 'claude-persist sync status'`;
          check(
            folder.state !== "not configured" && folder.ignoresMatch && folder.errors === 0,
            `${folder.name}: ${folder.paused ? "paused" : folder.state}, ignore patterns as on every machine`,
            `${folder.name}: ${wrong}`,
          );
        }
      }
    }
    if (!settings.relay) {
      const copies = countConflictCopies(env);
      check(
        copies === 0,
        "no conflict copies waiting",
        `${copies} conflict copies of sessions or their start records: 'claude-persist sync merge'`,
      );
    }
  }
  return checks;
}

function statMode(file: string): number | undefined {
  try {
    return lstatSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
}

export type DoctorLine = { readonly status: "ok" | "warn" | "fail"; readonly label: string };

/** The sync lines of `claude-persist doctor`: optional when not set up, else every check (a note is a warning). */
export async function syncDoctorLines(env: Env): Promise<DoctorLine[]> {
  if (!readSyncSettings(env)) {
    const label =
      "sessions stay on this machine: sync with your other machines is not set up " +
      "(optional: 'claude-persist sync init')";
    return [{ status: "ok", label }];
  }
  return (await checkSync(env)).map((check) => ({
    status: check.status === "note" ? "warn" : check.status,
    label: `sync: ${check.text}`,
  }));
}
