// `npm run bench`: speed measured as ratios against a baseline taken in the same run, on this machine.
// Runs are interleaved (baseline, subject, baseline, …) so that drift in the machine's load hits both alike.
// `npm run bench` runs every row; `npm run bench -- hook` (or cli, sessions, restore, dev-open, snapshot, sync, usage) runs one
// bench, and the table at the end names the command that runs each row alone. BENCH_RUNS (and BENCH_CLI_RUNS, …)
// set the number of runs: on a busy machine, more runs give steadier ratios.
import { benchSessions } from "./bench/sessions.ts";
import { benchDevOpen } from "./bench/dev-open.ts";
import { benchRestore, benchSnapshot } from "./bench/snapshot.ts";
import { benchCli, benchHook } from "./bench/startup.ts";
import { rows } from "./bench/measure.ts";

// `npm run bench` runs them all; `npm run bench -- snapshot hook` runs the ones named.
const benches: Record<string, () => boolean | Promise<boolean>> = {
  hook: benchHook,
  cli: benchCli,
  sessions: benchSessions,
  "dev-open": benchDevOpen,
  snapshot: benchSnapshot,
  restore: benchRestore,
  sync: async () => (await import("./bench/sync.ts")).benchSync(),
  usage: async () => (await import("./bench/usage.ts")).benchUsage(),
};
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in benches));
if (unknown.length > 0)
  throw new Error(`no bench named ${unknown.join(", ")}; there are: ${Object.keys(benches).join(", ")}`);
const results: boolean[] = [];
for (const [name, bench] of Object.entries(benches))
  if (chosen.length === 0 || chosen.includes(name)) results.push(await bench());
if (rows.length > 0) {
  console.log("\n| what | ratio | target | CPU time ratio | alone |\n|---|---|---|---|---|");
  for (const { what, ratio, cpuRatio, target, bench } of rows) {
    const verdict = `≤ ${target}× ${ratio <= target ? "ok" : "over"}`;
    const cpu = cpuRatio === undefined ? "-" : `${cpuRatio.toFixed(2)}×`;
    console.log(`| ${what} | ${ratio.toFixed(2)}× | ${verdict} | ${cpu} | \`npm run bench -- ${bench}\` |`);
  }
}
process.exitCode = results.every(Boolean) ? 0 : 1;
