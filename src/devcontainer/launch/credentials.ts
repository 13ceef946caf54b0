// How the host's credentials reach a dev container: never written into a config, and never as an empty variable.
//
// The devcontainers CLI (0.89) substitutes `remoteEnv: {X: "${localEnv:X}"}` from the environment of whoever runs
// `up` or `exec`, and when X is unset there it passes `-e X=` to `docker exec`: the empty value then beats X from
// `runArgs --env-file`, `containerEnv`, the image and `exec --remote-env` (remoteEnv is applied last, see
// probeRemoteEnv in src/spec-common/injectHeadless.ts). Docker's own by-name form (`run -e X`) is no better: with X
// unset it removes X from the image and from `containerEnv`. Defaults cannot nest (`${localEnv:X:${containerEnv:X}}`).
// And a launch config's remoteEnv lives on in the container's metadata label: a later `exec` from a shell without X
// blanks X even when the caller passes `--remote-env X=…`. So no config gets an entry, the repo's or the launch
// config: the values are handed over at exec time (dev-open's own exec, and the entry command it prints).
import type { Env } from "../../claude/home.ts";

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

/**
 * `devcontainer exec` arguments that hand the set names to one process: values given at exec time, from this
 * environment now, so nothing is left behind in the container's metadata to blank a variable later.
 */
export function remoteEnvArgs(names: readonly string[], env: Env): string[] {
  return setOnHost(names, env).flatMap((name) => ["--remote-env", `${name}=${env[name]}`]);
}

/** The same, as a person types it: each value taken from their shell when they run it. */
export function remoteEnvWords(names: readonly string[], env: Env): string[] {
  return setOnHost(names, env).map((name) => `--remote-env ${name}="$${name}"`);
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
