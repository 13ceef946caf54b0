// How the host's credentials reach a dev container: by name, never by value, and never as an empty variable.
//
// The devcontainers CLI (0.89) substitutes `remoteEnv: {X: "${localEnv:X}"}` from the environment of whoever runs
// `up` or `exec`, and when X is unset there it passes `-e X=` to `docker exec`: the empty value then beats X from
// `runArgs --env-file`, `containerEnv`, the image and `exec --remote-env` (remoteEnv is applied last, see
// probeRemoteEnv in src/spec-common/injectHeadless.ts). Docker's own by-name form (`run -e X`) is no better: with X
// unset it removes X from the image and from `containerEnv`. Defaults cannot nest (`${localEnv:X:${containerEnv:X}}`).
// So an entry is written only where it cannot reach someone without the variable: into the launch config that
// stays on this host, and only for the variables this host has set. A config in the repo (shared with teammates)
// gets none of them.
import type { Env } from "../../claude/home.ts";
import { editJsonc } from "../../jsonc.ts";
import { parseDevcontainerConfig } from "../config/config.ts";

/** Claude Code's credentials, in the order Claude Code prefers them. */
export const CLAUDE_CREDENTIAL_ENV = ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"] as const;
/** What /start-work needs to ask Linear from inside the container. */
export const LINEAR_ENV = ["LINEAR_API_KEY", "LINEAR_API_URL"] as const;
/** Forwarded into every container the pack launches, when set on the host (plus the variables MCP servers name). */
export const FORWARDED_ENV = [...CLAUDE_CREDENTIAL_ENV, ...LINEAR_ENV] as const;

/** The names among `names` that this host has set to something: only those may be forwarded. */
export function setOnHost(names: readonly string[], env: Env): string[] {
  return names.filter((name) => (env[name] ?? "") !== "");
}

/** remoteEnv entries for the set names: `${localEnv:X}`, the value read by the CLI from the caller's environment. */
export function forwardedEnvEntries(names: readonly string[], env: Env): Record<string, string> {
  return Object.fromEntries(setOnHost(names, env).map((name) => [name, `\${localEnv:${name}}`]));
}

/**
 * A config text with `entries` added to its remoteEnv (for the host-only launch config). An entry the config
 * already has is left as the config says it.
 */
export function withForwardedEnv(text: string, file: string, entries: Readonly<Record<string, string>>): string {
  const { config } = parseDevcontainerConfig(text, file);
  let result = text;
  for (const [name, value] of Object.entries(entries)) {
    if (config.remoteEnv && name in config.remoteEnv) continue;
    result = editJsonc(result, ["remoteEnv", name], value);
  }
  return result;
}

/**
 * What to tell a person whose host has no Claude credential variable: Claude in the container will ask for a
 * login, which lives only in that container. Empty when a credential is set.
 */
export function loginAdvice(env: Env, platform: NodeJS.Platform = process.platform): string[] {
  if (setOnHost(CLAUDE_CREDENTIAL_ENV, env).length > 0) return [];
  const where =
    platform === "darwin"
      ? "your login lives in the macOS Keychain, which a container never sees"
      : "your host's login is not shared with containers";
  return [
    `Neither ANTHROPIC_API_KEY nor CLAUDE_CODE_OAUTH_TOKEN is set here, so Claude in the container will ask you to log in (${where}).`,
    "To skip that: run 'claude setup-token' once, then 'export CLAUDE_CODE_OAUTH_TOKEN=<the token>' before dev-open; it reaches the container by name.",
  ];
}
