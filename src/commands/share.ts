// `claude-persist share` / `unshare`: the one name for writing this repo's persistence mounts into its dev container
// config (and preparing the host, without launching) and for taking them out again (the container then keeps its
// own sessions). `dev-open --config-only` and `dev-open --isolated` are older spellings of the same, kept working.
import { flagHelp, flagSynopsis, parseOptions } from "../args.ts";
import type { Command, Io } from "../command.ts";
import { openDevContainer } from "../devcontainer/open.ts";
import { UserError } from "../errors.ts";
import { devOpenFlags, plainDevOpen, printDevOpenResult } from "./dev-open.ts";

// dev-open's own flags, those that do not contradict the mode.
const flags = {
  config: devOpenFlags.config,
  "dry-run": {
    type: "boolean",
    help: "print the change to the config as a patch on stdout (notes on stderr); write nothing",
  },
  json: devOpenFlags.json,
} as const;

const USAGE = `[folder] ${flagSynopsis(flags)}`;

export const unshare: Command = {
  flags,
  help: `Usage: claude-persist unshare ${USAGE}

Takes this repo's persistence mounts out of its dev container config: once recreated, the container keeps its
own Claude sessions. 'claude-persist share' puts them back. ('dev-open --isolated' is the same.)

${flagHelp(flags)}`,
  run: (args, io) => forward("unshare", { isolated: true }, args, io),
};

export const share: Command = {
  flags,
  help: `Usage: claude-persist share ${USAGE}

Writes this repo's persistence mounts into its dev container config and prepares the host; does not launch.
For an editor that opens the container itself. ('dev-open --config-only' is the same.)

${flagHelp(flags)}`,
  run: (args, io) => forward("share", { configOnly: true }, args, io),
};

/** Checks `args` against what `command` takes, then runs dev-open in `mode` with them. */
async function forward(
  command: string,
  mode: { isolated: true } | { configOnly: true },
  args: string[],
  io: Io,
): Promise<number> {
  // dev-open's other options would contradict `mode`: say which ones this command takes.
  const end = args.indexOf("--");
  const names = (end < 0 ? args : args.slice(0, end)).map((arg) => arg.split("=")[0] ?? arg);
  // A typo of one of its own (`--dry-rn`) is parseOptions' to name, with the nearest flag.
  const other = names.find((name) => {
    const flag = name.replace(/^--?/, "");
    return name.startsWith("-") && !Object.hasOwn(flags, flag) && Object.hasOwn(devOpenFlags, flag);
  });
  if (other) throw new UserError(`${command} takes --config, --dry-run and --json, not ${other}`, 2);
  const { values, positionals } = parseOptions(`claude-persist ${command}`, args, flags, { positionals: 1 });
  const result = await openDevContainer(
    {
      ...plainDevOpen(positionals[0] ?? io.cwd),
      ...mode,
      configPath: values.config,
      dryRun: Boolean(values["dry-run"]),
    },
    io,
  );
  printDevOpenResult(result, Boolean(values.json), io, `claude-persist ${command}`);
  return 0;
}
