// `claude-persist sync`: sessions, todos and plans that follow the user across their machines, on Syncthing.
import path from "node:path";
import { actionHelp, parseOptions } from "../args.ts";
import { projectsDir } from "../claude/home.ts";
import { colourOn, paint } from "../colour.ts";
import type { Command, Io } from "../command.ts";
import { UserError } from "../errors.ts";
import { mergeInto } from "../devcontainer/mapping.ts";
import { printJson } from "./output.ts";
import { actions } from "./sync-actions.ts";
import { showStatus } from "./sync-status.ts";
import { updateJsonState } from "../state/files.ts";
import { checkSync } from "../sync/checks.ts";
import { enableAutostart, removeAutostart } from "../sync/autostart.ts";
import { describeMerged, mergeAllConflicts } from "../sync/conflicts.ts";
import { ownSyncthingHome, relayPasswordFile, SYNC_FOLDERS, syncSettingsFile } from "../sync/folders.ts";
import { linkProject, resolveSlugLink } from "../sync/identity.ts";
import { mergeFiles, unisonOnce } from "../sync/unison.ts";
import {
  addDevice,
  configureFolders,
  DEVICE_ID,
  endpointFor,
  liveEndpoint,
  readSyncSettings,
  relayPassword,
  requireSettings,
  runningUserSyncthing,
  scanNow,
  setFoldersPaused,
  syncSettingsSchema,
} from "../sync/setup.ts";
import { createInstance, newApiKey, rest, startDaemon, stopDaemon } from "../sync/syncthing.ts";
import { didYouMean } from "../suggest.ts";
import { oneLine } from "../text.ts";

const HELP = `Usage: claude-persist sync <command> [options]

Keeps Claude Code's sessions, todos, tasks, plans and file history in step between your machines with Syncthing.
Credentials, .claude.json, plugins/ and settings never travel.

${actionHelp(actions, 20)}`;

export const sync: Command = {
  actions,
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    // A bare group lists what it does, as git and gh do: on stderr, as a usage error.
    if (sub === undefined || sub.startsWith("-")) {
      io.stderr(HELP);
      return 2;
    }
    switch (sub) {
      case "init":
        return init(rest, io);
      case "add-device":
        return addDeviceCommand(rest, io);
      case "status":
        return status(rest, io);
      case "pause":
      case "resume":
        return pauseResume(sub, rest, io);
      case "autostart":
        return autostart(rest, io);
      case "start":
      case "stop":
        return startStop(sub, rest, io);
      case "link":
        return link(rest, io);
      case "merge":
        return merge(rest, io);
      case "scan":
        return scan(rest, io);
      case "doctor":
        return doctor(rest, io);
      case "unison":
        return unison(rest, io);
      case "merge-files":
        return mergeFilesCommand(rest, io);
      default: {
        const listed = Object.keys(actions).filter((name) => name !== "merge-files");
        throw new UserError(
          `unknown action '${oneLine(sub, 40)}'${didYouMean(sub, listed)}; see 'claude-persist sync --help'`,
          2,
        );
      }
    }
  },
};

async function init(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions("claude-persist sync init", args, actions.init.flags);
  const env = io.env;
  const relay = values.relay === true;
  let settings = readSyncSettings(env);
  if (!settings) {
    const running = relay || values.own ? undefined : await runningUserSyncthing(env);
    if (running) {
      const status = await rest<{ myID: string }>(running.endpoint, "GET", "/rest/system/status");
      settings = { home: running.home, own: false, relay: false, deviceId: status.myID };
      io.stdout(
        `Using the Syncthing you already run (${running.home}); its listening and discovery settings are yours.\n`,
      );
    } else {
      const home = ownSyncthingHome(env);
      const deviceId = await createInstance(env, home, {
        listen: values.listen ?? [],
        apiKey: newApiKey(),
        name: values.name ?? "",
      });
      settings = { home, own: true, relay, deviceId };
    }
  }
  const endpoint = settings.own ? await startDaemon(env, settings.home) : endpointFor(settings);
  if (values.name) {
    await rest(endpoint, "PATCH", `/rest/config/devices/${settings.deviceId}`, { name: values.name });
  }
  // Run again with other addresses: the instance we own listens where it is told now, live.
  if (settings.own && values.listen)
    await rest(endpoint, "PATCH", "/rest/config/options", { listenAddresses: values.listen });
  if (!settings.relay) await configureFolders(env, endpoint, settings.deviceId);
  const saved = settings;
  await updateJsonState(syncSettingsFile(env), syncSettingsSchema(), saved, () => saved);
  const lines = [`This device: ${settings.deviceId}`];
  // Where the pack is installed, settings.json gets the Stop hook now: each finished turn is sent at once.
  if (await (await import("../install/install.ts")).registerStopHook(env))
    lines.push("Each finished turn is now sent at once: a Stop hook in settings.json asks Syncthing to scan it.");
  if (settings.own) {
    const listen = values.listen ?? [];
    lines.push(
      listen.length > 0
        ? `Listening on ${listen.join(", ")} (nothing else: no discovery, no relays).`
        : "Listening nowhere: it dials the devices you add (pass --listen to accept connections).",
    );
  }
  if (!settings.relay) {
    const linked = linkProject(env, io.cwd, mergeInto);
    if (linked)
      lines.push(
        `This project travels as ${linked.identity.remote}${linked.identity.subpath ? `/${linked.identity.subpath}` : ""}.`,
      );
    lines.push(
      `Shared: ${SYNC_FOLDERS.map((f) => (f.only ? `${f.name} (${f.only.join(", ")})` : f.name)).join(", ")}.`,
    );
  }
  const reachable = (values.listen ?? [])[0]?.replace(/\/\/(0\.0\.0\.0|\[::\])?:/, "//THIS-MACHINE:");
  if (settings.own) lines.push("It runs until you log out; to start it at each login: claude-persist sync autostart");
  lines.push(
    `Next, on your other machine: claude-persist sync add-device ${settings.deviceId}${reachable ? ` --address ${reachable}` : ""}`,
  );
  if (values.json)
    printJson(io, { ok: true, deviceId: settings.deviceId, own: settings.own, relay: settings.relay, messages: lines });
  else io.stdout(`${lines.join("\n")}\n`);
  return 0;
}

async function addDeviceCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseOptions("claude-persist sync add-device", args, actions["add-device"].flags, {
    positionals: 1,
  });
  const id = positionals[0]?.toUpperCase();
  if (!id || !DEVICE_ID.test(id))
    throw new UserError(
      "give the other device's ID, as 'claude-persist sync status' prints it there (8 groups of 7 letters and digits)",
      2,
    );
  const settings = requireSettings(io.env);
  if (id === settings.deviceId) throw new UserError("that is this device's own ID; give the other machine's", 2);
  const endpoint = await liveEndpoint(settings);
  const untrusted = values.untrusted === true;
  const password = untrusted ? relayPassword(io.env) : undefined;
  await addDevice(endpoint, settings, {
    id,
    name: values.name,
    addresses: values.address ?? [],
    untrusted,
    password: password?.value,
  });
  const lines = [`Sharing with ${values.name ?? id}${untrusted ? " (untrusted: it stores encrypted data only)" : ""}.`];
  if (password?.created) {
    lines.push(
      `The encryption password is in ${relayPasswordFile(io.env)}: copy that file to the same place on your other machines before adding this device there.`,
    );
  }
  if (values.json) printJson(io, { ok: true, deviceId: id, name: values.name ?? null, untrusted, messages: lines });
  else io.stdout(`${lines.join("\n")}\n`);
  return 0;
}

async function status(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions("claude-persist sync status", args, actions.status.flags);
  return showStatus(io, values.json === true);
}

/** An action's report: its lines, or with --json one document that holds them (`ok` as the exit code says). */
function report(io: Io, json: boolean | undefined, lines: string[], ok = true): void {
  if (json) printJson(io, { ok, messages: lines });
  else if (lines.length > 0) (ok ? io.stdout : io.stderr)(`${lines.join("\n")}\n`);
}

async function pauseResume(which: "pause" | "resume", args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(`claude-persist sync ${which}`, args, actions[which].flags);
  const settings = requireSettings(io.env);
  await setFoldersPaused(await liveEndpoint(settings), which === "pause");
  report(io, values.json, [
    which === "pause" ? "Paused: nothing is sent or fetched until 'claude-persist sync resume'." : "Syncing again.",
  ]);
  return 0;
}

async function autostart(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions("claude-persist sync autostart", args, actions.autostart.flags);
  const settings = requireSettings(io.env);
  if (!settings.own) {
    const theirs = `claude-persist uses the Syncthing you run yourself (${settings.home})`;
    throw new UserError(`${theirs}: start it at login the way you usually do`);
  }
  if (values.remove) {
    report(io, values.json, [await removeAutostart(io.env, settings.home)]);
    return 0;
  }
  const outcome = await enableAutostart(io.env, settings.home);
  report(io, values.json, outcome.lines, outcome.enabled);
  return outcome.enabled ? 0 : 1;
}

async function startStop(which: "start" | "stop", args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(`claude-persist sync ${which}`, args, actions[which].flags);
  const settings = requireSettings(io.env);
  if (!settings.own)
    throw new UserError(
      `claude-persist uses the Syncthing you run yourself (${settings.home}): ${which} it the way you usually do`,
    );
  if (which === "start") {
    await startDaemon(io.env, settings.home);
    report(io, values.json, ["Syncthing is running."]);
  } else {
    report(io, values.json, [(await stopDaemon(settings.home)) ? "Syncthing stopped." : "Syncthing was not running."]);
  }
  return 0;
}

async function link(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseOptions("claude-persist sync link", args, actions.link.flags, {
    positionals: 1,
  });
  requireSettings(io.env);
  const dir = path.resolve(io.cwd, positionals[0] ?? ".");
  const linked = linkProject(io.env, dir, mergeInto);
  if (!linked)
    throw new UserError(
      `${dir} is not in a git repo with a remote: its sessions cannot be matched with another machine's`,
    );
  if (linked.state === "other-link") {
    throw new UserError(
      `${path.join(projectsDir(io.env), linked.slug)} is already a link claude-persist did not make for sync; leaving it`,
    );
  }
  const name = `${linked.identity.remote}${linked.identity.subpath ? `/${linked.identity.subpath}` : ""}`;
  if (values.json) {
    printJson(io, { ok: true, dir, identity: name, state: linked.state, moved: linked.moved.length });
    return 0;
  }
  io.stdout(
    `${linked.state === "already" ? "Already travelling" : "Travelling now"}: ${oneLine(dir)} as ${oneLine(name)}${linked.moved.length > 0 ? ` (${linked.moved.length} files moved in)` : ""}.\n`,
  );
  return 0;
}

async function merge(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions("claude-persist sync merge", args, actions.merge.flags);
  requireSettings(io.env);
  const merged = mergeAllConflicts(io.env);
  if (values.json) printJson(io, { ok: true, merged });
  else io.stdout(merged.length > 0 ? `${describeMerged(merged)}.\n` : "No conflict copies.\n");
  return 0;
}

async function scan(args: string[], io: Io): Promise<number> {
  const { positionals } = parseOptions("claude-persist sync scan", args, actions.scan.flags, { positionals: 1 });
  const settings = requireSettings(io.env);
  const endpoint = await liveEndpoint(settings);
  if (!positionals[0]) {
    for (const folder of SYNC_FOLDERS) await scanNow(endpoint, folder);
    return 0;
  }
  const file = path.resolve(io.cwd, positionals[0]);
  for (const folder of SYNC_FOLDERS) {
    const root = path.join(path.dirname(projectsDir(io.env)), folder.name);
    // A path through this machine's slug link names the project's travelling folder.
    const rel = path.relative(root, file);
    if (rel.startsWith("..") || path.isAbsolute(rel)) continue;
    await scanNow(endpoint, folder, resolveSlugLink(root, rel));
    return 0;
  }
  throw new UserError(`${file} is not in a folder that travels`);
}

async function unison(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseOptions("claude-persist sync unison", args, actions.unison.flags, {
    positionals: 1,
  });
  if (!positionals[0]) throw new UserError("give the machine to sync with: claude-persist sync unison user@host", 2);
  const result = await unisonOnce(io.env, positionals[0], {
    sshCommand: values["ssh-command"],
    cliPath: process.argv[1] ?? "",
  });
  if (result.exitCode !== 0) {
    io.stderr(
      `${result.output
        .trim()
        .split("\n")
        .slice(-5)
        .map((l) => oneLine(l, 200))
        .join("\n")}\n`,
    );
    throw new UserError(`unison stopped (exit ${result.exitCode}); see its lines above`);
  }
  const summary = /Synchronization complete.*|Nothing to do.*/.exec(result.output)?.[0];
  report(io, values.json, [summary ? oneLine(summary, 200) : "In step."]);
  return 0;
}

/** unison's merge command: the union of both versions' lines, written to NEW. */
async function mergeFilesCommand(args: string[], io: Io): Promise<number> {
  const { positionals } = parseOptions("claude-persist sync merge-files", args, actions["merge-files"].flags, {
    positionals: 3,
  });
  const [current1, current2, output] = positionals;
  if (!current1 || !current2 || !output)
    throw new UserError("usage: claude-persist sync merge-files CURRENT1 CURRENT2 NEW (unison runs it)", 2);
  const added = mergeFiles(
    path.resolve(io.cwd, current1),
    path.resolve(io.cwd, current2),
    path.resolve(io.cwd, output),
  );
  io.stdout(`merged: ${added} line(s) from the other side\n`);
  return 0;
}

async function doctor(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions("claude-persist sync doctor", args, actions.doctor.flags);
  const checks = await checkSync(io.env);
  const failed = checks.some((check) => check.status === "fail");
  if (values.json) {
    printJson(io, { ok: !failed, checks });
    return failed ? 1 : 0;
  }
  const mark = { ok: "ok  ", fail: "FAIL", note: "note" } as const;
  const style = { ok: "green", fail: "red", note: "yellow" } as const;
  const colour = await colourOn(io, 1);
  io.stdout(
    `${checks.map((check) => `${paint(colour, style[check.status], mark[check.status])} ${check.text}`).join("\n")}\n`,
  );
  return checks.some((check) => check.status === "fail") ? 1 : 0;
}
