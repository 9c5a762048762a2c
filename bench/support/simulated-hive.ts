// A simulated hive for the registry and queen-path benches: one `ws` client with a valid hive
// token. It says hello; answers worker_spawn jobs as a real hive does (data {worker_id, pid, port},
// then done); relays requests to "workers" that answer as `timing` says (./canned-answers.ts: one
// token, or a stream's frames), the frames of one moment in one batch as a real hive sends
// them; heartbeats each of its workers at the queen's interval, batched as a real hive batches them
// (the hive's own HeartbeatBatcher); and pings like a real hive. After the queen restarts it
// reconnects, and its hello lists the workers it still has, as a restarted queen expects.
import WebSocket from "ws";
import { HeartbeatBatcher } from "../../hive/connection/heartbeat-batcher.js";
import { hiveConnectUrl } from "../../shared/protocol/hive-connect.js";
import { type HiveToQueenFrame, PING_FRAME, PROTOCOL_VERSION, QueenToHiveFrame } from "../../shared/protocol/hive-frames.js";
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import { TEST_DEVICES } from "../../test/support/test-devices.js";
import { type AnswerPart, type AnswerTiming, playAnswer } from "./canned-answers.js";

type ResponseFrame = Extract<HiveToQueenFrame, { type: "response_head" | "response_chunk" | "response_end" }>;

export interface HiveTally {
  heartbeatsSent: number;
  /** The worker_heartbeats frames that carried them. */
  heartbeatFramesSent: number;
  /** Error frames the queen sent back, by code. */
  errors: Map<string, number>;
}

export class SimulatedHive {
  readonly workers: WorkerHeartbeat[] = [];
  welcomedAtMs = 0;
  private ws: WebSocket | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** The next frame of each streamed answer under way. */
  private readonly answerTimers = new Set<NodeJS.Timeout>();
  private jobSeqs = new Map<string, number>();
  private stopped = false;
  private readonly heartbeats = new HeartbeatBatcher({
    send: (frame) => {
      if (!this.send(frame)) return false;
      this.tally.heartbeatsSent += frame.heartbeats.length;
      this.tally.heartbeatFramesSent += 1;
      return true;
    },
    intervalMs: () => this.intervalMs,
  });

  constructor(
    private readonly queenUrl: string,
    readonly name: string,
    private readonly token: string,
    private readonly intervalMs: number,
    private readonly tally: HiveTally,
    private readonly timing: AnswerTiming = { firstAfterMs: 0, frameGapMs: 15 },
  ) {}

  /** Connects (retrying every second until the queen answers) and resolves once welcomed. */
  connect(): Promise<void> {
    return new Promise((resolve) => {
      const attempt = () => {
        if (this.stopped) return;
        const ws = new WebSocket(hiveConnectUrl(this.queenUrl, this.name), { headers: { authorization: `Bearer ${this.token}` }, perMessageDeflate: false });
        this.ws = ws;
        ws.on("open", () => {
          const workers = this.workers.map((worker) => worker.workerId);
          this.send({ type: "hello", protocol: PROTOCOL_VERSION, hive: { version: "bench", os: "linux", arch: "x64", cpuCores: 8, memoryBytes: 2 ** 34 }, devices: TEST_DEVICES, jobs: [], workers });
        });
        ws.on("message", (data) => {
          const parsed = QueenToHiveFrame.safeParse(JSON.parse(data.toString()));
          if (!parsed.success) return;
          if (parsed.data.type === "welcome") {
            this.welcomedAtMs = Date.now();
            this.startBeating();
            resolve();
          }
          this.onFrame(parsed.data);
        });
        ws.on("error", () => {});
        ws.on("close", () => {
          this.stopBeating();
          if (!this.stopped) setTimeout(attempt, 500 + Math.random() * 1000);
        });
      };
      attempt();
    });
  }

  /** Drops the socket without stopping: the hive reconnects (the queen went away). */
  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.stopped = true;
    this.stopBeating();
    for (const timer of this.answerTimers) clearTimeout(timer);
    this.answerTimers.clear();
    this.ws?.close(1000, "bench over");
  }

  private onFrame(frame: QueenToHiveFrame): void {
    switch (frame.type) {
      case "job_start": {
        const { jobId, operation } = frame;
        if (operation.operation !== "worker_spawn") {
          this.jobEvent(jobId, { type: "error", code: "not_simulated", message: "the bench hive only spawns" });
          return;
        }
        const port = 40_000 + this.workers.length;
        const worker: WorkerHeartbeat = {
          workerId: operation.workerId,
          model: operation.model,
          state: "ready",
          pid: 10_000 + this.workers.length,
          port,
          slotsTotal: 4,
          slotsBusy: 0,
          queueLength: 0,
          device: "cpu",
          memoryRssBytes: 100 * 2 ** 20,
          memoryVramBytes: null,
          tokensPerSecond: 0,
        };
        this.workers.push(worker);
        this.jobEvent(jobId, { type: "data", payload: { worker_id: operation.workerId, pid: 4242, port } });
        this.jobEvent(jobId, { type: "done" });
        // A real worker heartbeats from its start on; one left silent would be expired as missing.
        this.beatFrom(worker);
        return;
      }
      case "request":
        this.answer(frame.requestId, frame.body);
        return;
      case "error":
        this.tally.errors.set(frame.code, (this.tally.errors.get(frame.code) ?? 0) + 1);
        return;
      default:
        return;
    }
  }

  /** Answers (bench/support/canned-answers.ts), numbering the answer's chunks as a hive does. */
  private answer(requestId: string, body: string): void {
    let seq = 0;
    const toFrame = (part: AnswerPart): ResponseFrame => {
      if ("head" in part) return { type: "response_head", requestId, status: part.head.status, headers: { "content-type": part.head.contentType } };
      if ("chunk" in part) return { type: "response_chunk", requestId, seq: seq++, data: part.chunk };
      return { type: "response_end", requestId, chunks: seq };
    };
    playAnswer(body, (parts) => this.send({ type: "batch", frames: parts.map(toFrame) }), this.timing, (step, ms) => this.later(step, ms));
  }

  private later(step: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.answerTimers.delete(timer);
      step();
    }, ms);
    this.answerTimers.add(timer);
  }

  private jobEvent(jobId: string, event: Extract<HiveToQueenFrame, { type: "job_event" }>["event"]): void {
    const seq = this.jobSeqs.get(jobId) ?? 0;
    this.jobSeqs.set(jobId, seq + 1);
    this.send({ type: "job_event", jobId, seq, event });
  }

  /** Each worker beats every interval from a random phase; the hive pings twice an interval. */
  private startBeating(): void {
    this.stopBeating();
    const ping = setInterval(() => this.ws?.readyState === WebSocket.OPEN && this.ws.send(PING_FRAME), this.intervalMs / 2);
    this.timers.push(ping);
    for (const worker of this.workers) this.beatFrom(worker);
  }

  private beatFrom(worker: WorkerHeartbeat): void {
    const first = setTimeout(() => {
      this.beat(worker);
      this.timers.push(setInterval(() => this.beat(worker), this.intervalMs));
    }, Math.random() * this.intervalMs);
    this.timers.push(first);
  }

  private beat(worker: WorkerHeartbeat): void {
    this.heartbeats.observe(worker);
  }

  private stopBeating(): void {
    for (const timer of this.timers.splice(0)) clearTimeout(timer);
    this.heartbeats.reset();
  }

  private send(frame: HiveToQueenFrame): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
}
