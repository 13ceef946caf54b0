import { mkdirSync, readdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProjectSlug, projectSlugForDir } from "../src/claude/home.ts";
import { NEVER_SHARED, SHARED_ENTRIES } from "../src/claude/shared.ts";
import { startMessagesServer, type MessagesServer } from "./support/messages-server.ts";
import { runClaude, tempDir, tempHome } from "./support/claude.ts";

describe("the shared entries", () => {
  it("never include credentials, .claude.json or plugins/ (host paths)", () => {
    expect(SHARED_ENTRIES.map((entry) => entry.name).filter((name) => NEVER_SHARED.includes(name))).toEqual([]);
  });
});

describe("encodeProjectSlug", () => {
  const cases: Array<[string, string]> = [
    ["/home/ana/app", "-home-ana-app"],
    ["/home/ana/My Repo_v1.2", "-home-ana-My-Repo-v1-2"],
    ["/home/ana/ünï-côde@x+y~z", "-home-ana--n--c-de-x-y-z"],
    ["/workspaces/app", "-workspaces-app"],
    ["/a/.hidden/b", "-a--hidden-b"],
    ["C:\\Users\\ana\\app", "C--Users-ana-app"],
  ];
  it.each(cases)("%s → %s", (input, slug) => expect(encodeProjectSlug(input)).toBe(slug));

  it("cuts names over 200 characters and adds the CLI's hash suffix", () => {
    const slug = encodeProjectSlug(`/home/ana/${"x".repeat(240)}`);
    expect(slug).toBe(`${`-home-ana-${"x".repeat(240)}`.slice(0, 200)}-sn3264`);
  });

  it("keeps a name of exactly 200 characters whole", () => {
    const input = `/${"a".repeat(199)}`;
    expect(encodeProjectSlug(input)).toBe(`-${"a".repeat(199)}`);
  });

  it("names a folder after its realpath, as Claude Code does", () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, "real"));
    symlinkSync(path.join(dir, "real"), path.join(dir, "link"));
    expect(projectSlugForDir(path.join(dir, "link"))).toBe(encodeProjectSlug(path.join(dir, "real")));
  });
});

describe("the real claude CLI names its project folders as encodeProjectSlug does", () => {
  let server: MessagesServer;
  beforeAll(async () => {
    server = await startMessagesServer();
  });
  afterAll(() => server.close());

  const names = ["plain", "dotted.name.v2", "under_scored", "with space", "ünï-côde@x+y~z", "x".repeat(230)];
  it.each(names.map((n) => [n.length > 40 ? `${n.slice(0, 12)}… (${n.length} characters)` : n, n]))(
    "%s",
    async (_label, name) => {
      const home = tempHome();
      const parent = tempDir();
      const dir = path.join(parent, name);
      mkdirSync(dir);
      // Reached through a symlink: the CLI (and we) must name it after the realpath.
      symlinkSync(dir, path.join(parent, "via-link"));
      const result = await runClaude(["-p", "hello"], { cwd: path.join(parent, "via-link"), home, apiUrl: server.url });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(readdirSync(path.join(home, ".claude", "projects"))).toEqual([
        projectSlugForDir(path.join(parent, "via-link")),
      ]);
    },
  );
});
