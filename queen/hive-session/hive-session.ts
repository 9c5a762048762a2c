// HiveSession is a Durable Object per hive (named by the hive's name) that holds the hive's one
// WebSocket with the hibernation API, relays client requests down it and streams the answers
// back, starts and cancels jobs on the hive and forwards their events to each job's JobSession,
// and passes the hive's worker heartbeats on to the Registry.
import { DurableObject } from "cloudflare:workers";
import { RbeeError } from "../../shared/errors.js";
import { CloseCode } from "../../shared/protocol/close-codes.js";
import type { JobEvent } from "../../shared/protocol/job-event.js";
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import {
  type HelloFrame,
  HiveToQueenFrame,
  PROTOCOL_VERSION,
  type QueenToHiveFrame,
  type RelayablePath,
} from "../../shared/protocol/hive-frames.js";
import { parseFrame } from "../../shared/protocol/parse-frame.js";
import { queenConfig } from "../config.js";
import { recordHiveCapabilities, recordHiveDevices } from "../hives/hive-records.js";
import { applyJobEffects } from "../jobs/job-effects.js";
import { jobSessionStub } from "../jobs/stub.js";
import { registryStub } from "../registry/stub.js";
import { HiveJobs } from "./hive-jobs.js";
import { PendingRelay } from "./pending-relay.js";
import { RecentIds } from "./recent-ids.js";
import { readAttachment, type SocketAttachment } from "./socket-attachment.js";

export const HIVE_NAME_HEADER = "x-rbee-hive-name";

/** How long a relayed request may wait for the worker's response head (queueing included). */
const RESPONSE_HEAD_TIMEOUT_MS = 120_000;

export interface RelayRequest {
  /** Chosen by the caller, so it can cancel the relay if its client goes away. */
  requestId: string;
  workerId: string;
  port: number;
  path: RelayablePath;
  body: string;
}

export type StartJobOutcome = { ok: true } | { ok: false; code: "hive_offline"; message: string };

/** What became of a cancel: sent to the hive, or nobody there to hear it. */
export type CancelJobOutcome = "sent" | "hive_offline" | "not_running";

export class HiveSession extends DurableObject<Env> {
  // In-flight work is in memory only: while any is pending the object is busy and can't
  // hibernate, so nothing a client waits on is lost to eviction.
  private readonly relays = new Map<string, PendingRelay>();
  /** Requests that ended lately: a chunk for one of these crossed a cancel and is dropped quietly. */
  private readonly endedRelays = new RecentIds(1000);
  private readonly jobs = new HiveJobs(this.ctx.storage);
  // Job events are forwarded one at a time, in arrival order: each forward awaits a JobSession,
  // and without this chain a later event could overtake an earlier one during that await.
  private jobEventChain: Promise<void> = Promise.resolve();

  /** Upgrade requests from the queen's /v1/hive/connect route (already authenticated). */
  override async fetch(request: Request): Promise<Response> {
    const hiveName = request.headers.get(HIVE_NAME_HEADER);
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || !hiveName) {
      return new RbeeError(400, "bad_upgrade", "Expected a WebSocket upgrade for a named hive.").toResponse();
    }
    // One socket per hive: a reconnecting hive replaces a connection the network left half-open.
    for (const old of this.ctx.getWebSockets()) old.close(CloseCode.replaced, "replaced by a newer connection");
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const attachment: SocketAttachment = { hiveName, connectedAtMs: Date.now(), greeted: false };
    server.serializeAttachment(attachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends a client request to a worker of this hive; resolves with its (streaming) response. */
  async relay(request: RelayRequest): Promise<Response> {
    const socket = this.greetedSocket();
    if (!socket) return hiveOffline().toResponse();
    const { requestId } = request;
    const pending = new PendingRelay({
      onCancel: () => this.send(socket.ws, { type: "cancel", requestId }),
      onFinish: () => {
        this.relays.delete(requestId);
        this.endedRelays.add(requestId);
      },
    });
    this.relays.set(requestId, pending);
    this.send(socket.ws, { type: "request", ...request });
    const timeout = setTimeout(() => {
      this.send(socket.ws, { type: "cancel", requestId });
      pending.end(new RbeeError(504, "worker_timeout", "The worker did not start answering in time.", { retryAfterSeconds: 5 }));
    }, RESPONSE_HEAD_TIMEOUT_MS);
    try {
      const head = await pending.head;
      return new Response(pending.body, { status: head.status, headers: head.headers });
    } catch (error) {
      return (error instanceof RbeeError ? error : internalError(error)).toResponse();
    } finally {
      clearTimeout(timeout);
    }
  }

  /** The client of a relayed request went away: stop its generation on the worker. */
  async cancelRelay(requestId: string): Promise<void> {
    const pending = this.relays.get(requestId);
    if (!pending) return; // finished already
    pending.cancel();
  }

  /** Hands a job to the hive; the caller has opened its JobSession already. */
  async startJob(jobId: string, operation: HiveOperation): Promise<StartJobOutcome> {
    const socket = this.greetedSocket();
    if (!socket) return { ok: false, code: "hive_offline", message: hiveOffline().message };
    await this.jobs.add(jobId, operation);
    this.send(socket.ws, { type: "job_start", jobId, operation });
    return { ok: true };
  }

  /** Asks the hive to abort a job it runs. */
  async cancelJob(jobId: string): Promise<CancelJobOutcome> {
    if (!(await this.jobs.get(jobId))) return "not_running";
    const socket = this.greetedSocket();
    if (!socket) return "hive_offline";
    this.send(socket.ws, { type: "job_cancel", jobId });
    return "sent";
  }

  async isOnline(): Promise<boolean> {
    return this.greetedSocket() !== undefined;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const attachment = readAttachment(ws);
    if (!attachment) {
      ws.close(CloseCode.notGreeted, "unknown connection state; reconnect");
      return;
    }
    const parsed = parseFrame(HiveToQueenFrame, message);
    if (!parsed.ok) {
      console.warn(`hive ${attachment.hiveName}: refused frame: ${parsed.message}`);
      this.send(ws, { type: "error", code: parsed.code, message: parsed.message });
      return;
    }
    const frame = parsed.frame;
    if (!attachment.greeted && frame.type !== "hello") {
      this.send(ws, { type: "error", code: "hello_required", message: `send hello before "${frame.type}"` });
      return;
    }
    switch (frame.type) {
      case "hello":
        return this.onHello(ws, attachment, frame);
      case "hive_status":
        return recordHiveDevices(this.env.DB, attachment.hiveName, frame.devices);
      case "worker_heartbeat": {
        const outcome = await registryStub(this.env).heartbeat(attachment.hiveName, frame.heartbeat);
        if (!outcome.accepted) this.send(ws, { type: "error", code: outcome.code, message: outcome.message });
        return;
      }
      case "job_event": {
        const { jobId, seq, event } = frame;
        this.jobEventChain = this.jobEventChain.then(() => this.onJobEvent(ws, attachment.hiveName, jobId, seq, event));
        return this.jobEventChain;
      }
      case "response_head":
        this.relayFor(ws, attachment.hiveName, frame.requestId)?.receiveHead({ status: frame.status, headers: frame.headers });
        return;
      case "response_chunk":
        this.relayFor(ws, attachment.hiveName, frame.requestId)?.receiveChunk(frame.seq, frame.data);
        return;
      case "response_end": {
        const error = frame.error ? new RbeeError(502, frame.error.code, frame.error.message) : undefined;
        this.relayFor(ws, attachment.hiveName, frame.requestId)?.receiveEnd(frame.chunks, error);
        return;
      }
      default:
        return assertNever(frame);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.onSocketGone(ws, `closed (${code}${reason ? `: ${reason}` : ""})`);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    await this.onSocketGone(ws, `failed (${String(error)})`);
  }

  private async onHello(ws: WebSocket, attachment: SocketAttachment, hello: HelloFrame): Promise<void> {
    const { protocol } = hello;
    if (protocol !== PROTOCOL_VERSION) {
      const message = `hive speaks protocol ${protocol}, this queen speaks ${PROTOCOL_VERSION}: upgrade the older side`;
      this.send(ws, { type: "error", code: "protocol_mismatch", message });
      ws.close(CloseCode.protocolMismatch, "protocol version mismatch");
      return;
    }
    ws.serializeAttachment({ ...attachment, greeted: true } satisfies SocketAttachment);
    this.send(ws, {
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      hiveName: attachment.hiveName,
      heartbeatIntervalMs: queenConfig(this.env).heartbeatIntervalMs,
    });
    await recordHiveCapabilities(this.env.DB, attachment.hiveName, { ...hello.hive, devices: hello.devices });
  }

  /** Closes the hive's socket for good (its token was revoked); in-flight work fails as on any disconnect. */
  async disconnect(reason: string): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) ws.close(CloseCode.tokenRevoked, reason.slice(0, 120));
  }

  /**
   * The relay a response frame belongs to. Request ids are per HiveSession, so a frame naming a
   * request this hive was never sent (another hive's, or made up) is refused and logged.
   */
  private relayFor(ws: WebSocket, hiveName: string, requestId: string): PendingRelay | undefined {
    const pending = this.relays.get(requestId);
    if (pending || this.endedRelays.has(requestId)) return pending;
    console.warn(`hive ${hiveName}: refused a response frame for request ${requestId}, which it was never sent`);
    this.send(ws, { type: "error", code: "request_not_yours", message: `no request ${requestId} was sent to this hive` });
    return undefined;
  }

  private async onSocketGone(ws: WebSocket, how: string): Promise<void> {
    const attachment = readAttachment(ws);
    // A socket replaced by a reconnect closes after its successor opened: the hive is not gone.
    if (this.greetedSocket(ws)) return;
    const hiveName = attachment?.hiveName ?? "?";
    console.warn(`hive ${hiveName}: socket ${how}`);
    const error = new RbeeError(502, "hive_disconnected", `Hive '${hiveName}' disconnected while answering.`, {
      retryAfterSeconds: 1,
    });
    for (const pending of [...this.relays.values()]) pending.end(error);
    // Events the hive sent before its socket closed still land first; then its jobs fail.
    await this.jobEventChain;
    await this.failJobs(hiveName);
    if (attachment) await registryStub(this.env).hiveOffline(attachment.hiveName);
  }

  private async onJobEvent(ws: WebSocket, hiveName: string, jobId: string, seq: number, event: JobEvent): Promise<void> {
    const operation = await this.jobs.get(jobId);
    if (!operation) {
      // Not a job this queen gave this hive (or one that already ended): never let it land.
      console.warn(`hive ${hiveName}: refused an event for job ${jobId}, which is not running on this hive`);
      this.send(ws, { type: "error", code: "job_not_yours", message: `job ${jobId} is not running on hive '${hiveName}'` });
      return;
    }
    try {
      const outcome = await jobSessionStub(this.env, jobId).append(hiveName, seq, event);
      if (!outcome.accepted) {
        this.send(ws, { type: "error", code: outcome.code, message: outcome.message });
        if (outcome.code !== "job_not_yours") await this.jobs.remove(jobId);
        return;
      }
      await applyJobEffects(this.env, hiveName, operation, event);
      if (outcome.ended) await this.jobs.remove(jobId);
    } catch (error) {
      console.error(`hive ${hiveName}: could not forward an event of job ${jobId}`, error);
    }
  }

  /** The hive is gone: its unfinished jobs end as errors rather than run forever on paper. */
  private async failJobs(hiveName: string): Promise<void> {
    for (const jobId of await this.jobs.ids()) {
      await jobSessionStub(this.env, jobId).finish({
        type: "error",
        code: "hive_disconnected",
        message: `hive '${hiveName}' disconnected while the job ran; check that rbee-hive is running there, then submit the job again`,
      });
      await this.jobs.remove(jobId);
    }
  }

  /** The open socket whose hello was accepted, other than `except`. */
  private greetedSocket(except?: WebSocket): { ws: WebSocket; attachment: SocketAttachment } | undefined {
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
      const attachment = readAttachment(ws);
      if (attachment?.greeted) return { ws, attachment };
    }
    return undefined;
  }

  private send(ws: WebSocket, frame: QueenToHiveFrame): void {
    try {
      ws.send(JSON.stringify(frame));
    } catch (error) {
      console.warn(`could not send "${frame.type}" frame: ${String(error)}`);
    }
  }
}

function hiveOffline(): RbeeError {
  return new RbeeError(503, "hive_offline", "The hive serving this worker is not connected.", { retryAfterSeconds: 1 });
}

function internalError(error: unknown): RbeeError {
  console.error("relay failed", error);
  return new RbeeError(500, "internal_error", "The queen failed to relay the request.");
}

function assertNever(value: never): never {
  throw new Error(`unhandled frame ${JSON.stringify(value)}`);
}
