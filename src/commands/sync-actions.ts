// `claude-persist sync`'s actions and their flags, from which its parsing, help and shell completion are derived.
import * as z from "zod/mini";

const none = {} as const;
const json = { type: "boolean", help: "print one machine-readable result" } as const;

const deviceName = () => z.string().check(z.minLength(1), z.maxLength(64));
const nonEmpty = () => z.string().check(z.minLength(1));

export const actions = {
  init: {
    flags: {
      listen: {
        type: "string",
        multiple: true,
        value: "ADDRESS",
        help: "where this machine accepts connections",
        check: () => z.string().check(z.regex(/^(tcp|quic)[46]?:\/\/[^\s<>&]+$/, "must look like tcp://HOST:PORT")),
      },
      name: { type: "string", value: "NAME", help: "this device's name", check: deviceName },
      own: { type: "boolean", help: "run a Syncthing of claude-persist's own" },
      relay: { type: "boolean", help: "an always-on box that only stores encrypted data" },
      json,
    },
    help:
      "set up this machine (uses a Syncthing you already run unless --own); nothing listens\n" +
      "unless you pass --listen (e.g. tcp://192.168.1.5:22000); --relay makes this an\n" +
      "always-on box that only stores encrypted data",
  },
  "add-device": {
    args: "ID",
    flags: {
      name: { type: "string", value: "NAME", help: "the device's name", check: deviceName },
      address: {
        type: "string",
        multiple: true,
        value: "ADDRESS",
        help: "where to reach it",
        check: () =>
          z.string().check(z.regex(/^((tcp|quic)[46]?:\/\/[^\s<>&]+|dynamic)$/, "must look like tcp://HOST:PORT")),
      },
      untrusted: { type: "boolean", help: "it gets encrypted data only" },
      json,
    },
    help: "share with another of your machines (--untrusted: it gets encrypted data only)",
  },
  status: {
    flags: { json },
    help: "this device's ID, peers, folders, conflicts",
  },
  pause: { flags: { json } },
  resume: { flags: { json }, help: "stop or restart syncing (the daemon keeps running)" },
  start: { flags: { json } },
  stop: { flags: { json }, help: "start or stop the Syncthing that claude-persist runs for you" },
  autostart: {
    flags: { remove: { type: "boolean", help: "take it out again" }, json },
    help: "start that Syncthing at each login (a systemd user unit, or a launchd agent on macOS)",
  },
  link: {
    args: "[DIR]",
    flags: { json },
    help: "let this project's sessions travel (the hook does it at a session's first start)",
  },
  merge: { flags: { json }, help: "merge every conflict copy of a session now (the hook does it at session start)" },
  scan: {
    args: "[FILE]",
    flags: none,
    help: "send a file (or everything) now instead of after the watcher's 1 s delay",
  },
  doctor: { flags: { json }, help: "check the setup, one line per check" },
  unison: {
    args: "HOST",
    flags: {
      "ssh-command": { type: "string", value: "CMD", help: "how to run ssh", check: nonEmpty },
      json,
    },
    help:
      "sync once with HOST over ssh with unison instead (no daemon, no port): the same\n" +
      "folders and ignores, sessions written on both sides merged by line",
  },
  "merge-files": { args: "CURRENT1 CURRENT2 NEW", flags: none, hidden: true },
} as const;
