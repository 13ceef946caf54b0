import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../src/errors.ts";
import { authorizationHeader, linearClient, linearOptionsFromEnv } from "../src/work/linear.ts";
import { lookupIssue, offlineBranchName, slugify } from "../src/work/issue-lookup.ts";
import { startLinearServer, type FakeLinear } from "./support/linear-server.ts";
import { userErrorOf } from "./support/checks.ts";

const PERSONAL_KEY = "lin_api_0123456789abcdef";
let server: FakeLinear;

beforeEach(async () => {
  server = await startLinearServer();
});
afterEach(async () => {
  await server.close();
});

function client(options: { apiKey?: string; timeoutMs?: number } = {}) {
  return linearClient({
    apiKey: options.apiKey ?? PERSONAL_KEY,
    apiUrl: server.url,
    timeoutMs: options.timeoutMs ?? 2_000,
  });
}

describe("authorizationHeader", () => {
  it.each([
    ["lin_api_abc123", "lin_api_abc123"],
    ["  lin_api_abc123\n", "lin_api_abc123"],
    ["lin_oauth_abc123", "Bearer lin_oauth_abc123"],
    ["some-oauth-token", "Bearer some-oauth-token"],
    ["Bearer some-oauth-token", "Bearer some-oauth-token"],
    ["bearer some-oauth-token", "bearer some-oauth-token"],
  ])("%j → %j", (key, header) => {
    expect(authorizationHeader(key)).toBe(header);
  });

  it.each([[""], ["   "], ["lin_api_abc\r\nX-Evil: 1"], ["two words here"]])("refuses %j", (key) => {
    expect(() => authorizationHeader(key)).toThrow(
      "LINEAR_API_KEY is empty or has characters an API key never has; copy it again from Linear (Settings → Security & access)",
    );
  });
});

describe("the Authorization header that reaches Linear", () => {
  it("is the personal key itself, without Bearer", async () => {
    await client({ apiKey: PERSONAL_KEY }).fetchIssue("LIN-123");
    expect(server.requests.map((request) => request.headers.authorization)).toEqual([PERSONAL_KEY]);
  });

  it("is Bearer <token> for an OAuth token", async () => {
    await client({ apiKey: "oauth-access-token-xyz" }).fetchIssue("LIN-123");
    expect(server.requests.map((request) => request.headers.authorization)).toEqual(["Bearer oauth-access-token-xyz"]);
  });

  it("is kept as given when it already says Bearer", async () => {
    await client({ apiKey: "Bearer oauth-access-token-xyz" }).fetchIssue("LIN-123");
    expect(server.requests[0]?.headers.authorization).toBe("Bearer oauth-access-token-xyz");
  });
});

describe("fetchIssue", () => {
  it("returns the issue, with Linear's branchName exactly as given", async () => {
    const issue = await client().fetchIssue("lin-123");
    expect(issue).toEqual({
      id: "issue-123",
      identifier: "LIN-123",
      title: "Fix the login page",
      url: "https://linear.app/acme/issue/LIN-123/lin-123-fix-the-login-page",
      branchName: "me/lin-123-fix-the-login-page",
      description: "The login page **breaks** on Safari.",
      state: { id: "st-todo", name: "Todo", type: "unstarted" },
      team: { id: "team-lin", key: "LIN" },
      assignee: null,
    });
    const [request] = server.requests;
    expect(request?.method).toBe("POST");
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.operationName).toBe("Issue");
    expect(request?.variables).toEqual({ id: "LIN-123" });
  });

  it("never sends an input that is not an identifier", async () => {
    const error = await userErrorOf(client().fetchIssue('LIN-1"} { viewer { id } } #'));
    expect(error.message).toMatch(/^not a Linear issue: /);
    expect(server.requests).toHaveLength(0);
  });
});

describe("startIssue", () => {
  it("moves an unstarted issue to the team's started state with the lowest position", async () => {
    const linear = client();
    const issue = await linear.fetchIssue("LIN-123");
    expect(await linear.startIssue(issue)).toEqual({ moved: true, state: "In Progress", assigned: false });
    expect(server.issue("LIN-123").stateId).toBe("st-progress");
    const [mutation, ...more] = server.operations("IssueStart");
    expect(more).toHaveLength(0);
    expect(mutation?.variables).toEqual({ id: "issue-123", input: { stateId: "st-progress" } });
  });

  it("is idempotent: a second run finds it started and sends no mutation", async () => {
    const linear = client();
    await linear.startIssue(await linear.fetchIssue("LIN-123"), { assign: true });
    const second = await linear.startIssue(await linear.fetchIssue("LIN-123"), { assign: true });
    expect(second).toEqual({ moved: false, state: "In Progress", assigned: false });
    expect(server.operations("IssueStart")).toHaveLength(1);
  });

  it.each([
    ["LIN-124", "In Review"],
    ["LIN-125", "Done"],
    ["LIN-126", "Canceled"],
  ])("leaves %s in %s (already started, completed or canceled) and asks nothing more", async (identifier, state) => {
    const linear = client();
    const result = await linear.startIssue(await linear.fetchIssue(identifier));
    expect(result).toEqual({ moved: false, state, assigned: false });
    expect(server.requests.map((request) => request.operationName)).toEqual(["Issue"]);
  });

  it("skips the state with noStatus", async () => {
    const linear = client();
    const result = await linear.startIssue(await linear.fetchIssue("LIN-123"), { noStatus: true });
    expect(result).toEqual({ moved: false, state: "Todo", assigned: false });
    expect(server.operations("IssueStart")).toHaveLength(0);
    expect(server.issue("LIN-123").stateId).toBe("st-todo");
  });

  it("assigns to the key's user (viewer) in the same mutation", async () => {
    const linear = client();
    const result = await linear.startIssue(await linear.fetchIssue("LIN-123"), { assign: true });
    expect(result).toEqual({ moved: true, state: "In Progress", assigned: true });
    expect(server.operations("Viewer")).toHaveLength(1);
    expect(server.operations("IssueStart").map((request) => request.variables.input)).toEqual([
      { stateId: "st-progress", assigneeId: "user-me" },
    ]);
    expect(server.issue("LIN-123").assigneeId).toBe("user-me");
  });

  it("assigns without moving when only assign is left to do", async () => {
    const linear = client();
    const result = await linear.startIssue(await linear.fetchIssue("LIN-125"), { assign: true });
    expect(result).toEqual({ moved: false, state: "Done", assigned: true });
    expect(server.operations("IssueStart").map((request) => request.variables.input)).toEqual([
      { assigneeId: "user-me" },
    ]);
  });

  it("does not re-assign an issue the viewer already has", async () => {
    const linear = client();
    const result = await linear.startIssue(await linear.fetchIssue("LIN-124"), { assign: true });
    expect(result).toEqual({ moved: false, state: "In Review", assigned: false });
    expect(server.operations("IssueStart")).toHaveLength(0);
  });

  it("says what to do when the team has no started state", async () => {
    const linear = client();
    const error = await userErrorOf(linear.startIssue(await linear.fetchIssue("OPS-7")));
    expect(error.message).toBe(
      'team OPS has no workflow state of type "started"; add one in Linear (Settings → Teams → Workflow), or pass --no-status',
    );
    expect(server.operations("IssueStart")).toHaveLength(0);
  });
});

describe("failures are one line that says what to do", () => {
  it("401 with a bad key", async () => {
    server.acceptAuthorization(["lin_api_the_right_one"]);
    const error = await userErrorOf(client({ apiKey: "lin_api_wrong" }).fetchIssue("LIN-123"));
    expect(error.message).toBe(
      "Linear refused LINEAR_API_KEY (HTTP 401); create a new key in Linear (Settings → Security & access → Personal API keys) and set LINEAR_API_KEY to it",
    );
  });

  it("401 without a JSON body", async () => {
    server.answer({ kind: "status", status: 401, body: "Unauthorized" });
    const error = await userErrorOf(client().fetchIssue("LIN-123"));
    expect(error.message).toMatch(/^Linear refused LINEAR_API_KEY \(HTTP 401\); /);
  });

  it("404 as a GraphQL error (Entity not found, HTTP 200)", async () => {
    const error = await userErrorOf(client().fetchIssue("LIN-999"));
    expect(error.message).toBe(
      "Linear has no issue LIN-999 that this key can see; check the identifier, and that LINEAR_API_KEY belongs to the issue's workspace",
    );
  });

  it("429", async () => {
    server.answer({
      kind: "status",
      status: 429,
      body: JSON.stringify({ errors: [{ message: "Rate limit exceeded", extensions: { code: "RATELIMITED" } }] }),
    });
    const error = await userErrorOf(client().fetchIssue("LIN-123"));
    expect(error.message).toBe("Linear's rate limit for this key is used up; wait a few minutes and run this again");
  });

  it("RATELIMITED as a GraphQL error with another status", async () => {
    server.answer({
      kind: "graphqlErrors",
      status: 400,
      errors: [{ message: "Rate limit exceeded", extensions: { code: "RATELIMITED" } }],
    });
    const error = await userErrorOf(client().fetchIssue("LIN-123"));
    expect(error.message).toBe("Linear's rate limit for this key is used up; wait a few minutes and run this again");
  });

  it("a timeout", async () => {
    server.answer({ kind: "hang" });
    const started = Date.now();
    const error = await userErrorOf(client({ timeoutMs: 300 }).fetchIssue("LIN-123"));
    expect(error.message).toBe(
      "Linear did not answer within 0.3 s; check your connection and try again (LINEAR_TIMEOUT_MS sets the limit)",
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("garbage that is not JSON", async () => {
    server.answer({ kind: "garbage" });
    const error = await userErrorOf(client().fetchIssue("LIN-123"));
    expect(error.message).toBe(
      `Linear's answer at ${server.url} was not JSON; check that LINEAR_API_URL is Linear's GraphQL endpoint`,
    );
  });

  it("JSON of the wrong shape", async () => {
    server.answer({
      kind: "garbage",
      body: JSON.stringify({ data: { issue: { id: "x", identifier: "LIN-123", branchName: 42 } } }),
    });
    const error = await userErrorOf(client().fetchIssue("LIN-123"));
    expect(error.message).toMatch(
      /^Linear's answer to Issue is not what was expected \(data\.issue\.title: [^)]+\); check that LINEAR_API_URL is Linear's GraphQL endpoint$/,
    );
  });

  it("another GraphQL error, flattened to one line", async () => {
    server.answer({ kind: "graphqlErrors", errors: [{ message: "Something\nbroke\r\n\u001b[31mbadly" }] });
    const error = await userErrorOf(client().fetchIssue("LIN-123"));
    expect(error.message).toBe(
      "Linear answered an error for Issue: Something broke [31mbadly; check the issue and LINEAR_API_URL, then try again",
    );
  });

  it("an HTTP 500", async () => {
    server.answer({ kind: "status", status: 502, body: "upstream down" });
    const error = await userErrorOf(client().fetchIssue("LIN-123"));
    expect(error.message).toBe(`Linear answered HTTP 502 at ${server.url}; try again later, or check LINEAR_API_URL`);
  });

  it("nobody listening", async () => {
    const url = server.url;
    await server.close();
    server = await startLinearServer();
    const error = await userErrorOf(linearClient({ apiKey: PERSONAL_KEY, apiUrl: url }).fetchIssue("LIN-123"));
    expect(error.message).toBe(
      `could not reach Linear at ${url} (ECONNREFUSED); check your connection, or LINEAR_API_URL`,
    );
  });

  it("a LINEAR_API_URL that is not a URL", () => {
    expect(() => linearClient({ apiKey: PERSONAL_KEY, apiUrl: "file:///etc/passwd" })).toThrow(
      "LINEAR_API_URL is not an http(s) URL; unset it to use https://api.linear.app/graphql",
    );
  });

  it.each([true, false])(
    "a 400 MB answer (content-length given: %s) is refused without being read whole",
    async (declareLength) => {
      const sent = { bytes: 0 };
      server.answer({ kind: "huge", bytes: 400 * 1024 * 1024, declareLength, sent });
      const error = await userErrorOf(client().fetchIssue("LIN-123"));
      expect(error.message).toBe(
        `the answer at ${server.url} is larger than 8 MB, far more than Linear sends; it was not read: check LINEAR_API_URL`,
      );
      // The client hung up long before the end: at most the cap and what the sockets buffer went out.
      expect(sent.bytes).toBeLessThan(64 * 1024 * 1024);
    },
  );

  it("every message is a single line", async () => {
    server.answer({ kind: "graphqlErrors", errors: [{ message: `a\nb\u202e${"c".repeat(5_000)}` }] });
    const error = await userErrorOf(client().fetchIssue("LIN-123"));
    expect(error.message).toMatch(/^[\x20-\x7e]+…[\x20-\x7e]+$/);
    expect(error.message.length).toBeLessThan(400);
  });
});

describe("linearOptionsFromEnv", () => {
  it("is undefined (offline) without a key", () => {
    expect(linearOptionsFromEnv({})).toBeUndefined();
    expect(linearOptionsFromEnv({ LINEAR_API_KEY: "  " })).toBeUndefined();
  });

  it("defaults the endpoint and reads the timeout", () => {
    expect(linearOptionsFromEnv({ LINEAR_API_KEY: "lin_api_x" })).toEqual({
      apiKey: "lin_api_x",
      apiUrl: "https://api.linear.app/graphql",
    });
    expect(
      linearOptionsFromEnv({
        LINEAR_API_KEY: "k",
        LINEAR_API_URL: "http://127.0.0.1:1/graphql",
        LINEAR_TIMEOUT_MS: "2500",
      }),
    ).toEqual({
      apiKey: "k",
      apiUrl: "http://127.0.0.1:1/graphql",
      timeoutMs: 2500,
    });
  });

  it("refuses a timeout longer than a timer can wait, saying so (it used to read as 'could not reach Linear')", () => {
    expect(() => linearOptionsFromEnv({ LINEAR_API_KEY: "k", LINEAR_TIMEOUT_MS: "99999999999" })).toThrow(
      "LINEAR_TIMEOUT_MS=99999999999 is longer than a timer can wait (2147483647 ms, about 24 days); use a smaller number, like 30000, or unset it for the default",
    );
  });

  it("refuses a timeout that is not a number", () => {
    expect(() => linearOptionsFromEnv({ LINEAR_API_KEY: "k", LINEAR_TIMEOUT_MS: "10s" })).toThrow(
      "LINEAR_TIMEOUT_MS must be a whole number of milliseconds, like 10000; unset it for the default",
    );
  });
});

describe("lookupIssue", () => {
  it("asks Linear when it has a key, and uses its branchName as given (title ignored)", async () => {
    const found = await lookupIssue("lin-123", {
      linear: { apiKey: PERSONAL_KEY, apiUrl: server.url },
      title: "ignored",
    });
    expect(found).toMatchObject({
      linearAsked: true,
      identifier: "LIN-123",
      title: "Fix the login page",
      branchName: "me/lin-123-fix-the-login-page",
    });
  });

  it("works offline without a key and says Linear was not asked", async () => {
    expect(await lookupIssue("lin-123", { title: "Fix the Login page!" })).toEqual({
      linearAsked: false,
      identifier: "LIN-123",
      title: "Fix the Login page!",
      branchName: "lin-123-fix-the-login-page",
    });
    expect(await lookupIssue("LIN-123")).toEqual({
      linearAsked: false,
      identifier: "LIN-123",
      title: null,
      branchName: "lin-123",
    });
    expect(server.requests).toHaveLength(0);
  });
});

describe("offlineBranchName", () => {
  it.each([
    ["LIN-123", undefined, "lin-123"],
    ["lin-123", "", "lin-123"],
    ["LIN-123", "Fix the login page", "lin-123-fix-the-login-page"],
    ["LIN-123", "  Crème brûlée: ÜBER crash!! ", "lin-123-creme-brulee-uber-crash"],
    ["LIN-123", '"; rm -rf ~ --upload-pack=x ../../etc', "lin-123-rm-rf-upload-pack-x-etc"],
    ["LIN-123", "日本語", "lin-123"],
    ["LIN-123", "a".repeat(500), `lin-123-${"a".repeat(50)}`],
  ])("%s + %j → %s", (identifier, title, branch) => {
    expect(offlineBranchName(identifier, title)).toBe(branch);
  });

  it("never ends in a dash when the cut lands on one", () => {
    expect(slugify(`${"a".repeat(49)} b`)).toBe("a".repeat(49));
  });

  it("refuses an identifier that is not one", () => {
    expect(() => offlineBranchName("--upload-pack=x")).toThrow(UserError);
  });
});
