// `claude-persist doctor [--json]`: checks the host, this repo's dev container config and its container (or, run
// inside a container, the container itself), and prints the command that fixes each problem.
import { flagHelp, parseOptions } from "../args.ts";
import type { Command } from "../command.ts";
import { colourOn, paint, type Style } from "../colour.ts";
import { runDoctor } from "../doctor/doctor.ts";
import type { CheckStatus, DoctorReport } from "../doctor/report.ts";
import { oneLine } from "../text.ts";
import { plural, printJson } from "./output.ts";

const flags = {
  json: {
    type: "boolean",
    help:
      "print one JSON object: { environment, configDir, cwd, ok, counts, " +
      "sections: [{ title, checks: [{ id, status, label, … }] }] }",
  },
} as const;

const HELP = `Usage: claude-persist doctor [--json]

Checks that Claude Code sessions can follow you between the host and this repo's dev containers: the shared
folders, the SessionStart hook, node, the devcontainers CLI, Docker, this repo's config and its running container
(run inside a container: the mounts from the inside). Prints ✓, ⚠ or ✗ for each, and the command that fixes it.
Exit code 1 when any check fails (✗); warnings (⚠) alone exit 0.
${flagHelp(flags)}`;

export const doctor: Command = {
  flags,
  help: HELP,
  async run(args, io) {
    const { values } = parseOptions("claude-persist doctor", args, flags);
    const report = await runDoctor(io.env, io.cwd);
    if (values.json) printJson(io, report);
    else io.stdout(renderReport(report, await colourOn(io, 1)));
    return report.ok ? 0 : 1;
  },
};

const SYMBOLS: Record<CheckStatus, string> = { ok: "✓", warn: "⚠", fail: "✗" };
const STYLES: Record<CheckStatus, Style> = { ok: "green", warn: "yellow", fail: "red" };

/**
 * One line per check (`✓ label — detail`), and under each that is not ok the command that fixes it; with `colour`,
 * the marks in green, yellow and red, so that one ✗ among many ✓ stands out.
 */
function renderReport(report: DoctorReport, colour: boolean): string {
  // Labels name mapped paths and containers' answers: each piece goes through oneLine (text.ts) on its way out.
  const where = report.environment === "host" ? "on the host" : "in a dev container";
  const lines = [`claude-persist doctor: ${where}, Claude Code home ${oneLine(report.configDir)}`];
  for (const section of report.sections) {
    lines.push("", oneLine(section.title));
    for (const check of section.checks) {
      const detail = check.detail ? ` — ${oneLine(check.detail)}` : "";
      lines.push(`  ${paint(colour, STYLES[check.status], SYMBOLS[check.status])} ${oneLine(check.label)}${detail}`);
      if (check.fix && check.status !== "ok") lines.push(`      fix: ${oneLine(check.fix)}`);
    }
  }
  const { fail: failed, warn: warned } = report.counts;
  const summary =
    failed === 0 && warned === 0 ? "All checks passed." : `${plural(failed, "problem")}, ${plural(warned, "warning")}.`;
  lines.push("", summary);
  return `${lines.join("\n")}\n`;
}
