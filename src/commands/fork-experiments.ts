// `claude-persist fork list | compare NAME | drop NAME`: the project's experiments (src/branching/experiments.ts).
import { parseOptions } from "../args.ts";
import type { Io } from "../command.ts";
import { oneLine } from "../text.ts";
import { formatTime, plural, printJson } from "./output.ts";

const flags = { json: { type: "boolean", help: "print one machine-readable result" } } as const;

export async function runExperimentAction(
  action: "list" | "compare" | "drop",
  args: string[],
  io: Io,
): Promise<number> {
  const command = `claude-persist fork ${action}`;
  const { values, positionals } = parseOptions(command, args, flags, { positionals: action === "list" ? 0 : 1 });
  const experiments = await import("../branching/experiments.ts");
  if (action === "list") {
    const found = (await experiments.listExperiments(io.env, io.cwd)).map((f) => f.experiment);
    if (values.json) {
      printJson(io, { ok: true, forks: found });
      return 0;
    }
    if (found.length === 0) {
      io.stdout("No forks in this project yet: 'claude-persist fork SESSION@TURN --worktree' makes one.\n");
      return 0;
    }
    const out = [`${plural(found.length, "fork")}:`];
    for (const e of found) {
      out.push(
        `  ${e.id}  from ${e.parent.slice(0, 8)}${e.atTurn !== null ? ` after turn ${e.atTurn}` : ""}` +
          ` · ${plural(e.turnsSince, "turn")} since · ${e.branch ? `branch ${oneLine(e.branch)} · ` : ""}` +
          `${oneLine(e.worktree ?? e.folder ?? "?")} · last ${formatTime(e.lastActivity)}`,
      );
    }
    io.stdout(`${out.join("\n")}\n`);
    return 0;
  }
  const [name] = positionals;
  if (name === undefined) {
    io.stderr(
      `${command}: name the fork (its branch, worktree or session id); 'claude-persist fork list' shows them\n`,
    );
    return 2;
  }
  if (action === "compare") {
    const c = await experiments.compareExperiment(io.env, io.cwd, name);
    if (values.json) {
      printJson(io, { ok: true, ...c });
      return 0;
    }
    const side = (title: string, s: { commits: string[]; files: string[]; turnsSince: number }) => [
      `${title}: ${plural(s.turnsSince, "turn")}, ${plural(s.commits.length, "commit")}, ${plural(s.files.length, "file")} changed since the fork`,
      ...s.commits.map((commit) => `    ${oneLine(commit, 100)}`),
      ...s.files.map((file) => `    ${oneLine(file)}`),
    ];
    const out = [
      `Fork ${c.experiment.id} of ${c.experiment.parent}${c.base ? ` (branches part at ${c.base.slice(0, 12)})` : ""}`,
      ...side(`  fork (${oneLine(c.experiment.branch ?? "no branch")})`, c.fork),
      ...side(`  original (${oneLine(c.original.branch ?? "no branch")})`, c.original),
    ];
    io.stdout(`${out.join("\n")}\n`);
    return 0;
  }
  const dropped = await experiments.dropExperiment(io.env, io.cwd, name);
  if (values.json) {
    printJson(io, { ok: true, ...dropped });
    return 0;
  }
  io.stdout(
    `Dropped fork ${dropped.experiment.id}${dropped.experiment.worktree ? ` and its worktree ${oneLine(dropped.experiment.worktree)} (branch ${oneLine(dropped.experiment.branch ?? "")} kept)` : ""}${dropped.containers.length > 0 ? ` and its dev container ${dropped.containers.map((id) => id.slice(0, 12)).join(", ")}` : ""}, after snapshot ${dropped.snapshot}.\n` +
      `Undo with:\n  ${dropped.undo}\n`,
  );
  return 0;
}
