// Standard input and output for the hook entry points, through plain fd calls: node:tty and process.stdout/stderr
// load node's stream and net modules, which cost a hook more than all of its own work (see `npm run bench -- hook`).
import { fstatSync, readFileSync, writeSync } from "node:fs";

/** The hook's JSON from stdin; "" when stdin is a terminal (someone ran the file by hand, with nothing to wait for). */
export function readHookInput(): string {
  return fstatSync(0).isCharacterDevice() ? "" : readFileSync(0, "utf8");
}

/** Writes all of `text` to `fd` (1 or 2), retrying a pipe that is full for the moment; a closed one is left alone. */
export function writeAll(fd: number, text: string): void {
  let bytes = Buffer.from(text);
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(writeSync(fd, bytes));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
    }
  }
}
