// execa, loaded when a command starts its first process: `--help`, and what starts no process, never load it (it is
// the largest module a command start would otherwise parse; see `npm run bench -- cli`).
import type { execa as Execa } from "execa";

export async function loadExeca(): Promise<typeof Execa> {
  return (await import("execa")).execa;
}
