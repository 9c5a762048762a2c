// The hive daemon: one queen connection, one local channel for its workers' heartbeats, and
// handlers for what the queen asks (run a job, cancel it, relay a request, cancel it). It
// keeps no worker registry; the only state is the set of requests and jobs in flight, so a
// cancel can find them.
import type { QueenToHiveFrame } from "../shared/protocol/hive-frames.js";
import { RbeeError } from "../shared/errors.js";
import { QueenConnection } from "./connection/queen-connection.js";
import { JobRunner } from "./jobs/job-runner.js";
import { LocalChannel } from "./local-channel.js";
import type { ConnectOptions } from "./options.js";
import { relayToWorker } from "./request-relay.js";

/** Heartbeat interval for workers until the queen's welcome says otherwise, in ms. */
const DEFAULT_HEARTBEAT_INTERVAL_MS = 5000;

export class Hive {
  private readonly connection: QueenConnection;
  private readonly channel: LocalChannel;
  private readonly jobs: JobRunner;
  private readonly inFlight = new Map<string, AbortController>();
  private channelUrl: string | undefined;
  private heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS;

  constructor(
    private readonly options: ConnectOptions,
    private readonly log: (line: string) => void = (line) => console.log(line),
    /** Called once the hive stopped because the queen revoked its token. */
    onRevoked: () => void = () => {},
  ) {
    this.connection = new QueenConnection({
      queenUrl: options.queenUrl,
      hiveName: options.name,
      token: options.token,
      onFrame: (frame) => this.onFrame(frame),
      onRevoked: (reason) => {
        log(`the queen cut this hive off (${reason}): get a new token with POST /v1/hives and restart with --token`);
        void this.stop().then(() => onRevoked());
      },
      log,
    });
    this.channel = new LocalChannel((heartbeat) => {
      // Dropped while the queen is unreachable; the next heartbeat after reconnecting counts.
      this.connection.send({ type: "worker_heartbeat", heartbeat });
    }, log);
    this.jobs = new JobRunner({
      send: (frame) => this.connection.send(frame),
      log,
      workerStopGraceMs: options.workerStopGraceMs,
      spawnSettings: () => {
        if (!this.channelUrl) throw new RbeeError(503, "hive_not_ready", "the hive's local channel is not up yet; retry in a moment");
        return {
          hiveChannelUrl: this.channelUrl,
          heartbeatIntervalMs: this.heartbeatIntervalMs,
          threads: this.options.workerThreads,
          log: this.log,
        };
      },
    });
  }

  async start(): Promise<void> {
    this.channelUrl = await this.channel.listen();
    this.connection.start();
  }

  /** Stops relaying and disconnects; safe to call twice. */
  async stop(): Promise<void> {
    for (const controller of this.inFlight.values()) controller.abort();
    this.inFlight.clear();
    this.jobs.abortAll();
    this.connection.close();
    await this.channel.close();
  }

  private onFrame(frame: QueenToHiveFrame): void {
    switch (frame.type) {
      case "welcome":
        this.heartbeatIntervalMs = frame.heartbeatIntervalMs;
        this.log(`queen welcomed hive '${frame.hiveName}' (heartbeat every ${frame.heartbeatIntervalMs} ms)`);
        return;
      case "job_start":
        this.jobs.start(frame.jobId, frame.operation);
        return;
      case "job_cancel":
        this.jobs.cancel(frame.jobId);
        return;
      case "request":
        void this.onRequest(frame);
        return;
      case "cancel": {
        const controller = this.inFlight.get(frame.requestId);
        if (!controller) return; // already finished: the cancel crossed the response_end
        this.log(`request ${frame.requestId} cancelled by the queen (client gone); aborting it on the worker`);
        controller.abort();
        this.inFlight.delete(frame.requestId);
        return;
      }
      case "error":
        this.log(`queen reported: ${frame.code}: ${frame.message}`);
        return;
      default: {
        const unreachable: never = frame;
        throw new Error(`unhandled frame ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private async onRequest(frame: Extract<QueenToHiveFrame, { type: "request" }>): Promise<void> {
    const controller = new AbortController();
    this.inFlight.set(frame.requestId, controller);
    try {
      await relayToWorker(frame, controller.signal, (out) => this.connection.send(out));
    } finally {
      this.inFlight.delete(frame.requestId);
    }
  }
}
