// `claude-persist unshare` / `share`: take this repo's persistence mounts out of its dev container config (the
// container keeps its own sessions), or put them back. The same edits as `dev-open --isolated` / `--config-only`.
import * as z from "zod";
import { parseOptions } from "../args.ts";
import type { Command, Io } from "../command.ts";
import { openDevContainer } from "../devcontainer/open.ts";
import { UserError } from "../errors.ts";
import { plainDevOpen, printDevOpenResult } from "./dev-open.ts";

const options = {
  config: { type: "string" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
} as const;

const optionsSchema = z.object({
  config: z.string().min(1).optional(),
  "dry-run": z.boolean().optional(),
  json: z.boolean().optional(),
});

const OPTIONS_HELP = `  --config PATH   the devcontainer.json to use when the repo has several
  --dry-run       print the changes to the config, change nothing
  --json          print one machine-readable result
`;

export const unshare: Command = {
  help: `Usage: dev-open --isolated [folder] [--config PATH] [--dry-run] [--json]
   or: claude-persist unshare [folder] [--config PATH] [--dry-run] [--json]

Takes this repo's persistence mounts out of its dev container config: once recreated, the container keeps its
own Claude sessions. 'claude-persist share' puts them back.

${OPTIONS_HELP}`,
  run: (args, io) => forward("unshare", { isolated: true }, args, io),
};

export const share: Command = {
  help: `Usage: dev-open --config-only [folder] [--config PATH] [--dry-run] [--json]
   or: claude-persist share [folder] [--config PATH] [--dry-run] [--json]

Puts this repo's persistence mounts back into its dev container config and prepares the host; does not launch.

${OPTIONS_HELP}`,
  run: (args, io) => forward("share", { configOnly: true }, args, io),
};

/** Checks `args` against what `command` takes, then runs dev-open in `mode` with them. */
async function forward(command: string, mode: { isolated: true } | { configOnly: true }, args: string[], io: Io): Promise<number> {
  // dev-open's other options would contradict `mode`: say which ones this command takes.
  const end = args.indexOf("--");
  const names = (end < 0 ? args : args.slice(0, end)).map((arg) => arg.split("=")[0] ?? arg);
  const other = names.find((name) => name.startsWith("-") && !Object.hasOwn(options, name.replace(/^--?/, "")));
  if (other) throw new UserError(`${command} takes --config, --dry-run and --json, not ${other}`, 2);
  const { values, positionals } = parseOptions(command, args, options, optionsSchema, { positionals: 1 });
  const result = await openDevContainer(
    { ...plainDevOpen(positionals[0] ?? io.cwd), ...mode, configPath: values.config, dryRun: Boolean(values["dry-run"]) },
    io,
  );
  printDevOpenResult(result, Boolean(values.json), io);
  return 0;
}
