// `claude-persist sync status`: this device, its peers and whether they are connected, the shared folders' state,
// and the conflict copies merged on the way; as lines, or as one JSON result.
import type { Io } from "../command.ts";
import { printJson, renderColumns } from "./output.ts";
import { describeMerged, mergeAllConflicts } from "../sync/conflicts.ts";
import { folderStatuses, liveEndpoint, requireSettings } from "../sync/setup.ts";
import { rest } from "../sync/syncthing.ts";
import { oneLine } from "../text.ts";

export async function showStatus(io: Io, json: boolean): Promise<number> {
  const settings = requireSettings(io.env);
  const endpoint = await liveEndpoint(settings);
  const merged = settings.relay ? [] : mergeAllConflicts(io.env);
  const connections = await rest<{
    connections: Record<string, { connected: boolean; paused: boolean; address?: string }>;
  }>(endpoint, "GET", "/rest/system/connections");
  const devices = await rest<Array<{ deviceID: string; name: string; untrusted?: boolean }>>(
    endpoint,
    "GET",
    "/rest/config/devices",
  );
  const peers = devices
    .filter((d) => d.deviceID !== settings.deviceId)
    .map((d) => ({
      id: d.deviceID,
      name: d.name,
      untrusted: d.untrusted === true,
      connected: connections.connections[d.deviceID]?.connected === true,
    }));
  const folders = await folderStatuses(endpoint);
  if (json) {
    printJson(io, {
      ok: true,
      deviceId: settings.deviceId,
      own: settings.own,
      relay: settings.relay,
      peers,
      folders,
      merged,
    });
    return 0;
  }
  const lines = [`This device: ${settings.deviceId}${settings.relay ? " (encrypted relay)" : ""}`];
  lines.push(peers.length === 0 ? "No other device yet: 'claude-persist sync add-device ID'." : "Devices:");
  const peerRows = peers.map((peer) => [
    oneLine(peer.name || peer.id.slice(0, 7), 40),
    `${peer.connected ? "connected" : "not connected"}${peer.untrusted ? ", untrusted" : ""}`,
  ]);
  if (peerRows.length > 0) lines.push(...(await renderColumns(peerRows)));
  lines.push("Folders:");
  const folderRows = folders.map((folder) => {
    const notes = [
      folder.paused ? "paused" : folder.state,
      folder.needFiles > 0 ? `${folder.needFiles} to fetch` : "",
      folder.errors > 0 ? `${folder.errors} errors` : "",
    ];
    return [folder.name, notes.filter(Boolean).join(", ")];
  });
  lines.push(...(await renderColumns(folderRows)));
  if (merged.length > 0) lines.push(describeMerged(merged));
  io.stdout(`${lines.join("\n")}\n`);
  return 0;
}
