// Starting at login the Syncthing that `claude-persist sync init` configured, opt-in (`claude-persist sync
// autostart`): a systemd user unit on Linux, a launchd agent on macOS, running the same command `sync start` runs,
// in the foreground as those managers want. `--remove` takes out exactly that file.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { homeDir, type Env } from "../claude/home.ts";
import { UserError } from "../errors.ts";
import { runProcess } from "../child-process.ts";
import { readTextIfExists, writeFileAtomic } from "../fs.ts";
import { serveArgs, syncthingBinary } from "./syncthing.ts";

export const SYSTEMD_UNIT = "claude-persist-syncthing.service";
export const LAUNCHD_LABEL = "dev.claude-persist.syncthing";
const MARKER = "Written by 'claude-persist sync autostart'";

export type AutostartFile = { readonly kind: "systemd" | "launchd"; readonly file: string; readonly content: string };

/** The file that starts `syncthing` for the Syncthing home `home` at login, on this platform. */
export function planAutostart(env: Env, home: string, platform: NodeJS.Platform = process.platform): AutostartFile {
  const command = [resolveBinary(env), ...serveArgs(home)];
  if (platform === "darwin") {
    const file = path.join(homeDir(env), "Library", "LaunchAgents", `${LAUNCHD_LABEL}.plist`);
    return { kind: "launchd", file, content: launchdPlist(command) };
  }
  if (platform !== "linux") {
    throw new UserError(
      `starting Syncthing at login is supported on Linux (systemd) and macOS (launchd), not on ${platform}: ` +
        "start it with 'claude-persist sync start'",
    );
  }
  const dir = path.join(env.XDG_CONFIG_HOME || path.join(homeDir(env), ".config"), "systemd", "user");
  return { kind: "systemd", file: path.join(dir, SYSTEMD_UNIT), content: systemdUnit(command) };
}

function systemdUnit(command: readonly string[]): string {
  return [
    `# ${MARKER}: Syncthing for Claude Code's shared folders. 'claude-persist sync autostart --remove' removes it.`,
    "[Unit]",
    "Description=Syncthing for Claude Code sessions (claude-persist)",
    "",
    "[Service]",
    `ExecStart=${command.map(systemdWord).join(" ")}`,
    "Environment=STNODEFAULTFOLDER=1",
    "Restart=on-failure",
    "RestartSec=10",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ].join("\n");
}

/** systemd's quoting: double quotes, backslash escapes, and `%`/`$` doubled (its specifiers and variables). */
function systemdWord(word: string): string {
  const escaped = word.replaceAll("%", "%%").replaceAll("$", "$$$$");
  if (/^[A-Za-z0-9_./:=@+-]+$/.test(escaped)) return escaped;
  return `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

function launchdPlist(command: readonly string[]): string {
  const xml = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    `<!-- ${MARKER}: Syncthing for Claude Code's shared folders. -->`,
    "<!-- 'claude-persist sync autostart --remove' removes it. -->",
    '<plist version="1.0">',
    "<dict>",
    `  <key>Label</key><string>${LAUNCHD_LABEL}</string>`,
    "  <key>ProgramArguments</key>",
    "  <array>",
    ...command.map((word) => `    <string>${xml(word)}</string>`),
    "  </array>",
    "  <key>EnvironmentVariables</key><dict><key>STNODEFAULTFOLDER</key><string>1</string></dict>",
    "  <key>RunAtLoad</key><true/>",
    "  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>",
    "  <key>ProcessType</key><string>Background</string>",
    "</dict>",
    "</plist>",
    "",
  ].join("\n");
}

/** An absolute path: neither manager searches the user's PATH. */
function resolveBinary(env: Env): string {
  const binary = syncthingBinary(env);
  if (path.isAbsolute(binary)) return binary;
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  throw new UserError(
    "syncthing is not installed (not on PATH): install it ('apt-get install syncthing' or 'brew install syncthing') " +
      "and run this again",
  );
}

export type AutostartOutcome = { readonly file: string; readonly lines: string[]; readonly enabled: boolean };

/** Writes the file, and on Linux enables the unit for the next login; says plainly when systemd cannot. */
export async function enableAutostart(env: Env, home: string): Promise<AutostartOutcome> {
  const plan = planAutostart(env, home);
  const previous = readTextIfExists(plan.file);
  if (previous !== undefined && !previous.includes(MARKER)) {
    throw new UserError(
      `${plan.file} exists and was not written by claude-persist: ` +
        "move it aside and run this again (nothing was changed)",
    );
  }
  mkdirSync(path.dirname(plan.file), { recursive: true, mode: 0o700 });
  writeFileAtomic(plan.file, plan.content, 0o644);
  if (plan.kind === "launchd") {
    const line =
      `Syncthing starts at your next login (${plan.file}); ` +
      `to start it that way now: launchctl load -w ${plan.file}`;
    return { file: plan.file, enabled: true, lines: [line] };
  }
  const systemctl = (args: string[]) =>
    runProcess("systemctl", ["--user", ...args], { env: { ...env }, timeout: 30_000 });
  const reload = await systemctl(["daemon-reload"]);
  const enable = reload.exitCode === 0 ? await systemctl(["enable", SYSTEMD_UNIT]) : reload;
  if (enable.exitCode === 0) {
    const line = `Syncthing starts at your next login (systemd user unit ${plan.file}).`;
    return { file: plan.file, enabled: true, lines: [line] };
  }
  const missing = enable.code === "ENOENT";
  const said = enable.stderr.trim().split("\n")[0] || `exit code ${enable.exitCode}`;
  const reason = missing ? "systemctl is not installed" : said;
  return {
    file: plan.file,
    enabled: false,
    lines: [
      `Wrote ${plan.file}, but systemctl --user is not available here (${reason}): in your login session run ` +
        `'systemctl --user enable ${SYSTEMD_UNIT}', or 'claude-persist sync start' after each login.`,
    ],
  };
}

/** Takes out what enableAutostart wrote (and disables the unit where systemd runs). */
export async function removeAutostart(env: Env, home: string): Promise<string> {
  const plan = planAutostart(env, home);
  const previous = readTextIfExists(plan.file);
  if (previous === undefined) return "Syncthing was not set to start at login.";
  if (!previous.includes(MARKER)) throw new UserError(`${plan.file} was not written by claude-persist: left as it is`);
  if (plan.kind === "systemd") {
    // Without a user session there is nothing enabled to disable; the file is what remains.
    await runProcess("systemctl", ["--user", "disable", SYSTEMD_UNIT], { env: { ...env }, timeout: 30_000 });
  }
  rmSync(plan.file);
  return `Syncthing no longer starts at login (removed ${plan.file}).`;
}
