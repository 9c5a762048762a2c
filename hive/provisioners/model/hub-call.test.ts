// hubCall against real local servers: a busy hub is asked again (after its Retry-After), a silent
// one is given up on within the timeout, naming the host and the step, and a cancel stops at once.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "../../../shared/wait-until.js";
import { hubCall } from "./hub-call.js";

const closers: Array<() => void> = [];

afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; seen: () => number }> {
  let seen = 0;
  const server = createServer((request, response) => {
    seen += 1;
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/models/org/repo/tree/main`, seen: () => seen };
}

const never = new AbortController().signal;
const fast = { attempts: 3, timeoutMs: 2_000, retryBaseMs: 10 };

describe("a call to the hub", () => {
  it("asks again after a 503 or 429, after the Retry-After it names, and returns the first real answer", async () => {
    const statuses = [503, 429, 200];
    const hub = await serve((_request, response) => {
      const status = statuses.shift() ?? 200;
      response.writeHead(status, status === 200 ? { "content-type": "application/json" } : { "retry-after": "0" }).end(status === 200 ? "[]" : "busy");
    });
    const response = await hubCall(hub.url, {}, never, "the file list of org/repo", fast);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([]);
    expect(hub.seen()).toBe(3);
  });

  it("returns the last try's refusal when the hub stays busy, and a 404 at once", async () => {
    const busy = await serve((_request, response) => response.writeHead(503).end());
    expect((await hubCall(busy.url, {}, never, "the file list", fast)).status).toBe(503);
    expect(busy.seen()).toBe(3);
    const missing = await serve((_request, response) => response.writeHead(404).end());
    expect((await hubCall(missing.url, {}, never, "the file list", fast)).status).toBe(404);
    expect(missing.seen()).toBe(1);
  });

  it("gives up on a hub that takes the connection and never answers, naming the host and what it asked", async () => {
    const silent = await serve(() => {});
    await expect(hubCall(silent.url, {}, never, "the file list of org/repo", { attempts: 2, timeoutMs: 200, retryBaseMs: 10 })).rejects.toMatchObject({
      status: 503,
      code: "model_source_unavailable",
      message: `${new URL(silent.url).origin} did not answer within 0.2 s when asked for the file list of org/repo, 2 times; check this machine's network and HF_ENDPOINT, then ask again`,
    });
    expect(silent.seen()).toBe(2);
  });

  it("stops at once when its job is cancelled, with the cancel's reason", async () => {
    const silent = await serve(() => {});
    const job = new AbortController();
    const call = hubCall(silent.url, {}, job.signal, "the file list", fast);
    await waitUntil(() => silent.seen() === 1, 5_000, "the call to reach the hub");
    job.abort(new Error("job cancelled"));
    await expect(call).rejects.toThrow("job cancelled");
    expect(silent.seen()).toBe(1);
  });
});
