// The README is the first screen and docs/ holds the rest: a link that leads nowhere is the first thing a newcomer
// trips on. Every relative link in README.md, the root's other pages and docs/*.md must name a file that exists,
// and a #fragment must name a heading of that file (GitHub's anchors: lower case, punctuation dropped, spaces → -).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "./support/claude.ts";

const ROOT_PAGES = ["README.md", "CONTRIBUTING.md", "SECURITY.md", "CHANGELOG.md"];

function pages(): string[] {
  const docs = readdirSync(path.join(PROJECT_ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => path.join("docs", name));
  return [...ROOT_PAGES.filter((name) => existsSync(path.join(PROJECT_ROOT, name))), ...docs];
}

/** The page's text outside fenced code blocks and inline code, where a `[x](y)` is not a link. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

function linksOf(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] ?? "");
}

function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const match of prose(readFileSync(file, "utf8")).matchAll(/^#{1,6}\s+(.*)$/gm)) {
    const base = githubAnchor(match[1] ?? "");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

function brokenLinks(page: string): string[] {
  const file = path.join(PROJECT_ROOT, page);
  const broken: string[] = [];
  for (const link of linksOf(readFileSync(file, "utf8"))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:: not ours to check offline
    const [target = "", fragment] = link.split("#", 2);
    const resolved = target === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(target));
    if (!resolved.startsWith(PROJECT_ROOT) || !existsSync(resolved)) {
      broken.push(`${link}: no such file`);
      continue;
    }
    if (fragment && statSync(resolved).isFile() && resolved.endsWith(".md") && !anchorsOf(resolved).has(fragment)) {
      broken.push(`${link}: no heading with that anchor`);
    }
  }
  return broken;
}

describe("the README and docs/ pages", () => {
  it.each(pages())("every relative link in %s leads to a file (and heading) that exists", (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });

  it("the link check sees a broken link, a broken anchor and a link in code (which is not one)", () => {
    expect(linksOf("see [a](docs/a.md#x) and `[b](c.md)`\n```\n[d](e.md)\n```\n")).toEqual(["docs/a.md#x"]);
    expect(githubAnchor("The SessionStart hook's internals")).toBe("the-sessionstart-hooks-internals");
    expect(githubAnchor("/dev-open: your sessions in the dev container")).toBe(
      "dev-open-your-sessions-in-the-dev-container",
    );
  });

  it("the README is a first screen: at most 150 lines, with the diagram and one install command", () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThanOrEqual(150);
    expect(readme).toContain("```mermaid\nflowchart");
    expect(/```sh\n([^\n]*)\n```/.exec(readme)?.[1]).toBe("npm install -g claude-persist && claude-persist install");
  });

  it("the README's command table links every agreed reference page, and the root has LICENSE and CHANGELOG", () => {
    const links = new Set(linksOf(readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8")));
    for (const page of ["dev-open", "remote-engines", "start-work", "sessions", "snapshots", "sync", "doctor", "cli"]) {
      expect(links, page).toContain(`docs/${page}.md`);
    }
    for (const page of ["docs/how-it-works.md", "SECURITY.md", "CONTRIBUTING.md", "LICENSE", "CHANGELOG.md"]) {
      expect(links, page).toContain(page);
    }
    expect(readFileSync(path.join(PROJECT_ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License/);
  });
});
