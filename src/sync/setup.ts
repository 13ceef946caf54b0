// The Syncthing configuration claude-persist makes, through the REST API: the shared folders with their ignore
// patterns and trash-can versioning, the user's other devices, and an untrusted device that gets only encrypted data.
import { mkdirSync } from "node:fs";
import path from "node:path";
import * as z from "zod/mini";
import type { Env } from "../claude/home.ts";
import { UserError } from "../errors.ts";
import { once } from "../once.ts";
import { readTextIfExists, writeFileAtomic } from "../fs.ts";
import { readJsonState } from "../state/files.ts";
import {
  folderPath,
  ignorePatterns,
  relayPasswordFile,
  SYNC_FOLDERS,
  syncSettingsFile,
  type SyncFolder,
} from "./folders.ts";
import { endpointOf, isUp, newApiKey, RestError, rest, userSyncthingHomes, type Endpoint } from "./syncthing.ts";

export const syncSettingsSchema = once(() =>
  z.object({
    /** The Syncthing home whose config.xml names the API address and key. */
    home: z.string(),
    /** True when claude-persist started this instance (and may stop it); false for the user's own Syncthing. */
    own: z.boolean(),
    /** An always-on box that holds only encrypted data for the user's machines. */
    relay: z.boolean(),
    deviceId: z.string(),
  }),
);
export type SyncSettings = z.infer<ReturnType<typeof syncSettingsSchema>>;

export function readSyncSettings(env: Env): SyncSettings | undefined {
  return readJsonState<SyncSettings | undefined>(syncSettingsFile(env), syncSettingsSchema(), undefined);
}

export function endpointFor(settings: SyncSettings): Endpoint {
  const endpoint = endpointOf(settings.home);
  if (!endpoint) throw new Error(`${settings.home}/config.xml names no usable API address`);
  return endpoint;
}

export const DEVICE_ID = /^[A-Z2-7]{7}(-[A-Z2-7]{7}){7}$/;

type FolderDevice = { deviceID: string; introducedBy?: string; encryptionPassword?: string };
type FolderConfig = { id: string; path: string; type: string; devices: FolderDevice[]; paused?: boolean } & Record<
  string,
  unknown
>;

/** How often Syncthing rescans the whole folder anyway; the watcher (1 s) sees changes in between. */
const WATCH_DELAY_S = 1;

function folderConfig(env: Env, folder: SyncFolder, devices: FolderDevice[]): FolderConfig {
  return {
    id: folder.id,
    label: `Claude Code ${folder.name}`,
    path: folderPath(env, folder),
    type: "sendreceive",
    devices,
    fsWatcherEnabled: true,
    fsWatcherDelayS: WATCH_DELAY_S,
    rescanIntervalS: 3600,
    maxConflicts: 10,
    // Deletes travel too: a deleted or replaced file is kept in `.stversions/` for 30 days.
    versioning: { type: "trashcan", params: { cleanoutDays: "30" }, cleanupIntervalS: 3600 },
  };
}

async function getFolder(endpoint: Endpoint, id: string): Promise<FolderConfig | undefined> {
  try {
    return await rest<FolderConfig>(endpoint, "GET", `/rest/config/folders/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error instanceof RestError && error.status === 404) return undefined;
    throw error;
  }
}

/** Creates (or brings back in line) the shared folders and writes their ignore patterns. */
export async function configureFolders(env: Env, endpoint: Endpoint, myId: string): Promise<void> {
  for (const folder of SYNC_FOLDERS) {
    mkdirSync(folderPath(env, folder), { recursive: true, mode: 0o700 });
    const existing = await getFolder(endpoint, folder.id);
    // Ignores first, so that the first scan already leaves out what must not travel.
    const config = folderConfig(env, folder, existing?.devices ?? [{ deviceID: myId }]);
    if (!existing) {
      // Paused until its ignore patterns are in place: a folder's first scan must not see what never travels.
      await rest(endpoint, "PUT", `/rest/config/folders/${folder.id}`, { ...config, paused: true });
    }
    await rest(endpoint, "POST", `/rest/db/ignores?folder=${folder.id}`, { ignore: ignorePatterns(folder) });
    await rest(endpoint, "PATCH", `/rest/config/folders/${folder.id}`, {
      ...config,
      paused: existing?.paused ?? false,
    });
  }
}

/** Adds (or updates) the user's device `deviceId` and shares every folder with it. */
export async function addDevice(
  endpoint: Endpoint,
  settings: SyncSettings,
  device: {
    id: string;
    name?: string | undefined;
    addresses: string[];
    untrusted: boolean;
    password?: string | undefined;
  },
): Promise<void> {
  await rest(endpoint, "PUT", `/rest/config/devices/${device.id}`, {
    deviceID: device.id,
    name: device.name ?? "",
    addresses: device.addresses.length > 0 ? device.addresses : ["dynamic"],
    compression: "metadata",
    autoAcceptFolders: false,
    untrusted: device.untrusted,
  });
  for (const folder of SYNC_FOLDERS) {
    if (settings.relay) {
      await shareEncryptedStore(endpoint, settings, folder, device.id);
      continue;
    }
    const current = await getFolder(endpoint, folder.id);
    if (!current) throw new Error(`the folder ${folder.id} is not configured; run 'claude-persist sync init' again`);
    const entry: FolderDevice = device.untrusted
      ? { deviceID: device.id, encryptionPassword: device.password ?? "" }
      : { deviceID: device.id };
    const devices = [...current.devices.filter((d) => d.deviceID !== device.id), entry];
    await rest(endpoint, "PATCH", `/rest/config/folders/${folder.id}`, { devices });
  }
}

/** On the untrusted box: the folder holds only what the trusted devices encrypted, under opaque names. */
async function shareEncryptedStore(
  endpoint: Endpoint,
  settings: SyncSettings,
  folder: SyncFolder,
  deviceId: string,
): Promise<void> {
  const current = await getFolder(endpoint, folder.id);
  if (current) {
    const devices = [...current.devices.filter((d) => d.deviceID !== deviceId), { deviceID: deviceId }];
    await rest(endpoint, "PATCH", `/rest/config/folders/${folder.id}`, { devices });
    return;
  }
  const store = path.join(settings.home, "encrypted", folder.id);
  mkdirSync(store, { recursive: true, mode: 0o700 });
  await rest(endpoint, "PUT", `/rest/config/folders/${folder.id}`, {
    id: folder.id,
    label: `claude-persist ${folder.name} (encrypted)`,
    path: store,
    type: "receiveencrypted",
    devices: [{ deviceID: settings.deviceId }, { deviceID: deviceId }],
    fsWatcherEnabled: false,
    rescanIntervalS: 3600,
  });
}

export async function setFoldersPaused(endpoint: Endpoint, paused: boolean): Promise<void> {
  for (const folder of SYNC_FOLDERS) {
    if (await getFolder(endpoint, folder.id))
      await rest(endpoint, "PATCH", `/rest/config/folders/${folder.id}`, { paused });
  }
}

/** Asks for a rescan of one file (or the whole folder) now, instead of after the watcher's delay. */
export async function scanNow(endpoint: Endpoint, folder: SyncFolder, sub?: string): Promise<void> {
  const query = sub ? `&sub=${encodeURIComponent(sub)}` : "";
  await rest(endpoint, "POST", `/rest/db/scan?folder=${folder.id}${query}`);
}

export type FolderStatus = {
  id: string;
  name: string;
  state: string;
  paused: boolean;
  needFiles: number;
  errors: number;
  ignoresMatch: boolean;
};

export async function folderStatuses(endpoint: Endpoint): Promise<FolderStatus[]> {
  const statuses: FolderStatus[] = [];
  for (const folder of SYNC_FOLDERS) {
    const config = await getFolder(endpoint, folder.id);
    if (!config) {
      statuses.push({
        id: folder.id,
        name: folder.name,
        state: "not configured",
        paused: false,
        needFiles: 0,
        errors: 0,
        ignoresMatch: false,
      });
      continue;
    }
    const db = await rest<{ state?: string; needFiles?: number }>(
      endpoint,
      "GET",
      `/rest/db/status?folder=${folder.id}`,
    );
    const errors = await rest<{ errors?: unknown[] | null }>(
      endpoint,
      "GET",
      `/rest/folder/errors?folder=${folder.id}`,
    ).catch(() => ({ errors: [] }));
    const ignores = await rest<{ ignore?: string[] | null }>(
      endpoint,
      "GET",
      `/rest/db/ignores?folder=${folder.id}`,
    ).catch(() => ({ ignore: [] }));
    statuses.push({
      id: folder.id,
      name: folder.name,
      state: db.state ?? "unknown",
      paused: config.paused === true,
      needFiles: db.needFiles ?? 0,
      errors: errors.errors?.length ?? 0,
      ignoresMatch:
        config.type === "receiveencrypted" ||
        JSON.stringify(ignores.ignore ?? []) === JSON.stringify(ignorePatterns(folder)),
    });
  }
  return statuses;
}

/** A Syncthing the user runs themselves whose API answers (plain HTTP on its configured address). */
export async function runningUserSyncthing(env: Env): Promise<{ home: string; endpoint: Endpoint } | undefined> {
  for (const home of userSyncthingHomes(env)) {
    const endpoint = endpointOf(home);
    if (endpoint && (await isUp(endpoint))) return { home, endpoint };
  }
  return undefined;
}

export function requireSettings(env: Env): SyncSettings {
  const settings = readSyncSettings(env);
  if (!settings) throw new UserError("sync is not set up on this machine: run 'claude-persist sync init' first");
  return settings;
}

export async function liveEndpoint(settings: SyncSettings): Promise<Endpoint> {
  const endpoint = endpointFor(settings);
  if (await isUp(endpoint)) return endpoint;
  throw new UserError(
    settings.own
      ? "Syncthing is not running: start it with 'claude-persist sync start'"
      : `your Syncthing (${settings.home}) is not answering: start it, then run this again`,
  );
}

/** The password for untrusted devices: made once, the same on every trusted machine (copied by the user). */
export function relayPassword(env: Env): { value: string; created: boolean } {
  const file = relayPasswordFile(env);
  const existing = readTextIfExists(file)?.trim();
  if (existing) return { value: existing, created: false };
  const value = newApiKey();
  writeFileAtomic(file, `${value}\n`, 0o600);
  return { value, created: true };
}
