// The issue /start-work names: looked up in Linear (its branch name as Linear gives it), or, offline, taken from the
// identifier and a title, with a branch name made from them.
import { type LinearClientOptions, type LinearIssue, linearClient } from "./linear.ts";
import { parseIssueRef } from "./issue-ref.ts";

export type LookedUpIssue =
  | {
      readonly linearAsked: true;
      readonly identifier: string;
      readonly title: string;
      readonly branchName: string;
      readonly issue: LinearIssue;
    }
  | {
      readonly linearAsked: false;
      readonly identifier: string;
      readonly title: string | null;
      readonly branchName: string;
    };

/**
 * The issue behind `identifier`: from Linear when `linear` is given (its `branchName` as given, `title` unused),
 * else offline, with a branch made from the identifier and `title`.
 */
export async function lookupIssue(
  identifier: string,
  { linear, title }: { linear?: LinearClientOptions; title?: string } = {},
): Promise<LookedUpIssue> {
  if (linear) {
    const issue = await linearClient(linear).fetchIssue(identifier);
    return { linearAsked: true, identifier: issue.identifier, title: issue.title, branchName: issue.branchName, issue };
  }
  const checked = parseIssueRef(identifier).identifier;
  return {
    linearAsked: false,
    identifier: checked,
    title: title?.trim() || null,
    branchName: offlineBranchName(checked, title),
  };
}

const SLUG_MAX = 50;

/** `lin-123`, or `lin-123-<slug of title>` when a title is given: the branch when Linear was not asked. */
export function offlineBranchName(identifier: string, title?: string): string {
  const base = parseIssueRef(identifier).identifier.toLowerCase();
  const slug = title === undefined ? "" : slugify(title);
  return slug ? `${base}-${slug}` : base;
}

/** Lower-case ASCII letters, digits and single dashes, at most 50 characters, no dash at either end. */
export function slugify(text: string, max = SLUG_MAX): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, max)
    .replace(/-+$/, "");
}
