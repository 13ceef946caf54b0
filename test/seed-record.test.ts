// dev-open on a running container merges the host's first-run choices into the container's .claude.json over two
// `docker exec` round trips; when this container already got the very same seed (host-only record), it skips them.
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { seedRunningContainer } from "../src/devcontainer/launch/claude-state.ts";
import { tempDir, tempHome } from "./support/claude.ts";

const CONTAINER = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/** A `docker` first on PATH that logs each call and stands in for a container whose .claude.json is `{}`. */
function loggingDocker(): { env: NodeJS.ProcessEnv; calls: () => string[] } {
  const bin = tempDir("cp-docker-log-");
  const log = path.join(bin, "calls.log");
  writeFileSync(log, "");
  writeFileSync(
    path.join(bin, "docker"),
    `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\ncase "$*" in *" -i "*) cat > /dev/null ;; *) echo '{}' ;; esac\n`,
  );
  chmodSync(path.join(bin, "docker"), 0o755);
  const home = tempHome();
  return {
    env: { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: home },
    calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean),
  };
}

describe("the .claude.json merge into a running container", () => {
  it("runs once per seed: the same seed again costs no docker exec; a changed seed merges again", async () => {
    const { env, calls } = loggingDocker();
    const seed = { hasCompletedOnboarding: true, theme: "dark" };
    expect(await seedRunningContainer(CONTAINER, "vscode", seed, env)).toEqual({ kind: "written" });
    expect(calls()).toHaveLength(2);
    // Reopened with nothing changed on the host: no round trip at all.
    expect(await seedRunningContainer(CONTAINER, "vscode", seed, env)).toEqual({ kind: "unchanged" });
    expect(calls()).toHaveLength(2);
    // A new theme on the host, or another user in the container: merged again.
    expect(await seedRunningContainer(CONTAINER, "vscode", { ...seed, theme: "light" }, env)).toEqual({
      kind: "written",
    });
    expect(calls()).toHaveLength(4);
    await seedRunningContainer(CONTAINER, "node", { ...seed, theme: "light" }, env);
    expect(calls()).toHaveLength(6);
    // The record is host-only state, private.
    const records = path.join(env.HOME ?? "", ".claude", "persist-host", "seeded-containers");
    expect(readdirSync(records)).toEqual([CONTAINER]);
    expect(statSync(path.join(records, CONTAINER)).mode & 0o777).toBe(0o600);
  });

  it("records nothing for a container whose file it left alone, and tries again next time", async () => {
    const { env, calls } = loggingDocker();
    const bin = (env.PATH ?? "").split(":")[0] ?? "";
    // The container's .claude.json is not JSON: left as it is, said so, and asked again at the next open.
    writeFileSync(
      path.join(bin, "docker"),
      `#!/bin/sh\necho "$*" >> ${JSON.stringify(path.join(bin, "calls.log"))}\necho 'not json'\n`,
    );
    const seed = { theme: "dark" };
    expect((await seedRunningContainer(CONTAINER, "vscode", seed, env)).kind).toBe("left-alone");
    expect((await seedRunningContainer(CONTAINER, "vscode", seed, env)).kind).toBe("left-alone");
    expect(calls()).toHaveLength(2);
  });
});
