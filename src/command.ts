// What a `claude-persist` subcommand is, and what it is given to run: the table in cli.ts lists them, each module
// in src/commands/ is one. Its own module, so that commands and the library import it without importing cli.ts.
import type { Action, Flags } from "./args.ts";

export type Io = {
  /** Text, or bytes printed as they are (a listing kept from the last run). */
  readonly stdout: (text: string | Uint8Array) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdin: NodeJS.ReadableStream;
  readonly isTTY: boolean;
  /** The terminal's width, when stdout is one. */
  readonly columns?: number;
};

export type Command = {
  /** What `--help` (or `-h`) prints, wherever it stands among the arguments; the command never sees it. */
  readonly help?: string;
  /** Its flags, from which its parsing, their checks and the options part of its help are derived (src/args.ts). */
  readonly flags?: Flags;
  /** Or, for a command of several actions (`snapshot create`), each action's flags and help. */
  readonly actions?: { readonly [name: string]: Action };
  readonly run: (args: string[], io: Io) => Promise<number>;
};
