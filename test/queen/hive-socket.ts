// A test hive inside workerd: registers with the queen, opens the hive WebSocket through the
// real route, and collects the frames the queen sends.
import { env, SELF } from "cloudflare:test";
import { hiveSessionStub } from "../../queen/hive-session/stub.js";
import { type HiveToQueenFrame, PING_FRAME, PROTOCOL_VERSION, type QueenToHiveFrame } from "../../shared/protocol/hive-frames.js";
import { HIVE_INSTANCE_HEADER } from "../../shared/protocol/hive-connect.js";
import { waitUntil } from "../../shared/wait-until.js";
import { TEST_DEVICES } from "../support/test-devices.js";

/** The bootstrap admin key (RBEE_ADMIN_KEY in vitest.config.ts): both scopes. */
export const API_KEY = "rbee_sk_queen_test_admin_key";
export const auth = { authorization: `Bearer ${API_KEY}` };

export { TEST_DEVICES };

/** A hello as a hive sends it, listing `jobs` and `workers` as still here. */
export function helloFrame(jobs: string[] = [], protocol = PROTOCOL_VERSION, workers: string[] = []): HiveToQueenFrame {
  return { type: "hello", protocol, hive: { version: "test", os: "linux", arch: "x64", cpuCores: 2, memoryBytes: 1 }, devices: TEST_DEVICES, jobs, workers };
}

export class TestHive {
  /** The hives of the running test file that endAll has not ended yet. */
  private static readonly open = new Set<TestHive>();
  readonly frames: QueenToHiveFrame[] = [];
  private waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | undefined;
  /** Pongs received: the queen answered a ping. */
  pongs = 0;
  // Like a real hive, pings twice per heartbeat interval (200 ms in these tests), else the queen
  // drops the socket as silent after three intervals.
  private pinger: ReturnType<typeof setInterval> | undefined;

  private constructor(
    readonly ws: WebSocket,
    /** The hive's name, as registered. */
    readonly name: string,
  ) {
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as QueenToHiveFrame;
      if (frame.type === "pong") this.pongs += 1;
      else this.frames.push(frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.stopPinging();
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.pinger = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(PING_FRAME);
    }, 100);
    TestHive.open.add(this);
  }

  /**
   * Closes every hive socket the test file opened and waits until each HiveSession has heard it
   * (end-test-hives.ts calls it after each file). A session logs a socket's end, and a silent
   * worker's drop later; a log line still on its way when the file's test worker closes fails the
   * run ("Closing rpc while onUserConsoleLog was pending"), though every test passed.
   */
  static async endAll(): Promise<void> {
    const hives = [...TestHive.open];
    TestHive.open.clear();
    for (const hive of hives) {
      hive.stopPinging();
      if (hive.ws.readyState === WebSocket.OPEN) hive.ws.close(1000, "test file over");
    }
    const names = [...new Set(hives.map((hive) => hive.name))];
    await waitUntil(async () => !(await Promise.all(names.map((name) => hiveSessionStub(env, name).isOnline()))).some(Boolean), 10_000, `hives ${names.join(", ")} offline`);
    // The session logs as its close handler starts, just before it counts the hive offline; let that line land.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** Goes silent, as a hive behind a connection cut without a close frame. */
  stopPinging(): void {
    if (this.pinger !== undefined) clearInterval(this.pinger);
  }

  static async register(name: string): Promise<string> {
    const response = await SELF.fetch("https://queen/v1/hives", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name }),
    });
    return ((await response.json()) as { token: string }).token;
  }

  /** `instanceId`: the hive process's id (HIVE_INSTANCE_HEADER), as rbee-hive sends it; none by default, as older hives. */
  static async connect(name: string, token: string, instanceId?: string): Promise<TestHive> {
    const response = await TestHive.upgrade(name, token, instanceId);
    const ws = response.webSocket;
    if (!ws) throw new Error(`no WebSocket: HTTP ${response.status} ${await response.text()}`);
    ws.accept();
    return new TestHive(ws, name);
  }

  /** The queen's answer to a hive's upgrade request: a socket, or a refusal. */
  static upgrade(name: string, token: string, instanceId?: string): Promise<Response> {
    return SELF.fetch(`https://queen/v1/hive/connect?name=${name}`, {
      headers: { upgrade: "websocket", authorization: `Bearer ${token}`, ...(instanceId === undefined ? {} : { [HIVE_INSTANCE_HEADER]: instanceId }) },
    });
  }

  /** Registers and connects a hive and completes the hello/welcome exchange. */
  static async greeted(name: string): Promise<TestHive> {
    return (await TestHive.greetedWithToken(name)).hive;
  }

  /** As greeted, with the hive's token, for a test that connects it again (after a reset, say). */
  static async greetedWithToken(name: string): Promise<{ hive: TestHive; token: string }> {
    const token = await TestHive.register(name);
    const hive = await TestHive.connect(name, token);
    hive.send(helloFrame());
    await hive.next("welcome");
    return { hive, token };
  }

  /** Sends any object as a frame: tests send the queen malformed and hostile ones too. */
  send(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  sendRaw(data: string): void {
    this.ws.send(data);
  }

  /** The next frame of `type` not yet taken, waiting for it if needed. */
  async next<T extends QueenToHiveFrame["type"]>(type: T, timeoutMs = 5000): Promise<Extract<QueenToHiveFrame, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex((frame) => frame.type === type);
      if (index >= 0) return this.frames.splice(index, 1)[0] as Extract<QueenToHiveFrame, { type: T }>;
      if (Date.now() > deadline) throw new Error(`no "${type}" frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Answers a relayed request as a worker would: head, one chunk of `body`, end. */
  respond(requestId: string, status: number, body: string, contentType = "application/json"): void {
    this.send({ type: "response_head", requestId, status, headers: { "content-type": contentType } });
    this.send({ type: "response_chunk", requestId, seq: 0, data: body });
    this.send({ type: "response_end", requestId, chunks: 1 });
  }

  /** A heartbeat of a worker of this hive; the queen accepts it only for a worker it issued here (spawnWorker in job-client.ts). */
  heartbeat(workerId: string, model: string, state = "ready"): void {
    this.send({ type: "worker_heartbeats", heartbeats: [heartbeatOf(workerId, model, state)] });
  }
}

/** One worker's heartbeat as a hive relays it: one slot, on port 40001. */
export function heartbeatOf(workerId: string, model: string, state = "ready"): Record<string, unknown> {
  return {
    workerId,
    model,
    state,
    pid: 4242,
    port: 40001,
    slotsTotal: 1,
    slotsBusy: 0,
    queueLength: 0,
    device: "cpu",
    memoryRssBytes: 100 * 1024 * 1024,
    memoryVramBytes: null,
    tokensPerSecond: 0,
  };
}

/**
 * The queen's leases on `workerId` and whether it is passed over after a failure, as GET
 * /v1/workers/:id shows them; undefined while the registry does not list it (its hive is away).
 */
export async function schedulingOf(workerId: string): Promise<{ leases: number; cooling: boolean } | undefined> {
  const response = await SELF.fetch(`https://queen/v1/workers/${workerId}`, { headers: auth });
  if (response.status === 404) return undefined;
  const worker = (await response.json()) as { requests_in_flight: number; cooling: boolean };
  return { leases: worker.requests_in_flight, cooling: worker.cooling };
}

export async function listModelIds(): Promise<string[]> {
  const response = await SELF.fetch("https://queen/v1/models", { headers: auth });
  return ((await response.json()) as { data: { id: string }[] }).data.map((model) => model.id);
}

/** The `state` /v1/models gives `model` (loaded, loading, loadable, too_large), or undefined when unlisted. */
export async function modelState(model: string): Promise<string | undefined> {
  const response = await SELF.fetch("https://queen/v1/models", { headers: auth });
  return ((await response.json()) as { data: { id: string; state: string }[] }).data.find((each) => each.id === model)?.state;
}

/** One streamed chat chunk carrying `content`, as a worker sends it (the JSON after `data: `). */
export function contentChunk(content: string): string {
  return JSON.stringify({ id: "chatcmpl-test", object: "chat.completion.chunk", created: 1_700_000_000, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] });
}

export function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  return waitUntil(check, timeoutMs, "the condition");
}
