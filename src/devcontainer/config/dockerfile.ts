// What a Dockerfile says about the user its image runs as, read without an engine: the last stage's base image
// (`FROM`, through earlier stages' names), its last `USER`, and the homes its `RUN useradd`/`usermod` lines set.
// `ARG` defaults (before the first FROM and inside the stage) and the config's build args fill `${X}` and `$X`.

export type DockerfileUser = {
  /** The last stage's base image, after stages and args are followed; undefined when it cannot be told. */
  readonly baseImage: string | undefined;
  /** The last `USER` in the last stage (or in a stage it is built FROM), its group dropped. */
  readonly user: string | undefined;
  /** Homes set by `useradd -d`/`--home-dir` or `usermod -d`/`--home` in the stages that make the image. */
  readonly homes: Readonly<Record<string, string>>;
};

type Stage = {
  name: string | undefined;
  from: string;
  user: string | undefined;
  homes: Record<string, string>;
  args: Record<string, string>;
};

/** Reads `text`; `buildArgs` (the config's `build.args`) win over ARG defaults, as `docker build --build-arg` does. */
export function readDockerfileUser(text: string, buildArgs: Readonly<Record<string, string>> = {}): DockerfileUser {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const { keyword, rest } of instructions(text)) {
    const stage = stages.at(-1);
    const args = stage ? stage.args : globalArgs;
    if (keyword === "ARG") {
      for (const [name, value] of argDefinitions(rest)) {
        // Inside a stage, a bare `ARG X` brings the global default into scope.
        const fallback = stage ? globalArgs[name] : undefined;
        const resolved = buildArgs[name] ?? (value !== undefined ? substitute(value, args) : fallback);
        if (resolved !== undefined) args[name] = resolved;
      }
    } else if (keyword === "FROM") {
      const words = rest.split(/\s+/).filter((word) => !word.startsWith("--"));
      const from = substitute(words[0] ?? "", globalArgs);
      const name = words[1]?.toUpperCase() === "AS" ? words[2]?.toLowerCase() : undefined;
      const parent = stages.findLast((s) => s.name !== undefined && s.name === from.toLowerCase());
      stages.push({ name, from, user: parent?.user, homes: { ...(parent?.homes ?? {}) }, args: {} });
    } else if (stage && keyword === "USER") {
      stage.user = (substitute(rest.trim(), { ...globalArgs, ...args }).split(":")[0] ?? "").trim() || undefined;
    } else if (stage && keyword === "RUN") {
      Object.assign(stage.homes, homesSetIn(substitute(rest, { ...globalArgs, ...args })));
    }
  }
  const last = stages.at(-1);
  if (!last) return { baseImage: undefined, user: undefined, homes: {} };
  const base = baseOf(last, stages);
  return { baseImage: base && !base.includes("$") ? base : undefined, user: last.user, homes: last.homes };
}

/** The external image a stage is built on, following `FROM <earlier stage>`. */
function baseOf(stage: Stage, stages: readonly Stage[]): string | undefined {
  let current: Stage | undefined = stage;
  for (let hops = 0; current && hops < stages.length; hops++) {
    const from: string = current.from.toLowerCase();
    const parent: Stage | undefined = stages.slice(0, stages.indexOf(current)).findLast((s) => s.name === from);
    if (!parent) return current.from || undefined;
    current = parent;
  }
  return undefined;
}

/** The instructions of a Dockerfile: comments dropped, `\` continuations joined, keywords upper-cased. */
function instructions(text: string): Array<{ keyword: string; rest: string }> {
  const result: Array<{ keyword: string; rest: string }> = [];
  let pending = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimStart();
    if (line.startsWith("#")) continue;
    if (/\\\s*$/.test(line)) {
      pending += `${line.replace(/\\\s*$/, "")} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = "";
    const match = /^([A-Za-z]+)\s+([\s\S]*)$/.exec(whole);
    if (match?.[1] && match[2] !== undefined) result.push({ keyword: match[1].toUpperCase(), rest: match[2] });
  }
  return result;
}

/** `ARG A=1 B` → [A, "1"], [B, undefined]; quotes around a default are taken off. */
function argDefinitions(rest: string): Array<[string, string | undefined]> {
  return rest
    .split(/\s+/)
    .filter(Boolean)
    .map((word): [string, string | undefined] => {
      const at = word.indexOf("=");
      if (at < 0) return [word, undefined];
      return [word.slice(0, at), word.slice(at + 1).replace(/^(["'])(.*)\1$/, "$2")];
    });
}

/** `${X}`, `${X:-default}` and `$X`; an unknown name stays as written (so the result shows it is unresolved). */
function substitute(value: string, args: Readonly<Record<string, string>>): string {
  return value
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (whole, name: string, fallback: string | undefined) => {
      const known = args[name];
      return known !== undefined && known !== "" ? known : (fallback ?? known ?? whole);
    })
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name: string) => args[name] ?? whole);
}

/**
 * The homes a RUN line's `useradd`/`adduser`/`usermod` commands give, by name and by uid (`-u`): `-d DIR`,
 * `--home DIR`, `--home-dir DIR`; a `useradd`/`adduser` without one gives the default /home/<name>.
 */
function homesSetIn(run: string): Record<string, string> {
  const homes: Record<string, string> = {};
  for (const command of run.split(/&&|\|\||;/)) {
    const words = command
      .trim()
      .split(/\s+/)
      .map((word) => word.replace(/^(["'])(.*)\1$/, "$2"));
    const tool = words.findIndex((word) => /^(?:useradd|adduser|usermod)$/.test(word));
    if (tool < 0) continue;
    let home: string | undefined;
    let user: string | undefined;
    let uid: string | undefined;
    let system = false;
    for (let i = tool + 1; i < words.length; i++) {
      const word = words[i] ?? "";
      const long = /^--(home|home-dir|uid)=(.+)$/.exec(word);
      if (long?.[2]) {
        if (long[1] === "uid") uid = long[2];
        else home = long[2];
      } else if (word === "-d" || word === "--home" || word === "--home-dir") home = words[++i];
      else if (word === "-u" || word === "--uid") uid = words[++i];
      else if (word === "-r" || word === "--system") system = true;
      else if (TAKES_VALUE.test(word)) i++;
      else if (!word.startsWith("-")) user ??= word;
    }
    if (!home && words[tool] !== "usermod" && !system && user) home = `/home/${user}`;
    if (!user || !home?.startsWith("/")) continue;
    const clean = home.replace(/\/+$/, "") || "/";
    homes[user] = clean;
    if (uid && /^\d+$/.test(uid)) homes[uid] = clean;
  }
  return homes;
}

/** The options of useradd/adduser/usermod that take a value (so the value is not the user's name). */
const TAKES_VALUE =
  /^-(?:[cgGsekpK]|-comment|-gid|-groups|-shell|-expiredate|-inactive|-password|-key|-ingroup|-gecos|-firstuid|-lastuid|-login|-append-groups)$/;
