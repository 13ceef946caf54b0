// Command-line options: Node's parseArgs, then zod, once, where the arguments enter.
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { z } from "zod";
import { describeError, UserError } from "./errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses `args` for `command`; unknown options, stray arguments and invalid values are one clear line. */
export function parseOptions<S extends z.ZodType>(
  command: string,
  args: string[],
  options: Options,
  schema: S,
  { positionals = 0 }: { positionals?: number } = {},
): { values: z.output<S>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
  } catch (error) {
    const reason = describeError(error).replace(/\.$/, "");
    throw new UserError(`${reason}; see '${command} --help'`, 2);
  }
  if (parsed.positionals.length > positionals) {
    throw new UserError(`unexpected argument '${parsed.positionals[positionals]}'; see '${command} --help'`, 2);
  }
  const result = schema.safeParse(parsed.values);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UserError(`--${issue?.path.join(".")}: ${issue?.message}; see '${command} --help'`, 2);
  }
  return { values: result.data, positionals: parsed.positionals };
}
