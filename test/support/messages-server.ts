// A Messages-API server of the tests' own on loopback: the real `claude` CLI talks to it instead of Anthropic.
// It answers every request with a short streamed text and keeps each request body, which is how a test sees
// what the hook and the slash commands put in front of the model.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type MessagesServer = {
  readonly url: string;
  /** Every POST /v1/messages body, parsed, in arrival order. */
  readonly requests: unknown[];
  /** All request bodies as one string, for "did this text reach the model" checks. */
  readonly allText: () => string;
  readonly close: () => Promise<void>;
};

export async function startMessagesServer(
  options: { host?: string; reply?: (body: unknown) => string } = {},
): Promise<MessagesServer> {
  const requests: unknown[] = [];
  const reply = options.reply ?? (() => "Hello from the test server.");
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.startsWith("/v1/messages")) {
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        res.writeHead(400).end();
        return;
      }
      requests.push(body);
      if (req.url.startsWith("/v1/messages/count_tokens")) {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ input_tokens: 10 }));
        return;
      }
      const text = reply(body);
      const streamed = typeof body === "object" && body !== null && "stream" in body && body.stream === true;
      if (streamed) writeStream(res, text);
      else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(message(text)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? "127.0.0.1", resolve));
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
    requests,
    allText: () => JSON.stringify(requests),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function message(text: string) {
  return {
    id: `msg_test_${Date.now()}`,
    type: "message",
    role: "assistant",
    model: "claude-test",
    content: [{ type: "text", text }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
  };
}

function writeStream(res: import("node:http").ServerResponse, text: string): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send("message_start", {
    type: "message_start",
    message: { ...message(""), content: [], stop_reason: null, usage: { input_tokens: 10, output_tokens: 1 } },
  });
  send("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
  send("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } });
  send("content_block_stop", { type: "content_block_stop", index: 0 });
  send("message_delta", {
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { output_tokens: 5 },
  });
  send("message_stop", { type: "message_stop" });
  res.end();
}
