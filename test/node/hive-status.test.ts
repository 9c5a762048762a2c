// What a real hive tells its queen about itself, seen by a stand-in queen on a real WebSocket:
// the hello and every hive_status carry the models ready in its catalog (a download that ends
// sends one at once, a spawned worker's model is told before the worker is ready), and
// --memory-budget caps the memory it reports.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type WebSocket, WebSocketServer } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Hive } from "../../hive/hive.js";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { newId } from "../../shared/ids.js";
import { HiveToQueenFrame, PONG_FRAME, PROTOCOL_VERSION } from "../../shared/protocol/hive-frames.js";
import { waitUntil } from "../../shared/wait-until.js";

const MIB = 1024 ** 2;
const BUDGET = 64 * MIB;

describe("a hive's reports to its queen", () => {
  let dir: string;
  let server: WebSocketServer;
  let hive: Hive;
  let socket: WebSocket | undefined;
  const frames: HiveToQueenFrame[] = [];
  /** The WebSocket extensions the hive offered when it connected. */
  let offeredExtensions: string | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-hive-status-"));
    server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    server.on("connection", (ws, upgrade) => {
      socket = ws;
      offeredExtensions = upgrade.headers["sec-websocket-extensions"];
      ws.on("message", (data) => {
        const parsed = HiveToQueenFrame.safeParse(JSON.parse(String(data)));
        if (!parsed.success) throw new Error(`the hive sent an invalid frame: ${parsed.error.message}`);
        // Frames sent in one turn travel as one batch (hive/connection/frame-batcher.ts): read them one by one.
        frames.push(...(parsed.data.type === "batch" ? parsed.data.frames : [parsed.data]));
        // As the real queen's auto-response does: a hive whose pings go unanswered drops the socket
        // after three silent heartbeat intervals and reconnects, and the frames of that gap are lost.
        if (parsed.data.type === "ping") ws.send(PONG_FRAME);
        if (parsed.data.type === "hello") {
          ws.send(JSON.stringify({ type: "welcome", protocol: PROTOCOL_VERSION, hiveName: "budget-hive", heartbeatIntervalMs: 1000 }));
        }
      });
    });
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("the stand-in queen has no port");
    hive = new Hive(
      {
        queenUrl: `http://127.0.0.1:${address.port}`,
        token: "rbee_ht_test",
        name: "budget-hive",
        workerStopGraceMs: 1000,
        workerLoadStallMs: 300_000,
        cacheDir: join(dir, "cache"),
        runDir: join(dir, "run"),
        stopWorkersOnExit: false,
        githubApiUrl: "http://127.0.0.1:9",
        memoryBudget: BUDGET,
        configFile: null,
        warnings: [],
      },
      () => {},
    );
    await hive.start();
  });

  afterAll(async () => {
    await hive?.stop(false);
    server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function framesOf<T extends HiveToQueenFrame["type"]>(type: T): Extract<HiveToQueenFrame, { type: T }>[] {
    return frames.filter((frame): frame is Extract<HiveToQueenFrame, { type: T }> => frame.type === type);
  }

  it("says hello with its (empty) catalog and no more memory than its budget", async () => {
    await waitUntil(() => framesOf("hello").length > 0, 20_000, "the hello");
    const [hello] = framesOf("hello");
    expect(hello?.models).toEqual([]);
    expect(hello?.devices.ramTotalBytes).toBeLessThanOrEqual(BUDGET);
    expect(hello?.devices.ramFreeBytes).toBeLessThanOrEqual(BUDGET);
    for (const gpu of hello?.devices.gpus ?? []) expect(gpu.vramTotalBytes).toBeLessThanOrEqual(BUDGET);
  });

  it("offers the queen no per-message compression: its frames are small and compressing each cost more CPU than the relay", () => {
    expect(socket).toBeDefined();
    expect(offeredExtensions).toBeUndefined();
  });

  it("sends a hive_status listing a model once its download ends, under the name clients use", async () => {
    const file = join(dir, "models", "tiny-status.gguf");
    await writeTinyLlamaGguf(file);
    const source = pathToFileURL(file).href;
    socket?.send(JSON.stringify({ type: "job_start", jobId: newId("job"), operation: { operation: "model_download", model: source } }));
    await waitUntil(() => framesOf("hive_status").some((frame) => (frame.models ?? []).length > 0), 20_000, "a hive_status with the model");
    const status = framesOf("hive_status").find((frame) => (frame.models ?? []).length > 0);
    expect(status?.models).toEqual([
      { source: `file:${file}`, name: "tiny-status", sizeBytes: expect.any(Number), memoryBytes: expect.any(Number), vramBytes: expect.any(Number) },
    ]);
    const [model] = status?.models ?? [];
    // The estimate counts the worker process besides the weights: more than the file.
    expect(model?.memoryBytes).toBeGreaterThan(model?.sizeBytes ?? 0);
    expect(status?.devices.ramFreeBytes).toBeLessThanOrEqual(BUDGET);
  });

  it("lists a spawned worker's model in a hive_status before the worker's first heartbeat, so the queen can start another from it at once", async () => {
    const file = join(dir, "models", "tiny-spawned.gguf");
    await writeTinyLlamaGguf(file);
    const jobId = newId("job");
    const workerId = newId("wrk");
    const operation = { operation: "worker_spawn", workerId, model: "tiny-spawned", source: pathToFileURL(file).href, workerType: "cpu" };
    socket?.send(JSON.stringify({ type: "job_start", jobId, operation }));
    const isReady = (frame: HiveToQueenFrame) => frame.type === "worker_heartbeats" && frame.heartbeats.some((beat) => beat.workerId === workerId && beat.state === "ready");
    const beats = (frame: HiveToQueenFrame) => frame.type === "worker_heartbeats" && frame.heartbeats.some((beat) => beat.workerId === workerId);
    const lists = (frame: HiveToQueenFrame) => frame.type === "hive_status" && (frame.models ?? []).some((model) => model.name === "tiny-spawned");
    try {
      await waitUntil(() => frames.some(isReady), 120_000, "the spawned worker to be ready");
      // A worker killed right after it is ready is continued on one the queen starts from the catalog
      // (test/drills/worker-killed.drill.test.ts): the queen must know the model by then.
      expect(frames.findIndex(lists)).toBeGreaterThanOrEqual(0);
      expect(frames.findIndex(lists)).toBeLessThan(frames.findIndex(beats));
      // One connection all along: no hello after a reconnect told the queen instead.
      expect(framesOf("hello")).toHaveLength(1);
    } finally {
      for (const frame of framesOf("job_event")) {
        const payload = frame.jobId === jobId && frame.event.type === "data" ? (frame.event.payload as { pid?: number }) : undefined;
        if (payload?.pid) process.kill(payload.pid, "SIGKILL");
      }
    }
  }, 150_000);
});
