// A full disk, for real: a small tmpfs in a mount namespace of the test's own (needs root, as in CI's container;
// skipped elsewhere). Errors name the path and say the disk is full; nothing is left half-written.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { CLI } from "./support/claude.ts";

/** Runs `script` (sh) with $H a tmpfs of `megabytes` MB as HOME, in a private mount namespace; $CLI is the built CLI. */
function onSmallDisk(megabytes: number, script: string) {
  const home = mkdtempSync(path.join(tmpdir(), "cp-full-"));
  return execa(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mount -t tmpfs -o size=${megabytes}m tmpfs "$H" && export HOME="$H" && ${script}`,
    ],
    {
      env: { PATH: process.env.PATH ?? "", H: home, CLI, NODE: process.execPath },
      extendEnv: false,
      reject: false,
      timeout: 120_000,
    },
  ).then((result) => ({ ...result, home }));
}

const canMount =
  (
    await execa(
      "unshare",
      ["--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
      { reject: false },
    )
  ).exitCode === 0;

describe.skipIf(!canMount)("on a full disk", () => {
  it("install says which file did not fit, and leaves ~/.claude as it was (no partial persist/)", async () => {
    const result = await onSmallDisk(
      3,
      `mkdir "$H/.claude" && printf '{ "model": "opus" }\\n' > "$H/.claude/settings.json" && "$NODE" "$CLI" install; echo "exit=$?"; cd "$H/.claude" && find . | sort`,
    );
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("exit=1");
    expect(lines.slice(1)).toEqual([".", "./settings.json"]);
    expect(result.stderr.trim()).toMatch(
      new RegExp(
        `^claude-persist install: ${result.home}/\\.claude/persist/\\S+: no space left on the device \\(or over quota\\); free some space and run again$`,
      ),
    );
  });

  it("snapshot restore says the disk is full, not that the snapshot is damaged", async () => {
    const transcript = `"$H/.claude/projects/$(printf %s "$H/app" | sed 's#[^A-Za-z0-9]#-#g')/c0c0c0c0-0000-4000-8000-000000000001.jsonl"`;
    const result = await onSmallDisk(
      16,
      `mkdir -p "$H/app" "$(dirname ${transcript})" && cd "$H/app" && ` +
        `"$NODE" -e 'let out = ""; for (let i = 0; i < 2000; i++) out += JSON.stringify({ type: "user", uuid: "u" + i, message: { role: "user", content: Math.random().toString(36).repeat(60) } }) + "\\n"; require("fs").writeFileSync(process.argv[1], out)' ${transcript} && ` +
        `"$NODE" "$CLI" snapshot create >/dev/null && rm ${transcript} && (dd if=/dev/zero of="$H/fill" bs=64k 2>/dev/null || true) && ` +
        `"$NODE" "$CLI" snapshot restore latest; echo "exit=$?"`,
    );
    expect(result.stdout.trim()).toBe("exit=1");
    expect(result.stderr).toContain("no space left on the device");
    expect(result.stderr).toContain("nothing was restored or changed");
    expect(result.stderr).not.toContain("damaged");
  });
});
