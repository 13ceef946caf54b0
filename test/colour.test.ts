// Colour where it carries meaning (issue 26): on a terminal (a pseudo-terminal made by `script`), the doctor's ✓ ⚠ ✗
// and a failure's prefix are coloured; with NO_COLOR, in a pipe and with --json they are not; FORCE_COLOR forces it.
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { existsOnPath } from "./support/checks.ts";
import { CLI, runCli, tempDir, tempHome } from "./support/claude.ts";

const ESCAPE = "\u001b[";
const RED = "\u001b[31m";

/** The CLI run on a pseudo-terminal, as a person runs it; stdout and stderr both reach the terminal. */
async function onTerminal(args: string[], env: Record<string, string> = {}): Promise<string> {
  const words = [process.execPath, CLI, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  const result = await execa("script", ["-qfec", words, "/dev/null"], {
    env: { PATH: process.env.PATH ?? "", HOME: tempHome(), TERM: "xterm-256color", ...env },
    extendEnv: false,
    reject: false,
    cwd: tempDir(),
    stdin: "ignore",
  });
  return result.stdout;
}

describe.skipIf(!existsOnPath("script"))("colour", () => {
  it("on a terminal: a failure's prefix is red, the doctor's marks are coloured", async () => {
    const failure = await onTerminal(["sesions"]);
    expect(failure).toContain(`${RED}claude-persist:`);
    expect(failure).toContain("unknown command 'sesions'");
    const doctor = await onTerminal(["doctor"]);
    expect(doctor).toContain(`${RED}✗`);
    expect(doctor).toMatch(/\u001b\[3[23]m[✓⚠]/);
  });

  it("NO_COLOR, TERM=dumb and --json leave a terminal's text plain", async () => {
    expect(await onTerminal(["sesions"], { NO_COLOR: "1" })).not.toContain(ESCAPE);
    expect(await onTerminal(["doctor"], { NO_COLOR: "1" })).not.toContain(ESCAPE);
    expect(await onTerminal(["doctor"], { TERM: "dumb" })).not.toContain(ESCAPE);
    const json = await onTerminal(["doctor", "--json", "--bogus"]);
    expect(json).toContain("unknown option '--bogus'");
    expect(json).not.toContain(ESCAPE);
  });

  it("in a pipe there is no colour, unless FORCE_COLOR asks for it", async () => {
    const env = { HOME: tempHome() };
    const piped = await runCli(["doctor"], { env, cwd: tempDir() });
    expect(piped.stdout).toContain("✗");
    expect(piped.stdout + piped.stderr).not.toContain(ESCAPE);
    const forced = await runCli(["sesions"], { env: { ...env, FORCE_COLOR: "1" } });
    expect(forced.stderr).toContain(`${RED}claude-persist:`);
    const both = await runCli(["sesions"], { env: { ...env, FORCE_COLOR: "0", NO_COLOR: "" } });
    expect(both.stderr).not.toContain(ESCAPE);
  });
});
