// `dev-open` (and `/dev-open`): open this repo in its dev container with the Claude session data shared.
import * as z from "zod";
import { parseOptions } from "../args.ts";
import type { Command, Io } from "../command.ts";
import { openDevContainer, type DevOpenOptions, type DevOpenResult } from "../devcontainer/open.ts";
import { printJson } from "./output.ts";

const options = {
  config: { type: "string" },
  init: { type: "boolean" },
  "dry-run": { type: "boolean" },
  "config-only": { type: "boolean" },
  "write-config": { type: "boolean" },
  rebuild: { type: "boolean" },
  "same-path": { type: "boolean" },
  "remote-home": { type: "string" },
  isolated: { type: "boolean" },
  shell: { type: "boolean" },
  claude: { type: "boolean" },
  json: { type: "boolean" },
} as const;

const optionsSchema = z
  .object({
    config: z.string().min(1).optional(),
    init: z.boolean().optional(),
    "dry-run": z.boolean().optional(),
    "config-only": z.boolean().optional(),
    "write-config": z.boolean().optional(),
    rebuild: z.boolean().optional(),
    "same-path": z.boolean().optional(),
    "remote-home": z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]*$/, "must be an absolute path of letters, digits, '.', '_', '-' and '/'")
      .optional(),
    isolated: z.boolean().optional(),
    shell: z.boolean().optional(),
    claude: z.boolean().optional(),
    json: z.boolean().optional(),
  })
  .refine((o) => !(o.shell && o.claude), { message: "choose one of --shell and --claude", path: ["shell"] });

const HELP = `Usage: dev-open [folder] [options]

Opens the repo's dev container with your Claude Code sessions, todos and history shared with the host.

  --config PATH       the devcontainer.json to use when the repo has several
  --init              write a minimal .devcontainer/devcontainer.json (with the mounts) when there is none
  --dry-run           print the changes to the config, change nothing
  --config-only       write the mounts into the config and prepare the host, but do not launch
  --write-config      write the mounts into the repo's config too (by default the repo stays as it
                      was: the container gets them from a copy of the config in host-only state)
  --rebuild           recreate a running container that lacks the mounts
  --same-path         mount the workspace at its host path: no mapping needed
  --remote-home DIR   the container user's home, when it cannot be told from the config
  --isolated          take the persistence mounts out again: the container keeps its own sessions
  --shell | --claude  after launching, open a shell (or claude --continue) in the container
  --json              print one machine-readable result
`;

export const devOpen: Command = {
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseOptions("dev-open", args, options, optionsSchema, { positionals: 1 });
    const result = await openDevContainer(
      {
        folder: positionals[0] ?? io.cwd,
        configPath: values.config,
        init: Boolean(values.init),
        dryRun: Boolean(values["dry-run"]),
        configOnly: Boolean(values["config-only"]),
        writeConfig: Boolean(values["write-config"]),
        rebuild: Boolean(values.rebuild),
        samePath: Boolean(values["same-path"]),
        remoteHome: values["remote-home"],
        isolated: Boolean(values.isolated),
        enter: values.shell ? "shell" : values.claude ? "claude" : undefined,
      },
      io,
    );
    printDevOpenResult(result, Boolean(values.json), io);
    return 0;
  },
};

/** What `dev-open <folder>` does with no option: the options start-work --open, share and unshare start from. */
export function plainDevOpen(folder: string): DevOpenOptions {
  return {
    folder,
    configPath: undefined,
    init: false,
    dryRun: false,
    configOnly: false,
    writeConfig: false,
    rebuild: false,
    samePath: false,
    remoteHome: undefined,
    isolated: false,
    enter: undefined,
  };
}

/** dev-open's answer as it prints it: its messages, or with `json` one JSON document. */
export function printDevOpenResult(result: DevOpenResult, json: boolean, io: Io): void {
  if (json) printJson(io, { ok: true, ...result });
  else for (const line of result.messages) io.stdout(`${line}\n`);
}
