import { describe, expect, it } from "vitest";
import { UserError } from "../src/errors.ts";
import { parseIssueRef } from "../src/work/issue-ref.ts";

const REFUSAL =
  "not a Linear issue: expected a Linear issue like LIN-123 (any case) or its URL, https://linear.app/<workspace>/issue/LIN-123/<slug>";

describe("parseIssueRef accepts", () => {
  it.each([
    ["LIN-123", "LIN-123", "LIN", 123],
    ["lin-123", "LIN-123", "LIN", 123],
    ["Lin-7", "LIN-7", "LIN", 7],
    ["ab2c-1", "AB2C-1", "AB2C", 1],
    ["  ENG-42  ", "ENG-42", "ENG", 42],
    ["https://linear.app/acme/issue/ABC-123/fix-the-login-page", "ABC-123", "ABC", 123],
    ["https://linear.app/acme/issue/abc-123", "ABC-123", "ABC", 123],
    ["https://linear.app/acme/issue/ABC-123/", "ABC-123", "ABC", 123],
    ["https://linear.app/my-ws_2/issue/ABC-9/slug?focus=comment#c1", "ABC-9", "ABC", 9],
    ["https://LINEAR.app/acme/issue/ABC-123/slug", "ABC-123", "ABC", 123],
  ])("%j", (input, identifier, teamKey, number) => {
    expect(parseIssueRef(input)).toEqual({ identifier, teamKey, number });
  });
});

describe("parseIssueRef refuses, with one line saying what is accepted", () => {
  it.each([
    [""],
    ["123"],
    ["LIN"],
    ["LIN-"],
    ["-123"],
    ["1LIN-123"],
    ["LIN_123"],
    ["LIN-12a"],
    ["LIN-0"],
    ["LIN-0123"],
    ["LIN-1234567890"],
    ["ABCDEFGHIJK-1"],
    ["LIN 123"],
    ["LIN-123 extra"],
    ["LIN-123\n"],
    ["LIN-123\nrm -rf ~"],
    ["\tLIN-123"],
    ["LIN-123\r"],
    ["LIN-１２３"],
    ["ＬIN-123"],
    ['"; rm -rf ~"'],
    ["; rm -rf ~"],
    ["$(touch /tmp/pwned)"],
    ["`id`"],
    ["--upload-pack=touch /tmp/pwned"],
    ["--upload-pack=x"],
    ["-b"],
    ["../../x"],
    ["../LIN-123"],
    ["LIN-123/../../x"],
    ["LIN-123\u0000"],
    ["\u001b[31mLIN-123"],
    ["LIN-123".repeat(1500)],
    ["A".repeat(10_240)],
    ["http://linear.app/acme/issue/ABC-123/slug"],
    ["https://linear.app.evil.com/acme/issue/ABC-123/slug"],
    ["https://evil.com/linear.app/acme/issue/ABC-123"],
    ["https://user:pw@linear.app/acme/issue/ABC-123"],
    ["https://linear.app:8443/acme/issue/ABC-123"],
    ["https://linear.app/acme/project/ABC-123"],
    ["https://linear.app/acme/issue/ABC-123/slug/more"],
    ["https://linear.app/acme/issue/--upload-pack=x/slug"],
    ["https://linear.app/acme/issue/ABC-123%0Arm"],
    ["https://linear.app/acme/issue/AB\nC-123/slug"],
    ["https://linear.app/acme/issue/ABC-123/sl\tug"],
    ["linear.app/acme/issue/ABC-123"],
  ])("%j", (input) => {
    let error: unknown;
    try {
      parseIssueRef(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(REFUSAL);
    expect((error as UserError).exitCode).toBe(2);
  });
});
