// QueenConnection against a stand-in queen on a real WebSocket: a dropped socket is reopened, but
// not once the hive winds down (a Ctrl-C of `npm start` stops the local queen at the same moment,
// and a stopping hive has nothing to reconnect for); a link that flaps while the queen welcomes
// the hive each time is reconnected to without a growing backoff, a queen that drops it unwelcomed
// with one.
import { type WebSocket, WebSocketServer } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { waitUntil } from "../../shared/wait-until.js";
import { TEST_DEVICES } from "../../test/support/test-devices.js";
import { PROTOCOL_VERSION } from "../../shared/protocol/hive-frames.js";
import { QueenConnection } from "./queen-connection.js";

describe("QueenConnection", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function standInQueen(reconnect = { reconnectBaseMs: 5, reconnectMaxMs: 10 }, onConnection: (socket: WebSocket) => void = () => {}): Promise<{ url: string; sockets: WebSocket[]; logged: string[]; connection: QueenConnection }> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const sockets: WebSocket[] = [];
    server.on("connection", (ws) => {
      sockets.push(ws);
      onConnection(ws);
    });
    const { port } = server.address() as { port: number };
    const url = `http://127.0.0.1:${port}`;
    const logged: string[] = [];
    const connection = new QueenConnection({
      queenUrl: url,
      hiveName: "wind-down-hive",
      token: "t",
      ...reconnect,
      onFrame: () => {},
      devices: () => TEST_DEVICES,
      jobs: () => [],
      workers: () => [],
      log: (line) => logged.push(line),
    });
    cleanups.push(() => connection.close());
    connection.start();
    await waitUntil(async () => sockets.length >= 1, 5000, "the first connection");
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

  /** The delays the connection announced, ms, once `count` reconnects were made. */
  async function reconnectDelays(logged: string[], sockets: WebSocket[], count: number): Promise<number[]> {
    await waitUntil(async () => sockets.length > count, 20_000, `${count} reconnects`);
    return logged.flatMap((line) => /^reconnecting in (\d+) ms$/.exec(line)?.[1] ?? []).map(Number);
  }

  it("reconnects at once, again and again, to a queen that welcomes it on a link that keeps dropping", async () => {
    // Each connection is welcomed, then cut a moment later, as a flapping home link does.
    const flap = (socket: WebSocket) =>
      socket.once("message", () => {
        socket.send(JSON.stringify({ type: "welcome", protocol: PROTOCOL_VERSION, hiveName: "wind-down-hive", heartbeatIntervalMs: 5000 }));
        setTimeout(() => socket.terminate(), 20);
      });
    const { sockets, logged } = await standInQueen({ reconnectBaseMs: 40, reconnectMaxMs: 30_000 }, flap);
    const delays = await reconnectDelays(logged, sockets, 8);
    // Doubling from 40 ms, the eighth would wait 2.5–5 s.
    expect(Math.max(...delays)).toBeLessThanOrEqual(80);
  });

  it("backs off ever longer from a queen that drops it before any welcome", async () => {
    const { sockets, logged } = await standInQueen({ reconnectBaseMs: 10, reconnectMaxMs: 30_000 }, (socket) => socket.once("message", () => socket.terminate()));
    const delays = await reconnectDelays(logged, sockets, 6);
    // The sixth waits 160–320 ms: 10 ms doubled five times, halved at most by the jitter.
    expect(delays[5]).toBeGreaterThanOrEqual(160);
  });

  it("asks again only at the longest backoff a queen that does not speak its protocol, saying what to upgrade", async () => {
    const { sockets, logged } = await standInQueen({ reconnectBaseMs: 10, reconnectMaxMs: 300 }, (socket) =>
      socket.once("message", () => socket.close(4001, "protocol version mismatch")),
    );
    const delays = await reconnectDelays(logged, sockets, 2);
    expect(delays.every((delay) => delay >= 150), `delays ${delays.join(", ")}`).toBe(true);
    expect(logged).toContainEqual(expect.stringContaining(`does not speak this hive's protocol ${PROTOCOL_VERSION}: upgrade the older of the two`));
  });
});
