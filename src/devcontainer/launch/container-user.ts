// Which user a dev container's tools run as, and that user's home: decided in the Dev Containers CLI's order
// (its findContainerUsers): the last `remoteUser` (the config's, else the image's devcontainer.metadata label),
// else the last `containerUser` (likewise), else the compose service's `user:`, else the image's own USER
// (a Dockerfile's last USER, else the base image's Config.User), else root. The home comes from the image's
// /etc/passwd when an engine can be asked; without one, from what the files say, and a guess is said to be one.
import { UserError } from "../../errors.ts";

/** What is known about the container's user, from the config, the files it names and (when asked) the engine. */
export type UserFacts = {
  readonly remoteUser?: string | undefined;
  readonly containerUser?: string | undefined;
  /** The image's `devcontainer.metadata` entries (their remoteUser/containerUser), in order. */
  readonly metadata?: readonly {
    readonly remoteUser?: string | undefined;
    readonly containerUser?: string | undefined;
  }[];
  /** The compose service's `user:`. */
  readonly composeUser?: string | undefined;
  /** The image's own USER: the built image's Config.User (engine), or the Dockerfile's last USER (files). */
  readonly imageUser?: string | undefined;
  /** Where imageUser came from, for people. */
  readonly imageUserFrom?: string | undefined;
  /** Whether the image was inspected: without that, a missing USER may still be set by the base image. */
  readonly imageKnown: boolean;
  /** The user the known devcontainers images run as (`mcr.microsoft.com/devcontainers/<name>`), without an engine. */
  readonly conventionUser?: string | undefined;
  /** The image these facts are about, for messages. */
  readonly image?: string | undefined;
};

export type ContainerUser = {
  /** A name or a numeric uid (as the config or image says it). */
  readonly user: string;
  readonly home: string;
  /** Where the user came from, for people (`remoteUser in devcontainer.json`). */
  readonly from: string;
  /** Where the home came from, for people (`/etc/passwd in the image`). */
  readonly homeFrom: string;
  /** True when the user or the home could not be told for sure. */
  readonly guessed: boolean;
};

/** The user, in the CLI's order; `guessed` when root is only the default of an image no one asked about. */
export function decideUser(facts: UserFacts): { user: string; from: string; guessed: boolean } {
  const metadata = facts.metadata ?? [];
  const image = facts.image ? ` of ${facts.image}` : "";
  const candidates: Array<[string | undefined, string]> = [
    [facts.remoteUser, "remoteUser in devcontainer.json"],
    [metadata.findLast((e) => e.remoteUser)?.remoteUser, `remoteUser in the devcontainer.metadata label${image}`],
    [facts.conventionUser, `the user the devcontainers image${image} runs as`],
    [facts.containerUser, "containerUser in devcontainer.json"],
    [
      metadata.findLast((e) => e.containerUser)?.containerUser,
      `containerUser in the devcontainer.metadata label${image}`,
    ],
    [facts.composeUser, "user: of the compose service"],
    [facts.imageUser, facts.imageUserFrom ?? `USER of the image${image}`],
  ];
  for (const [user, from] of candidates) if (user) return { user, from, guessed: false };
  if (facts.imageKnown) return { user: "root", from: `the image${image} sets no user`, guessed: false };
  return { user: "root", from: "nothing names a user (the image was not inspected)", guessed: true };
}

const DEVCONTAINERS_IMAGE = /^mcr\.microsoft\.com\/(?:vscode\/)?devcontainers\/([^:@]+)/;

/**
 * The user an `mcr.microsoft.com/devcontainers/*` image runs as (its metadata label's remoteUser): `node` for the
 * Node.js images, `codespace` for universal, `vscode` for the others. Undefined for any other image.
 */
export function devcontainersImageUser(image: string | undefined): string | undefined {
  const name = image ? DEVCONTAINERS_IMAGE.exec(image)?.[1] : undefined;
  if (!name) return undefined;
  if (/(?:^|\/)(?:javascript-node|typescript-node)$/.test(name)) return "node";
  if (/(?:^|\/)universal$/.test(name)) return "codespace";
  return "vscode";
}

/** The home without /etc/passwd: root's, a home a Dockerfile set, a devcontainers image's, else a guess. */
export function homeWithoutPasswd(
  user: string,
  facts: { readonly homes?: Readonly<Record<string, string>>; readonly conventionUser?: string | undefined },
): { home: string; homeFrom: string; guessed: boolean } {
  const name = user.split(":")[0] ?? user;
  if (name === "root" || name === "0") return { home: "/root", homeFrom: "root's home", guessed: false };
  const set = facts.homes?.[name];
  if (set) return { home: set, homeFrom: "the Dockerfile's useradd/usermod", guessed: false };
  if (name === facts.conventionUser)
    return { home: `/home/${name}`, homeFrom: "the devcontainers image", guessed: false };
  // The devcontainers images make their one user with uid 1000.
  if (name === "1000" && facts.conventionUser)
    return { home: `/home/${facts.conventionUser}`, homeFrom: "uid 1000 of the devcontainers image", guessed: false };
  if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name))
    return { home: `/home/${name}`, homeFrom: "guessed from the name (/etc/passwd was not read)", guessed: true };
  return { home: "/root", homeFrom: `uid ${name} has no known home`, guessed: true };
}

/**
 * A user field with `${localEnv:NAME[:default]}` resolved from this host's environment, as the CLI does. A
 * `${containerEnv:…}` (known only inside the container) or a localEnv variable that is not set is refused by name,
 * unless `remoteHome` settles the home anyway.
 */
export function resolveUserField(
  field: "remoteUser" | "containerUser",
  value: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  containerEnv: Readonly<Record<string, string>> | undefined,
): string | undefined {
  if (value === undefined || !value.includes("${")) return value;
  let refusal: string | undefined;
  const resolved = value.replace(
    /\$\{(localEnv|env|containerEnv):([A-Za-z_][A-Za-z0-9_]*)(?::([^}:]*))?\}/g,
    (_, kind, name, fallback) => {
      const known = kind === "containerEnv" ? containerEnv?.[name] : env[name];
      if (known) return known;
      if (fallback !== undefined) return fallback;
      refusal =
        kind === "containerEnv"
          ? `${field} is ${JSON.stringify(value)}: ${name} is known only inside the container`
          : `${field} is ${JSON.stringify(value)} and ${name} is not set here`;
      return "";
    },
  );
  if (refusal) throw new UserError(`${refusal}; name the user in devcontainer.json, or pass --remote-home DIR`);
  if (resolved.includes("${"))
    throw new UserError(
      `${field} is ${JSON.stringify(value)}: a variable there cannot be resolved; pass --remote-home DIR`,
    );
  return resolved;
}

/** One line for people: who, where home is, and where both came from; a guess says how to settle it. */
export function describeContainerUser(found: ContainerUser): string {
  const line = `Container user: ${found.user} (${found.from}), home ${found.home} (${found.homeFrom}).`;
  return found.guessed
    ? `${line} This is a guess: if the container's home is elsewhere, run again with --remote-home DIR.`
    : line;
}
