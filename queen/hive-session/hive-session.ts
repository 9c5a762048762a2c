// HiveSession is a Durable Object per hive (named by the hive's name) that holds the hive's one
// WebSocket with the hibernation API, relays client requests down it and streams the answers
// back (./hive-relays.ts), starts and cancels jobs on the hive and forwards their events to each job's JobSession
// (acknowledging them, so the hive can replay what a blip lost), keeps its workers' liveness
// (only workers the queen issued to this hive may heartbeat; the Registry hears only changes),
// and drops a socket that went silent or floods.
import { DurableObject } from "cloudflare:workers";
import { assertNever } from "../../shared/assert-never.js";
import { RbeeError } from "../../shared/errors.js";
import { CloseCode } from "../../shared/protocol/close-codes.js";
import { HIVE_INSTANCE_HEADER, HIVE_INSTANCE_PATTERN } from "../../shared/protocol/hive-connect.js";
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import {
  type BatchableFrame,
  type HelloFrame,
  HiveToQueenFrame,
  INPUT_TOKENS_PATH,
  INPUT_TOKENS_PROTOCOL,
  OLDEST_HIVE_PROTOCOL,
  PING_FRAME,
  PONG_FRAME,
  PROTOCOL_VERSION,
  type QueenToHiveFrame,
  type RelayablePath,
  RESUME_PROTOCOL,
} from "../../shared/protocol/hive-frames.js";
import { parseFrame } from "../../shared/protocol/parse-frame.js";
import type { AnswerType } from "../../shared/protocol/relayed-head.js";
import { queenConfig } from "../config.js";
import { findHive } from "../hives/hive-records.js";
import { submitJob } from "../jobs/submit-job.js";
import { registryStub } from "../registry/stub.js";
import { markRelayFailed } from "../scheduling/failover.js";
import type { ReturningWorker } from "../scheduling/returning-workers.js";
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import { HiveJobDesk, type WorkerJobEnd } from "./hive-job-desk.js";
import { HiveJobs } from "./hive-jobs.js";
import { HiveRecordThrottle } from "./hive-record-throttle.js";
import { HiveRelays, isResponseFrame, RESPONSE_HEAD_TIMEOUT_MS } from "./hive-relays.js";
import { type ForgottenWorker, HiveWorkers, MISSED_HEARTBEATS_LIMIT } from "./hive-workers.js";
import { RegistryReporter } from "./registry-reporter.js";
import { SocketBudgets } from "./socket-budgets.js";
import { readAttachment, rememberedAttachment, type SocketAttachment, writeAttachment } from "./socket-attachment.js";
import type { WholeAnswer } from "./whole-answer.js";
import { heartbeatTimeoutMs, SocketLiveness } from "./socket-liveness.js";
import { WedgedWorkers } from "./wedged-workers.js";
import { printable } from "../../shared/printable.js";

export const HIVE_NAME_HEADER = "x-rbee-hive-name";
/** The hash of the token the route checked, so the socket can be closed when that token stops being the hive's. */
export const HIVE_TOKEN_HASH_HEADER = "x-rbee-hive-token-hash";

/**
 * How long a hive that dropped off without saying goodbye keeps its jobs, ms: long enough for its
 * reconnect backoff (30 s at most) to bring it back, when it lists the jobs it still runs and
 * replays their events. A hive that stopped cleanly (close 1000/1001) loses them at once.
 */
export const HIVE_RECONNECT_GRACE_MS = 90_000;

/** How often a resume looks again for the hive's socket while it reconnects, ms. */
const RESUME_POLL_MS = 100;

/** What a HiveSession answers a Registry that woke up empty (resyncRegistry). */
export type RegistryResync = { connected: true } | { connected: false; workers: ReturningWorker[] };

export interface RelayRequest {
  /** Chosen by the caller, so it can cancel the relay if its client goes away. */
  requestId: string;
  workerId: string;
  port: number;
  path: RelayablePath;
  body: string;
}

export type StartJobOutcome = { ok: true } | { ok: false; code: "hive_offline" | "too_many_workers"; message: string };

/** What became of a cancel: sent to the hive, or nobody there to hear it. */
export type CancelJobOutcome = "sent" | "hive_offline" | "not_running";

/** Whether a job D1 says runs is still real: `live` (its hive has it or may come back with it), `offline` (gone with its hive), `untracked` (its hive is here but does not have it). */
export type JobLiveness = "live" | "offline" | "untracked";

export class HiveSession extends DurableObject<Env> {
  private readonly relays = new HiveRelays({ send: (ws, frame) => this.send(ws, frame), mayLog: (ws) => this.budgets.mayLog(ws) });
  private readonly jobs = new HiveJobs(this.ctx.storage);
  private readonly jobDesk = new HiveJobDesk(
    this.jobs,
    this.env,
    (ws, frame) => this.send(ws, frame),
    (end) => this.onWorkerJobEnd(end),
    (ws) => this.budgets.mayLog(ws),
  );
  private readonly workers = new HiveWorkers(this.ctx.storage, () => queenConfig(this.env));
  private readonly wedged = new WedgedWorkers(this.ctx.storage, () => queenConfig(this.env).wedgedWorkerStopSeconds * 1000);
  private readonly reporter = new RegistryReporter(this.env, () => this.workers.snapshot(Date.now()));
  private readonly liveness = new SocketLiveness(this.ctx);
  /** When the queen last sent each hive socket a frame (in memory: a hibernated object sent nothing since). */
  private readonly lastSentAtMs = new WeakMap<WebSocket, number>();
  private readonly records = new HiveRecordThrottle(this.ctx.storage, this.env.DB);
  private readonly budgets = new SocketBudgets(() => queenConfig(this.env));
  /** Sockets whose end was handled already: a close the queen began may be reported again later. */
  private readonly goneSockets = new WeakSet<WebSocket>();
  /** The hive's last socket ended with the hive saying goodbye (it stopped): nothing to wait for. */
  private hiveStopped = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // The hive's pings are answered by the runtime without waking this object; their times are
    // what SocketLiveness reads.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
    void ctx.blockConcurrencyWhile(async () => {
      await this.workers.load(Date.now(), ctx.getWebSockets().length > 0);
      await this.wedged.load();
    });
  }

  /** Upgrade requests from the queen's /v1/hive/connect route (already authenticated). */
  override async fetch(request: Request): Promise<Response> {
    const hiveName = request.headers.get(HIVE_NAME_HEADER);
    const tokenHash = request.headers.get(HIVE_TOKEN_HASH_HEADER);
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || !hiveName || !tokenHash) {
      return new RbeeError(400, "bad_upgrade", "Expected a WebSocket upgrade for a named hive.").toResponse();
    }
    const instance = request.headers.get(HIVE_INSTANCE_HEADER);
    const instanceId = instance !== null && HIVE_INSTANCE_PATTERN.test(instance) ? instance : undefined;
    const alive = this.liveSocketOfAnotherInstance(instanceId);
    if (alive) return alreadyConnected(hiveName, alive, heartbeatTimeoutMs(queenConfig(this.env).heartbeatIntervalMs)).toResponse();
    // One socket per hive: a reconnecting hive replaces a connection the network left half-open.
    for (const old of this.ctx.getWebSockets()) old.close(CloseCode.replaced, "replaced by a newer connection");
    this.hiveStopped = false;
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const attachment: SocketAttachment = { hiveName, tokenHash, connectedAtMs: Date.now(), greeted: false, ...(instanceId === undefined ? {} : { instanceId }) };
    writeAttachment(server, attachment);
    // The token may have been revoked or rotated after the route checked it and before this
    // socket existed for the revocation to close: look again now that it does.
    const current = await findHive(this.env.DB, hiveName);
    if (!current || current.tokenRevokedAt || current.tokenHash !== tokenHash) {
      server.close(CloseCode.tokenRevoked, "hive token revoked or rotated");
      await this.onSocketGone(server, "closed: its token was revoked or rotated while it connected", true);
    } else {
      await this.scheduleAlarm();
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Sends a client request to a worker of this hive; resolves with its (streaming) response.
   * `headTimeoutMs`: how long to wait for the worker to start answering (the request's deadline
   * may leave less than RESPONSE_HEAD_TIMEOUT_MS). `answerType`: what a successful answer must be
   * (a stream, when the request asked for one); a head of another type fails the relay.
   */
  async relay(request: RelayRequest, hiveName: string, headTimeoutMs = RESPONSE_HEAD_TIMEOUT_MS, answerType?: AnswerType): Promise<Response | WholeAnswer> {
    const socket = this.greetedSocket();
    if (!socket) {
      // The Registry placed this on a hive that has no socket here: this object was reset (a
      // deploy resets Durable Objects) without hearing the socket close. Say the hive is offline,
      // so the route's next try waits for its workers to come back rather than meet this again.
      await this.reporter.offline(hiveName, this.workers.disconnected());
      return markRelayFailed(hiveOffline().toResponse(), "hive_offline");
    }
    const { protocol = 0 } = socket.attachment;
    if (request.path === INPUT_TOKENS_PATH && protocol < INPUT_TOKENS_PROTOCOL) {
      // Answered as its worker would answer a path it lacks: the route counts another way.
      const message = `Hive '${hiveName}' speaks protocol ${protocol}, which cannot count tokens without generating (${INPUT_TOKENS_PROTOCOL} can).`;
      return new RbeeError(404, "not_found", message).toResponse();
    }
    return this.relays.answer(socket.ws, { type: "request", ...request }, headTimeoutMs, 0, answerType);
  }

  /**
   * The rest of an answer this hive was relaying, from byte `offset` of its body (where an event
   * ends): the way to it broke (the hive's socket dropped, or the object relaying it, maybe this
   * one, was reset) while its client still reads. Waits up to `waitMs` for the hive to be back,
   * and `headTimeoutMs` for the answer's head (at once for an answer under way; a non-streamed
   * one resumed from 0 has none until it is whole). A failed relay (markRelayFailed) when the
   * hive is not back, is too old to resume, or no longer keeps that answer
   * (`resume_unavailable`): the route then has another worker answer.
   */
  async resume(requestId: string, offset: number, waitMs: number, headTimeoutMs: number): Promise<Response | WholeAnswer> {
    // A hive that stopped aborted its relays; one that dropped off may be back within `waitMs`.
    const socket = this.hiveStopped ? this.greetedSocket() : await this.greetedSocketWithin(waitMs);
    if (!socket) return markRelayFailed(hiveOffline().toResponse(), "hive_offline");
    const { hiveName, protocol = 0 } = socket.attachment;
    const running = this.relays.running(requestId);
    if (running) {
      // Its socket never dropped, so the break was between this object and the route: the hive
      // still numbers its chunks for this relay, and a resume's numbering would mix with them.
      running.cancel();
      const message = `The relay of ${requestId} was still running here; it was cancelled for another worker to take over.`;
      return markRelayFailed(new RbeeError(502, "resume_unavailable", message).toResponse(), "resume_unavailable");
    }
    if (protocol < RESUME_PROTOCOL) {
      const message = `Hive '${hiveName}' speaks protocol ${protocol}, which cannot resume an answer (${RESUME_PROTOCOL} can).`;
      return markRelayFailed(new RbeeError(502, "resume_unavailable", message).toResponse(), "resume_unavailable");
    }
    return this.relays.answer(socket.ws, { type: "resume", requestId, offset }, headTimeoutMs, offset);
  }

  /** The client of a relayed request went away: stop its generation on the worker. */
  async cancelRelay(requestId: string): Promise<void> {
    this.relays.running(requestId)?.cancel(); // none: finished already
  }

  /** Hands a job to the hive; the caller has opened its JobSession already. */
  async startJob(jobId: string, operation: HiveOperation): Promise<StartJobOutcome> {
    const socket = this.greetedSocket();
    if (!socket) return { ok: false, code: "hive_offline", message: hiveOffline().message };
    if (operation.operation === "worker_spawn") {
      const refusal = await this.workers.issue(operation.workerId, operation.model, jobId, Date.now());
      if (refusal) return { ok: false, ...refusal };
    }
    await this.jobs.add(jobId, operation);
    this.send(socket.ws, { type: "job_start", jobId, operation });
    return { ok: true };
  }

  /** Asks the hive to abort a job it runs. */
  async cancelJob(jobId: string): Promise<CancelJobOutcome> {
    if (!(await this.jobs.get(jobId))) return "not_running";
    const socket = this.greetedSocket();
    if (!socket) {
      // The caller ends the job as cancelled; a hive that comes back with it is told to cancel it.
      await this.jobs.remove(jobId);
      return "hive_offline";
    }
    this.send(socket.ws, { type: "job_cancel", jobId });
    return "sent";
  }

  /**
   * The Registry woke up empty. A connected hive: its workers go to the Registry as a snapshot. A
   * hive away (the queen restarted, say, and the hive has not reconnected yet): the workers it ran,
   * which it may well bring back within seconds, for the Registry to wait for.
   */
  async resyncRegistry(): Promise<RegistryResync> {
    const socket = this.greetedSocket();
    if (!socket) return { connected: false, workers: this.workers.announced() };
    await this.reporter.resync(socket.attachment.hiveName);
    return { connected: true };
  }

  async isOnline(): Promise<boolean> {
    return this.greetedSocket() !== undefined;
  }

  /** For a job D1 says is running on this hive (`hiveName`): whether it still is, as far as the queen can tell. */
  async jobLiveness(jobId: string, hiveName: string): Promise<JobLiveness> {
    const connected = this.openSocket() !== undefined;
    if (!(await this.jobs.get(jobId))) return connected ? "untracked" : "offline";
    if (connected) return "live";
    const offline = await this.jobs.offline();
    if (!offline) {
      // Away, but never seen leave (the queen itself restarted): the grace starts now.
      await this.jobs.markOffline(hiveName, Date.now());
      await this.scheduleAlarm();
      return "live";
    }
    if (Date.now() - offline.sinceMs < HIVE_RECONNECT_GRACE_MS) return "live";
    await this.jobDesk.failAll(offline.hiveName);
    return "offline";
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (this.goneSockets.has(ws)) return; // closed by the queen; what was still in flight is moot
    this.liveness.heard(ws);
    this.answerHeardHive(ws, Date.now());
    const attachment = rememberedAttachment(ws);
    if (!attachment) {
      ws.close(CloseCode.notGreeted, "unknown connection state; reconnect");
      return;
    }
    if (!this.budgets.mayReceive(ws)) return this.closeFlooding(ws, attachment.hiveName);
    const parsed = parseFrame(HiveToQueenFrame, message);
    if (!parsed.ok) {
      if (this.budgets.mayLog(ws)) console.warn(`hive ${attachment.hiveName}: refused frame: ${parsed.message}`);
      this.send(ws, { type: "error", code: parsed.code, message: parsed.message });
      this.relays.abandonNamedIn(parsed.json, parsed.message);
      return;
    }
    const frame = parsed.frame;
    if (!this.budgets.mayCarry(ws, frame)) return this.closeFlooding(ws, attachment.hiveName);
    if (!attachment.greeted && frame.type !== "hello") {
      this.send(ws, { type: "error", code: "hello_required", message: `send hello before "${frame.type}"` });
      return;
    }
    switch (frame.type) {
      case "hello":
        return this.onHello(ws, attachment, frame);
      case "ping":
        // Auto-response answers the exact PING_FRAME text; this is a ping spelled differently.
        this.send(ws, { type: "pong" });
        return;
      case "batch":
        // In order, as if each had come alone (hive/connection/frame-batcher.ts). An answer's
        // frames are taken without a turn between them, so that a head, body and end sent together
        // are whole by the time the relay waiting on the head reads it (./whole-answer.ts).
        for (const each of frame.frames) {
          if (isResponseFrame(each)) this.relays.onFrame(ws, attachment.hiveName, each);
          else await this.onFrame(ws, attachment.hiveName, each);
        }
        return;
      default:
        return this.onFrame(ws, attachment.hiveName, frame);
    }
  }

  private async onFrame(ws: WebSocket, hiveName: string, frame: BatchableFrame): Promise<void> {
    switch (frame.type) {
      case "hive_status":
        // Kept before the Registry call, during which the hive's next frames may run.
        await this.records.keep(hiveName, { devices: frame.devices });
        await registryStub(this.env).hiveFacts(hiveName, { devices: frame.devices, models: frame.models ?? [] });
        return this.writeDueFacts();
      case "worker_heartbeats":
        for (const heartbeat of frame.heartbeats) await this.onHeartbeat(ws, hiveName, heartbeat);
        return;
      case "worker_exited":
        return this.onWorkerExited(hiveName, frame.workerId, frame.detail);
      case "job_event": {
        const { jobId, seq, event } = frame;
        return this.jobDesk.onEvent(ws, hiveName, jobId, seq, event);
      }
      case "response_head":
      case "response_chunk":
      case "response_end":
        return this.relays.onFrame(ws, hiveName, frame);
      default:
        return assertNever(frame);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // The Hibernation API leaves the close handshake to the object on every compatibility date: a
    // hive closing its socket (to reconnect, say) would wait for the queen's Close frame until its
    // own timeout. Only 1000 and the application's codes may be sent; any other is answered 1000.
    try {
      ws.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
    } catch {
      // Closed already: nothing to answer.
    }
    // 1000 and 1001 are a hive that stopped on purpose: its jobs ended with it. Any other end may
    // be a blip the hive comes back from.
    await this.onSocketGone(ws, `closed (${code}${reason ? `: ${reason}` : ""})`, code === 1000 || code === 1001);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    await this.onSocketGone(ws, `failed (${String(error)})`, false);
  }

  /** Drops sockets gone silent (half-open), ends the jobs of a hive that did not come back, writes waiting D1 facts. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const timeoutMs = heartbeatTimeoutMs(queenConfig(this.env).heartbeatIntervalMs);
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = readAttachment(ws);
      if (ws.readyState !== WebSocket.OPEN || this.goneSockets.has(ws) || !attachment) continue;
      if (!attachment.greeted && now - attachment.connectedAtMs >= timeoutMs) {
        // Pings keep a socket heard, not greeted: one that never says hello holds a connection for nothing.
        ws.close(CloseCode.notGreeted, `no hello within ${timeoutMs} ms of connecting`);
        await this.onSocketGone(ws, `sent no hello within ${timeoutMs} ms, dropped`, false);
        continue;
      }
      const silentMs = now - this.liveness.lastHeardMs(ws, attachment.connectedAtMs);
      if (silentMs < timeoutMs) continue;
      // A cut without a close frame: no close event will ever come for this socket.
      ws.close(CloseCode.heartbeatTimeout, `nothing heard for ${silentMs} ms`);
      await this.onSocketGone(ws, `silent for ${silentMs} ms (more than ${timeoutMs} ms: a half-open connection), dropped`, false);
    }
    const hiveName = this.hiveNameOf() ?? "?";
    const silent: ForgottenWorker[] = [];
    const stopped: ForgottenWorker[] = [];
    // A hive whose uplink is congested is heard, late: its workers' heartbeats wait behind its
    // answers. Called silent, they would be dropped (and stopped as hung, and started again
    // beside themselves) for a slow link; they are judged once its pings come through again.
    const expired = this.uplinkCongested(now) ? [] : await this.workers.expire(now);
    // A worker the queen is deleting goes quiet as it stops, often before the delete job ends.
    const deleting = expired.length > 0 ? await this.jobs.deletingWorkers() : new Set<string>();
    for (const worker of expired) (deleting.has(worker.workerId) ? stopped : silent).push(worker);
    for (const worker of silent) console.warn(`hive ${hiveName}: worker ${worker.workerId} missed ${MISSED_HEARTBEATS_LIMIT} heartbeats: dropped`);
    this.relays.abandonTo(silent, `missed ${MISSED_HEARTBEATS_LIMIT} heartbeats while answering`);
    await this.reporter.gone(hiveName, silent, "heartbeats_missed");
    await this.reporter.gone(hiveName, stopped, "deleted");
    // Hung only if their hive was heard meanwhile: a hive gone silent too (frozen, cut off) explains
    // its workers' silence, and a hive back from that must find them alive, not stopped.
    if (this.hiveHeardWithin(now, 2 * queenConfig(this.env).heartbeatIntervalMs)) await this.wedged.add(silent);
    await this.stopWedgedWorkers(hiveName, now);
    const offline = await this.jobs.offline();
    if (offline && !this.openSocket() && now - offline.sinceMs >= HIVE_RECONNECT_GRACE_MS) {
      await this.jobDesk.failAll(offline.hiveName);
    }
    try {
      await this.records.flushDue(now);
    } catch (error) {
      console.error("could not record what a hive said about its machine", error);
    }
    await this.scheduleAlarm();
  }

  private async onHello(ws: WebSocket, attachment: SocketAttachment, hello: HelloFrame): Promise<void> {
    if (attachment.greeted) {
      this.send(ws, { type: "error", code: "hello_repeated", message: "this connection already said hello; a hive says hello once per connection" });
      return;
    }
    const { protocol } = hello;
    if (protocol < OLDEST_HIVE_PROTOCOL || protocol > PROTOCOL_VERSION) {
      const message = `hive speaks protocol ${protocol}, this queen speaks ${OLDEST_HIVE_PROTOCOL} to ${PROTOCOL_VERSION}: upgrade the older side`;
      this.send(ws, { type: "error", code: "protocol_mismatch", message });
      ws.close(CloseCode.protocolMismatch, "protocol version mismatch");
      await this.onSocketGone(ws, "closed: it speaks another protocol version", true);
      return;
    }
    // Read before the socket counts as greeted (a storage read keeps other events out): a job
    // started on this very socket after the hello must not be taken for one the hive lost.
    const tracked = await this.jobs.ids();
    // Likewise the workers: a heartbeat after the hello must find a dropped worker dropped. The
    // Registry hears of it (and gets a fresh snapshot) before any later heartbeat's news.
    const unlisted = await this.workers.reconcile(hello.workers, hello.jobs);
    // Expected after any stop of the hive that stopped its workers (npm start's Ctrl-C): news, not a
    // fault. One that had ended or fallen silent before was told of then: only its id goes now.
    for (const worker of unlisted) {
      const when = worker.endedEarlier === true ? "it ended or fell silent earlier; its id is forgotten" : "it stopped while the hive was away; dropped";
      console.log(`hive ${attachment.hiveName}: worker ${worker.workerId} is no longer among its workers (${when})`);
    }
    // The workers it lists have beaten at it lately: not hung, whatever their silence here said.
    await this.wedged.drop([...unlisted.map((worker) => worker.workerId), ...hello.workers]);
    const reported = Promise.all([this.reporter.gone(attachment.hiveName, unlisted, "not_in_hello"), this.reporter.resync(attachment.hiveName)]);
    writeAttachment(ws, { ...attachment, greeted: true, protocol });
    // Before the welcome: a hive_status the hive sends after it is newer, and must not be overwritten by these.
    await this.records.keep(attachment.hiveName, { capabilities: { ...hello.hive, devices: hello.devices } });
    await registryStub(this.env).hiveFacts(attachment.hiveName, { devices: hello.devices, models: hello.models ?? [] }, this.workers.returning());
    this.send(ws, {
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      hiveName: attachment.hiveName,
      heartbeatIntervalMs: queenConfig(this.env).heartbeatIntervalMs,
    });
    await this.jobs.clearOffline();
    await reported;
    await this.jobDesk.reconcile(ws, attachment.hiveName, tracked, hello.jobs);
    await this.writeDueFacts();
  }

  /** Writes the hive's kept facts to D1 if the interval allows; else the alarm writes them when it does. */
  private async writeDueFacts(): Promise<void> {
    await this.records.flushDue(Date.now());
    await this.scheduleAlarm();
  }

  /**
   * Closes the hive's sockets opened with any token but `currentTokenHash` (all of them when the
   * token was revoked); in-flight work on them fails as on any disconnect.
   */
  async disconnect(reason: string, currentTokenHash?: string): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) {
      if (currentTokenHash !== undefined && readAttachment(ws)?.tokenHash === currentTokenHash) continue;
      ws.close(CloseCode.tokenRevoked, reason.slice(0, 120));
      await this.onSocketGone(ws, `closed: ${reason}`, true);
    }
  }

  /**
   * Stops the workers silent for WEDGED_WORKER_STOP_SECONDS while the hive is here to do it, with
   * a worker_delete job as an admin's DELETE /v1/workers/:id submits (the hive checks the PID is
   * that worker first). While the hive is away they wait: its hello says whether it still has them.
   */
  private async stopWedgedWorkers(hiveName: string, now: number): Promise<void> {
    const due = this.wedged.due(now);
    if (due.length === 0 || !this.greetedSocket()) return;
    await this.wedged.drop(due.map((worker) => worker.workerId));
    for (const { workerId, pid, silentMs } of due) {
      const operation = { operation: "worker_delete" as const, workerId, pid };
      const request = { operation: "worker_delete" as const, hive: hiveName, worker_id: workerId };
      try {
        const { jobId } = await submitJob(this.env, request, { hiveName, operation }, (id, op) => this.startJob(id, op));
        console.warn(`hive ${hiveName}: worker ${workerId} (pid ${pid}) silent for ${Math.round(silentMs / 1000)} s, hung: stopping it (job ${jobId})`);
      } catch (error) {
        console.error(`hive ${hiveName}: could not stop hung worker ${workerId} (pid ${pid})`, error);
      }
    }
  }

  /**
   * A socket ended. `hiveLeft`: the hive stopped for good (or was shut out), so its jobs end now;
   * otherwise they wait HIVE_RECONNECT_GRACE_MS for the hive to come back and list them.
   */
  private async onSocketGone(ws: WebSocket, how: string, hiveLeft: boolean): Promise<void> {
    if (this.goneSockets.has(ws)) return;
    this.goneSockets.add(ws);
    const attachment = readAttachment(ws);
    const hiveName = attachment?.hiveName ?? "?";
    // Any other open socket is this one's successor (a reconnect replaced it, maybe before its
    // hello): the hive is not gone. Only the last socket's end, with no successor, counts.
    if (this.openSocket(ws)) {
      console.log(`hive ${hiveName}: old socket ${how}; a newer one carries on`);
      return;
    }
    console.warn(`hive ${hiveName}: socket ${how}`);
    this.hiveStopped = hiveLeft;
    // The relays this socket carried: a hive back while the Registry hears of this one relays anew.
    const lost = this.relays.all();
    // The Registry hears first: a route whose relay ends here leases again at once
    // (leased-relay.ts), and must wait for this hive's workers to come back, not be handed one of
    // them again only to meet hive_offline here.
    if (attachment) await this.reporter.offline(attachment.hiveName, this.workers.disconnected());
    const error = new RbeeError(502, "hive_disconnected", `Hive '${hiveName}' disconnected while answering.`, {
      retryAfterSeconds: 1,
    });
    for (const pending of lost) pending.end(error, true);
    // Events the hive sent before its socket closed still land first.
    await this.jobDesk.idle();
    if (hiveLeft) {
      await this.jobDesk.failAll(hiveName);
    } else {
      await this.jobs.markOffline(hiveName, Date.now());
      await this.scheduleAlarm();
    }
  }

  /** A worker heartbeat relayed by the hive: refused unless the queen issued that worker to this hive. */
  private async onHeartbeat(ws: WebSocket, hiveName: string, heartbeat: WorkerHeartbeat): Promise<void> {
    const now = Date.now();
    const outcome = await this.workers.heard(heartbeat, now);
    if (!outcome.accepted) {
      const { code, message } = outcome.refusal;
      if (this.budgets.mayLog(ws)) console.warn(`hive ${hiveName}: refused a heartbeat: ${message}`);
      this.send(ws, { type: "error", code, message, workerId: heartbeat.workerId });
      return;
    }
    // Heard again: it was only slow, not hung (a stopped one needs no stopping either).
    await this.wedged.drop([heartbeat.workerId]);
    if (outcome.stopped) {
      await this.reporter.gone(hiveName, await this.workers.forget([heartbeat.workerId]), "stopped");
      return;
    }
    await this.reporter.changed(hiveName, outcome.upserts, outcome.isNew ? [heartbeat.workerId] : []);
    if (outcome.isNew) await this.scheduleAlarm(); // its silence must be noticed
  }

  /** The hive saw a serving worker's process end: it leaves the live table now, not after three missed heartbeats. */
  private async onWorkerExited(hiveName: string, workerId: string, detail: string): Promise<void> {
    const forgotten = await this.workers.exited(workerId);
    // Nothing to do for a worker not live here: never issued to this hive, or gone already (stopped, deleted, silent).
    if (forgotten.length === 0) return;
    console.warn(`hive ${hiveName}: worker ${workerId} ended unannounced: ${printable(detail)}`);
    this.relays.abandonTo(forgotten, "ended while answering");
    await this.wedged.drop([workerId]);
    await this.reporter.gone(hiveName, forgotten, "exited");
  }

  private async onWorkerJobEnd(end: WorkerJobEnd): Promise<void> {
    const hiveName = this.hiveNameOf() ?? "?";
    if (end.kind === "deleted") {
      await this.wedged.drop([end.workerId]);
      await this.reporter.gone(hiveName, await this.workers.forget([end.workerId]), "deleted");
      return;
    }
    await this.reporter.gone(hiveName, await this.workers.spawnEnded(end.workerId, end.failed), "spawn_failed");
  }

  /** The hive's name, from any of its sockets' attachments (a session serves one hive). */
  private hiveNameOf(): string | undefined {
    for (const ws of this.ctx.getWebSockets()) {
      const name = readAttachment(ws)?.hiveName;
      if (name !== undefined) return name;
    }
    return undefined;
  }

  /**
   * The open socket of another process of this hive's name that is still heard from, if any: a
   * connection of a process that names itself (HIVE_INSTANCE_HEADER) does not replace it. Either
   * side sending no id (an older hive) keeps the old rule: the newer connection wins.
   */
  private liveSocketOfAnotherInstance(instanceId: string | undefined): SocketAttachment | undefined {
    if (instanceId === undefined) return undefined;
    const now = Date.now();
    const timeoutMs = heartbeatTimeoutMs(queenConfig(this.env).heartbeatIntervalMs);
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = readAttachment(ws);
      if (ws.readyState !== WebSocket.OPEN || this.goneSockets.has(ws) || attachment?.instanceId === undefined) continue;
      if (attachment.instanceId === instanceId) continue;
      if (now - this.liveness.lastHeardMs(ws, attachment.connectedAtMs) < timeoutMs) return attachment;
    }
    return undefined;
  }

  /** Sets the alarm to the next thing due: a socket's silence limit, the offline hive's grace, a D1 write. */
  private async scheduleAlarm(): Promise<void> {
    const timeoutMs = heartbeatTimeoutMs(queenConfig(this.env).heartbeatIntervalMs);
    const deadlines: number[] = [];
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = readAttachment(ws);
      if (ws.readyState !== WebSocket.OPEN || this.goneSockets.has(ws) || !attachment) continue;
      deadlines.push((attachment.greeted ? this.liveness.lastHeardMs(ws, attachment.connectedAtMs) : attachment.connectedAtMs) + timeoutMs);
    }
    const offline = await this.jobs.offline();
    if (offline) deadlines.push(offline.sinceMs + HIVE_RECONNECT_GRACE_MS);
    const recordDue = await this.records.dueAtMs();
    if (recordDue !== undefined) deadlines.push(recordDue);
    const workerExpiry = this.workers.nextExpiryMs();
    // Put off while the uplink is congested (alarm above): looked at again an interval on.
    const now = Date.now();
    if (workerExpiry !== undefined) deadlines.push(workerExpiry <= now && this.uplinkCongested(now) ? now + queenConfig(this.env).heartbeatIntervalMs : workerExpiry);
    // Only a hive that is here can stop its hung workers: the hello of one that comes back sets the alarm again.
    const wedgedDue = this.wedged.nextDueMs();
    if (wedgedDue !== undefined && this.greetedSocket()) deadlines.push(wedgedDue);
    if (deadlines.length > 0) await this.ctx.storage.setAlarm(Math.min(...deadlines));
  }

  /** Closes the socket of a hive that sent more frames than the rate limit lets it. */
  private async closeFlooding(ws: WebSocket, hiveName: string): Promise<void> {
    const { hiveFrameBurst, hiveFramesPerSecond } = queenConfig(this.env);
    const limit = `more than ${hiveFramesPerSecond} frames a second (bursts of ${hiveFrameBurst})`;
    console.warn(`hive ${hiveName}: sent ${limit}; closing its socket`);
    this.send(ws, { type: "error", code: "rate_limited", message: `this hive sent ${limit}; the queen closes the connection` });
    ws.close(CloseCode.rateLimited, "frame rate limit exceeded");
    await this.onSocketGone(ws, "closed: it flooded the queen with frames", false);
  }

  /** An open socket of this hive (greeted or not yet), other than `except`. */
  private openSocket(except?: WebSocket): WebSocket | undefined {
    return this.ctx.getWebSockets().find((ws) => ws !== except && ws.readyState === WebSocket.OPEN && !this.goneSockets.has(ws));
  }

  /** Whether the hive's greeted socket carried anything (a frame, a ping) within `withinMs` of `nowMs`. */
  private hiveHeardWithin(nowMs: number, withinMs: number): boolean {
    const socket = this.greetedSocket();
    return socket !== undefined && nowMs - this.liveness.lastHeardMs(socket.ws, socket.attachment.connectedAtMs) < withinMs;
  }

  /** The greeted socket, waiting up to `waitMs` for the hive to connect and say hello. */
  private async greetedSocketWithin(waitMs: number): Promise<{ ws: WebSocket; attachment: SocketAttachment } | undefined> {
    const deadline = Date.now() + waitMs;
    let socket = this.greetedSocket();
    while (!socket && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, RESUME_POLL_MS));
      socket = this.greetedSocket();
    }
    return socket;
  }

  /** The open socket whose hello was accepted. */
  private greetedSocket(): { ws: WebSocket; attachment: SocketAttachment } | undefined {
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== WebSocket.OPEN || this.goneSockets.has(ws)) continue;
      const attachment = readAttachment(ws);
      if (attachment?.greeted) return { ws, attachment };
    }
    return undefined;
  }

  private send(ws: WebSocket, frame: QueenToHiveFrame): void {
    if (frame.type === "error" && !this.budgets.mayTellError(ws)) return;
    try {
      ws.send(JSON.stringify(frame));
      this.lastSentAtMs.set(ws, Date.now());
    } catch (error) {
      console.warn(`could not send "${frame.type}" frame: ${String(error)}`);
    }
  }

  /** Whether the greeted hive's uplink is congested now (socket-liveness.ts). */
  private uplinkCongested(nowMs: number): boolean {
    const socket = this.greetedSocket();
    return socket !== undefined && this.liveness.congested(socket.ws, nowMs, queenConfig(this.env).heartbeatIntervalMs);
  }

  /**
   * A hive learns the queen is there from what it hears, and its pings' pongs wait behind its own
   * frames on a congested uplink: while its frames come and the queen has said nothing for an
   * interval (no acks: a non-streamed answer's client has pulled nothing yet), a pong tells it,
   * so it does not take the connection for half-open and drop it.
   */
  private answerHeardHive(ws: WebSocket, nowMs: number): void {
    const lastSentAtMs = this.lastSentAtMs.get(ws);
    if (lastSentAtMs === undefined) this.lastSentAtMs.set(ws, nowMs);
    else if (nowMs - lastSentAtMs >= queenConfig(this.env).heartbeatIntervalMs) {
      this.lastSentAtMs.set(ws, nowMs);
      try {
        ws.send(PONG_FRAME);
      } catch {
        // closing: its close handler follows
      }
    }
  }
}

function hiveOffline(): RbeeError {
  return new RbeeError(503, "hive_offline", "The hive serving this worker is not connected.", { retryAfterSeconds: 1 });
}

/** The refusal of a second rbee-hive process connecting under a name whose first is connected and alive. */
function alreadyConnected(hiveName: string, alive: SocketAttachment, timeoutMs: number): RbeeError {
  return new RbeeError(
    409,
    "hive_already_connected",
    `Hive '${hiveName}' is already connected (another rbee-hive process with this name and token, connected at ${new Date(alive.connectedAtMs).toISOString()}). ` +
      `Two machines cannot share a hive name: give this one its own (POST /v1/hives). This connection is accepted once the other has been silent for ${timeoutMs / 1000} s.`,
  );
}
