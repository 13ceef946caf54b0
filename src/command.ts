// What a `claude-persist` subcommand is, and what it is given to run: the table in cli.ts lists them, each module
// in src/commands/ is one. Its own module, so that commands and the library import it without importing cli.ts.

export type Io = {
  readonly stdout: (text: string) => void;
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
  readonly run: (args: string[], io: Io) => Promise<number>;
};
