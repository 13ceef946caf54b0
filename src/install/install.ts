// Installing the pack into a user's Claude Code: the runtime into `<config>/persist/`, the slash commands into
// `<config>/commands/`, the SessionStart hook into `<config>/settings.json`. Everything is planned (and every input
// validated) before the first byte is written; re-running changes nothing; uninstall (./uninstall.ts) takes out
// exactly what install put in, and gives back any file of the user's that install replaced.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod/mini";
import { cleanedOnInterrupt, finishedBeforeInterrupt, pausePoint } from "../interrupt.ts";
import { once } from "../once.ts";
import "../zod-messages.ts";
import { sha256Hex } from "../crypto.ts";
import {
  configDir,
  homeDir,
  PACK_CODE_DIR,
  PACK_RUNTIME_MARKER,
  PACK_STATE_DIR,
  packCodeDir,
  packHostDir,
  settingsPath,
  type Env,
} from "../claude/home.ts";
import { READ_WRITE_ENTRIES } from "../claude/shared.ts";
import { isEmptyFolder, rmdirBeneath, statBeneath } from "../container-tree.ts";
import { UserError } from "../errors.ts";
import {
  BACKUP_SUFFIX,
  backupFile,
  fileError,
  readRegularFile,
  readTextToEdit,
  refuseDanglingLink,
  replaceFileIn,
  writeFileAtomic,
} from "../fs.ts";
import { type BinLinks, linkCommands, recordBinDir } from "./bin-links.ts";
import { addPackHooks, addSessionStartHook } from "./settings.ts";
import { readJsonState, withLock } from "../state/files.ts";
import { ensurePackHostDir, removeHostDirIfUnused, STATE, statePath } from "../state/paths.ts";

export type Change = {
  readonly path: string;
  readonly action: "create" | "update" | "remove" | "restore";
  /** Where the replaced content was saved, when it was the user's. */
  readonly backup?: string;
};

export type InstallResult = {
  readonly configDir: string;
  /** The version installed (or, for uninstall, taken out). */
  readonly version?: string;
  readonly dryRun: boolean;
  readonly changes: Change[];
  readonly unchanged: number;
  readonly notes: string[];
  /** The commands linked into a folder on PATH, when asked for. */
  readonly bin?: BinLinks;
};

/** The folders install may create, relative to the config dir: the shared ones containers mount, and commands/. */
const CREATABLE_DIRS = [
  ...READ_WRITE_ENTRIES.filter((entry) => entry.kind === "dir" && entry.name !== PACK_STATE_DIR).map(
    (entry) => entry.name,
  ),
  "commands",
];

/**
 * What install wrote, so that uninstall can take out exactly that and no more. It is host-only now, but an older
 * version kept it where containers write, and migration moved it as found: every path must be one install makes.
 */
export const manifestSchema = once(() =>
  z.object({
    version: z.string(),
    files: z.record(
      z.string().check(z.regex(/^commands\/[A-Za-z0-9][A-Za-z0-9._-]*\.md$/, "not a slash command install makes")),
      z.object({ sha256: z.string(), replacedUserFile: z.boolean() }),
    ),
    settings: z.object({ before: z.nullable(z.string()), after: z.string() }),
    /** Folders (relative to the config dir) that install created. */
    createdDirs: z._default(
      z.array(z.string().check(z.refine((name) => CREATABLE_DIRS.includes(name), "not a folder install makes"))),
      [],
    ),
    /** The folder the commands were linked into (`--bin-dir`, or ~/.local/bin), for uninstall. */
    binDir: z.optional(z.string()),
  }),
);
type Manifest = z.infer<ReturnType<typeof manifestSchema>>;

/**
 * How commands/*.md name a runtime file: as the plugin runs them, `"${CLAUDE_PLUGIN_ROOT}/dist/bin/x.mjs"`.
 * Install points them at the installed runtime instead.
 */
const PLUGIN_RUNTIME_REFERENCE = /"\$\{CLAUDE_PLUGIN_ROOT\}\/dist(\/[^"\s]*)"/g;

/** What install sets up: everything, or (from the plugin, which brings its own commands) the parts containers need. */
export type InstallParts = "all" | "runtime-and-hook";

/** The built runtime (`dist/`), found from this module whether it runs from source or from a bundle. */
export function findRuntimeDir(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    for (const candidate of [dir, path.join(dir, "dist")]) {
      if (existsSync(path.join(candidate, PACK_RUNTIME_MARKER)) && existsSync(path.join(candidate, "hooks")))
        return candidate;
    }
    if (path.dirname(dir) === dir) {
      throw new UserError(
        "claude-persist is not built: run 'npm install' (or 'npm run build') in the claude-persist folder first",
      );
    }
  }
}

export function manifestPath(env: Env): string {
  return statePath(env, STATE.installRecord);
}

/**
 * A command template with its runtime paths pointing at the installed runtime: `~/.claude/persist/…` when the config
 * dir is the default, so the same file works in containers, else the absolute path (quoted where it must be).
 */
export function commandForInstall(template: string, env: Env, file: string): string {
  const dir = configDir(env);
  const isDefault = dir === path.join(homeDir(env), ".claude");
  const result = template.replace(PLUGIN_RUNTIME_REFERENCE, (_match, rest: string) => {
    if (isDefault) return `~/.claude/${PACK_CODE_DIR}${rest}`;
    const target = `${packCodeDir(env)}${rest}`;
    if (/^[A-Za-z0-9_./@%+=:,-]+$/.test(target)) return target;
    if (/["$`\\]/.test(target))
      throw new UserError(
        `the config dir ${dir} has a character (" $ \` or \\) that a slash command cannot quote; use another CLAUDE_CONFIG_DIR`,
      );
    return `"${target}"`;
  });
  if (result.includes("${CLAUDE_PLUGIN_ROOT}"))
    throw new Error(`${file}: a \${CLAUDE_PLUGIN_ROOT} reference that is not "\${CLAUDE_PLUGIN_ROOT}/dist/…"`);
  return result;
}

function listFiles(dir: string, prefix = ""): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(dir, rel));
    else if (entry.isFile()) files.push(rel);
  }
  return files;
}

/** `previous`: the target's bytes before (undefined when it did not exist), to put back if install fails half-way. */
type PlannedWrite = {
  target: string;
  content: Buffer;
  previous: Buffer | undefined;
  mode: number | undefined;
  backup: boolean;
};

type Plan = {
  /** Folders to create (mode 0700). */
  dirs: string[];
  writes: PlannedWrite[];
  removals: string[];
  unchanged: number;
  manifest: Manifest;
};

function planInstall(env: Env, runtime: string, previous: Manifest | undefined, parts: InstallParts): Plan {
  const config = configDir(env);
  const plan: Plan = {
    dirs: [],
    writes: [],
    removals: [],
    unchanged: 0,
    manifest: {
      version: readRuntimeVersion(runtime),
      files: {},
      settings: { before: null, after: "" },
      createdDirs: [],
    },
  };
  // `current`: the target's bytes now (undefined when it does not exist), as the caller read them.
  const want = (
    target: string,
    current: Buffer | undefined,
    content: Buffer,
    mode: number | undefined,
    backup: boolean,
  ) => {
    if (current?.equals(content)) plan.unchanged++;
    else plan.writes.push({ target, content, previous: current, mode, backup });
  };

  // The runtime: every built file, and nothing left over from an older version. Its marker goes last, so that a
  // copy cut short never passes for a complete one (see src/install/plugin.ts).
  // The shared folders dev containers mount: Claude Code makes them on first use, but a mount needs them now, and
  // doctor wants them there and private from the start.
  plan.manifest.createdDirs = [...(previous?.createdDirs ?? [])];
  for (const name of parts === "all" ? CREATABLE_DIRS : CREATABLE_DIRS.filter((name) => name !== "commands")) {
    if (existsSync(path.join(config, name))) continue;
    plan.dirs.push(path.join(config, name));
    if (!plan.manifest.createdDirs.includes(name)) plan.manifest.createdDirs.push(name);
  }

  const code = packCodeDir(env);
  // commands/ (the templates) comes along, so that `install` run from the installed runtime finds them.
  const runtimeFiles = listFiles(runtime).sort(
    (a, b) => Number(a === PACK_RUNTIME_MARKER) - Number(b === PACK_RUNTIME_MARKER),
  );
  for (const rel of runtimeFiles) {
    const source = path.join(runtime, rel);
    const target = path.join(code, rel);
    want(target, readIfExists(target), readFileSync(source), statSync(source).mode & 0o111 ? 0o755 : 0o644, false);
  }
  if (existsSync(code) && path.resolve(code) !== path.resolve(runtime)) {
    const keep = new Set(runtimeFiles);
    // Container seeds are dev-open's, kept beside the code so that containers see them read-only.
    const seeds = `${STATE.containerSeeds.name}/`;
    for (const rel of listFiles(code)) {
      if (!keep.has(rel) && !rel.startsWith(seeds)) plan.removals.push(path.join(code, rel));
    }
  }

  // Slash commands, pointing at the runtime as it is reached on this machine and in containers. A file of the
  // user's in the way is backed up, and remembered so that uninstall gives it back. Without them (the plugin's
  // setup), the commands an earlier full install put in stay on uninstall's list.
  if (parts === "runtime-and-hook") plan.manifest.files = { ...previous?.files };
  const commandNames =
    parts === "all"
      ? readdirSync(path.join(runtime, "commands"))
          .filter((n) => n.endsWith(".md"))
          .sort()
      : [];
  for (const name of commandNames) {
    const rel = path.join("commands", name);
    const target = path.join(config, rel);
    const template = readFileSync(path.join(runtime, "commands", name), "utf8");
    const content = Buffer.from(commandForInstall(template, env, path.join(runtime, rel)));
    const current = readIfExists(target);
    const known = previous?.files[rel];
    const ours = current === undefined || (known !== undefined && sha256Hex(current) === known.sha256);
    const userFileInTheWay = !ours && !current.equals(content);
    plan.manifest.files[rel] = {
      sha256: sha256Hex(content),
      replacedUserFile: userFileInTheWay || (known?.replacedUserFile ?? false),
    };
    want(target, current, content, 0o644, userFileInTheWay);
  }

  // The hook, in settings.json. The manifest keeps the checksum of the user's own version, so that uninstall can
  // give back those exact bytes from the backup.
  const settingsFile = settingsPath(env);
  refuseDanglingLink(settingsFile);
  const before = readTextToEdit(settingsFile);
  const beforeBytes = before === undefined ? undefined : Buffer.from(before);
  // The Stop hook (a finished turn sent to the other machines at once) only where sync is set up: elsewhere it has
  // nothing to do, and a Stop entry of the user's own stays as it is. `sync init` runs this again.
  const withSync = existsSync(statePath(env, STATE.syncSettings));
  const after = (withSync ? addPackHooks : addSessionStartHook)(before ?? "", settingsFile);
  const lastWrittenByUs =
    previous !== undefined && before !== undefined && sha256Hex(before) === previous.settings.after;
  plan.manifest.settings = {
    before: lastWrittenByUs ? previous.settings.before : before === undefined ? null : sha256Hex(before),
    after: sha256Hex(after),
  };
  // No mode: a settings.json of the user's keeps its own (it may hold secrets in `env`); a new one gets 0644.
  want(settingsFile, beforeBytes, Buffer.from(after), undefined, before !== undefined && !lastWrittenByUs);
  return plan;
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return existsSync(file) ? readFileSync(file) : undefined;
  } catch (error) {
    throw fileError(file, error);
  }
}

function readRuntimeVersion(runtime: string): string {
  const parsed = z
    .object({ version: z.string() })
    .safeParse(JSON.parse(readFileSync(path.join(runtime, PACK_RUNTIME_MARKER), "utf8")));
  return parsed.success ? parsed.data.version : "unknown";
}

export function relativeTo(config: string, file: string): string {
  return path.relative(config, file) || file;
}

/**
 * Carries out `plan`; when a write fails half-way (a full disk), what was written is undone before the error goes on.
 * Ctrl-C or SIGTERM meanwhile waits for the end (see install()): never a runtime half copied.
 */
async function applyPlan(plan: Plan, manifestFile: string): Promise<void> {
  const undo: Array<() => void> = [];
  try {
    for (const dir of plan.dirs) {
      const made = mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (made) undo.push(() => rmSync(made, { recursive: true, force: true }));
    }
    for (const [i, write] of plan.writes.entries()) {
      // Tests stop here, one file copied, to send a signal (see interrupt.ts).
      if (i === 1) await pausePoint("install-copying");
      const madeDir = mkdirSync(path.dirname(write.target), { recursive: true, mode: 0o700 });
      if (madeDir) undo.push(() => rmSync(madeDir, { recursive: true, force: true }));
      if (write.backup) {
        const backup = write.target + BACKUP_SUFFIX;
        const oldBackup = readIfExists(backup);
        undo.push(() => (oldBackup ? writeFileAtomic(backup, oldBackup) : rmSync(backup, { force: true })));
        backupFile(write.target);
      }
      const { previous } = write;
      undo.push(() => (previous ? writeFileAtomic(write.target, previous) : rmSync(write.target, { force: true })));
      writeFileAtomic(write.target, write.content, write.mode);
    }
    for (const file of plan.removals) {
      const content = readFileSync(file);
      const mode = statSync(file).mode & 0o777;
      unlinkSync(file);
      undo.push(() => writeFileAtomic(file, content, mode));
    }
    const manifestText = `${JSON.stringify(plan.manifest, null, 2)}\n`;
    // The record lives in host-only state: replaced by a rename, never written through a link planted there.
    if (readRegularFile(manifestFile)?.toString("utf8") !== manifestText)
      replaceFileIn(path.dirname(manifestFile), path.basename(manifestFile), manifestText, 0o600);
  } catch (error) {
    for (const step of undo.reverse()) {
      try {
        step();
      } catch {
        // Undo what can be undone; the error that stopped install is the one to report.
      }
    }
    throw error;
  }
}

/** Where the pack is installed, its hooks brought up to date now that sync is set up; true if settings.json changed. */
export async function registerStopHook(env: Env): Promise<boolean> {
  if (!existsSync(manifestPath(env))) return false;
  const { changes } = await install(env, { parts: "runtime-and-hook" });
  return changes.some((change) => change.path === "settings.json");
}

const INSTALL_FINISHED = "claude-persist install: stopped once the install had finished";

export async function install(
  env: Env,
  options: { dryRun?: boolean; runtime?: string; parts?: InstallParts; binDir?: string } = {},
): Promise<InstallResult> {
  const runtime = options.runtime ?? findRuntimeDir();
  const config = configDir(env);
  const run = async () => {
    const previous = readJsonState(manifestPath(env), z.optional(manifestSchema()), undefined);
    const plan = planInstall(env, runtime, previous, options.parts ?? "all");
    const binDir = options.binDir ? recordBinDir(env, options.binDir) : previous?.binDir;
    if (binDir) plan.manifest.binDir = binDir;
    const changes: Change[] = [];
    for (const dir of plan.dirs) changes.push({ path: relativeTo(config, dir), action: "create" });
    for (const write of plan.writes) {
      const backup = write.backup ? write.target + BACKUP_SUFFIX : undefined;
      changes.push({
        path: relativeTo(config, write.target),
        action: write.previous ? "update" : "create",
        ...(backup ? { backup: relativeTo(config, backup) } : {}),
      });
    }
    for (const file of plan.removals) changes.push({ path: relativeTo(config, file), action: "remove" });
    if (!options.dryRun) await applyPlan(plan, manifestPath(env));
    const bin = options.binDir ? linkCommands(env, options.binDir, options.dryRun) : undefined;
    const version = plan.manifest.version;
    const result = { configDir: config, version, dryRun: Boolean(options.dryRun), changes, unchanged: plan.unchanged };
    return { ...result, notes: [], ...(bin ? { bin } : {}) };
  };
  if (options.dryRun) {
    // A dry run must not even create the state folder: plan against what is there.
    return run();
  }
  // The lock lives in the host-only folder; when install stops (a malformed settings.json), state folders it made go again.
  // persist-state/ itself is in the config dir (the user's, who may link it elsewhere); what is in it is the
  // containers': looked at and removed through the gate.
  const madeStateDir = statBeneath(config, PACK_STATE_DIR) === undefined;
  const madeHostDir = !existsSync(packHostDir(env));
  mkdirSync(path.join(config, PACK_STATE_DIR), { recursive: true, mode: 0o700 });
  ensurePackHostDir(env);
  try {
    // A signal while the plan is carried out ends the process after it, and after the lock is let go.
    return await cleanedOnInterrupt(
      () => undefined,
      () => withLock(manifestPath(env), () => finishedBeforeInterrupt(run, () => INSTALL_FINISHED)),
    );
  } catch (error) {
    if (madeHostDir) removeHostDirIfUnused(env);
    if (madeStateDir && isEmptyFolder(config, PACK_STATE_DIR)) rmdirBeneath(config, PACK_STATE_DIR);
    throw error;
  }
}
