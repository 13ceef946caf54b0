// Taking the pack out of a user's Claude Code again: exactly what install's record says it put in (runtime, slash
// commands, the SessionStart hook, the folders it made), giving back any file of the user's that install replaced,
// and keeping the pack's state.
import { existsSync, lstatSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import path from "node:path";
import * as z from "zod/mini";
import { sha256Hex } from "../crypto.ts";
import { cleanedOnInterrupt, finishedBeforeInterrupt, pausePoint } from "../interrupt.ts";
import { configDir, PACK_STATE_DIR, packCodeDir, packHostDir, settingsPath, type Env } from "../claude/home.ts";
import { isEmptyFolder, rmdirBeneath, statBeneath } from "../container-tree.ts";
import {
  BACKUP_SUFFIX,
  backupFile,
  readRegularFile,
  readTextIfExists,
  readTextToEdit,
  writeFileAtomic,
} from "../fs.ts";
import { binDirOfRecord, unlinkCommands } from "./bin-links.ts";
import { type Change, type InstallResult, manifestPath, manifestSchema, relativeTo } from "./install.ts";
import { removePackHooks } from "./settings.ts";
import { readJsonState, withLock } from "../state/files.ts";
import { ensurePackHostDir, FROM_SHARED_SUFFIX, migrateHostState, removeHostDirIfUnused } from "../state/paths.ts";

const UNINSTALL_FINISHED = "claude-persist uninstall: stopped once the uninstall had finished";

export async function uninstall(env: Env, options: { dryRun?: boolean } = {}): Promise<InstallResult> {
  const config = configDir(env);
  if (!options.dryRun) migrateHostState(env);
  // persist-state/ is the containers' folder: looked at through the gate (a link there is not followed).
  if (statBeneath(config, PACK_STATE_DIR) === undefined && !existsSync(packHostDir(env))) {
    return {
      configDir: config,
      dryRun: Boolean(options.dryRun),
      changes: [],
      unchanged: 0,
      notes: ["claude-persist is not installed here"],
    };
  }
  if (!options.dryRun) ensurePackHostDir(env);
  const run = async () => {
    const manifest = readJsonState(manifestPath(env), z.optional(manifestSchema()), undefined);
    // A record moved from the shared folder may say anything a container wrote: settings.json is then only edited.
    const trusted = !existsSync(`${manifestPath(env)}${FROM_SHARED_SUFFIX}`);
    const changes: Change[] = [];
    const notes: string[] = [];
    const act = (change: Change, apply: () => void) => {
      changes.push({ ...change, path: relativeTo(config, change.path) });
      if (!options.dryRun) apply();
    };

    // Settings first: if the file cannot be read, stop before anything else changes.
    const settingsFile = settingsPath(env);
    const current = readTextToEdit(settingsFile);
    if (current !== undefined) {
      const backup = settingsFile + BACKUP_SUFFIX;
      const backupText = readTextIfExists(backup);
      const untouchedSinceInstall = trusted && manifest !== undefined && sha256Hex(current) === manifest.settings.after;
      // A link (dotfiles checked out since install) is the user's: it stays, and only our hook comes out of its file.
      const isLink = lstatSync(settingsFile).isSymbolicLink();
      if (untouchedSinceInstall && manifest.settings.before === null && !isLink) {
        act({ path: settingsFile, action: "remove" }, () => unlinkSync(settingsFile));
      } else if (
        untouchedSinceInstall &&
        backupText !== undefined &&
        sha256Hex(backupText) === manifest.settings.before
      ) {
        act({ path: settingsFile, action: "restore" }, () => writeFileAtomic(settingsFile, backupText));
      } else {
        const without = removePackHooks(current, settingsFile);
        if (without !== current) {
          act({ path: settingsFile, action: "update", backup: backup }, () => {
            backupFile(settingsFile);
            writeFileAtomic(settingsFile, without);
          });
        }
      }
    }

    for (const [rel, entry] of Object.entries(manifest?.files ?? {})) {
      const file = path.join(config, rel);
      const content = existsSync(file) ? readFileSync(file) : undefined;
      if (content === undefined) continue;
      if (sha256Hex(content) !== entry.sha256) {
        notes.push(`${rel} was changed after install, so it was left in place`);
        continue;
      }
      // The backup is given back only as a regular file: a link there is not followed.
      const backup = entry.replacedUserFile ? readRegularFile(file + BACKUP_SUFFIX) : undefined;
      if (backup !== undefined) {
        act({ path: file, action: "restore" }, () => writeFileAtomic(file, backup));
      } else {
        act({ path: file, action: "remove" }, () => unlinkSync(file));
      }
    }

    // The commands' links in the bin folder (only links to this runtime; a file of the user's there stays).
    if (manifest?.binDir) {
      for (const link of unlinkCommands(env, binDirOfRecord(env, manifest.binDir), true)) {
        changes.push({ path: link, action: "remove" });
        if (!options.dryRun) unlinkSync(link);
      }
    }

    // The shared folders install made, unless something is in them now (or a link stands there).
    for (const name of manifest?.createdDirs ?? []) {
      if (isEmptyFolder(config, name))
        act({ path: path.join(config, name), action: "remove" }, () => rmdirBeneath(config, name));
    }

    // Tests stop here, settings.json and the commands done, to send a signal (see interrupt.ts).
    if (!options.dryRun) await pausePoint("uninstall-removing");
    const code = packCodeDir(env);
    if (existsSync(code)) act({ path: code, action: "remove" }, () => rmSync(code, { recursive: true, force: true }));
    if (manifest)
      act({ path: manifestPath(env), action: "remove" }, () => {
        unlinkSync(manifestPath(env));
        rmSync(`${manifestPath(env)}${FROM_SHARED_SUFFIX}`, { force: true });
      });
    notes.push(
      `claude-persist's state in ${PACK_STATE_DIR}/ (session records, mappings, work items) was kept; delete it by hand if you want it gone`,
    );
    return { configDir: config, dryRun: Boolean(options.dryRun), changes, unchanged: 0, notes };
  };
  // A dry run plans against what is there, without even the host-only folder for the lock.
  if (options.dryRun) return run();
  // A signal meanwhile ends the process once uninstall is done and its lock let go: never half taken out.
  const result = await cleanedOnInterrupt(
    () => undefined,
    () => withLock(manifestPath(env), () => finishedBeforeInterrupt(run, () => UNINSTALL_FINISHED)),
  );
  // The host-only folder goes too when nothing else (snapshots, launch logs) is in it.
  removeHostDirIfUnused(env);
  return result;
}
