// QueenConnection against a stand-in queen on a real WebSocket: a dropped socket is reopened, but
// not once the hive winds down (a Ctrl-C of `npm start` stops the local queen at the same moment,
// and a stopping hive has nothing to reconnect for).
import { type WebSocket, WebSocketServer } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { waitUntil } from "../../shared/wait-until.js";
import { TEST_DEVICES } from "../../test/support/test-devices.js";
import { QueenConnection } from "./queen-connection.js";

describe("QueenConnection", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function standInQueen(): Promise<{ url: string; sockets: WebSocket[]; logged: string[]; connection: QueenConnection }> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const sockets: WebSocket[] = [];
    server.on("connection", (ws) => sockets.push(ws));
    const { port } = server.address() as { port: number };
    const url = `http://127.0.0.1:${port}`;
    const logged: string[] = [];
    const connection = new QueenConnection({
      queenUrl: url,
      hiveName: "wind-down-hive",
      token: "t",
      reconnectBaseMs: 5,
      reconnectMaxMs: 10,
      onFrame: () => {},
      devices: () => TEST_DEVICES,
      jobs: () => [],
      workers: () => [],
      log: (line) => logged.push(line),
    });
    cleanups.push(() => connection.close());
    connection.start();
    await waitUntil(async () => sockets.length === 1, 5000, "the first connection");
    return { url, sockets, logged, connection };
  }

  it("reopens a socket that dropped", async () => {
    const { sockets } = await standInQueen();
    sockets[0]?.terminate();
    await waitUntil(async () => sockets.length === 2, 5000, "a second connection");
  });

  it("does not reopen it once the hive winds down", async () => {
    const { sockets, logged, connection } = await standInQueen();
    connection.windDown();
    sockets[0]?.terminate();
    await waitUntil(async () => logged.some((line) => line.startsWith("queen connection closed")), 5000, "the close");
    // A reconnect would come within reconnectMaxMs (10 ms); forty times that passes without one.
    await sleep(400);
    expect(sockets).toHaveLength(1);
    expect(logged.filter((line) => line.startsWith("reconnecting"))).toEqual([]);
  });
});
