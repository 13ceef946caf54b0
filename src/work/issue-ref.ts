// The one place a Linear issue reference typed by the user becomes an identifier: nothing reaches git, a shell
// or the network before it has been through here.
import { UserError } from "../errors.ts";

export type IssueRef = {
  /** Upper-cased, e.g. `LIN-123`. */
  readonly identifier: string;
  readonly teamKey: string;
  readonly number: number;
};

// Longer than any identifier or issue URL a person pastes; refused before any pattern looks at it.
const MAX_INPUT = 512;
// Linear team keys are short; the bounds keep the identifier (and the branch built from it) small.
const IDENTIFIER = /^([A-Za-z][A-Za-z0-9]{0,9})-([1-9][0-9]{0,8})$/;
const URL_PATH = /^\/[A-Za-z0-9_-]+\/issue\/([^/]+)(?:\/[A-Za-z0-9._~%-]*)?\/?$/;
// Printable ASCII only: no spaces, newlines, escapes or look-alike characters inside a reference.
const PRINTABLE = /^[\x21-\x7e]+$/;

const ACCEPTED =
  "expected a Linear issue like LIN-123 (any case) or its URL, https://linear.app/<workspace>/issue/LIN-123/<slug>";

/** Parses `LIN-123`, `lin-123` or `https://linear.app/<ws>/issue/LIN-123/<slug>`; anything else is a UserError. */
export function parseIssueRef(input: string): IssueRef {
  // Spaces around a pasted reference are harmless; any other whitespace (a newline) is refused below.
  const text = input.length <= MAX_INPUT ? input.replace(/^ +| +$/g, "") : "";
  if (!PRINTABLE.test(text)) throw refused();
  const direct = parseIdentifier(text);
  if (direct) return direct;
  const fromUrl = identifierInUrl(text);
  if (fromUrl) return fromUrl;
  throw refused();
}

function parseIdentifier(text: string): IssueRef | undefined {
  const match = IDENTIFIER.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const teamKey = match[1].toUpperCase();
  const number = Number(match[2]);
  return { identifier: `${teamKey}-${number}`, teamKey, number };
}

function identifierInUrl(text: string): IssueRef | undefined {
  if (!text.startsWith("https://")) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.hostname !== "linear.app" || url.port !== "" || url.username !== "" || url.password !== "") {
    return undefined;
  }
  const match = URL_PATH.exec(url.pathname);
  return match?.[1] ? parseIdentifier(match[1]) : undefined;
}

function refused(): UserError {
  return new UserError(`not a Linear issue: ${ACCEPTED}`, 2);
}
