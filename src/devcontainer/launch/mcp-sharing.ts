// User-scope MCP servers from the host's `.claude.json` that can be copied into a container's: those whose secrets
// are environment references; a server with a literal secret is not shared, and the reason says how to fix it.
import * as z from "zod/mini";
import { once } from "../../once.ts";

// Built at first use, not at the command's start.
const mcpServerSchema = once(() =>
  z.looseObject({
    type: z.optional(z.string()),
    command: z.optional(z.string()),
    args: z.optional(z.array(z.string())),
    url: z.optional(z.string()),
    env: z.optional(z.record(z.string(), z.string())),
    headers: z.optional(z.record(z.string(), z.string())),
  }),
);

export type McpServer = z.infer<ReturnType<typeof mcpServerSchema>>;

export type NotShared = { readonly name: string; readonly reason: string };

/** `${VAR}` (optionally with a `:-default`), the form Claude Code expands in MCP configs. */
const ENV_REFERENCE = /\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}/g;
/** Names that hold a secret when their value is written out literally. */
const SECRET_NAME = /key|token|secret|passw|auth|credential|cookie|session|bearer|private/i;

/**
 * User-scope MCP servers that can be copied: every `env` and `headers` value, and every argument that looks like a
 * secret, is an environment reference (or is harmless by name). A server with a literal secret is not shared.
 */
export function shareableMcpServers(servers: Record<string, unknown>): {
  shared: Record<string, McpServer>;
  notShared: NotShared[];
} {
  const shared: Record<string, McpServer> = {};
  const notShared: NotShared[] = [];
  for (const [name, value] of Object.entries(servers)) {
    const server = mcpServerSchema().safeParse(value);
    if (!server.success) {
      notShared.push({
        name,
        reason: "its entry in ~/.claude.json is not an MCP server config claude-persist can read",
      });
      continue;
    }
    const literal = literalSecrets(server.data);
    if (literal.length > 0) {
      notShared.push({
        name,
        reason: `${literal.join(", ")} ${literal.length === 1 ? "is" : "are"} written literally in ~/.claude.json; write it as "\${VAR}" instead (claude mcp add --scope user … -e ${literal[0]?.split(".").at(-1) ?? "VAR"}='\${VAR}'), export VAR on the host, and run dev-open again`,
      });
      continue;
    }
    shared[name] = server.data;
  }
  return { shared, notShared };
}

function literalSecrets(server: McpServer): string[] {
  const found: string[] = [];
  const isReference = (value: string) =>
    value.replace(ENV_REFERENCE, "").trim() === "" || /^Bearer\s+\$\{[^}]+\}$/.test(value.trim());
  for (const [key, value] of Object.entries(server.env ?? {}))
    if (!isReference(value) && SECRET_NAME.test(key)) found.push(`env.${key}`);
  for (const [key, value] of Object.entries(server.headers ?? {}))
    if (!isReference(value)) found.push(`headers.${key}`);
  for (const arg of server.args ?? [])
    if (SECRET_NAME.test(arg.split("=")[0] ?? "") && arg.includes("=") && !isReference(arg.slice(arg.indexOf("=") + 1)))
      found.push(`args ${arg.split("=")[0]}`);
  if (server.url && /[?&][^=]*(?:key|token|secret)[^=]*=(?!\$\{)/i.test(server.url)) found.push("url");
  return found;
}
