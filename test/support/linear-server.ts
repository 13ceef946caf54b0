// A fake Linear GraphQL endpoint on 127.0.0.1: an in-memory workspace, every request recorded, and switches
// for the ways the real one fails (401, 429, garbage, a hang, GraphQL errors). It routes on the operation name
// that src/linear.ts sends (Issue, TeamStates, Viewer, IssueStart).
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

export type FakeState = { id: string; name: string; type: string; position: number };
export type FakeTeam = { id: string; key: string; states: FakeState[] };
export type FakeUser = { id: string; name: string };
export type FakeIssue = {
  id: string;
  identifier: string;
  title: string;
  description: string | null;
  branchName: string;
  teamId: string;
  stateId: string;
  assigneeId: string | null;
  /** Comments added with CommentCreate, their Markdown bodies in order. */
  comments?: string[];
};
export type FakeWorkspace = { teams: FakeTeam[]; issues: FakeIssue[]; users: FakeUser[]; viewerId: string };

export type RecordedRequest = {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown>;
};

/** How the server answers every request until told otherwise (`normal` serves the workspace). */
export type AnswerMode =
  | { kind: "normal" }
  | { kind: "status"; status: number; body?: string }
  | { kind: "garbage"; body?: string }
  | { kind: "hang" }
  /** A JSON answer of `bytes` bytes, streamed as fast as the client reads; `sent` counts what went out. */
  | { kind: "huge"; bytes: number; declareLength: boolean; sent: { bytes: number } }
  | {
      kind: "graphqlErrors";
      errors: Array<{ message: string; extensions?: Record<string, unknown> }>;
      status?: number;
    };

export type FakeLinear = {
  readonly url: string;
  readonly workspace: FakeWorkspace;
  readonly requests: RecordedRequest[];
  /** Requests for one operation, e.g. `operations("IssueStart")`. */
  operations(name: string): RecordedRequest[];
  answer(mode: AnswerMode): void;
  /** How the server answers one operation (e.g. only the mutation fails); undefined goes back to `answer`'s mode. */
  answerFor(operationName: string, mode: AnswerMode | undefined): void;
  /** Only these Authorization values are accepted (Linear's 401 otherwise); undefined accepts any. */
  acceptAuthorization(values: string[] | undefined): void;
  issue(identifier: string): FakeIssue;
  close(): Promise<void>;
};

export function sampleWorkspace(): FakeWorkspace {
  return {
    teams: [
      {
        id: "team-lin",
        key: "LIN",
        // Out of order on purpose: the client must pick the lowest position, not the first listed.
        states: [
          { id: "st-review", name: "In Review", type: "started", position: 3 },
          { id: "st-backlog", name: "Backlog", type: "backlog", position: 0 },
          { id: "st-todo", name: "Todo", type: "unstarted", position: 1 },
          { id: "st-progress", name: "In Progress", type: "started", position: 2 },
          { id: "st-done", name: "Done", type: "completed", position: 4 },
          { id: "st-canceled", name: "Canceled", type: "canceled", position: 5 },
        ],
      },
      { id: "team-ops", key: "OPS", states: [{ id: "ops-todo", name: "Todo", type: "unstarted", position: 0 }] },
    ],
    users: [
      { id: "user-me", name: "Me" },
      { id: "user-other", name: "Someone Else" },
    ],
    viewerId: "user-me",
    issues: [
      {
        id: "issue-123",
        identifier: "LIN-123",
        title: "Fix the login page",
        description: "The login page **breaks** on Safari.",
        branchName: "me/lin-123-fix-the-login-page",
        teamId: "team-lin",
        stateId: "st-todo",
        assigneeId: null,
      },
      {
        id: "issue-124",
        identifier: "LIN-124",
        title: "Already going",
        description: null,
        branchName: "lin-124-already-going",
        teamId: "team-lin",
        stateId: "st-review",
        assigneeId: "user-me",
      },
      {
        id: "issue-125",
        identifier: "LIN-125",
        title: "Finished",
        description: null,
        branchName: "lin-125-finished",
        teamId: "team-lin",
        stateId: "st-done",
        assigneeId: "user-other",
      },
      {
        id: "issue-126",
        identifier: "LIN-126",
        title: "Gave up",
        description: null,
        branchName: "lin-126-gave-up",
        teamId: "team-lin",
        stateId: "st-canceled",
        assigneeId: null,
      },
      {
        id: "issue-7",
        identifier: "OPS-7",
        title: "No started state in this team",
        description: null,
        branchName: "ops-7-no-started-state",
        teamId: "team-ops",
        stateId: "ops-todo",
        assigneeId: null,
      },
    ],
  };
}

const requestSchema = z.object({
  operationName: z.string().optional(),
  query: z.string(),
  variables: z.record(z.string(), z.unknown()).optional(),
});

export async function startLinearServer(workspace: FakeWorkspace = sampleWorkspace()): Promise<FakeLinear> {
  const requests: RecordedRequest[] = [];
  let defaultMode: AnswerMode = { kind: "normal" };
  const operationModes = new Map<string, AnswerMode>();
  let accepted: string[] | undefined;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const parsed = requestSchema.safeParse(parseJson(body));
      const operationName = parsed.success
        ? (parsed.data.operationName ?? /^\s*(?:query|mutation)\s+(\w+)/.exec(parsed.data.query)?.[1])
        : undefined;
      const variables = parsed.success ? (parsed.data.variables ?? {}) : {};
      requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body,
        operationName,
        variables,
      });
      const mode = (operationName === undefined ? undefined : operationModes.get(operationName)) ?? defaultMode;

      switch (mode.kind) {
        case "hang":
          return; // Never answers; close() drops the connection.
        case "status":
          return send(res, mode.status, mode.body ?? JSON.stringify({ errors: [{ message: `HTTP ${mode.status}` }] }));
        case "garbage":
          return send(res, 200, mode.body ?? "<html>Bad gateway, probably</html>", "text/html");
        case "graphqlErrors":
          return send(res, mode.status ?? 200, JSON.stringify({ errors: mode.errors, data: null }));
        case "huge": {
          res.writeHead(200, {
            "content-type": "application/json",
            ...(mode.declareLength ? { "content-length": String(mode.bytes) } : {}),
          });
          const chunk = Buffer.alloc(64 * 1024, " ");
          const pump = () => {
            while (mode.sent.bytes < mode.bytes && !res.destroyed) {
              mode.sent.bytes += chunk.length;
              if (!res.write(chunk)) return void res.once("drain", pump);
            }
            res.end();
          };
          res.on("close", () => res.destroy());
          return pump();
        }
        case "normal":
          break;
      }
      if (accepted && !accepted.includes(req.headers.authorization ?? "")) {
        return send(
          res,
          401,
          JSON.stringify({
            errors: [
              { message: "Authentication required, not authenticated", extensions: { code: "AUTHENTICATION_ERROR" } },
            ],
          }),
        );
      }
      if (req.method !== "POST" || !parsed.success) {
        return send(res, 400, JSON.stringify({ errors: [{ message: "Must provide query string." }] }));
      }
      const answer = resolve(workspace, operationName, variables);
      send(res, 200, JSON.stringify(answer));
    });
  });

  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/graphql`,
    workspace,
    requests,
    operations: (name) => requests.filter((request) => request.operationName === name),
    answer: (next) => {
      defaultMode = next;
    },
    answerFor: (operationName, next) => {
      if (next) operationModes.set(operationName, next);
      else operationModes.delete(operationName);
    },
    acceptAuthorization: (values) => {
      accepted = values;
    },
    issue: (identifier) => {
      const found = workspace.issues.find((issue) => issue.identifier === identifier);
      if (!found) throw new Error(`no fake issue ${identifier}`);
      return found;
    },
    close: () =>
      new Promise<void>((done, fail) => {
        server.closeAllConnections();
        server.close((error) => (error ? fail(error) : done()));
      }),
  };
}

type GraphqlAnswer =
  | { data: unknown }
  | { data: null; errors: Array<{ message: string; extensions: { code: string } }> };

function resolve(
  workspace: FakeWorkspace,
  operationName: string | undefined,
  variables: Record<string, unknown>,
): GraphqlAnswer {
  switch (operationName) {
    case "Issue": {
      const issue = findIssue(workspace, variables.id);
      return issue ? { data: { issue: renderIssue(workspace, issue) } } : entityNotFound("Issue");
    }
    case "TeamStates": {
      const team = workspace.teams.find((candidate) => candidate.id === variables.teamId);
      return team ? { data: { team: { states: { nodes: team.states } } } } : entityNotFound("Team");
    }
    case "Viewer": {
      const viewer = workspace.users.find((user) => user.id === workspace.viewerId);
      return { data: { viewer } };
    }
    case "IssueStart": {
      const issue = findIssue(workspace, variables.id);
      if (!issue) return entityNotFound("Issue");
      const input = z
        .object({ stateId: z.string().optional(), assigneeId: z.string().optional() })
        .strict()
        .parse(variables.input);
      if (input.stateId !== undefined) issue.stateId = input.stateId;
      if (input.assigneeId !== undefined) issue.assigneeId = input.assigneeId;
      const rendered = renderIssue(workspace, issue);
      return { data: { issueUpdate: { success: true, issue: { state: { name: rendered.state.name } } } } };
    }
    case "CommentCreate": {
      const input = z.object({ issueId: z.string(), body: z.string() }).strict().parse(variables.input);
      const issue = findIssue(workspace, input.issueId);
      if (!issue) return entityNotFound("Issue");
      issue.comments = [...(issue.comments ?? []), input.body];
      const url = `https://linear.app/acme/issue/${issue.identifier}#comment-${issue.comments.length}`;
      return { data: { commentCreate: { success: true, comment: { url } } } };
    }
    default:
      return {
        data: null,
        errors: [{ message: `Unknown operation ${operationName}`, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }],
      };
  }
}

function findIssue(workspace: FakeWorkspace, id: unknown): FakeIssue | undefined {
  if (typeof id !== "string") return undefined;
  return workspace.issues.find((issue) => issue.id === id || issue.identifier === id.toUpperCase());
}

function renderIssue(workspace: FakeWorkspace, issue: FakeIssue) {
  const team = workspace.teams.find((candidate) => candidate.id === issue.teamId);
  const state = team?.states.find((candidate) => candidate.id === issue.stateId);
  if (!team || !state) throw new Error(`fake workspace is inconsistent around ${issue.identifier}`);
  const assignee = workspace.users.find((user) => user.id === issue.assigneeId) ?? null;
  return {
    id: issue.id,
    identifier: issue.identifier,
    title: issue.title,
    url: `https://linear.app/acme/issue/${issue.identifier}/${issue.branchName.split("/").pop() ?? ""}`,
    branchName: issue.branchName,
    description: issue.description,
    state: { id: state.id, name: state.name, type: state.type },
    team: { id: team.id, key: team.key },
    assignee,
  };
}

function entityNotFound(what: string): GraphqlAnswer {
  return {
    data: null,
    errors: [{ message: `Entity not found: ${what}`, extensions: { code: "INVALID_INPUT" } }],
  };
}

function send(res: ServerResponse, status: number, body: string, contentType = "application/json"): void {
  res.writeHead(status, { "content-type": contentType });
  res.end(body);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
