// `claude-persist unshare` / `share`: take this repo's persistence mounts out of its dev container config (the
// container keeps its own sessions), or put them back. The same edits as `dev-open --isolated` / `--config-only`.
import type { Command } from "../cli.ts";
import { UserError } from "../errors.ts";
import { devOpen, HELP } from "./dev-open.ts";

const passThrough = new Set(["--config", "--json", "--dry-run"]);

function only(args: string[], command: string): string[] {
  for (const arg of args) {
    const name = arg.split("=")[0] ?? arg;
    if (arg.startsWith("-") && !passThrough.has(name)) throw new UserError(`${command} takes --config, --dry-run and --json, not ${name}`, 2);
  }
  return args;
}

export const unshare: Command = {
  summary: "take this repo's persistence mounts out of its config (the container keeps its own sessions)",
  help: HELP,
  run: (args, io) => devOpen.run(["--isolated", ...only(args, "unshare")], io),
};

export const share: Command = {
  summary: "put this repo's persistence mounts back into its config (does not launch)",
  help: HELP,
  run: (args, io) => devOpen.run(["--config-only", ...only(args, "share")], io),
};
