// The official OpenAI client reading the queen's failover stream (queen/streams/spliced-stream.ts)
// over real HTTP: a spliced answer reads as one answer, and an answer no worker could finish
// raises an APIError with the worker_lost code (also as a client without the admin scope reads
// it) rather than hanging or ending as if complete.
import { getRequestListener } from "@hono/node-server";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { rewordForClient } from "../../queen/client-errors/redact-relay-errors.js";
import { failoverStream } from "../../queen/streams/spliced-stream.js";
import { relayErrorEvent, scriptedStream, workerEvents } from "../support/sse-streams.js";

/** A bound on the client's wait: a hang fails the test instead of stalling it. */
const CLIENT_TIMEOUT_MS = 20_000;

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Serves `respond()` to every request on a loopback port; returns an OpenAI client for it. */
async function clientFor(respond: (request: unknown) => Response | Promise<Response>): Promise<OpenAI> {
  const listener = getRequestListener(async (request) => respond(await request.json()));
  server = createServer((request, response) => void listener(request, response));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "test", maxRetries: 0, timeout: CLIENT_TIMEOUT_MS });
}

async function readChat(client: OpenAI): Promise<{ text: string; ids: Set<string> }> {
  const stream = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Say hello." }], stream: true });
  let text = "";
  const ids = new Set<string>();
  for await (const chunk of stream) {
    ids.add(chunk.id);
    text += chunk.choices[0]?.delta.content ?? "";
  }
  return { text, ids };
}

describe("the OpenAI client reading a failover stream", () => {
  it("reads an answer continued on a second worker as one answer", async () => {
    const a = workerEvents("chatcmpl-a");
    const b = workerEvents("chatcmpl-b");
    const client = await clientFor((request) =>
      failoverStream({
        request,
        path: "/v1/chat/completions",
        first: scriptedStream([a.role, a.text("Hel"), a.text("lo"), a.text(" wor"), relayErrorEvent("worker_disconnected")]).response,
        retry: async () => scriptedStream([b.role, b.text("ld"), b.text("!"), b.finish(), b.done]).response,
      }),
    );
    expect(await readChat(client)).toEqual({ text: "Hello world!", ids: new Set(["chatcmpl-a"]) });
  });

  it("throws an APIError naming worker_lost when no worker can continue, instead of hanging", async () => {
    const a = workerEvents("chatcmpl-a");
    const client = await clientFor((request) =>
      failoverStream({
        request,
        path: "/v1/chat/completions",
        first: scriptedStream([a.role, a.text("Hel")], "fail").response,
        retry: async () => undefined,
      }),
    );
    const error = await readChat(client).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.code).toBe("worker_lost");
    expect(apiError.message).toContain("no other worker could take it over");
  });

  it("gives a client without the admin scope the same code, in words without the relay's details", async () => {
    const a = workerEvents("chatcmpl-a");
    // As the route words a stream for such a client: in the splicer's own stage.
    const client = await clientFor((request) =>
      failoverStream({
        request,
        path: "/v1/chat/completions",
        first: scriptedStream([a.role, a.text("Hel"), relayErrorEvent("hive_disconnected", "Hive 'gaming-pc' disconnected while answering.")]).response,
        retry: async () => undefined,
        rewordError: (error) => rewordForClient(error, "req_test"),
      }),
    );
    const error = (await readChat(client).catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.code).toBe("worker_lost");
    expect(error.message).toContain("no other could continue it");
    expect(error.message).not.toContain("gaming-pc");
  });
});
