// Linear's GraphQL API, as much of it as /start-work needs: look an issue up, move it to the team's first
// "started" state, assign it to the key's user. Every answer is checked with zod where it arrives, and
// every failure is one UserError line that says what to do.
import * as z from "zod/mini";
import type { Env } from "../claude/home.ts";
import { EXIT, UserError } from "../errors.ts";
import { parseIssueRef } from "./issue-ref.ts";
import { once } from "../once.ts";
import { oneLine } from "../text.ts";
import "../zod-messages.ts";

export const DEFAULT_LINEAR_API_URL = "https://api.linear.app/graphql";
export const DEFAULT_LINEAR_TIMEOUT_MS = 10_000;
/** Messages from the server end up in one line on the user's terminal: bounded. */
const MAX_MESSAGE = 200;

/** Linear's answers, built at the first request rather than at the command's start. */
const linearSchemas = once(() => {
  // Linear leaves out or nulls what is not set: read as null.
  const orNull = <T extends z.core.$ZodType>(schema: T) =>
    z.pipe(
      z.nullish(schema),
      z.transform((value: z.output<T> | null | undefined) => value ?? null),
    );
  const stateSchema = z.object({ id: z.string(), name: z.string(), type: z.string() });
  const issue = z.object({
    id: z.string(),
    identifier: z.string(),
    title: z.string(),
    url: z.string(),
    branchName: z.string().check(z.minLength(1)),
    description: orNull(z.string()),
    state: stateSchema,
    team: z.object({ id: z.string(), key: z.string() }),
    assignee: orNull(z.object({ id: z.string(), name: z.string() })),
  });
  return {
    issue,
    issueAnswer: z.object({ issue: z.nullable(issue) }),
    teamStatesAnswer: z.object({
      team: z.object({
        states: z.object({
          nodes: z.array(z.object({ id: z.string(), name: z.string(), type: z.string(), position: z.number() })),
        }),
      }),
    }),
    viewerAnswer: z.object({ viewer: z.object({ id: z.string() }) }),
    issueStartAnswer: z.object({
      issueUpdate: z.object({
        success: z.boolean(),
        issue: orNull(z.object({ state: z.object({ name: z.string() }) })),
      }),
    }),
    commentAnswer: z.object({
      commentCreate: z.object({ success: z.boolean(), comment: orNull(z.object({ url: z.string() })) }),
    }),
    graphqlErrors: z.object({
      errors: z
        .array(
          z.object({
            message: z.optional(z.string()),
            extensions: z.optional(z.looseObject({ code: z.optional(z.string()) })),
          }),
        )
        .check(z.minLength(1)),
    }),
  };
});
export type LinearIssue = z.infer<ReturnType<typeof linearSchemas>["issue"]>;

// Named operations, so that logs, proxies and the test server can tell them apart.
const ISSUE_QUERY = `query Issue($id: String!) {
  issue(id: $id) { id identifier title url branchName description state { id name type } team { id key } assignee { id name } }
}`;
const TEAM_STATES_QUERY = `query TeamStates($teamId: String!) {
  team(id: $teamId) { states { nodes { id name type position } } }
}`;
const VIEWER_QUERY = `query Viewer { viewer { id } }`;
const ISSUE_START_MUTATION = `mutation IssueStart($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success issue { state { name } } }
}`;

const COMMENT_MUTATION = `mutation CommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { url } }
}`;

// Where an issue already is work in progress or finished, starting work must not move it back.
const LEAVE_STATE_TYPES = new Set(["started", "completed", "canceled"]);

export type LinearClientOptions = {
  readonly apiKey: string;
  readonly apiUrl?: string;
  readonly timeoutMs?: number;
};

export type StartIssueOptions = {
  /** Assign the issue to the user who owns the API key. */
  readonly assign?: boolean;
  /** Leave the workflow state alone. */
  readonly noStatus?: boolean;
};

export type StartIssueResult = {
  /** This call moved the issue to a started state. */
  readonly moved: boolean;
  /** The state's name after this call. */
  readonly state: string;
  /** This call made the key's user the assignee. */
  readonly assigned: boolean;
};

/** What starting work will change, found by reads alone: sent later by sendStart. */
export type StartPlan = {
  readonly input: { readonly stateId?: string; readonly assigneeId?: string };
  /** The started state the issue moves to, when it moves. */
  readonly target?: { readonly id: string; readonly name: string };
};

export type LinearClient = {
  fetchIssue(identifier: string): Promise<LinearIssue>;
  /** Every read starting work needs (team states, viewer), and no change: a failure here has changed nothing. */
  planStart(issue: LinearIssue, options?: StartIssueOptions): Promise<StartPlan>;
  /** The one mutation of `plan`, if it changes anything. */
  sendStart(issue: LinearIssue, plan: StartPlan): Promise<StartIssueResult>;
  /** planStart, then sendStart. */
  startIssue(issue: LinearIssue, options?: StartIssueOptions): Promise<StartIssueResult>;
  /** Adds one comment (Markdown) to the issue; its URL when Linear gives one. */
  addComment(issue: LinearIssue, body: string): Promise<string | null>;
};

/**
 * The `Authorization` value for a Linear credential: personal API keys (`lin_api_…`) go bare, a value that
 * already says `Bearer …` goes as is, and anything else is taken for an OAuth access token.
 */
export function authorizationHeader(key: string): string {
  const trimmed = key.trim();
  if (trimmed === "" || !/^[\x21-\x7e]+( [\x21-\x7e]+)?$/.test(trimmed)) {
    throw new UserError(
      "LINEAR_API_KEY is empty or has characters an API key never has; copy it again from Linear (Settings → Security & access)",
      EXIT.needsCredential,
    );
  }
  if (/^bearer /i.test(trimmed) || trimmed.startsWith("lin_api_")) return trimmed;
  return `Bearer ${trimmed}`;
}

/** The longest wait a Node timer takes: a longer one fires at once (and read "could not reach Linear"). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Linear's answers are a few kilobytes: one far larger is not Linear's, and is not read whole into memory. */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** The response's text, read no further than MAX_RESPONSE_BYTES. */
async function readCapped(response: Response, endpoint: string): Promise<string> {
  const tooLarge = () =>
    new UserError(
      `the answer at ${endpoint} is larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MB, far more than Linear sends; it was not read: check LINEAR_API_URL`,
    );
  if (Number(response.headers.get("content-length") ?? 0) > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const chunk = reader ? await reader.read() : { done: true as const, value: undefined };
    if (chunk.done) break;
    size += chunk.value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader?.cancel();
      throw tooLarge();
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function linearClient({
  apiKey,
  apiUrl = DEFAULT_LINEAR_API_URL,
  timeoutMs = DEFAULT_LINEAR_TIMEOUT_MS,
}: LinearClientOptions): LinearClient {
  const authorization = authorizationHeader(apiKey);
  const endpoint = checkedApiUrl(apiUrl);

  async function request<S extends z.core.$ZodType>(
    operationName: string,
    query: string,
    variables: Record<string, unknown>,
    schema: S,
    subject?: string,
  ): Promise<z.output<S>> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", authorization },
        body: JSON.stringify({ operationName, query, variables }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await readCapped(response, endpoint);
    } catch (error) {
      throw unreachable(error, endpoint, timeoutMs);
    }
    const body = parseJson(text);
    const errors = linearSchemas().graphqlErrors.safeParse(body);
    const firstError = errors.success ? errors.data.errors[0] : undefined;
    const code = firstError?.extensions?.code;
    if (response.status === 401 || code === "AUTHENTICATION_ERROR") {
      throw new UserError(
        `Linear refused LINEAR_API_KEY (HTTP ${response.status}); create a new key in Linear (Settings → Security & access → Personal API keys) and set LINEAR_API_KEY to it`,
        EXIT.needsCredential,
      );
    }
    if (response.status === 429 || code === "RATELIMITED") {
      throw new UserError("Linear's rate limit for this key is used up; wait a few minutes and run this again");
    }
    if (firstError) {
      const message = oneLine(firstError.message ?? code ?? "unknown error", MAX_MESSAGE);
      if (subject && /entity not found/i.test(message)) throw notFound(subject);
      throw new UserError(
        `Linear answered an error for ${operationName}: ${message}; check the issue and LINEAR_API_URL, then try again`,
      );
    }
    if (!response.ok) {
      throw new UserError(
        `Linear answered HTTP ${response.status} at ${endpoint}; try again later, or check LINEAR_API_URL`,
      );
    }
    if (body === undefined) {
      throw new UserError(
        `Linear's answer at ${endpoint} was not JSON; check that LINEAR_API_URL is Linear's GraphQL endpoint`,
      );
    }
    const data = typeof body === "object" && body !== null && "data" in body ? body.data : undefined;
    const answer = z.safeParse(schema, data);
    if (!answer.success) {
      const issue = answer.error.issues[0];
      const where = ["data", ...(issue?.path ?? []).map(String)].join(".");
      throw new UserError(
        `Linear's answer to ${operationName} is not what was expected (${where}: ${oneLine(issue?.message ?? "invalid", MAX_MESSAGE)}); check that LINEAR_API_URL is Linear's GraphQL endpoint`,
      );
    }
    return answer.data;
  }

  async function fetchIssue(identifier: string): Promise<LinearIssue> {
    const checked = parseIssueRef(identifier).identifier;
    const answer = await request("Issue", ISSUE_QUERY, { id: checked }, linearSchemas().issueAnswer, checked);
    if (!answer.issue) throw notFound(checked);
    // The answer names the issue it is: one that is not the issue asked for (a proxy's, a mix-up's) starts no work.
    if (answer.issue.identifier.toUpperCase() !== checked.toUpperCase())
      throw new UserError(
        `Linear answered the question for ${checked} with another issue (${oneLine(answer.issue.identifier, 40)}); nothing was started: check LINEAR_API_URL`,
      );
    return answer.issue;
  }

  async function firstStartedState(issue: LinearIssue): Promise<{ id: string; name: string }> {
    const answer = await request(
      "TeamStates",
      TEAM_STATES_QUERY,
      { teamId: issue.team.id },
      linearSchemas().teamStatesAnswer,
    );
    const started = answer.team.states.nodes
      .filter((state) => state.type === "started")
      .sort((a, b) => a.position - b.position)[0];
    if (!started) {
      throw new UserError(
        `team ${issue.team.key} has no workflow state of type "started"; add one in Linear (Settings → Teams → Workflow), or pass --no-status`,
      );
    }
    return started;
  }

  async function planStart(
    issue: LinearIssue,
    { assign = false, noStatus = false }: StartIssueOptions = {},
  ): Promise<StartPlan> {
    const input: { stateId?: string; assigneeId?: string } = {};
    let target: { id: string; name: string } | undefined;
    if (!noStatus && !LEAVE_STATE_TYPES.has(issue.state.type)) {
      target = await firstStartedState(issue);
      input.stateId = target.id;
    }
    if (assign) {
      const { viewer } = await request("Viewer", VIEWER_QUERY, {}, linearSchemas().viewerAnswer);
      if (issue.assignee?.id !== viewer.id) input.assigneeId = viewer.id;
    }
    return target ? { input, target } : { input };
  }

  async function sendStart(issue: LinearIssue, { input, target }: StartPlan): Promise<StartIssueResult> {
    if (input.stateId === undefined && input.assigneeId === undefined) {
      return { moved: false, state: issue.state.name, assigned: false };
    }
    const variables = { id: issue.id, input };
    const { issueUpdate } = await request(
      "IssueStart",
      ISSUE_START_MUTATION,
      variables,
      linearSchemas().issueStartAnswer,
    );
    if (!issueUpdate.success) {
      throw new UserError(
        `Linear did not update ${issue.identifier}; check that your key may edit issues of team ${issue.team.key}`,
      );
    }
    return {
      moved: input.stateId !== undefined,
      state: issueUpdate.issue?.state.name ?? target?.name ?? issue.state.name,
      assigned: input.assigneeId !== undefined,
    };
  }

  async function startIssue(issue: LinearIssue, options: StartIssueOptions = {}): Promise<StartIssueResult> {
    return sendStart(issue, await planStart(issue, options));
  }

  async function addComment(issue: LinearIssue, body: string): Promise<string | null> {
    const input = { issueId: issue.id, body };
    const { commentCreate } = await request(
      "CommentCreate",
      COMMENT_MUTATION,
      { input },
      linearSchemas().commentAnswer,
    );
    if (!commentCreate.success) throw new UserError(`Linear did not add the comment to ${issue.identifier}; try again`);
    return commentCreate.comment?.url ?? null;
  }

  return { fetchIssue, planStart, sendStart, startIssue, addComment };
}

/** The client settings from the environment, or undefined when LINEAR_API_KEY is not set (offline). */
export function linearOptionsFromEnv(env: Env = process.env): LinearClientOptions | undefined {
  const apiKey = env.LINEAR_API_KEY?.trim();
  if (!apiKey) return undefined;
  const apiUrl = env.LINEAR_API_URL?.trim() || DEFAULT_LINEAR_API_URL;
  const timeout = env.LINEAR_TIMEOUT_MS?.trim();
  if (!timeout) return { apiKey, apiUrl };
  const timeoutMs = Number(timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new UserError(
      `LINEAR_TIMEOUT_MS must be a whole number of milliseconds, like 10000; unset it for the default`,
    );
  }
  if (timeoutMs > MAX_TIMEOUT_MS) {
    throw new UserError(
      `LINEAR_TIMEOUT_MS=${timeout} is longer than a timer can wait (${MAX_TIMEOUT_MS} ms, about 24 days); use a smaller number, like 30000, or unset it for the default`,
    );
  }
  return { apiKey, apiUrl, timeoutMs };
}

function checkedApiUrl(apiUrl: string): string {
  try {
    const url = new URL(apiUrl);
    if (url.protocol === "https:" || url.protocol === "http:") return url.href;
  } catch {
    // Falls through to the one message below.
  }
  throw new UserError(`LINEAR_API_URL is not an http(s) URL; unset it to use ${DEFAULT_LINEAR_API_URL}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function unreachable(error: unknown, endpoint: string, timeoutMs: number): UserError {
  if (error instanceof UserError) return error;
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return new UserError(
      `Linear did not answer within ${formatSeconds(timeoutMs)}; check your connection and try again (LINEAR_TIMEOUT_MS sets the limit)`,
    );
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = cause instanceof Error && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
  const why = code ?? (cause instanceof Error ? oneLine(cause.message, MAX_MESSAGE) : "network error");
  return new UserError(`could not reach Linear at ${endpoint} (${why}); check your connection, or LINEAR_API_URL`);
}

function notFound(identifier: string): UserError {
  return new UserError(
    `Linear has no issue ${identifier} that this key can see; check the identifier, and that LINEAR_API_KEY belongs to the issue's workspace`,
  );
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
