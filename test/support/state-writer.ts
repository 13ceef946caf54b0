// A process of its own for test/concurrency.test.ts (bundled first): `node state-writer.mjs <file> <key> <count>
// [<start at, ms since epoch>]` adds `<key>-0` … `<key>-<count - 1>` to one JSON state file, one updateJsonState
// call each. Processes given the same start time begin together, which is what makes races show.
import { z } from "zod";
import { updateJsonState } from "../../src/state/files.ts";

const [file = "", key = "", count = "1", startAt = "0"] = process.argv.slice(2);
while (Date.now() < Number(startAt)) {
  // Spin rather than sleep: timers would spread the processes out again by a millisecond or more.
}
for (let i = 0; i < Number(count); i++) {
  await updateJsonState(file, z.record(z.string(), z.number()), {}, (current) => ({
    ...current,
    [`${key}-${i}`]: process.pid,
  }));
}
