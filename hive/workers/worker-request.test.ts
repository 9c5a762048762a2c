// requestWorker against real loopback servers: a request on a kept-alive connection that the
// worker drops as it is reused goes again on a new one (nothing reached the worker), a worker
// that drops a fresh connection is an error, and an abort ends the wait.
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { requestWorker } from "./worker-request.js";

const ANSWER = '{"ok":true}';
const servers: Server[] = [];
const sockets: Socket[] = [];

/** A worker stand-in that answers with keep-alive, and resets a connection on its `resetOnRequest`th request. */
async function worker(resetOnRequest: (perConnection: number, connection: number) => boolean): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    sockets.push(socket);
    const connection = ++connections;
    let requests = 0;
    socket.on("data", (data) => {
      // Each request arrives in one read here: small, on loopback.
      if (!data.toString("latin1").includes("\r\n\r\n")) return;
      requests += 1;
      if (resetOnRequest(requests, connection)) {
        socket.resetAndDestroy();
        return;
      }
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${ANSWER.length}\r\nconnection: keep-alive\r\n\r\n${ANSWER}`);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return { port: address.port, connections: () => connections };
}

async function post(port: number, signal = new AbortController().signal): Promise<string> {
  const response = await requestWorker({ port, path: "/v1/chat/completions", headers: { "content-type": "application/json" }, body: "{}" }, signal);
  response.setEncoding("utf8");
  let text = "";
  for await (const chunk of response) text += chunk;
  return text;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy(); // the hive's kept-alive connections would hold close() open
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe("requestWorker", () => {
  it("sends a request again on a new connection when the kept-alive one it reused was dropped", async () => {
    // The second request on the first connection is reset: the worker closed it as it was reused.
    const stand = await worker((request, connection) => connection === 1 && request === 2);
    expect(await post(stand.port)).toBe(ANSWER);
    expect(await post(stand.port)).toBe(ANSWER);
    expect(stand.connections()).toBe(2);
  });

  it("fails when a worker drops a new connection, and when aborted", async () => {
    const dropping = await worker(() => true);
    await expect(post(dropping.port)).rejects.toThrow(/ECONNRESET|socket hang up/);

    const silent = createServer(() => {}); // accepts, never answers
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    if (typeof address !== "object" || address === null) throw new Error("no port");
    const abort = new AbortController();
    const waiting = post(address.port, abort.signal);
    abort.abort();
    await expect(waiting).rejects.toThrow(/abort/i);
  });
});
